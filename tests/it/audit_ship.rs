//! Shipping the audit trail: a real `mortar apply` against the emulator,
//! its sealed records on stdout and posted, signed, to a receiver on
//! loopback that checks every signature and the chain itself.

use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use hmac::{Hmac, Mac};
use mortar::audit::AuditRecord;
use mortar::audit::record::RecordHash;
use mortar_emulator::{EmulatorConfig, RunningEmulator};
use sha2::Sha256;

use super::databricks_support::emulator;
use super::harness::{Out, command, run, write_files};

const KEY: &str = "audit-hook-key-3f9a";

#[derive(Clone, Default)]
struct Received {
    /// (headers, body) in arrival order.
    posts: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    /// Answers to give first (then 200).
    script: Arc<Mutex<Vec<u16>>>,
}

async fn handle(State(r): State<Received>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    r.posts.lock().unwrap().push((headers, body));
    let next = {
        let mut script = r.script.lock().unwrap();
        (!script.is_empty()).then(|| script.remove(0))
    };
    StatusCode::from_u16(next.unwrap_or(200)).unwrap()
}

/// A receiver on loopback: its URL and what it got.
async fn receiver(script: &[u16]) -> (String, Received) {
    let received = Received::default();
    *received.script.lock().unwrap() = script.to_vec();
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/audit/ingest", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, received)
}

/// One app of three groups (no ownership tags: every create is audited
/// with intent and outcome) in a config directory, sinks as given.
fn setup(dir: &Path, ws: &RunningEmulator, sinks: &str) {
    let group = |name: &str| {
        format!(
            "---\napiVersion: mortar.dev/v1alpha1\nkind: Group\nmetadata: {{ name: {name} }}\nspec: {{ displayName: {name} }}\n"
        )
    };
    let groups: String = ["readers", "writers", "owners"]
        .iter()
        .map(|n| group(n))
        .collect();
    write_files(
        dir,
        &[
            (
                "repo/top.yaml",
                "apiVersion: mortar.dev/v1alpha1\nkind: Workspace\nmetadata: { name: dev }\nspec: { host: https://dev.example.com }\n---\napiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: team }\nspec:\n  source: { path: team }\n  destination: { workspace: dev }\n",
            ),
            ("repo/team/groups.yaml", &groups),
            ("pat", &ws.token()),
            ("hook-key", KEY),
            (
                "mortar.yaml",
                &format!(
                    "source: {{ dir: repo }}\naudit:\n  sinks: {sinks}\nworkspaces:\n  dev:\n    host: {}\n    auth: {{ method: pat, token: {{ file: pat }} }}\n",
                    ws.base_url()
                ),
            ),
        ],
    );
}

async fn apply(dir: &Path) -> Out {
    let out = run(command(dir, &["apply", "--auto-approve"], true)).await;
    assert_eq!(out.code, 0, "apply failed:\n{}\n{}", out.stdout, out.stderr);
    out
}

fn log_of_record(dir: &Path) -> Vec<AuditRecord> {
    std::fs::read_to_string(dir.join("state/audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Checks, as an audit service would, that each body is signed with the
/// shared key and that the records form one unbroken chain from genesis.
fn check_as_receiver(posts: &[(HeaderMap, Bytes)]) -> Vec<AuditRecord> {
    let mut prev = RecordHash::genesis();
    let mut records = Vec::new();
    for (headers, body) in posts {
        let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_string();
        let sig = header("x-mortar-signature");
        let hex_sig = sig.strip_prefix("sha256=").expect("sha256= prefix");
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(KEY.as_bytes()).unwrap();
        mac.update(body);
        mac.verify_slice(&hex::decode(hex_sig).unwrap())
            .expect("the signature is the HMAC-SHA256 of the body under the shared key");
        assert_eq!(header("x-mortar-event"), "audit-record");
        let record: AuditRecord = serde_json::from_slice(body).unwrap();
        assert_eq!(header("x-mortar-audit-seq"), record.seq.to_string());
        assert!(record.hash_is_valid(), "record {} hash", record.seq);
        assert_eq!(
            record.prev_hash, prev,
            "record {} follows the last",
            record.seq
        );
        prev = record.hash.clone();
        records.push(record);
    }
    records
}

#[tokio::test]
async fn every_sealed_record_reaches_stdout_and_a_signed_webhook_in_order() {
    let ws = emulator(EmulatorConfig::default()).await;
    // The receiver fails twice at first: those deliveries are retried.
    let (url, received) = receiver(&[503, 500]).await;
    let dir = tempfile::tempdir().unwrap();
    setup(
        dir.path(),
        &ws,
        &format!("[stdout, {{ webhook: {{ url: \"{url}\", secret: {{ file: hook-key }} }} }}]"),
    );
    let out = apply(dir.path()).await;

    let log = log_of_record(dir.path());
    // Three creates: an intent and an outcome each.
    assert_eq!(log.len(), 6, "{log:?}");
    // The process waits for the queue to drain on exit: everything arrived.
    let posts = received.posts.lock().unwrap().clone();
    let delivered = check_as_receiver(&posts[2..]);
    assert_eq!(delivered, log, "the receiver holds the log of record");
    // The two refused attempts were the first record, sent again.
    assert_eq!(posts[0].1, posts[2].1);
    assert_eq!(
        posts[0].0["x-mortar-delivery"],
        posts[2].0["x-mortar-delivery"]
    );
    assert!(!std::str::from_utf8(&posts[0].1).unwrap().contains(KEY));

    let shipped: Vec<AuditRecord> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("{\"seq\":"))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        shipped, log,
        "stdout carries every sealed record:\n{}",
        out.stdout
    );
}

#[tokio::test]
async fn a_receiver_that_is_down_neither_blocks_nor_fails_an_apply() {
    let ws = emulator(EmulatorConfig::default()).await;
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/audit", listener.local_addr().unwrap());
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    setup(
        dir.path(),
        &ws,
        &format!(
            "[{{ webhook: {{ url: \"{url}\", secret: {{ file: hook-key }}, max_attempts: 2 }} }}]"
        ),
    );
    let started = std::time::Instant::now();
    apply(dir.path()).await;
    assert_eq!(log_of_record(dir.path()).len(), 6);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "the apply waited {:?} on a dead receiver",
        started.elapsed()
    );

    // A bad sink config is refused before anything is applied, naming the field.
    let dir = tempfile::tempdir().unwrap();
    setup(
        dir.path(),
        &ws,
        "[{ webhook: { url: \"http://audit.example.com/in\", secret: { file: hook-key } } }]",
    );
    let out = run(command(dir.path(), &["apply", "--auto-approve"], true)).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("audit.sinks[0].webhook.url"),
        "{}",
        out.stderr
    );
    assert!(!dir.path().join("state/audit.jsonl").exists());
}
