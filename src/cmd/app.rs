//! `mortar app list|get|sync|refresh|rollback|pause|resume --server URL`:
//! a running controller's apps through its API, from anywhere that
//! reaches it. `list` and `get` print what `GET /api/v1/apps` says as
//! `mortar status` prints the status it saved; the others post a command
//! (`POST /api/v1/apps/{name}/{command}`) and print what the controller
//! answered. `login` signs in through the IdP's device flow and keeps the
//! token (mode 0600) where the other commands look for it. A bearer token
//! is read from a file and never printed; a controller with no sign-in (on
//! loopback) gets back the CSRF token it hands out.

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
    /// Apply the app's revision now, whatever its sync policy.
    Sync {
        name: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Compare the app with its workspaces now.
    Refresh {
        name: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Hold the app at an earlier revision, pausing its automated sync.
    Rollback {
        name: String,
        /// The commit, branch or tag.
        #[arg(long, value_name = "REVISION")]
        to: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Pause the app's automated sync at the revision applied.
    Pause {
        name: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Resume the app's automated sync at the newest revision.
    Resume {
        name: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Sign in through the controller's IdP (device flow: open the URL
    /// shown, anywhere) and keep the token for the other commands.
    Login {
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// The controller's API (its `server.listen`), e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL", env = "MORTAR_SERVER")]
    server: reqwest::Url,
    /// A file holding a bearer token for the API (default: where
    /// `mortar app login` keeps it, ~/.config/mortar/token, when it exists).
    #[arg(long, value_name = "FILE", env = "MORTAR_TOKEN_FILE")]
    token_file: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    let (server, names) = match &command {
        Command::List { server } => (server, Vec::new()),
        Command::Get { name, server } => (server, vec![name.clone()]),
        Command::Sync { name, server } => return post(server, name, "sync", None).await,
        Command::Refresh { name, server } => return post(server, name, "refresh", None).await,
        Command::Rollback { name, to, server } => {
            return post(server, name, "rollback", Some(to)).await;
        }
        Command::Pause { name, server } => return post(server, name, "pause", None).await,
        Command::Resume { name, server } => return post(server, name, "resume", None).await,
        Command::Login { server } => return login(server).await,
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

/// `path` (relative: `api/v1/apps`) of the controller at `server`, under
/// a path prefix (`https://ops.example.com/mortar`) too.
fn api_url(server: &reqwest::Url, path: &str) -> anyhow::Result<reqwest::Url> {
    let mut base = server.clone();
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    base.join(path)
        .with_context(|| format!("{server} is not a base URL"))
}

fn apps_url(server: &reqwest::Url) -> anyhow::Result<reqwest::Url> {
    api_url(server, "api/v1/apps")
}

fn http() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// Where `mortar app login` keeps the token unless told otherwise.
fn default_token_file() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("mortar").join("token"))
}

fn token(args: &ServerArgs) -> anyhow::Result<Option<String>> {
    let file = match &args.token_file {
        Some(file) => file.clone(),
        None => match default_token_file().filter(|f| f.exists()) {
            Some(file) => file,
            None => return Ok(None),
        },
    };
    std::fs::read_to_string(&file)
        .map(|t| Some(t.trim().to_string()))
        .with_context(|| format!("cannot read the token file {}", file.display()))
}

/// `mortar app login`: the device flow against the IdP the controller
/// names; the ID token is written (0600) to the token file.
async fn login(args: &ServerArgs) -> anyhow::Result<ExitCode> {
    let http = http()?;
    let answer = http
        .get(api_url(&args.server, "auth/cli")?)
        .send()
        .await
        .with_context(|| format!("cannot reach the controller at {}", args.server))?;
    let sign_in: mortar::remote::CliSignIn =
        serde_json::from_value(success(args, answer).await?)
            .context("the controller's /auth/cli answer is not a sign-in description")?;
    let file = args
        .token_file
        .clone()
        .or_else(default_token_file)
        .context("no --token-file, and no home directory to keep the token in")?;
    let token = mortar::remote::device_login(&http, &sign_in, |prompt| {
        match &prompt.verification_uri_complete {
            Some(url) => println!("Open {url} to sign in (the code is {}).", prompt.user_code),
            None => println!(
                "Open {} and enter the code {} to sign in.",
                prompt.verification_uri, prompt.user_code
            ),
        }
        println!(
            "Waiting up to {} minutes...",
            prompt.expires_in.as_secs().div_ceil(60)
        );
    })
    .await?;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    write_private(&file, &token)?;
    println!("Signed in; the token is in {} (mode 0600).", file.display());
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to `file`, readable by its owner only.
fn write_private(file: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(file)
        .with_context(|| format!("cannot write {}", file.display()))?;
    out.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", file.display()))
}

/// The answer's body when it is a success, else an error with the
/// controller's message.
async fn success(
    args: &ServerArgs,
    response: reqwest::Response,
) -> anyhow::Result<serde_json::Value> {
    let code = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if !code.is_success() {
        let message = body["message"].as_str().unwrap_or("no message");
        let hint = if code == reqwest::StatusCode::UNAUTHORIZED {
            " (sign in with `mortar app login`, or pass --token-file)"
        } else {
            ""
        };
        anyhow::bail!(
            "the controller at {} answered {code}: {}{hint}",
            args.server,
            printable(message)
        );
    }
    Ok(body)
}

/// The controller's status from `GET /api/v1/apps`.
async fn fetch(args: &ServerArgs) -> anyhow::Result<ControllerStatus> {
    let url = apps_url(&args.server)?;
    let mut request = http()?.get(url.clone());
    if let Some(token) = token(args)? {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach the controller at {}", args.server))?;
    let body = success(args, response).await?;
    serde_json::from_value(body)
        .with_context(|| format!("{url} did not answer with the controller's status"))
}

/// `POST /api/v1/apps/{name}/{command}`, printing the controller's answer.
async fn post(
    args: &ServerArgs,
    name: &str,
    command: &str,
    revision: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let http = http()?;
    let segment: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let url = api_url(&args.server, &format!("api/v1/apps/{segment}/{command}"))?;
    let token = token(args)?;
    // Who the controller takes us for: a controller without sign-in (on
    // loopback) hands out the CSRF token its state-changing calls need (a
    // web page elsewhere cannot read it); with a bearer token none is.
    let mut me = http.get(api_url(&args.server, "auth/me")?);
    if let Some(t) = &token {
        me = me.bearer_auth(t);
    }
    let me = me
        .send()
        .await
        .with_context(|| format!("cannot reach the controller at {}", args.server))?;
    let me = success(args, me).await?;
    let mut request = http.post(url);
    if let Some(t) = &token {
        request = request.bearer_auth(t);
    }
    if let Some(csrf) = me["csrf"].as_str() {
        request = request.header("X-CSRF-Token", csrf);
    }
    if let Some(revision) = revision {
        request = request.json(&serde_json::json!({ "revision": revision }));
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach the controller at {}", args.server))?;
    let body = success(args, response).await?;
    match args.output {
        Output::Text => println!(
            "{}",
            printable(body["message"].as_str().unwrap_or("accepted"))
        ),
        Output::Json => println!("{}", serde_json::to_string_pretty(&body)?),
    }
    Ok(ExitCode::SUCCESS)
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
