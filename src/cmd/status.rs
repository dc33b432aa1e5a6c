//! `mortar status --config FILE [--app NAME]... [--output text|json]`: the
//! status the controller last persisted in its state directory, read
//! without a server or a workspace call. Every app as a tree with its sync
//! status, health, revisions, last sync, drift check and conditions. Exit 0
//! when a status was found, 2 when the controller has not written one yet.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use mortar::config::Config;
use mortar::controller::status_store::StatusStore;
use mortar::manifest::diag::printable;
use mortar::model::status::{AppStatus, ControllerStatus, SyncCounts, SyncRun};

use super::Output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The controller config file (its `state.dir` holds the status).
    #[arg(
        long,
        value_name = "FILE",
        env = "MORTAR_CONFIG",
        default_value = "mortar.yaml"
    )]
    pub config: PathBuf,
    /// Only this app and the apps below it (repeat for several).
    #[arg(long = "app", value_name = "NAME")]
    pub apps: Vec<String>,
    /// Output format; JSON is the persisted status itself.
    #[arg(long, value_enum, default_value = "text")]
    pub output: Output,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = Config::load(&args.config)?;
    let store = StatusStore::new(&config.state.dir);
    let Some(status) = store.load().with_context(|| {
        format!(
            "cannot read the controller status in {}",
            config.state.dir.display()
        )
    })?
    else {
        eprintln!(
            "no status yet: {} does not exist; the controller (`mortar run`) writes it after its first loop",
            store.path().display()
        );
        return Ok(ExitCode::from(2));
    };
    let status = match select(status, &args.apps) {
        Ok(status) => status,
        Err(unknown) => {
            eprintln!(
                "error: no app named {} in the status",
                printable(&unknown.join(", "))
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    match args.output {
        Output::Text => print!("{}", text(&status, Some(jiff::Timestamp::now()))),
        Output::Json => println!("{}", serde_json::to_string_pretty(&status)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// The named apps and every app below them, in tree order; `Err` with the
/// names that are not in the status.
pub(super) fn select(
    mut status: ControllerStatus,
    names: &[String],
) -> Result<ControllerStatus, Vec<String>> {
    if names.is_empty() {
        return Ok(status);
    }
    let unknown: Vec<String> = names
        .iter()
        .filter(|n| status.app(n).is_none())
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(unknown);
    }
    let mut kept: BTreeSet<String> = BTreeSet::new();
    // Apps come in tree order, each parent before its children.
    for app in &status.apps {
        let below = app.parent.as_ref().is_some_and(|p| kept.contains(p));
        if below || names.contains(&app.name) {
            kept.insert(app.name.clone());
        }
    }
    status.apps.retain(|a| kept.contains(&a.name));
    Ok(status)
}

/// A commit shortened to 12 characters.
fn short(revision: &str) -> &str {
    revision.get(..12).unwrap_or(revision)
}

fn time(t: &jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn counts(c: &SyncCounts) -> String {
    let mut out = format!(
        "{} created, {} updated, {} deleted",
        c.created, c.updated, c.deleted
    );
    if c.failed > 0 {
        let _ = write!(out, ", {} failed", c.failed);
    }
    if c.skipped > 0 {
        let _ = write!(out, ", {} skipped", c.skipped);
    }
    out
}

fn last_sync(run: &SyncRun) -> String {
    let mut out = format!(
        "last sync {} ({}): {}",
        time(&run.finished),
        printable(&run.trigger),
        run.result.label()
    );
    if let Some(rev) = &run.revision {
        let _ = write!(out, " at {}", printable(short(rev)));
    }
    let _ = write!(out, ", {}", counts(&run.counts));
    if let Some(author) = &run.author {
        let _ = write!(out, "; commit by {}", printable(author));
    }
    if let Some(message) = &run.message {
        let _ = write!(out, "\n    {}", printable(message));
    }
    out
}

fn app_lines(out: &mut String, app: &AppStatus, depth: usize) {
    let pad = "  ".repeat(depth);
    let _ = write!(
        out,
        "{pad}{}  {}  {}",
        printable(&app.name),
        app.sync.label(),
        app.health.label()
    );
    let rev = |r: &Option<String>| {
        r.as_deref()
            .map_or_else(|| "-".to_string(), |r| printable(short(r)).into_owned())
    };
    if app.revision_applied == app.revision_seen {
        let _ = write!(out, "  rev {}", rev(&app.revision_applied));
    } else {
        let _ = write!(
            out,
            "  applied {}  seen {}",
            rev(&app.revision_applied),
            rev(&app.revision_seen)
        );
    }
    if let Some(ws) = &app.workspace {
        let _ = write!(out, "  workspace {}", printable(ws));
    }
    if app.paused {
        match &app.pinned {
            Some(pin) => {
                let _ = write!(out, "  paused, pinned to {}", printable(short(pin)));
            }
            None => out.push_str("  paused"),
        }
    }
    out.push('\n');
    let detail = |out: &mut String, line: &str| {
        for (i, l) in line.lines().enumerate() {
            let extra = if i == 0 { "" } else { "  " };
            let _ = writeln!(out, "{pad}    {extra}{}", l.trim_start());
        }
    };
    match &app.last_sync {
        Some(run) => detail(out, &last_sync(run)),
        None => detail(out, "never synced"),
    }
    if let Some(check) = &app.last_drift_check {
        let mut line = format!(
            "drift checked {}: {} drifted",
            time(&check.at),
            check.drifted
        );
        if !check.resources.is_empty() {
            let names: Vec<String> = check
                .resources
                .iter()
                .map(|r| printable(r).into_owned())
                .collect();
            let _ = write!(line, " ({})", names.join(", "));
        }
        detail(out, &line);
    }
    for c in &app.conditions {
        detail(
            out,
            &format!(
                "! {:?} since {}: {}",
                c.kind,
                time(&c.since),
                printable(&c.message)
            ),
        );
    }
}

/// The status as people read it: the source, then each app as a tree;
/// with `now`, how old the snapshot is (a stopped controller shows).
pub(super) fn text(status: &ControllerStatus, now: Option<jiff::Timestamp>) -> String {
    let mut out = String::new();
    let source = &status.source;
    if !source.repository.is_empty() {
        let _ = write!(
            out,
            "source {} @ {}",
            printable(&source.repository),
            printable(&source.reference)
        );
        if let Some(head) = &source.head {
            let _ = write!(out, "  head {}", printable(short(head)));
        }
        if let Some(at) = &source.last_fetch {
            let _ = write!(out, "  fetched {}", time(at));
        }
        out.push('\n');
        if let Some(err) = &source.error {
            let _ = writeln!(out, "  ! {}", printable(err));
        }
        if let Some(note) = &source.force_pushed {
            let _ = writeln!(out, "  force-pushed {}", printable(note));
        }
    }
    if let Some(at) = &status.updated {
        let _ = write!(out, "updated {}", time(at));
        if let Some(now) = now {
            let secs = now.duration_since(*at).as_secs().max(0);
            let age = match secs {
                0..120 => format!("{secs}s"),
                120..7200 => format!("{}m", secs / 60),
                7200..172_800 => format!("{}h", secs / 3600),
                _ => format!("{}d", secs / 86_400),
            };
            let _ = write!(out, " ({age} ago)");
        }
        out.push('\n');
    }
    if !out.is_empty() {
        out.push('\n');
    }
    let top = status.apps.iter().map(|a| a.depth).min().unwrap_or(0);
    for app in &status.apps {
        app_lines(&mut out, app, app.depth - top);
    }
    if status.apps.is_empty() {
        out.push_str("no apps\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mortar::model::status::{Condition, ConditionKind, Health, SyncResult, SyncStatus};

    fn at(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    fn tree() -> ControllerStatus {
        let mut root = AppStatus::unknown("platform");
        root.sync = SyncStatus::Synced;
        root.health = Health::Healthy;
        root.revision_seen = Some("0123456789abcdef0123".into());
        root.revision_applied = root.revision_seen.clone();
        let mut child = AppStatus::unknown("analytics");
        child.parent = Some("platform".into());
        child.depth = 1;
        child.sync = SyncStatus::OutOfSync;
        child.health = Health::Degraded;
        child.revision_seen = Some("fedcba9876543210fedc".into());
        child.revision_applied = Some("0123456789abcdef0123".into());
        child.last_sync = Some(SyncRun {
            started: at("2026-12-02T10:00:00Z"),
            finished: at("2026-12-02T10:00:05Z"),
            trigger: "webhook".into(),
            revision: Some("fedcba9876543210fedc".into()),
            author: Some("Bob <bob@example.com>".into()),
            result: SyncResult::Failed,
            counts: SyncCounts {
                created: 1,
                failed: 1,
                ..SyncCounts::default()
            },
            message: Some("Job/nightly: 400 INVALID_PARAMETER_VALUE".into()),
        });
        child.conditions = vec![Condition {
            kind: ConditionKind::SyncFailed,
            message: "the last sync failed; retrying in 30s".into(),
            since: at("2026-12-02T10:00:05Z"),
        }];
        let mut grandchild = AppStatus::unknown("analytics-jobs");
        grandchild.parent = Some("analytics".into());
        grandchild.depth = 2;
        ControllerStatus {
            apps: vec![root, child, grandchild],
            ..ControllerStatus::default()
        }
    }

    #[test]
    fn text_is_a_tree_with_revisions_last_sync_and_conditions() {
        let out = text(&tree(), None);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "platform  Synced  Healthy  rev 0123456789ab");
        assert_eq!(lines[1], "    never synced");
        assert_eq!(
            lines[2],
            "  analytics  OutOfSync  Degraded  applied 0123456789ab  seen fedcba987654"
        );
        assert_eq!(
            lines[3],
            "      last sync 2026-12-02T10:00:05Z (webhook): failed at fedcba987654, \
             1 created, 0 updated, 0 deleted, 1 failed; commit by Bob <bob@example.com>"
        );
        assert_eq!(lines[4], "        Job/nightly: 400 INVALID_PARAMETER_VALUE");
        assert_eq!(
            lines[5],
            "      ! SyncFailed since 2026-12-02T10:00:05Z: the last sync failed; retrying in 30s"
        );
        assert!(lines[6].starts_with("    analytics-jobs  Unknown  Progressing"));
    }

    #[test]
    fn an_app_selects_its_subtree() {
        let picked = select(tree(), &["analytics".into()]).unwrap();
        let names: Vec<&str> = picked.apps.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["analytics", "analytics-jobs"]);
        assert!(text(&picked, None).starts_with("analytics  OutOfSync"));
        assert_eq!(
            select(tree(), &["nope".into()]).unwrap_err(),
            vec!["nope".to_string()]
        );
    }

    #[test]
    fn the_snapshot_age_is_shown() {
        let mut status = tree();
        status.updated = Some(at("2026-12-02T10:00:00Z"));
        let out = text(&status, Some(at("2026-12-02T10:05:30Z")));
        assert!(
            out.starts_with("updated 2026-12-02T10:00:00Z (5m ago)\n\n"),
            "{out}"
        );
        let out = text(&status, Some(at("2026-12-05T10:00:00Z")));
        assert!(
            out.starts_with("updated 2026-12-02T10:00:00Z (3d ago)\n"),
            "{out}"
        );
    }

    #[test]
    fn control_characters_in_messages_are_escaped() {
        let mut status = tree();
        status.apps[1].conditions[0].message = "bad\u{1b}[2Kthing".into();
        assert!(text(&status, None).contains("bad\\u{1b}[2Kthing"));
    }
}
