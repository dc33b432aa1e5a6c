//! The web view's pages, as HTML from plain data: the app tree and one
//! app's page (state, actions, diff, resources, history, drift, audit
//! trail). Pure functions: what a page shows is decided by the caller
//! (which actions the caller may take, which records are the app's), and
//! every text is escaped by the template engine.

use maud::{DOCTYPE, Markup, html};

use super::feed::Verification;
use crate::audit::history::SyncEntry;
use crate::audit::{AuditRecord, Outcome, Phase};
use crate::model::status::{ControllerStatus, SyncResult};
use crate::model::{AppStatus, Health, SyncStatus};
use crate::server::auth::{Identity, Proof};
use crate::server::view::{PlanView, ResourceRow};

/// Who is looking, and what they may press.
pub struct Viewer<'a> {
    pub identity: &'a Identity,
    /// The token forms send back (none for bearer callers).
    pub csrf: Option<&'a str>,
    /// Whether people sign in (a sign-out button makes sense).
    pub signed_in: bool,
}

/// The actions a viewer may take on one app.
#[derive(Debug, Clone, Copy, Default)]
pub struct Allowed {
    pub sync: bool,
    /// Sync beyond the app's policy (prune when it does not).
    pub override_policy: bool,
    pub refresh: bool,
    pub rollback: bool,
    pub pause: bool,
}

/// What a finished command says at the top of the app page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Sync,
    Refresh,
    Rollback,
    Pause,
    Resume,
}

impl Notice {
    pub fn parse(text: &str) -> Option<Notice> {
        Some(match text {
            "sync" => Notice::Sync,
            "refresh" => Notice::Refresh,
            "rollback" => Notice::Rollback,
            "pause" => Notice::Pause,
            "resume" => Notice::Resume,
            _ => return None,
        })
    }

    fn text(self) -> &'static str {
        match self {
            Notice::Sync => {
                "Sync requested: the app syncs within seconds (a dry run only plans it; the Diff below shows the plan)."
            }
            Notice::Refresh => {
                "Refresh requested: the app is compared with its workspaces within seconds."
            }
            Notice::Rollback => {
                "Rolled back: the app is held at that revision, its automated sync paused."
            }
            Notice::Pause => "Paused: automated sync holds the app at the revision applied.",
            Notice::Resume => "Resumed: automated sync goes on at the newest revision.",
        }
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

fn sync_badge(sync: SyncStatus) -> Markup {
    let class = match sync {
        SyncStatus::Synced => "badge ok",
        SyncStatus::OutOfSync => "badge warn",
        SyncStatus::Unknown => "badge muted",
    };
    html! { span class=(class) { (sync.label()) } }
}

fn health_badge(health: Health) -> Markup {
    let class = match health {
        Health::Healthy => "badge ok",
        Health::Progressing => "badge info",
        Health::Degraded | Health::Error => "badge bad",
        Health::Blocked => "badge warn",
    };
    html! { span class=(class) { (health.label()) } }
}

fn result_badge(result: SyncResult) -> Markup {
    let class = match result {
        SyncResult::Succeeded => "badge ok",
        SyncResult::Failed => "badge bad",
        SyncResult::Cancelled => "badge warn",
    };
    html! { span class=(class) { (result.label()) } }
}

fn time(t: jiff::Timestamp) -> Markup {
    let text = t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string();
    html! { time datetime=(t.to_string()) { (text) } }
}

/// The page around `body`.
fn layout(title: &str, status: &ControllerStatus, viewer: &Viewer, body: Markup) -> Markup {
    let source = &status.source;
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Mortar" }
                link rel="stylesheet" href="/assets/style.css";
                script src="/assets/live.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/" { "Mortar" }
                    span.source {
                        (source.repository) " · " (source.reference)
                        @if let Some(head) = &source.head {
                            " at " code { (short(head)) }
                        }
                        @if let Some(error) = &source.error {
                            " · " span.badge.bad { "source: " (error) }
                        }
                    }
                    div.who {
                        @match viewer.identity.proof {
                            Proof::Loopback => {
                                span.note { "No sign-in configured: this server listens on loopback only, and everyone on this host acts as admin." }
                            }
                            _ => {
                                "Signed in as " strong { (viewer.identity.display()) }
                                @if !viewer.identity.groups.is_empty() {
                                    " (" (viewer.identity.groups.join(", ")) ")"
                                }
                                @if viewer.signed_in {
                                    @if let Some(csrf) = viewer.csrf {
                                        form.inline method="post" action="/auth/logout" {
                                            input type="hidden" name="csrf" value=(csrf);
                                            button type="submit" { "Sign out" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                main #live data-updated=(status.updated.map(|t| t.to_string()).unwrap_or_default()) {
                    (body)
                }
            }
        }
    }
}

/// A button posting `command` for `app` (with the page's CSRF token).
fn command_button(app: &str, command: &str, label: &str, csrf: Option<&str>) -> Markup {
    option_button(app, command, None, command, label, csrf)
}

/// A button posting `command` with one option set (`dry_run`, `prune`).
fn option_button(
    app: &str,
    command: &str,
    option: Option<&str>,
    marker: &str,
    label: &str,
    csrf: Option<&str>,
) -> Markup {
    html! {
        form.inline method="post" action={ "/apps/" (urlencode(app)) "/" (command) } {
            @if let Some(token) = csrf { input type="hidden" name="csrf" value=(token); }
            @if let Some(name) = option { input type="hidden" name=(name) value="true"; }
            button type="submit" data-command=(marker) { (label) }
        }
    }
}

/// The app tree: every app, parents before children, with its state and
/// the buttons the viewer may press.
pub fn tree(
    status: &ControllerStatus,
    viewer: &Viewer,
    allowed: &dyn Fn(&AppStatus) -> Allowed,
) -> Markup {
    let synced = status
        .apps
        .iter()
        .filter(|a| a.sync == SyncStatus::Synced)
        .count();
    let body = html! {
        h1 { "Apps" }
        p.summary {
            (status.apps.len()) " apps, " (synced) " Synced"
            @if let Some(t) = status.updated { " · updated " (time(t)) }
        }
        table.apps {
            caption { "Each app the source declares, each parent before its children." }
            thead {
                tr {
                    th scope="col" { "App" }
                    th scope="col" { "Project" }
                    th scope="col" { "Workspace" }
                    th scope="col" { "Sync" }
                    th scope="col" { "Health" }
                    th scope="col" { "Revision" }
                    th scope="col" { "Last sync" }
                    th scope="col" { "Actions" }
                }
            }
            tbody {
                @for app in &status.apps {
                    @let may = allowed(app);
                    tr data-app=(app.name) {
                        th scope="row" class={ "depth-" (app.depth.min(8)) } {
                            @if app.depth > 0 { span.branch aria-hidden="true" { "└ " } }
                            a href={ "/apps/" (urlencode(&app.name)) } { (app.name) }
                            @if app.paused { " " span.badge.muted { "paused" } }
                        }
                        td { (app.project) }
                        td { (app.workspace.as_deref().unwrap_or("—")) }
                        td { (sync_badge(app.sync)) }
                        td { (health_badge(app.health)) }
                        td { code { (app.revision_applied.as_deref().map(short).unwrap_or("—")) } }
                        td {
                            @match &app.last_sync {
                                Some(run) => { (result_badge(run.result)) " " (time(run.finished)) }
                                None => { "—" }
                            }
                        }
                        td.actions {
                            @if may.sync { (command_button(&app.name, "sync", "Sync", viewer.csrf)) }
                            @if may.refresh { (command_button(&app.name, "refresh", "Refresh", viewer.csrf)) }
                        }
                    }
                }
            }
        }
    };
    layout("Apps", status, viewer, body)
}

/// What one app's page shows.
pub struct AppPage<'a> {
    pub app: &'a AppStatus,
    pub allowed: Allowed,
    pub notice: Option<Notice>,
    /// An error from a command, shown instead of a notice.
    pub error: Option<&'a str>,
    pub plan: Option<&'a PlanView>,
    pub resources: &'a [ResourceRow],
    pub history: &'a [SyncEntry],
    /// The app's records, newest first.
    pub records: &'a [&'a AuditRecord],
    pub verification: &'a Verification,
}

/// One app: its state, what the viewer may do, its diff, resources,
/// history, drift and audit trail.
pub fn app(status: &ControllerStatus, viewer: &Viewer, page: &AppPage) -> Markup {
    let app = page.app;
    let may = page.allowed;
    let drift: Vec<&&AuditRecord> = page
        .records
        .iter()
        .filter(|r| r.event.action == crate::audit::AuditAction::DriftDetected)
        .collect();
    let body = html! {
        nav aria-label="Breadcrumb" { a href="/" { "Apps" } " › " (app.name) }
        h1 { (app.name) " " (sync_badge(app.sync)) " " (health_badge(app.health)) }
        @if let Some(error) = page.error {
            p.alert role="alert" { (error) }
        } @else if let Some(notice) = page.notice {
            p.notice role="status" { (notice.text()) }
        }
        section aria-labelledby="state" {
            h2 #state { "State" }
            dl.facts {
                dt { "Project" } dd { (app.project) }
                dt { "Workspace" } dd { (app.workspace.as_deref().unwrap_or("—")) }
                dt { "Parent" } dd {
                    @match &app.parent {
                        Some(p) => { a href={ "/apps/" (urlencode(p)) } { (p) } }
                        None => { "— (a root)" }
                    }
                }
                dt { "Revision applied" } dd { code { (app.revision_applied.as_deref().map(short).unwrap_or("—")) } }
                dt { "Revision seen" } dd { code { (app.revision_seen.as_deref().map(short).unwrap_or("—")) } }
                dt { "Sync policy" } dd {
                    @if app.automated {
                        "automated" @if app.self_heal { ", self-heal" } @if app.prune { ", prune" }
                    } @else { "manual: syncs when someone asks" }
                    @if let Some(pin) = &app.pinned { " · held at " code { (short(pin)) } }
                    @else if app.paused { " · paused" }
                }
                @if !app.depends_on.is_empty() {
                    dt { "Depends on" } dd { (app.depends_on.join(", ")) }
                }
                dt { "Last sync" } dd {
                    @match &app.last_sync {
                        Some(run) => {
                            (result_badge(run.result)) " " (time(run.finished)) " (" (run.trigger) ")"
                            @if let Some(m) = &run.message { " — " (m) }
                        }
                        None => { "never" }
                    }
                }
                dt { "Last drift check" } dd {
                    @match &app.last_drift_check {
                        Some(check) => { (time(check.at)) ": " (check.drifted) " drifted" }
                        None => { "not yet" }
                    }
                }
            }
            @if !app.conditions.is_empty() {
                h3 { "Conditions" }
                ul.conditions {
                    @for c in &app.conditions {
                        li { strong { (format!("{:?}", c.kind)) } ": " (c.message) " (since " (time(c.since)) ")" }
                    }
                }
            }
        }
        @if may.sync || may.refresh || may.pause || may.rollback {
            section aria-labelledby="actions" {
                h2 #actions { "Actions" }
                div.buttons {
                    @if may.sync { (command_button(&app.name, "sync", "Sync", viewer.csrf)) }
                    @if may.sync { (option_button(&app.name, "sync", Some("dry_run"), "dry-run", "Dry run", viewer.csrf)) }
                    @if may.sync && may.override_policy && !app.prune {
                        (option_button(&app.name, "sync", Some("prune"), "sync-prune", "Sync and prune", viewer.csrf))
                    }
                    @if may.refresh { (command_button(&app.name, "refresh", "Refresh", viewer.csrf)) }
                    @if may.pause {
                        @if app.paused { (command_button(&app.name, "resume", "Resume", viewer.csrf)) }
                        @else { (command_button(&app.name, "pause", "Pause", viewer.csrf)) }
                    }
                }
                @if may.rollback {
                    form.rollback method="post" action={ "/apps/" (urlencode(&app.name)) "/rollback" } {
                        @if let Some(token) = viewer.csrf { input type="hidden" name="csrf" value=(token); }
                        label for="revision" { "Roll back to revision" }
                        input #revision type="text" name="revision" required placeholder="commit, branch or tag" autocomplete="off";
                        button type="submit" data-command="rollback" { "Roll back" }
                    }
                }
            }
        }
        section aria-labelledby="diff" {
            h2 #diff { "Diff" }
            @match page.plan {
                Some(plan) => {
                    p { "Planned " (time(plan.at)) ": " (plan.changes) " change(s) would reach the workspace." }
                    pre.plan { (plan.text) }
                }
                None => { p { "Not planned yet." } }
            }
        }
        section aria-labelledby="resources" {
            h2 #resources { "Resources" }
            @if page.resources.is_empty() {
                p { "None declared at the revision seen." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Workspace" } th scope="col" { "Kind" } th scope="col" { "Name" } th scope="col" { "Manifest" } } }
                    tbody {
                        @for r in page.resources {
                            tr { td { (r.workspace) } td { (r.kind) } th scope="row" { (r.name) } td { code { (r.origin) } } }
                        }
                    }
                }
            }
        }
        section aria-labelledby="history" {
            h2 #history { "History" }
            @if page.history.is_empty() {
                p { "No sync recorded yet." }
            } @else {
                table.history {
                    thead { tr {
                        th scope="col" { "Started" } th scope="col" { "Revision" } th scope="col" { "Author" }
                        th scope="col" { "Trigger" } th scope="col" { "By" } th scope="col" { "Result" } th scope="col" { "Changes" }
                    } }
                    tbody {
                        @for s in page.history {
                            tr {
                                td { (time(s.started)) }
                                td { code { (s.revision.as_deref().map(short).unwrap_or("—")) } }
                                td { (s.commit_author.as_deref().unwrap_or("—")) }
                                td { (s.trigger) }
                                td.by { (s.person.as_deref().unwrap_or("—")) }
                                td { (s.result.label()) }
                                td { (s.counts.created) " created, " (s.counts.updated) " updated, " (s.counts.deleted) " deleted"
                                    @if s.counts.failed > 0 { ", " (s.counts.failed) " failed" } }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="drift" {
            h2 #drift { "Drift" }
            @if drift.is_empty() {
                p { "No drift recorded." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Seen" } th scope="col" { "Resource" } th scope="col" { "Changed outside Mortar" } } }
                    tbody {
                        @for r in &drift {
                            tr {
                                td { (time(r.timestamp)) }
                                th scope="row" { (r.event.key) }
                                td { (r.event.changes.iter().map(|c| c.path.as_str()).collect::<Vec<_>>().join(", ")) }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="audit" {
            h2 #audit { "Audit trail" }
            @match page.verification {
                Verification::Verified(n) => { p { span.badge.ok { "verified" } " The chain of " (n) " records verifies." } }
                Verification::Broken(why) => { p.alert role="alert" { span.badge.bad { "does not verify" } " " (why) } }
            }
            @if page.records.is_empty() {
                p { "No record about this app yet." }
            } @else {
                table.audit {
                    thead { tr {
                        th scope="col" { "#" } th scope="col" { "Time" } th scope="col" { "Action" }
                        th scope="col" { "Resource" } th scope="col" { "Who" } th scope="col" { "Acting as" } th scope="col" { "Outcome" }
                    } }
                    tbody {
                        @for r in page.records.iter().take(100) {
                            tr {
                                td { (r.seq) }
                                td { (time(r.timestamp)) }
                                td { (r.event.action.as_str()) @if r.event.phase == Phase::Intent { " (intent)" } }
                                td { (r.event.key) }
                                td { (r.event.triggered_by.to_string()) }
                                td { (r.event.acting_as.as_deref().unwrap_or("—")) }
                                td {
                                    @match &r.event.outcome {
                                        Some(Outcome::Ok) => { "ok" }
                                        Some(Outcome::Error(e)) => { span.bad { (e) } }
                                        None => { "—" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    layout(&app.name, status, viewer, body)
}

/// A page saying why something was refused or not found.
pub fn problem(status: &ControllerStatus, viewer: &Viewer, title: &str, message: &str) -> Markup {
    layout(
        title,
        status,
        viewer,
        html! {
            h1 { (title) }
            p.alert role="alert" { (message) }
            p { a href="/" { "Back to the apps" } }
        },
    )
}

/// `text` as one segment of a URL path or a query value.
pub(crate) fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
