//! `mortar app list|get --server URL`: the apps of a running controller,
//! read from its API (`GET /api/v1/apps`) from anywhere that reaches it,
//! printed as `mortar status` prints the status it saved. A bearer token,
//! when the API asks for one, is read from a file and never printed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use mortar::manifest::diag::printable;
use mortar::model::status::ControllerStatus;

use super::Output;
use super::status::{select, text};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Every app of the controller, with its sync status, health,
    /// revisions, last sync and conditions.
    List {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// One app and the apps below it.
    Get {
        name: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// The controller's API (its `server.listen`), e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL", env = "MORTAR_SERVER")]
    server: reqwest::Url,
    /// A file holding a bearer token for the API.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    let (server, names) = match &command {
        Command::List { server } => (server, Vec::new()),
        Command::Get { name, server } => (server, vec![name.clone()]),
    };
    let status = fetch(server).await?;
    let status = match select(status, &names) {
        Ok(status) => status,
        Err(unknown) => {
            eprintln!(
                "error: the controller at {} has no app named {}",
                server.server,
                printable(&unknown.join(", "))
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    match server.output {
        Output::Text => print!("{}", text(&status, Some(jiff::Timestamp::now()))),
        Output::Json => println!("{}", serde_json::to_string_pretty(&status)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// `GET /api/v1/apps` of the controller at `server`, under a path prefix
/// (`https://ops.example.com/mortar`) too.
fn apps_url(server: &reqwest::Url) -> anyhow::Result<reqwest::Url> {
    let mut base = server.clone();
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    base.join("api/v1/apps")
        .with_context(|| format!("{server} is not a base URL"))
}

/// The controller's status from `GET /api/v1/apps`.
async fn fetch(args: &ServerArgs) -> anyhow::Result<ControllerStatus> {
    let url = apps_url(&args.server)?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut request = http.get(url.clone());
    if let Some(file) = &args.token_file {
        let token = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the token file {}", file.display()))?;
        request = request.bearer_auth(token.trim());
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach the controller at {}", args.server))?;
    let code = response.status();
    if !code.is_success() {
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        let message = body["message"].as_str().unwrap_or("no message");
        anyhow::bail!(
            "the controller at {} answered {code}: {}",
            args.server,
            printable(message)
        );
    }
    response
        .json()
        .await
        .with_context(|| format!("{url} did not answer with the controller's status"))
}

#[cfg(test)]
mod tests {
    use super::apps_url;

    #[test]
    fn the_api_is_found_under_the_server_url_with_or_without_a_prefix() {
        for (server, expected) in [
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/api/v1/apps"),
            (
                "http://127.0.0.1:8080/",
                "http://127.0.0.1:8080/api/v1/apps",
            ),
            (
                "https://ops.example.com/mortar",
                "https://ops.example.com/mortar/api/v1/apps",
            ),
            (
                "https://ops.example.com/mortar/",
                "https://ops.example.com/mortar/api/v1/apps",
            ),
        ] {
            let url = apps_url(&server.parse().unwrap()).unwrap();
            assert_eq!(url.as_str(), expected, "{server}");
        }
    }
}
