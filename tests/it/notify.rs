//! Notifications end to end: the notifier posting to real HTTP receivers on
//! 127.0.0.1 — a signed webhook checked with HMAC-SHA256, a Slack-style
//! receiver, one that fails before it succeeds, one that hangs, one that
//! is too slow for the queue.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use mortar::config::{Config, EventKind};
use mortar::controller::notify::{Event, Notifier, NotifierTuning};
use mortar::outbound::{Backoff, DeliveryStats};
use sha2::Sha256;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// Answers a receiver gives: status and `Retry-After`.
type Answers = Vec<(u16, Option<&'static str>)>;

#[derive(Clone)]
enum Behaviour {
    /// These answers first, then 200.
    Script(Arc<Mutex<Answers>>),
    /// Never answers.
    Hang,
    /// Answers 200 once a permit is released.
    Gate(Arc<Semaphore>),
}

#[derive(Clone)]
struct Shared {
    got: Arc<Mutex<Vec<Received>>>,
    behaviour: Behaviour,
}

async fn handle(State(s): State<Shared>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    s.got.lock().unwrap().push(Received {
        path: uri.path().to_string(),
        headers,
        body,
    });
    match &s.behaviour {
        Behaviour::Script(script) => {
            let next = {
                let mut script = script.lock().unwrap();
                (!script.is_empty()).then(|| script.remove(0))
            };
            match next {
                Some((code, retry_after)) => {
                    let mut resp = StatusCode::from_u16(code).unwrap().into_response();
                    if let Some(after) = retry_after {
                        resp.headers_mut()
                            .insert("retry-after", after.parse().unwrap());
                    }
                    resp
                }
                None => StatusCode::OK.into_response(),
            }
        }
        Behaviour::Hang => std::future::pending().await,
        Behaviour::Gate(gate) => {
            let _permit = gate.acquire().await.unwrap();
            StatusCode::OK.into_response()
        }
    }
}

struct Receiver {
    base: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

async fn receiver(behaviour: Behaviour) -> Receiver {
    let got = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new().fallback(handle).with_state(Shared {
        got: got.clone(),
        behaviour,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Receiver { base, got }
}

fn script(answers: &[(u16, Option<&'static str>)]) -> Behaviour {
    Behaviour::Script(Arc::new(Mutex::new(answers.to_vec())))
}

fn config(dir: &Path, yaml: &str) -> Config {
    let file = dir.join("mortar.yaml");
    std::fs::write(&file, yaml).unwrap();
    Config::load(&file).unwrap()
}

fn event(kind: EventKind, app: &str) -> Event {
    Event {
        kind,
        app: app.into(),
        revision: Some("0123456789abcdef0123456789abcdef01234567".into()),
        message: format!("{app}: something happened"),
        at: "2026-12-02T10:00:00Z".parse().unwrap(),
    }
}

fn fast() -> NotifierTuning {
    NotifierTuning {
        backoff: Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(200),
            ..Backoff::default()
        },
        ..NotifierTuning::default()
    }
}

async fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn header<'a>(r: &'a Received, name: &str) -> &'a str {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn webhook_bodies_are_signed_and_slack_gets_text_for_the_apps_it_wants() {
    let dir = tempfile::tempdir().unwrap();
    let hook = receiver(script(&[])).await;
    let slack = receiver(script(&[])).await;
    let key = "a-shared-hmac-key-for-the-pager";
    std::fs::write(dir.path().join("hook-key"), format!("{key}\n")).unwrap();
    std::fs::write(
        dir.path().join("slack-url"),
        format!("{}/services/T000/B000/XXXXSECRET", slack.base),
    )
    .unwrap();
    let config = config(
        dir.path(),
        &format!(
            r#"
notifications:
  - name: team-slack
    slack: {{ url: {{ file: slack-url }} }}
    on: [sync-failed, drift-detected]
    apps: ["analytics-*"]
  - name: pager
    webhook: {{ url: "{}/mortar", secret: {{ file: hook-key }} }}
    on: [sync-failed]
"#,
            hook.base
        ),
    );
    let cancel = CancellationToken::new();
    let notifier = Notifier::start_tuned(&config.notifications, fast(), cancel.clone()).unwrap();
    notifier.send(vec![
        event(EventKind::SyncFailed, "analytics-prod"),
        event(EventKind::DriftDetected, "platform"), // no channel wants it
        event(EventKind::AppRecovered, "analytics-prod"), // nor this
    ]);
    wait_for("both deliveries", Duration::from_secs(10), || {
        notifier.stats().delivered == 2
    })
    .await;

    let got = hook.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.path, "/mortar");
    assert_eq!(header(r, "x-mortar-event"), "sync-failed");
    assert_eq!(header(r, "content-type"), "application/json");
    let signature = header(r, "x-mortar-signature");
    let hex_sig = signature.strip_prefix("sha256=").expect("sha256= prefix");
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(&r.body);
    mac.verify_slice(&hex::decode(hex_sig).unwrap())
        .expect("the signature is the HMAC-SHA256 of the body under the shared key");
    let mut wrong = Hmac::<Sha256>::new_from_slice(b"another key").unwrap();
    wrong.update(&r.body);
    assert!(wrong.verify_slice(&hex::decode(hex_sig).unwrap()).is_err());
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["event"], "sync-failed");
    assert_eq!(body["app"], "analytics-prod");
    assert_eq!(body["notification"], "pager");
    assert_eq!(body["revision"], "0123456789abcdef0123456789abcdef01234567");
    assert_eq!(body["message"], "analytics-prod: something happened");
    assert_eq!(body["id"], header(r, "x-mortar-delivery"));
    assert_eq!(header(r, "x-mortar-delivery").len(), 32);

    let got = slack.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/services/T000/B000/XXXXSECRET");
    assert!(got[0].headers.get("x-mortar-signature").is_none());
    let body: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "text": ":x: *sync-failed* `analytics-prod` at `0123456789ab`\nanalytics-prod: something happened"
        })
    );
    cancel.cancel();
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_event_once_and_a_refusal_is_final() {
    let dir = tempfile::tempdir().unwrap();
    let flaky = receiver(script(&[(503, Some("1")), (500, None)])).await;
    let gone = receiver(script(&[(404, None), (404, None)])).await;
    let config = config(
        dir.path(),
        &format!(
            r#"
notifications:
  - name: flaky
    webhook: {{ url: "{}/hook" }}
    on: [sync-failed]
  - name: gone
    webhook: {{ url: "{}/hook" }}
    on: [sync-failed]
"#,
            flaky.base, gone.base
        ),
    );
    let cancel = CancellationToken::new();
    let notifier = Notifier::start_tuned(&config.notifications, fast(), cancel.clone()).unwrap();
    let start = Instant::now();
    notifier.send(vec![event(EventKind::SyncFailed, "analytics")]);
    wait_for("the flaky delivery", Duration::from_secs(10), || {
        notifier.stats().delivered == 1 && notifier.stats().failed == 1
    })
    .await;
    // The 503's `Retry-After: 1` was honoured.
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = flaky.received();
    assert_eq!(got.len(), 3, "two failures and one success, nothing more");
    let ids: Vec<&str> = got.iter().map(|r| header(r, "x-mortar-delivery")).collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one delivery id: {ids:?}"
    );
    assert!(got.iter().all(|r| r.body == got[0].body));
    // A 404 is not retried.
    assert_eq!(gone.received().len(), 1);
    assert_eq!(
        notifier.stats_by_channel(),
        [
            (
                "flaky".to_string(),
                DeliveryStats {
                    delivered: 1,
                    ..DeliveryStats::default()
                }
            ),
            (
                "gone".to_string(),
                DeliveryStats {
                    failed: 1,
                    ..DeliveryStats::default()
                }
            ),
        ]
    );
    cancel.cancel();
}

#[tokio::test]
async fn a_hung_receiver_holds_back_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let hung = receiver(Behaviour::Hang).await;
    let fine = receiver(script(&[])).await;
    let config = config(
        dir.path(),
        &format!(
            r#"
notifications:
  - name: hung
    webhook: {{ url: "{}/hook" }}
    on: [sync-failed]
    timeout_secs: 2
    max_attempts: 2
  - name: fine
    webhook: {{ url: "{}/hook" }}
    on: [sync-failed]
"#,
            hung.base, fine.base
        ),
    );
    let cancel = CancellationToken::new();
    let notifier = Notifier::start_tuned(&config.notifications, fast(), cancel.clone()).unwrap();
    let start = Instant::now();
    notifier.send(vec![
        event(EventKind::SyncFailed, "a"),
        event(EventKind::SyncFailed, "b"),
    ]);
    assert!(
        start.elapsed() < Duration::from_millis(50),
        "send never blocks"
    );
    // Well before the hung receiver's first timeout (2 s).
    wait_for("the healthy channel", Duration::from_millis(1800), || {
        fine.received().len() == 2
    })
    .await;
    assert!(
        notifier.stats().failed == 0,
        "the hung receiver is still being waited for"
    );
    assert_eq!(hung.received().len(), 1);
    // Each event: two attempts of one second each, then given up.
    wait_for(
        "the hung channel to give up",
        Duration::from_secs(15),
        || notifier.stats().failed == 2,
    )
    .await;
    assert!(
        start.elapsed() >= Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(hung.received().len(), 4);
    assert_eq!(notifier.stats().delivered, 2);
    cancel.cancel();
}

#[tokio::test]
async fn a_full_queue_drops_the_oldest_events() {
    let dir = tempfile::tempdir().unwrap();
    let gate = Arc::new(Semaphore::new(0));
    let slow = receiver(Behaviour::Gate(gate.clone())).await;
    let config = config(
        dir.path(),
        &format!(
            "notifications: [{{ name: slow, webhook: {{ url: \"{}/hook\" }}, on: [sync-failed] }}]\n",
            slow.base
        ),
    );
    let cancel = CancellationToken::new();
    let tuning = NotifierTuning {
        queue_capacity: 2,
        ..fast()
    };
    let notifier = Notifier::start_tuned(&config.notifications, tuning, cancel.clone()).unwrap();
    notifier.send(vec![event(EventKind::SyncFailed, "e1")]);
    wait_for(
        "the first delivery in flight",
        Duration::from_secs(5),
        || slow.received().len() == 1,
    )
    .await;
    notifier.send(
        ["e2", "e3", "e4", "e5"]
            .into_iter()
            .map(|a| event(EventKind::SyncFailed, a))
            .collect(),
    );
    assert_eq!(notifier.stats().dropped, 2);
    gate.add_permits(10);
    wait_for("the queue to drain", Duration::from_secs(5), || {
        notifier.stats().delivered == 3
    })
    .await;
    let apps: Vec<String> = slow
        .received()
        .iter()
        .map(|r| {
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            body["app"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(apps, ["e1", "e4", "e5"]);

    // After cancellation nothing more is sent.
    cancel.cancel();
    tokio::time::sleep(Duration::from_millis(50)).await;
    notifier.send(vec![event(EventKind::SyncFailed, "late")]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(slow.received().len(), 3);
}

/// Log lines captured in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn giving_up_is_logged_without_the_secret_part_of_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let failing = receiver(script(&[(500, None), (502, None)])).await;
    std::fs::write(
        dir.path().join("slack-url"),
        format!("{}/services/T000/B000/XXXXSECRETPATH", failing.base),
    )
    .unwrap();
    // A port nobody listens on: a connection error, whose text would carry the URL.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);
    let config = config(
        dir.path(),
        &format!(
            "notifications:\n\
             - {{ name: team-slack, slack: {{ url: {{ file: slack-url }} }}, on: [sync-failed], max_attempts: 2 }}\n\
             - {{ name: nobody, webhook: {{ url: \"http://{closed_addr}/hook/SECRETTOKEN2\" }}, on: [sync-failed], max_attempts: 2 }}\n"
        ),
    );
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The test runtime has one thread: the sender task logs to this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);
    let cancel = CancellationToken::new();
    let notifier = Notifier::start_tuned(&config.notifications, fast(), cancel.clone()).unwrap();
    notifier.send(vec![event(EventKind::SyncFailed, "analytics")]);
    wait_for("the senders to give up", Duration::from_secs(10), || {
        notifier.stats().failed == 2
    })
    .await;
    assert_eq!(failing.received().len(), 2);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("giving up on a notification"), "{text}");
    assert!(text.contains("team-slack"), "{text}");
    assert!(text.contains(&failing.base), "the origin is shown: {text}");
    assert!(text.contains("502 Bad Gateway"), "{text}");
    assert!(!text.contains("XXXXSECRETPATH"), "{text}");
    assert!(!text.contains("/services/"), "{text}");
    assert!(text.contains("cannot connect"), "{text}");
    assert!(!text.contains("SECRETTOKEN2"), "{text}");
    cancel.cancel();
}
