//! `mortar audit verify FILE`, `mortar audit show FILE [--app NAME] [--since TIME]`
//! and `mortar audit history --config FILE [--app NAME] [--limit N] [--output text|json]`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use jiff::{Timestamp, Zoned, tz::TimeZone};
use mortar::audit::{self, AuditError, history, show};
use mortar::config::Config;
use mortar::manifest::diag::printable;

use super::Output;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check audit logs' hash chains and heads (one chain per replica);
    /// exit 1 naming the first bad record of each log that fails.
    Verify {
        /// The audit logs (JSON lines); each head is read from FILE.head.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// A head hash printed by an earlier verify and kept outside the
        /// log's directory: fail unless that record is still in the chain
        /// (one log only).
        #[arg(long, value_name = "HASH")]
        anchor: Option<String>,
    },
    /// Print the history of changes, one line each; several logs (one per
    /// replica) are merged by time, each line naming its log.
    Show {
        /// The audit logs (JSON lines).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Only changes made by this app.
        #[arg(long)]
        app: Option<String>,
        /// Only changes at or after this time: RFC 3339 (2026-11-28T09:00:00Z),
        /// a date (2026-11-28, midnight UTC) or an age (90m, 12h, 7d).
        #[arg(long)]
        since: Option<String>,
    },
    /// Print the last syncs of each app: revision, who, result and counts.
    History {
        /// The controller config file (its audit log of record is read).
        #[arg(
            long,
            value_name = "FILE",
            env = "MORTAR_CONFIG",
            default_value = "mortar.yaml"
        )]
        config: PathBuf,
        /// Only this app.
        #[arg(long, value_name = "NAME")]
        app: Option<String>,
        /// Syncs shown per app, newest first.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
        limit: u32,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        output: Output,
    },
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Verify { files, anchor } => {
            let anchor = match anchor.as_deref().map(parse_anchor).transpose() {
                Ok(anchor) => anchor,
                Err(err) => {
                    eprintln!("{}: {err}", files[0].display());
                    return Ok(ExitCode::from(2));
                }
            };
            if anchor.is_some() && files.len() > 1 {
                eprintln!(
                    "--anchor names the head of one log; {} logs were given",
                    files.len()
                );
                return Ok(ExitCode::from(2));
            }
            let mut code = ExitCode::SUCCESS;
            for file in &files {
                if verify(file, anchor.clone())? != ExitCode::SUCCESS {
                    code = ExitCode::FAILURE;
                }
            }
            Ok(code)
        }
        Command::Show { files, app, since } => {
            let since = since.as_deref().map(parse_since).transpose()?;
            show_history(&files, show::ShowFilter { app, since })
        }
        Command::History {
            config,
            app,
            limit,
            output,
        } => {
            let config = Config::load(&config)?;
            sync_history(
                &config.audit_file(),
                &history::HistoryOptions {
                    app,
                    limit: limit as usize,
                    ..history::HistoryOptions::default()
                },
                output,
            )
        }
    }
}

fn sync_history(
    file: &std::path::Path,
    options: &history::HistoryOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let data = match std::fs::read(file) {
        Ok(data) => data,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("no syncs recorded yet: {} does not exist", file.display());
            Vec::new()
        }
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", file.display())),
    };
    let records = show::parse_lenient(&data);
    let entries = history::history(&records, options);
    match output {
        Output::Text => {
            for entry in &entries {
                println!("{}", printable(&entry.to_string()));
            }
        }
        Output::Json => println!("{}", serde_json::to_string_pretty(&entries)?),
    }
    if data.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    match audit::verify_file(file) {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(AuditError::Broken(failure)) => {
            eprintln!(
                "warning: {} does not verify, this history may be incomplete or altered: {failure}",
                file.display()
            );
            Ok(ExitCode::FAILURE)
        }
        Err(err) => Err(err.into()),
    }
}

fn verify(file: &std::path::Path, anchor: Option<audit::RecordHash>) -> anyhow::Result<ExitCode> {
    match audit::verify_file_anchored(file, anchor.as_ref()) {
        Ok(ok) => {
            let head = ok
                .head
                .map_or_else(|| "(empty log)".to_string(), |h| h.to_string());
            println!(
                "{}: ok, {} records, head {head}",
                file.display(),
                ok.records
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(AuditError::Broken(failure)) => {
            eprintln!("{}: verification FAILED: {failure}", file.display());
            Ok(ExitCode::FAILURE)
        }
        Err(err) => Err(err.into()),
    }
}

fn show_history(files: &[PathBuf], filter: show::ShowFilter) -> anyhow::Result<ExitCode> {
    let mut chains = Vec::with_capacity(files.len());
    for file in files {
        let data =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        chains.push((file.display().to_string(), show::parse_lenient(&data)));
    }
    let lines = match chains.as_slice() {
        [(_, records)] => show::history(records, &filter),
        _ => show::merged_history(&chains, &filter),
    };
    for line in lines {
        println!("{}", printable(&line.to_string()));
    }
    let mut code = ExitCode::SUCCESS;
    for file in files {
        match audit::verify_file(file) {
            Ok(_) => {}
            Err(AuditError::Broken(failure)) => {
                eprintln!(
                    "warning: {} does not verify, this history may be incomplete or altered: {failure}",
                    file.display()
                );
                code = ExitCode::FAILURE;
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(code)
}

/// A `--anchor` as printed by verify: 64 hex digits (either case).
fn parse_anchor(text: &str) -> anyhow::Result<audit::RecordHash> {
    let trimmed = text.trim();
    if trimmed.len() == 64 && trimmed.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(audit::RecordHash(trimmed.to_ascii_lowercase()))
    } else {
        Err(anyhow::anyhow!(
            "--anchor `{text}` is not a well-formed record hash: expected the 64 hexadecimal \
             digits of a head printed by `mortar audit verify` ({} characters given)",
            text.chars().count()
        ))
    }
}

/// Parses `--since`: a timestamp, a date, or an age counted back from now.
fn parse_since(text: &str) -> anyhow::Result<Timestamp> {
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        return Ok(date.to_zoned(TimeZone::UTC)?.timestamp());
    }
    if let Ok(span) = text.parse::<jiff::Span>() {
        let now = Zoned::now().with_time_zone(TimeZone::UTC);
        return Ok(now.checked_sub(span.abs())?.timestamp());
    }
    anyhow::bail!(
        "--since `{text}`: expected an RFC 3339 time (2026-11-28T09:00:00Z), a date (2026-11-28) \
         or an age (90m, 12h, 7d)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_times_dates_and_ages() {
        assert_eq!(
            parse_since("2026-11-28T09:00:00Z").unwrap().to_string(),
            "2026-11-28T09:00:00Z"
        );
        assert_eq!(
            parse_since("2026-11-28").unwrap().to_string(),
            "2026-11-28T00:00:00Z"
        );
        let day_ago = parse_since("1d").unwrap();
        let delta = Timestamp::now().as_second() - day_ago.as_second();
        assert!((86_390..=86_410).contains(&delta), "{delta}");
        assert!(parse_since("yesterday-ish").is_err());
    }
}
