//! The Databricks client against hostile or broken servers on 127.0.0.1:
//! endless and oversized bodies, huge `Retry-After`, servers that never
//! answer, paging loops, misleading error codes, token endpoints that
//! redirect or fail, servers that echo requests back, and credential files
//! that are devices or pipes. Every case ends in bounded time with a typed
//! error and no secret in it.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use mortar::config::{AuthConfig, SecretRef, ValueRef, WorkspaceConfig};
use mortar::databricks::pagination::{list_scim, list_token_paged};
use mortar::databricks::{AuthError, Client, Error};

use crate::databricks_support::{secret_file, workspace};

/// One request as the hostile server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    /// Path and query, as sent.
    target: String,
    head: String,
    body: Vec<u8>,
}

impl Seen {
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    fn query(&self, key: &str) -> Option<String> {
        let (_, q) = self.target.split_once('?')?;
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }
}

/// What the hostile server does with a request.
enum Reply {
    /// A complete answer.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// 200 with a body that never ends (no length; written until the client leaves).
    Endless { prefix: &'static str },
    /// Headers declaring `len` bytes, then silence.
    Declares { len: u64 },
    /// Reads the request and never answers.
    Silent,
}

fn json_reply(status: u16, body: Value) -> Reply {
    Reply::Full {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// A raw HTTP/1.1 server on 127.0.0.1 that answers as its handler says
/// and records every request.
struct Hostile {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Hostile {
    async fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let record = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = handler.clone();
                let record = record.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, handler, record).await;
                });
            }
        });
        Hostile {
            url: format!("http://{addr}"),
            seen,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    fn hits(&self, path: &str) -> usize {
        self.seen().iter().filter(|s| s.path() == path).count()
    }
}

async fn serve(
    mut stream: TcpStream,
    handler: Handler,
    record: Arc<Mutex<Vec<Seen>>>,
) -> std::io::Result<()> {
    loop {
        let mut buf = Vec::new();
        let mut byte = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = stream.read(&mut byte).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&byte[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let len = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        let mut body = buf[head_end..].to_vec();
        while body.len() < len {
            let n = stream.read(&mut byte).await?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&byte[..n]);
        }
        let mut words = head.split_whitespace();
        let seen = Seen {
            method: words.next().unwrap_or("").to_string(),
            target: words.next().unwrap_or("").to_string(),
            head: head.clone(),
            body,
        };
        record.lock().expect("lock").push(seen.clone());
        match handler(&seen) {
            Reply::Full {
                status,
                headers,
                body,
            } => {
                let mut out = format!("HTTP/1.1 {status} Whatever\r\n");
                for (k, v) in headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
                stream.write_all(out.as_bytes()).await?;
                stream.write_all(&body).await?;
            }
            Reply::Endless { prefix } => {
                stream
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n",
                    )
                    .await?;
                stream.write_all(prefix.as_bytes()).await?;
                let chunk = "{\"job_id\":1},".repeat(5000);
                loop {
                    stream.write_all(chunk.as_bytes()).await?;
                }
            }
            Reply::Declares { len } => {
                let out = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n{{"
                );
                stream.write_all(out.as_bytes()).await?;
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return Ok(());
            }
            Reply::Silent => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return Ok(());
            }
        }
    }
}

/// A PAT workspace on `host` with test limits, adjusted by `tune`.
fn pat_workspace(
    host: &str,
    dir: &Path,
    token: &str,
    tune: impl FnOnce(&mut WorkspaceConfig),
) -> Client {
    let token = secret_file(dir, "pat", token);
    let mut ws = workspace(host, AuthConfig::Pat { token });
    tune(&mut ws);
    Client::new("hostile", &ws).expect("client")
}

fn m2m_workspace(
    host: &str,
    dir: &Path,
    secret: &str,
    tune: impl FnOnce(&mut WorkspaceConfig),
) -> Client {
    let auth = AuthConfig::OauthM2m {
        client_id: ValueRef::Literal("sp-hostile".into()),
        client_secret: secret_file(dir, "client-secret", secret),
    };
    let mut ws = workspace(host, auth);
    tune(&mut ws);
    Client::new("hostile", &ws).expect("client")
}

/// Every text a user or a log could see of an error: Display, Debug and the source chain.
fn all_text(err: &Error) -> String {
    let mut out = format!("{err}\n{err:?}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        out.push_str(&format!("\n{s}"));
        source = s.source();
    }
    out
}

#[tokio::test]
async fn an_endless_api_body_stops_at_the_cap() {
    let server = Hostile::start(|_| Reply::Endless {
        prefix: "{\"jobs\":[",
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = pat_workspace(&server.url, dir.path(), "dapi-endless", |ws| {
        ws.limits.max_response_bytes = 1 << 20;
    });
    let started = Instant::now();
    let err = client
        .get("/api/2.2/jobs/list", &[])
        .await
        .expect_err("capped");
    assert!(
        matches!(
            &err,
            Error::ResponseTooLarge {
                limit: 1048576,
                setting: "max_response_bytes",
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("/api/2.2/jobs/list") && text.contains("1048576"),
        "{text}"
    );
    assert_eq!(err.metric_label(), "response_too_large");
    assert!(started.elapsed() < Duration::from_secs(5));
    // Not retried: a second read would be just as large.
    assert_eq!(server.hits("/api/2.2/jobs/list"), 1);
}

#[tokio::test]
async fn a_declared_oversize_body_fails_before_it_is_read() {
    let server = Hostile::start(|_| Reply::Declares {
        len: 10_000_000_000,
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = pat_workspace(&server.url, dir.path(), "dapi-declared", |ws| {
        ws.limits.request_timeout_secs = 30;
    });
    let started = Instant::now();
    let err = client
        .get("/api/2.2/jobs/list", &[])
        .await
        .expect_err("capped");
    assert!(matches!(err, Error::ResponseTooLarge { .. }), "{err:?}");
    // The server never sends the body: only the declared length can have failed it.
    assert!(started.elapsed() < Duration::from_secs(5), "{err}");
}

#[tokio::test]
async fn workspace_export_has_its_own_cap() {
    let big = "x".repeat(3 << 20);
    let body = json!({ "content": big }).to_string().into_bytes();
    let server = Hostile::start(move |_| Reply::Full {
        status: 200,
        headers: vec![],
        body: body.clone(),
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = pat_workspace(&server.url, dir.path(), "dapi-export", |ws| {
        ws.limits.max_response_bytes = 1 << 20;
        ws.limits.max_export_bytes = 8 << 20;
    });
    let export = client
        .get("/api/2.0/workspace/export", &[("path", "/x")])
        .await
        .expect("an export within its own cap");
    assert_eq!(export["content"].as_str().map(str::len), Some(3 << 20));
    let err = client
        .get("/api/2.0/workspace/get-status", &[])
        .await
        .expect_err("the API cap");
    assert!(
        matches!(
            err,
            Error::ResponseTooLarge {
                setting: "max_response_bytes",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn endless_discovery_and_token_answers_stop_at_the_auth_cap() {
    // Discovery answers with an endless document.
    let server = Hostile::start(|_| Reply::Endless { prefix: "{\"a\":[" }).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = m2m_workspace(&server.url, dir.path(), "m2m-hostile-1", |ws| {
        ws.limits.max_auth_response_bytes = 64 * 1024;
    });
    let started = Instant::now();
    let err = client.me().await.expect_err("capped");
    assert!(
        matches!(
            err,
            Error::Auth(AuthError::ResponseTooLarge { limit: 65536, .. })
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    // No discovery; the token endpoint answers endlessly.
    let server = Hostile::start(|seen| {
        if seen.path() == "/oidc/v1/token" {
            Reply::Endless {
                prefix: "{\"access_token\":\"",
            }
        } else {
            json_reply(404, json!({}))
        }
    })
    .await;
    let client = m2m_workspace(&server.url, dir.path(), "m2m-hostile-1", |ws| {
        ws.limits.max_auth_response_bytes = 64 * 1024;
    });
    let err = client.me().await.expect_err("capped");
    assert!(
        matches!(err, Error::Auth(AuthError::ResponseTooLarge { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("/oidc/v1/token"), "{err}");
}

#[tokio::test]
async fn credential_files_that_are_devices_pipes_or_huge_are_refused() {
    let server = Hostile::start(|_| json_reply(200, json!({}))).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let huge = dir.path().join("huge");
    std::fs::File::create(&huge)
        .and_then(|f| f.set_len(8 << 30))
        .expect("sparse file");

    for (path, says) in [
        (Path::new("/dev/zero").to_path_buf(), "a device"),
        (fifo.clone(), "a named pipe"),
        (huge.clone(), "larger than"),
    ] {
        let ws = workspace(
            &server.url,
            AuthConfig::Pat {
                token: SecretRef::File(path.clone()),
            },
        );
        let client = Client::new("hostile", &ws).expect("client");
        let started = Instant::now();
        let err = tokio::time::timeout(Duration::from_secs(10), client.me())
            .await
            .expect("no hang")
            .expect_err("refused");
        assert!(started.elapsed() < Duration::from_secs(2), "{path:?}");
        assert!(
            matches!(err, Error::Auth(AuthError::Secret { .. })),
            "{err:?}"
        );
        assert!(err.to_string().contains(says), "{err}");
    }
    // The federation token file too.
    let ws = workspace(
        &server.url,
        AuthConfig::OidcFederation {
            client_id: None,
            token_file: Some(fifo),
            idp: None,
        },
    );
    let client = Client::new("hostile", &ws).expect("client");
    let err = tokio::time::timeout(Duration::from_secs(10), client.me())
        .await
        .expect("no hang")
        .expect_err("refused");
    assert!(err.to_string().contains("named pipe"), "{err}");
    assert!(server.hits("/api/2.0/preview/scim/v2/Me") == 0);
}

#[tokio::test]
async fn a_huge_retry_after_is_cut_to_the_cap() {
    let server = Hostile::start(|_| Reply::Full {
        status: 429,
        headers: vec![("retry-after".into(), "999999".into())],
        body: br#"{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}"#.to_vec(),
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = pat_workspace(&server.url, dir.path(), "dapi-retry-after", |ws| {
        ws.retry.max_attempts = 3;
        ws.retry.max_retry_after_secs = 1;
    });
    let started = Instant::now();
    let err = client
        .get("/api/2.2/jobs/list", &[])
        .await
        .expect_err("throttled");
    let took = started.elapsed();
    assert!(matches!(err, Error::RateLimited(_)), "{err:?}");
    assert_eq!(server.hits("/api/2.2/jobs/list"), 3);
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "{took:?}"
    );

    // A u64-sized Retry-After neither panics nor waits.
    let server = Hostile::start(|_| Reply::Full {
        status: 503,
        headers: vec![("retry-after".into(), u64::MAX.to_string())],
        body: vec![],
    })
    .await;
    let client = pat_workspace(&server.url, dir.path(), "dapi-retry-after", |ws| {
        ws.retry.max_attempts = 2;
        ws.retry.max_retry_after_secs = 1;
    });
    let started = Instant::now();
    let err = client.me().await.expect_err("unavailable");
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(4));

    // The wait counts against the call deadline: no wait past it is started.
    let server = Hostile::start(|_| Reply::Full {
        status: 429,
        headers: vec![("retry-after".into(), "999999".into())],
        body: vec![],
    })
    .await;
    let client = pat_workspace(&server.url, dir.path(), "dapi-retry-after", |ws| {
        ws.retry.max_retry_after_secs = 60;
        ws.limits.call_deadline_secs = 2;
    });
    let started = Instant::now();
    let err = client.me().await.expect_err("deadline");
    assert!(
        matches!(
            &err,
            Error::DeadlineExceeded {
                attempts: 1,
                last: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(all_text(&err).contains("HTTP 429"), "{}", all_text(&err));
}

#[tokio::test]
async fn a_huge_retry_after_from_the_token_endpoint_is_cut_to_the_cap() {
    let server = Hostile::start(|seen| {
        if seen.path() == "/oidc/v1/token" {
            Reply::Full {
                status: 503,
                headers: vec![("retry-after".into(), "999999".into())],
                body: br#"{"error":"temporarily_unavailable"}"#.to_vec(),
            }
        } else {
            json_reply(404, json!({}))
        }
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = m2m_workspace(&server.url, dir.path(), "m2m-hostile-2", |ws| {
        ws.retry.max_retry_after_secs = 1;
        ws.retry.max_attempts = 1;
    });
    let started = Instant::now();
    let err = client.me().await.expect_err("unavailable");
    assert!(started.elapsed() < Duration::from_secs(6));
    assert!(
        matches!(err, Error::Auth(AuthError::ServerError { status: 503, .. })),
        "{err:?}"
    );
    assert!(server.hits("/oidc/v1/token") >= 2);
}

#[tokio::test]
async fn a_server_that_never_answers_hits_the_call_deadline() {
    let server = Hostile::start(|_| Reply::Silent).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = pat_workspace(&server.url, dir.path(), "dapi-silent", |ws| {
        ws.limits.request_timeout_secs = 1;
        ws.limits.call_deadline_secs = 3;
        ws.retry.max_attempts = 100;
    });
    let started = Instant::now();
    let err = client
        .get("/api/2.2/jobs/list", &[])
        .await
        .expect_err("deadline");
    let took = started.elapsed();
    let Error::DeadlineExceeded {
        deadline, attempts, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*deadline, Duration::from_secs(3));
    assert!(*attempts >= 2, "{err}");
    // The cause says what was being retried.
    assert!(
        all_text(&err).contains("no answer within"),
        "{}",
        all_text(&err)
    );
    assert!(
        took >= Duration::from_millis(2900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(err.metric_label(), "deadline_exceeded");
    assert!(err.is_ambiguous());

    // The deadline also covers a token endpoint that never answers.
    let client = m2m_workspace(&server.url, dir.path(), "m2m-hostile-3", |ws| {
        ws.limits.request_timeout_secs = 30;
        ws.limits.call_deadline_secs = 2;
    });
    let started = Instant::now();
    let err = client.me().await.expect_err("deadline");
    assert!(matches!(err, Error::DeadlineExceeded { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn alternating_page_tokens_stop_as_a_loop() {
    let server = Hostile::start(|seen| {
        let next = match seen.query("page_token").as_deref() {
            None | Some("B") => "A",
            _ => "B",
        };
        json_reply(
            200,
            json!({"jobs": [{"job_id": 1}], "next_page_token": next, "has_more": true}),
        )
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = pat_workspace(&server.url, dir.path(), "dapi-pages", |_| {});
    let err = list_token_paged(&client, "/api/2.2/jobs/list", &[], "jobs")
        .await
        .expect_err("loop");
    assert!(matches!(err, Error::PageLoop { pages: 3, .. }), "{err:?}");
    assert_eq!(server.hits("/api/2.2/jobs/list"), 3);

    // Ever-new tokens stop at the page cap.
    let counter = Arc::new(AtomicU64::new(0));
    let server = Hostile::start(move |_| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        json_reply(200, json!({"jobs": [], "next_page_token": format!("t{n}")}))
    })
    .await;
    let client = pat_workspace(&server.url, dir.path(), "dapi-pages", |ws| {
        ws.limits.max_pages = 50;
    });
    let err = list_token_paged(&client, "/api/2.2/jobs/list", &[], "jobs")
        .await
        .expect_err("cap");
    assert!(
        matches!(err, Error::TooManyPages { limit: 50, .. }),
        "{err:?}"
    );
    assert_eq!(server.hits("/api/2.2/jobs/list"), 50);
}

/// A SCIM server holding `n` users that honors `startIndex`/`count` but
/// never says `totalResults`, and repeats the last user of each page at the
/// start of the next (as a list shifting under concurrent writes does).
async fn scim_server(n: usize) -> Hostile {
    Hostile::start(move |seen| {
        let start: usize = seen
            .query("startIndex")
            .and_then(|s| s.parse().ok())
            .unwrap_or(1);
        let count: usize = seen
            .query("count")
            .and_then(|s| s.parse().ok())
            .unwrap_or(100);
        let from = start.saturating_sub(2).min(n);
        let to = (start - 1 + count).min(n);
        let users: Vec<Value> = (from..to)
            .map(|i| json!({"id": format!("u{i}"), "userName": format!("user{i}@example.com")}))
            .collect();
        json_reply(200, json!({ "Resources": users }))
    })
    .await
}

#[tokio::test]
async fn scim_paging_without_total_results_keeps_each_resource_once() {
    let n = 20_000;
    let server = scim_server(n).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = pat_workspace(&server.url, dir.path(), "dapi-scim", |_| {});
    let started = Instant::now();
    let users = list_scim(&client, "/api/2.0/preview/scim/v2/Users", None, 1000)
        .await
        .expect("users");
    let took = started.elapsed();
    eprintln!("SCIM list of {n} users without totalResults: {took:?}");
    assert_eq!(users.len(), n);
    let ids: std::collections::HashSet<&str> =
        users.iter().filter_map(|u| u["id"].as_str()).collect();
    assert_eq!(ids.len(), n);

    // A server that ignores startIndex hands back the same page forever.
    let server = Hostile::start(|_| {
        json_reply(
            200,
            json!({"Resources": [{"id": "a"}, {"id": "b"}], "itemsPerPage": 2}),
        )
    })
    .await;
    let client = pat_workspace(&server.url, dir.path(), "dapi-scim", |_| {});
    let err = list_scim(&client, "/api/2.0/preview/scim/v2/Users", None, 2)
        .await
        .expect_err("loop");
    assert!(matches!(err, Error::PageLoop { pages: 2, .. }), "{err:?}");
}

#[tokio::test]
async fn error_kinds_follow_the_error_code() {
    let server = Hostile::start(|seen| match seen.path() {
        "/api/2.2/jobs/get" => json_reply(
            400,
            json!({"error_code": "INVALID_PARAMETER_VALUE", "message": "Job 5 does not exist."}),
        ),
        _ => json_reply(
            400,
            json!({"error_code": "INVALID_PARAMETER_VALUE", "message": "Principal: UserName(ghost@example.com) does not exist"}),
        ),
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = pat_workspace(&server.url, dir.path(), "dapi-codes", |_| {});
    let err = client
        .put(
            "/api/2.0/permissions/jobs/5",
            &json!({"access_control_list": [{"user_name": "ghost@example.com", "permission_level": "CAN_VIEW"}]}),
        )
        .await
        .expect_err("invalid");
    assert!(matches!(err, Error::InvalidParameter(_)), "{err:?}");
    assert!(!err.is_not_found());
    assert_eq!(err.metric_label(), "invalid_parameter");
    assert!(!err.to_string().starts_with("not found"), "{err}");
    let err = client
        .get("/api/2.2/jobs/get", &[("job_id", "5")])
        .await
        .expect_err("missing");
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.metric_label(), "not_found");
}

#[tokio::test]
async fn token_endpoint_redirects_and_failures_are_not_refusals() {
    let elsewhere = Hostile::start(|_| json_reply(200, json!({}))).await;
    let target = format!("{}/steal", elsewhere.url);
    let redirecting = Hostile::start(move |seen| {
        if seen.path() == "/oidc/v1/token" {
            Reply::Full {
                status: 302,
                headers: vec![("location".into(), target.clone())],
                body: vec![],
            }
        } else {
            json_reply(404, json!({}))
        }
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = m2m_workspace(&redirecting.url, dir.path(), "m2m-hostile-4", |_| {});
    let err = client.me().await.expect_err("redirect");
    assert!(
        matches!(err, Error::Auth(AuthError::Redirected { status: 302, .. })),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        !text.contains("refused the") && text.contains("redirect"),
        "{text}"
    );
    assert!(elsewhere.seen().is_empty(), "nothing follows the redirect");

    let failing = Hostile::start(|seen| {
        if seen.path() == "/oidc/v1/token" {
            json_reply(500, json!({"message": "internal failure"}))
        } else {
            json_reply(404, json!({}))
        }
    })
    .await;
    let client = m2m_workspace(&failing.url, dir.path(), "m2m-hostile-4", |_| {});
    let err = client.me().await.expect_err("server error");
    assert!(
        matches!(err, Error::Auth(AuthError::ServerError { status: 500, .. })),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        !text.contains("refused") && text.contains("HTTP 500"),
        "{text}"
    );

    let refusing = Hostile::start(|seen| {
        if seen.path() == "/oidc/v1/token" {
            json_reply(
                401,
                json!({"error": "invalid_client", "error_description": "Client authentication failed"}),
            )
        } else {
            json_reply(404, json!({}))
        }
    })
    .await;
    let client = m2m_workspace(&refusing.url, dir.path(), "m2m-hostile-4", |_| {});
    let err = client.me().await.expect_err("refused");
    assert!(
        matches!(err, Error::Auth(AuthError::Rejected { status: 401, .. })),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("wrong client id or client secret"),
        "{err}"
    );
}

/// Echoes the whole request (headers and body) into a 400 error.
fn echo(seen: &Seen) -> Reply {
    let echoed = format!("{}\n{}", seen.head, String::from_utf8_lossy(&seen.body));
    json_reply(
        400,
        json!({"error_code": "BAD_REQUEST", "message": format!("cannot parse: {echoed}")}),
    )
}

#[tokio::test]
async fn echoed_requests_print_no_secret() {
    let token = "dapi-echo-0123456789abcdef";
    let value = "scope-value-Zq8!x/y+z";
    mortar::databricks::redact::register(value);
    let server = Hostile::start(echo).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = pat_workspace(&server.url, dir.path(), token, |_| {});
    let err = client
        .post(
            "/api/2.0/secrets/put",
            &json!({"scope": "s", "key": "k", "string_value": value}),
        )
        .await
        .expect_err("echoed");
    // The server did see (and echo) both.
    let seen = server.seen();
    assert_eq!(seen[0].method, "POST");
    assert!(seen[0].head.contains(token) && String::from_utf8_lossy(&seen[0].body).contains("Zq8"));
    let text = all_text(&err);
    assert!(
        text.contains("cannot parse") && text.contains("***"),
        "{text}"
    );
    assert!(!text.contains(token), "{text}");
    assert!(!text.contains("Zq8"), "{text}");

    // OAuth: the token endpoint echoes the Basic header and the form; then
    // the API echoes the access token it was given.
    let access = "eyJ-access-token-from-hostile-server-0001";
    let server = Hostile::start(move |seen| match seen.path() {
        "/oidc/v1/token" => json_reply(200, json!({"access_token": access, "expires_in": 3600})),
        "/api/2.0/preview/scim/v2/Me" => echo(seen),
        _ => json_reply(404, json!({})),
    })
    .await;
    let client = m2m_workspace(&server.url, dir.path(), "m2m-echo-secret-77", |_| {});
    let err = client.me().await.expect_err("echoed");
    let text = all_text(&err);
    assert!(text.contains("authorization"), "{text}");
    assert!(!text.contains(access), "{text}");

    let server = Hostile::start(|seen| match seen.path() {
        "/oidc/v1/token" => {
            let echoed = format!("{}\n{}", seen.head, String::from_utf8_lossy(&seen.body));
            json_reply(
                401,
                json!({"error": "invalid_client", "error_description": echoed}),
            )
        }
        _ => json_reply(404, json!({})),
    })
    .await;
    let client = m2m_workspace(&server.url, dir.path(), "m2m-echo-secret-77", |_| {});
    let err = client.me().await.expect_err("echoed");
    let text = all_text(&err);
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        "sp-hostile:m2m-echo-secret-77",
    );
    let seen = server.seen();
    let token_request = seen
        .iter()
        .find(|s| s.path() == "/oidc/v1/token")
        .expect("token request");
    assert!(token_request.head.contains(&basic));
    assert!(text.contains("invalid_client"), "{text}");
    assert!(!text.contains("m2m-echo-secret-77"), "{text}");
    assert!(!text.contains(&basic[..basic.len() - 4]), "{text}");
}

#[test]
fn hostile_server_limits_are_set_in_mortar_yaml() {
    let parse = |limits: &str| {
        mortar::config::Config::parse(
            &format!(
                "workspaces:\n  prod:\n    host: https://x.example\n    auth: {{ method: pat, token: {{ env: T }} }}\n{limits}"
            ),
            Path::new("mortar.yaml"),
        )
    };
    let config = parse(
        "    limits: { call_deadline_secs: 90, max_response_bytes: 1000, max_export_bytes: 2000, max_auth_response_bytes: 300, max_pages: 7 }\n    retry: { max_retry_after_secs: 5 }\n",
    )
    .expect("valid");
    let ws = &config.workspaces["prod"];
    assert_eq!(ws.limits.call_deadline_secs, 90);
    assert_eq!(ws.limits.max_pages, 7);
    assert_eq!(ws.retry.max_retry_after_secs, 5);
    let client = Client::new("prod", ws).expect("client");
    assert_eq!(client.call_deadline(), Duration::from_secs(90));
    assert_eq!(client.max_pages(), 7);
    assert_eq!(
        client.retry_policy().max_retry_after,
        Duration::from_secs(5)
    );
    // Defaults: a 5-minute call deadline, 120 s Retry-After, 10,000 pages.
    let defaults = parse("").expect("valid");
    let d = &defaults.workspaces["prod"];
    assert_eq!(d.limits.call_deadline_secs, 300);
    assert_eq!(d.retry.max_retry_after_secs, 120);
    assert_eq!(d.limits.max_pages, 10_000);
    for (bad, field) in [
        (
            "    limits: { call_deadline_secs: 0 }\n",
            "limits.call_deadline_secs",
        ),
        (
            "    limits: { max_response_bytes: 0 }\n",
            "limits.max_response_bytes",
        ),
        ("    limits: { max_pages: 0 }\n", "limits.max_pages"),
        (
            "    retry: { max_retry_after_secs: 999999 }\n",
            "retry.max_retry_after_secs",
        ),
    ] {
        let err = parse(bad).expect_err(bad).to_string();
        assert!(err.contains(field), "{err}");
    }
}

#[tokio::test]
async fn identity_provider_answers_are_capped_and_redacted() {
    use mortar::config::IdpConfig;
    let dir = tempfile::tempdir().expect("tempdir");
    let federation = |issuer: &str| {
        workspace(
            issuer,
            AuthConfig::OidcFederation {
                client_id: None,
                token_file: None,
                idp: Some(IdpConfig {
                    issuer: issuer.to_string(),
                    client_id: ValueRef::Literal("mortar-idp-client".into()),
                    client_secret: secret_file(dir.path(), "idp-secret", "idp-echo-secret-99"),
                    audience: None,
                    scopes: vec![],
                    allow_insecure_http: false,
                }),
            },
        )
    };

    // An endless discovery document.
    let server = Hostile::start(|seen| {
        if seen.path() == "/.well-known/openid-configuration" {
            Reply::Endless { prefix: "{\"a\":[" }
        } else {
            json_reply(404, json!({}))
        }
    })
    .await;
    let mut ws = federation(&server.url);
    ws.limits.max_auth_response_bytes = 64 * 1024;
    let client = Client::new("hostile", &ws).expect("client");
    let started = Instant::now();
    let err = client.me().await.expect_err("capped");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(err, Error::Auth(AuthError::Idp { .. })), "{err:?}");
    assert!(err.to_string().contains("larger than 65536 bytes"), "{err}");

    // A token endpoint that echoes the request into its refusal.
    let issuer = Arc::new(Mutex::new(String::new()));
    let issuer_in = issuer.clone();
    let server = Hostile::start(move |seen| {
        let iss = issuer_in.lock().expect("lock").clone();
        match seen.path() {
            "/.well-known/openid-configuration" => json_reply(
                200,
                json!({
                    "issuer": iss,
                    "authorization_endpoint": format!("{iss}/auth"),
                    "token_endpoint": format!("{iss}/token"),
                    "jwks_uri": format!("{iss}/jwks"),
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                }),
            ),
            "/jwks" => json_reply(200, json!({"keys": []})),
            "/token" => {
                let echoed = format!("{}\n{}", seen.head, String::from_utf8_lossy(&seen.body));
                json_reply(
                    401,
                    json!({"error": "invalid_client", "error_description": echoed}),
                )
            }
            _ => json_reply(404, json!({})),
        }
    })
    .await;
    *issuer.lock().expect("lock") = server.url.clone();
    let client = Client::new("hostile", &federation(&server.url)).expect("client");
    let err = client.me().await.expect_err("refused");
    let text = all_text(&err);
    assert!(
        text.contains("invalid_client") && text.contains("authorization"),
        "{text}"
    );
    let token_request = server
        .seen()
        .into_iter()
        .find(|s| s.path() == "/token")
        .expect("token request");
    assert!(
        token_request.head.contains("Basic")
            || String::from_utf8_lossy(&token_request.body).contains("idp-echo-secret-99")
    );
    assert!(!text.contains("idp-echo-secret-99"), "{text}");
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        "mortar-idp-client:idp-echo-secret-99",
    );
    assert!(!text.contains(&basic[..basic.len() - 4]), "{text}");
}
