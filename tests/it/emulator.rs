//! The emulator over real HTTP on 127.0.0.1: behaviours the SDK conformance
//! suite cannot see — durable state across restarts and `kill -9`, seeded
//! fault injection, rate limits, the admin API, token expiry, discovery-based
//! federation keys, config errors.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use mortar_emulator::{
    Emulator, EmulatorConfig, FaultKind, FaultSettings, FederationPolicy, OAuthClient,
    RunningEmulator, Secret,
};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

/// A throwaway RSA key for signing test JWTs (test fixture, not a secret).
const TEST_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDjT+ofZ1cQ7Z2y\nhY6U3CHCMsmrjQMi8jl5DKYnTpXPungHzzvFBKEcUC7QAlK3jpH7TMHFaVXl1RkN\n8hOpmOeqVGO2NrWRkDqghfdbRHquleZIB9Ppr63UHYNVNMGMlCDxuJonXEGQdy/o\nqZ32kp0X6hZk9S43NnM4phPLsJSRS4MHsZ5dLk8vqZ6xNlddQOXJwpAnP3PyybZp\n/cCVtw3HNQQONCUv83HJSlTOQwruPAgz/t5jcibSLs0AIWgGXsnUjiw1hi+NTqJw\nMvm9qijOY/7/FQG7YE+zOu9fPsTuw8ZCP7cfQtPHEXCycOVl6Qk5QkX0Ycn8JuBL\nQbz4Tr6VAgMBAAECggEALLmQ1Hh6CE3kcRd3sCDm8IWbKgqfAx17Qu7C82lyLxLe\nopS7Cx8HzyEUsN9AJLcj0HjwCFZbLRNCcHzAsyYvcNNVYij+DSO+cU6iln3RELBU\nRLhrkOd80Yc0C8wLSAxuNflPNW7gxJq63bGf77+1spqfqOIX44uuXIdKzlFSTgrZ\nLSPBQbuDiHFc5CkdqGu6fJJJYk9nOJ8lBBfdaw9L57ZxSqs3zhWWlFxRoKG0wF/X\nyhVTHVzlZipVJok/NralX7VOeu7MkYsUhP3CV84pmwlumSzpcVijfUiHLCKiuhz+\naNFd+LPGOjGzhzD41U/A2k7381b2J1la0OICH+UZ4QKBgQD+2w8hvXcbPz8tuCyl\njhDXBqCMfXljbJ6P2FpVlOdDpCUzO5haoVdnHYA48/rC8TEQazx80QhPdYCWDBl7\nv1P+qItoC993YlTwa25oRUJSFxLau7/L/qZNhhI5eUlQQ+LE8I1bX9rhfs/pXw4R\naJ0gmXXijctiltd7LaPxRpCYIQKBgQDkVTIisyV57o/EsAnAtVORERILHbb3N0e7\nOUegkXOjL2N58Y3mS7JtfZao7epUOeuaEH755AJcrIos1K9eVDy/Q1MaUfURxIzy\n+K1BDyyp3ns2aBSj+JeB1oUfUxmJUdQlF9RcZDsk+4pPd2O4klyB7ZxohEZG8yAN\nWHvw7jxH9QKBgAjrtg3iSecEQbvh9H4fCOvd6YTBZ5xZUvuKAS95tNajSkIO1fhm\nKV8Mo05bC+4C70q51jYwQvA1Frkp10KDofcKA0czEzFkmcCIoia4NegVsq1BYSdM\n1JlmFgE5A53xomBuYyRNqKW4AKMUlrN5S/a2KHAzsmjTCtve7xwk8i7BAoGBAMwZ\n88TcykUiIFU63pzp+RcVYUGagDCfs3kCDKrVGb7m307jw2n2hDonJwM+GFbNp3KC\nCF6rmAjrGmBUhaYWOm7laWV/mUcWoL+X1pbvT4dQnmbVxo2D6zpeXYTQrWT4RmAZ\n2vPzjILUbp/2Iqeb/SEPGt66Tm+haCdFzxRggHX5AoGBAPu7Gp+ROSQZSCosq3yA\nE2VuBfp3WZPiAj/oxBY8lcq2N2gFjOx6X6qXwBx1lk4qdyC5xdzHidZlpMAra73v\nbb9yoy5CX+d1stu/KOg4j/GdGpSqJCiPiZnZITcWT0yY9OKAzoYQoFrvmx8OnUVH\n83QQqJevT/szW7ycO+6KDvnb\n-----END PRIVATE KEY-----\n";
/// The public half of `TEST_KEY_PEM` as a JWKS (kid `it-1`).
const TEST_JWKS: &str = r#"{"keys": [{"kty": "RSA", "kid": "it-1", "alg": "RS256", "use": "sig", "n": "40_qH2dXEO2dsoWOlNwhwjLJq40DIvI5eQymJ06Vz7p4B887xQShHFAu0AJSt46R-0zBxWlV5dUZDfITqZjnqlRjtja1kZA6oIX3W0R6rpXmSAfT6a-t1B2DVTTBjJQg8biaJ1xBkHcv6Kmd9pKdF-oWZPUuNzZzOKYTy7CUkUuDB7GeXS5PL6mesTZXXUDlycKQJz9z8sm2af3AlbcNxzUEDjQlL_NxyUpUzkMK7jwIM_7eY3Im0i7NACFoBl7J1I4sNYYvjU6icDL5vaoozmP-_xUBu2BPszrvXz7E7sPGQj-3H0LTxxFwsnDlZekJOUJF9GHJ_CbgS0G8-E6-lQ", "e": "AQAB"}]}"#;

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("http client")
}

async fn start(config: EmulatorConfig) -> RunningEmulator {
    Emulator::start(config).await.expect("emulator starts")
}

async fn call(
    emu: &RunningEmulator,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = http()
        .request(method, format!("{}{path}", emu.base_url()))
        .bearer_auth(emu.token());
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request is answered")
}

async fn create_job(emu: &RunningEmulator, name: &str) -> i64 {
    let response = call(
        emu,
        reqwest::Method::POST,
        "/api/2.2/jobs/create",
        Some(json!({"name": name})),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    body["job_id"].as_i64().expect("job_id")
}

async fn job_names(emu: &RunningEmulator) -> Vec<String> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(t) => format!("/api/2.2/jobs/list?limit=100&page_token={t}"),
            None => "/api/2.2/jobs/list?limit=100".to_owned(),
        };
        let body: Value = call(emu, reqwest::Method::GET, &path, None)
            .await
            .json()
            .await
            .expect("json");
        for job in body["jobs"].as_array().into_iter().flatten() {
            names.push(
                job["settings"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        match body["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return names,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn state_file_survives_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.json");
    let config = EmulatorConfig {
        state_file: Some(state.clone()),
        ..EmulatorConfig::default()
    };
    // A temp file left by a killed write is cleaned up at start.
    let stale = dir.path().join(".state.json.tmp-99999");
    std::fs::write(&stale, b"{").expect("write");
    let emu = start(config.clone()).await;
    assert!(!stale.exists(), "stale temp file removed");
    let id = create_job(&emu, "durable").await;
    let put = call(
        &emu,
        reqwest::Method::POST,
        "/api/2.0/secrets/scopes/create",
        Some(json!({"scope": "kept"})),
    )
    .await;
    assert_eq!(put.status(), 200);
    emu.shutdown().await;

    let emu = start(config).await;
    let got: Value = call(
        &emu,
        reqwest::Method::GET,
        &format!("/api/2.2/jobs/get?job_id={id}"),
        None,
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(got["settings"]["name"], "durable");
    let scopes: Value = call(
        &emu,
        reqwest::Method::GET,
        "/api/2.0/secrets/scopes/list",
        None,
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(scopes["scopes"][0]["name"], "kept");
    // A new job gets a fresh id, not one already used.
    assert_ne!(create_job(&emu, "second").await, id);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn state_file_holds_token_hashes_not_tokens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.json");
    let emu = start(EmulatorConfig {
        state_file: Some(state.clone()),
        ..EmulatorConfig::default()
    })
    .await;
    let created: Value = call(
        &emu,
        reqwest::Method::POST,
        "/api/2.0/token/create",
        Some(json!({"comment": "x"})),
    )
    .await
    .json()
    .await
    .expect("json");
    let value = created["token_value"]
        .as_str()
        .expect("token value")
        .to_owned();
    emu.flush().await;
    let text = std::fs::read_to_string(&state).expect("state file");
    assert!(
        !text.contains(&value),
        "the state file must not hold token values"
    );
    emu.shutdown().await;
}

/// Starts the real binary and returns the child and its base URL.
async fn spawn_binary(state: &Path) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mortar"))
        .args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--token",
            "dapi-kill",
        ])
        .arg("--state")
        .arg(state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("mortar emulator starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut base = String::new();
    while let Some(line) = lines.next_line().await.expect("read stdout") {
        if let Some(url) = line.strip_prefix("base_url=") {
            base = url.to_owned();
        }
        if line == "ready" {
            break;
        }
    }
    assert!(
        base.starts_with("http://127.0.0.1:"),
        "printed base_url: {base}"
    );
    (child, base)
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.json");
    let (mut child, base) = spawn_binary(&state).await;
    let client = http();
    // Concurrent writers: every acknowledged create must be on disk.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let client = client.clone();
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(format!("{base}/api/2.2/jobs/create"))
                .bearer_auth("dapi-kill")
                .json(&json!({"name": format!("k{i}")}))
                .send()
                .await
                .expect("create");
            assert_eq!(r.status(), 200);
            format!("k{i}")
        }));
    }
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.push(task.await.expect("task"));
    }
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("child exits");

    let text = std::fs::read_to_string(&state).expect("state file exists");
    let parsed: Value = serde_json::from_str(&text).expect("state file is complete JSON");
    assert_eq!(parsed["jobs"].as_object().map(|m| m.len()), Some(40));

    let (mut child, base) = spawn_binary(&state).await;
    let emu_names: Value = client
        .get(format!("{base}/api/2.2/jobs/list?limit=100"))
        .bearer_auth("dapi-kill")
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let mut names: Vec<String> = emu_names["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| {
            j["settings"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    names.sort();
    acknowledged.sort();
    assert_eq!(names, acknowledged);
    child.start_kill().expect("SIGKILL");
    let _ = child.wait().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupt_state_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.json");
    std::fs::write(&state, b"{\"jobs\": {").expect("write");
    let err = Emulator::start(EmulatorConfig {
        state_file: Some(state.clone()),
        ..EmulatorConfig::default()
    })
    .await
    .err()
    .expect("a torn file is refused");
    let message = err.to_string();
    assert!(message.contains("state.json"), "{message}");
}

async fn status_sequence(seed: u64) -> Vec<u16> {
    let emu = start(EmulatorConfig {
        fault_rate: 0.5,
        fault_kinds: vec![
            FaultKind::Error500,
            FaultKind::Throttle,
            FaultKind::Error503,
        ],
        seed: Some(seed),
        ..EmulatorConfig::default()
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(
            call(&emu, reqwest::Method::GET, "/api/2.2/jobs/list", None)
                .await
                .status()
                .as_u16(),
        );
    }
    emu.shutdown().await;
    statuses
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_injection_is_reproducible_with_a_seed() {
    let first = status_sequence(42).await;
    let second = status_sequence(42).await;
    assert_eq!(first, second);
    assert!(
        first.contains(&200)
            && first.contains(&500)
            && first.contains(&429)
            && first.contains(&503)
    );
    let other = status_sequence(43).await;
    assert_ne!(first, other);
}

#[tokio::test(flavor = "multi_thread")]
async fn dropped_connection_fault_closes_the_socket() {
    let emu = start(EmulatorConfig {
        fault_rate: 1.0,
        fault_kinds: vec![FaultKind::Drop],
        ..EmulatorConfig::default()
    })
    .await;
    let err = http()
        .get(format!("{}/api/2.2/jobs/list", emu.base_url()))
        .bearer_auth(emu.token())
        .send()
        .await
        .expect_err("no response");
    assert!(
        !err.is_timeout(),
        "connection must be closed, not hang: {err}"
    );
    // Discovery is not subject to faults.
    let ok = http()
        .get(format!("{}/.well-known/databricks-config", emu.base_url()))
        .send()
        .await
        .expect("discovery answers");
    assert_eq!(ok.status(), 200);
    emu.set_faults(FaultSettings::default());
    assert_eq!(
        call(&emu, reqwest::Method::GET, "/api/2.2/jobs/list", None)
            .await
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_answers_429_with_integer_retry_after() {
    let mut config = EmulatorConfig::default();
    config.rate_limits.insert("jobs/create".into(), 1.0);
    let emu = start(config).await;
    let mut throttled = None;
    for i in 0..5 {
        let r = call(
            &emu,
            reqwest::Method::POST,
            "/api/2.2/jobs/create",
            Some(json!({"name": format!("r{i}")})),
        )
        .await;
        if r.status() == 429 {
            throttled = Some(r);
            break;
        }
    }
    let r = throttled.expect("a burst over 1 rps is throttled");
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("integer Retry-After");
    assert!(retry_after >= 1);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error_code"], "REQUEST_LIMIT_EXCEEDED");
    // Other classes are not limited by that override.
    assert_eq!(
        call(&emu, reqwest::Method::GET, "/api/2.2/jobs/list", None)
            .await
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_api_snapshot_reset_restore_and_latency() {
    let emu = start(EmulatorConfig::default()).await;
    create_job(&emu, "snap").await;
    let admin = |method: reqwest::Method, path: &str| {
        http()
            .request(method, format!("{}/_emulator/{path}", emu.base_url()))
            .bearer_auth(emu.token())
    };
    let snapshot: Value = admin(reqwest::Method::GET, "snapshot")
        .send()
        .await
        .expect("snapshot")
        .json()
        .await
        .expect("json");
    assert_eq!(snapshot["jobs"].as_object().map(|m| m.len()), Some(1));

    let reset = admin(reqwest::Method::POST, "reset")
        .send()
        .await
        .expect("reset");
    assert_eq!(reset.status(), 200);
    assert!(job_names(&emu).await.is_empty());
    // Identities survive a reset.
    assert_eq!(
        call(
            &emu,
            reqwest::Method::GET,
            "/api/2.0/preview/scim/v2/Me",
            None
        )
        .await
        .status(),
        200
    );

    let restore = admin(reqwest::Method::PUT, "snapshot")
        .json(&snapshot)
        .send()
        .await
        .expect("restore");
    assert_eq!(restore.status(), 200);
    assert_eq!(job_names(&emu).await, vec!["snap".to_owned()]);

    let set = admin(reqwest::Method::PUT, "faults")
        .json(&json!({"latency_ms": 300}))
        .send()
        .await
        .expect("faults");
    assert_eq!(set.status(), 200);
    let started = Instant::now();
    call(&emu, reqwest::Method::GET, "/api/2.2/jobs/list", None).await;
    assert!(started.elapsed() >= Duration::from_millis(300));

    let anonymous = http()
        .get(format!("{}/_emulator/snapshot", emu.base_url()))
        .send()
        .await
        .expect("answered");
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn throttle_burst_hits_only_matching_paths() {
    let emu = start(EmulatorConfig::default()).await;
    emu.inject_throttle(2, 3, "/api/2.2/jobs/get");
    assert_eq!(
        call(&emu, reqwest::Method::GET, "/api/2.2/jobs/list", None)
            .await
            .status(),
        200
    );
    let first = call(
        &emu,
        reqwest::Method::GET,
        "/api/2.2/jobs/get?job_id=1",
        None,
    )
    .await;
    assert_eq!(first.status(), 429);
    assert_eq!(first.headers()["retry-after"], "3");
    assert_eq!(
        call(
            &emu,
            reqwest::Method::GET,
            "/api/2.2/jobs/get?job_id=1",
            None
        )
        .await
        .status(),
        429
    );
    // Burst used up: the real answer (job 1 does not exist) comes back.
    assert_eq!(
        call(
            &emu,
            reqwest::Method::GET,
            "/api/2.2/jobs/get?job_id=1",
            None
        )
        .await
        .status(),
        400
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unauthenticated_and_unknown_paths() {
    let emu = start(EmulatorConfig::default()).await;
    assert_eq!(emu.token(), mortar_emulator::DEFAULT_TOKEN);
    let r = http()
        .get(format!("{}/api/2.2/jobs/list", emu.base_url()))
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.expect("json")["error_code"],
        "UNAUTHENTICATED"
    );
    let r = call(&emu, reqwest::Method::GET, "/api/2.0/no/such/thing", None).await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.expect("json")["error_code"],
        "ENDPOINT_NOT_FOUND"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn oauth_tokens_expire() {
    let emu = start(EmulatorConfig {
        oauth_clients: vec![OAuthClient {
            client_id: "c0ffee00-0000-4000-8000-000000000001".into(),
            client_secret: Secret::new("shh"),
            service_principal: Some("ci".into()),
            admin: true,
        }],
        oauth_token_ttl: Duration::from_secs(1),
        ..EmulatorConfig::default()
    })
    .await;
    let token: Value = http()
        .post(format!("{}/oidc/v1/token", emu.base_url()))
        .basic_auth("c0ffee00-0000-4000-8000-000000000001", Some("shh"))
        .form(&[("grant_type", "client_credentials"), ("scope", "all-apis")])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 1);
    let access = token["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    let me = |t: String| {
        let url = format!("{}/api/2.0/preview/scim/v2/Me", emu.base_url());
        async move { http().get(url).bearer_auth(t).send().await.expect("me") }
    };
    assert_eq!(me(access.clone()).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(me(access).await.status(), 401);
}

/// A minimal OIDC issuer: discovery document and JWKS over plain http.
async fn serve_issuer() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let issuer = format!("http://{}", listener.local_addr().expect("addr"));
    let discovery = json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwks")});
    let jwks: Value = serde_json::from_str(TEST_JWKS).expect("jwks");
    let app = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            axum::routing::get(move || async move { axum::Json(discovery) }),
        )
        .route(
            "/jwks",
            axum::routing::get(move || async move { axum::Json(jwks) }),
        );
    let handle = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (issuer, handle)
}

fn sign(claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(TEST_KEY_PEM.as_bytes()).expect("pem");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("it-1".into());
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

#[tokio::test(flavor = "multi_thread")]
async fn federation_fetches_keys_from_the_issuer() {
    let (issuer, idp) = serve_issuer().await;
    let app_id = "fed00000-0000-4000-8000-000000000001";
    let emu = start(EmulatorConfig {
        federation_policies: vec![FederationPolicy {
            issuer: issuer.clone(),
            audiences: vec!["mortar".into()],
            subject: Some("ci-runner".into()),
            subject_claim: "sub".into(),
            jwks: None,
            service_principal: Some(app_id.into()),
        }],
        ..EmulatorConfig::default()
    })
    .await;
    let now = jsonwebtoken::get_current_timestamp();
    let exchange = |jwt: String| {
        let url = format!("{}/oidc/v1/token", emu.base_url());
        async move {
            http()
                .post(url)
                .form(&[
                    (
                        "grant_type",
                        "urn:ietf:params:oauth:grant-type:token-exchange",
                    ),
                    ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
                    ("subject_token", jwt.as_str()),
                    ("client_id", app_id),
                    ("scope", "all-apis"),
                ])
                .send()
                .await
                .expect("exchange")
        }
    };
    let good = sign(&json!({"iss": issuer, "aud": "mortar", "sub": "ci-runner", "exp": now + 120}));
    let response = exchange(good).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    let expires_in = body["expires_in"].as_i64().expect("expires_in");
    assert!(
        (100..=120).contains(&expires_in),
        "lifetime follows the JWT: {expires_in}"
    );
    let me: Value = http()
        .get(format!("{}/api/2.0/preview/scim/v2/Me", emu.base_url()))
        .bearer_auth(body["access_token"].as_str().expect("token"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["userName"], app_id);

    let wrong_subject =
        sign(&json!({"iss": issuer, "aud": "mortar", "sub": "someone", "exp": now + 120}));
    let response = exchange(wrong_subject).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.headers()["content-type"].to_str().expect("ascii"),
        "application/json"
    );
    assert_eq!(
        response.json::<Value>().await.expect("json")["error"],
        "invalid_grant"
    );
    idp.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_issuers_are_refused_off_loopback() {
    let emu = start(EmulatorConfig {
        federation_policies: vec![FederationPolicy {
            issuer: "http://idp.example.com".into(),
            audiences: vec!["mortar".into()],
            subject: None,
            subject_claim: "sub".into(),
            jwks: None,
            service_principal: None,
        }],
        ..EmulatorConfig::default()
    })
    .await;
    let now = jsonwebtoken::get_current_timestamp();
    let jwt = sign(
        &json!({"iss": "http://idp.example.com", "aud": "mortar", "sub": "u@example.com", "exp": now + 60}),
    );
    let response = http()
        .post(format!("{}/oidc/v1/token", emu.base_url()))
        .form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
            ("subject_token", jwt.as_str()),
        ])
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("https"),
        "{body}"
    );
}

#[test]
fn config_file_errors_name_file_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("emulator.yaml");
    std::fs::write(
        &path,
        "oauth_clients:\n  - client_id: abc\n    client_secret: \"\"\n",
    )
    .expect("write");
    let err = EmulatorConfig::default()
        .load_file(&path)
        .expect_err("rejected");
    let message = err.to_string();
    assert!(message.contains("emulator.yaml"), "{message}");
    assert!(
        message.contains("oauth_clients[0].client_secret"),
        "{message}"
    );

    std::fs::write(
        &path,
        "oauth_clients:\n  - client_id: abc\n    client_secret: s\n    colour: red\n",
    )
    .expect("write");
    let message = EmulatorConfig::default()
        .load_file(&path)
        .expect_err("rejected")
        .to_string();
    assert!(message.contains("colour"), "{message}");

    std::fs::write(&path, "tokens: [dapi-x]\nfederation_policies:\n  - issuer: https://idp.example\n    jwks: '{\"keys\": []}'\n").expect("write");
    let mut config = EmulatorConfig::default();
    config.load_file(&path).expect("valid file");
    assert_eq!(config.admin_tokens(), vec![Secret::new("dapi-x")]);
    assert!(
        !format!("{config:?}").contains("dapi-x"),
        "Debug must not print tokens"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_get_pages_arrays_on_2_2_only() {
    let emu = start(EmulatorConfig::default()).await;
    let tasks: Vec<Value> = (0..150)
        .map(|i| json!({"task_key": format!("t{i:03}"), "notebook_task": {"notebook_path": "/Shared/x"}}))
        .collect();
    let created: Value = call(
        &emu,
        reqwest::Method::POST,
        "/api/2.1/jobs/create",
        Some(json!({"name": "wide", "tasks": tasks, "job_clusters": [{"job_cluster_key": "c", "new_cluster": {"spark_version": "15.4.x-scala2.12"}}]})),
    )
    .await
    .json()
    .await
    .expect("json");
    let id = created["job_id"].as_i64().expect("job_id");
    let get = |path: String| {
        let emu = &emu;
        async move {
            call(emu, reqwest::Method::GET, &path, None)
                .await
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    let v21 = get(format!("/api/2.1/jobs/get?job_id={id}")).await;
    assert_eq!(v21["settings"]["tasks"].as_array().map(Vec::len), Some(150));
    assert!(v21.get("next_page_token").is_none());
    // 2.1 does not turn the queue on; 2.2 would.
    assert!(v21["settings"].get("queue").is_none());

    let first = get(format!("/api/2.2/jobs/get?job_id={id}")).await;
    assert_eq!(
        first["settings"]["tasks"].as_array().map(Vec::len),
        Some(100)
    );
    assert_eq!(first["has_more"], true);
    let token = first["next_page_token"]
        .as_str()
        .expect("next_page_token")
        .to_owned();
    let second = get(format!("/api/2.2/jobs/get?job_id={id}&page_token={token}")).await;
    assert_eq!(
        second["settings"]["tasks"].as_array().map(Vec::len),
        Some(50)
    );
    assert!(second["settings"].get("job_clusters").is_none());
    assert!(
        second.get("next_page_token").is_none(),
        "last page has no token"
    );
    assert_eq!(second["settings"]["tasks"][0]["task_key"], "t100");
    // Server defaults on the job cluster.
    let cluster = &first["settings"]["job_clusters"][0]["new_cluster"];
    assert_eq!(
        cluster["aws_attributes"]["availability"],
        "SPOT_WITH_FALLBACK"
    );
    assert_eq!(cluster["enable_elastic_disk"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn unwritable_state_file_fails_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("missing-dir").join("state.json");
    let err = Emulator::start(EmulatorConfig {
        state_file: Some(state),
        ..EmulatorConfig::default()
    })
    .await
    .err()
    .expect("refused");
    assert!(err.to_string().contains("missing-dir"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_prints_base_url_and_tokens_then_exits_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("emulator.yaml");
    std::fs::write(
        &config,
        "users:\n  - user_name: dev@example.com\n    token: dapi-dev\n",
    )
    .expect("write");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mortar"))
        .args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--token",
            "dapi-one",
            "--token",
            "dapi-two",
        ])
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut head = Vec::new();
    while let Some(line) = lines.next_line().await.expect("read") {
        let done = line == "ready";
        head.push(line);
        if done {
            break;
        }
    }
    assert_eq!(head.len(), 4, "{head:?}");
    let base = head[0]
        .strip_prefix("base_url=")
        .expect("base_url first")
        .to_owned();
    assert_eq!(&head[1..], ["token=dapi-one", "token=dapi-two", "ready"]);
    // Configured users authenticate with their own token.
    let me: Value = http()
        .get(format!("{base}/api/2.0/preview/scim/v2/Me"))
        .bearer_auth("dapi-dev")
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["userName"], "dev@example.com");

    let pid = child.id().expect("pid").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits after SIGTERM")
        .expect("wait");
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_create_honours_idempotency_token_while_active() {
    let emu = start(EmulatorConfig::default()).await;
    let create = || async {
        let body: Value = call(
            &emu,
            reqwest::Method::POST,
            "/api/2.1/clusters/create",
            Some(
                json!({"cluster_name": "once", "spark_version": "15.4.x-scala2.12",
                        "node_type_id": "i3.xlarge", "idempotency_token": "tok-1"}),
            ),
        )
        .await
        .json()
        .await
        .expect("json");
        body["cluster_id"].as_str().expect("cluster_id").to_owned()
    };
    let first = create().await;
    assert_eq!(create().await, first);
    let terminated = call(
        &emu,
        reqwest::Method::POST,
        "/api/2.1/clusters/delete",
        Some(json!({"cluster_id": first})),
    )
    .await;
    assert_eq!(terminated.status(), 200);
    assert_ne!(
        create().await,
        first,
        "a terminated cluster does not answer for its token"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn token_endpoint_can_be_throttled_by_name_only() {
    let emu = start(EmulatorConfig {
        oauth_clients: vec![OAuthClient {
            client_id: "c0ffee00-0000-4000-8000-000000000002".into(),
            client_secret: Secret::new("shh"),
            service_principal: None,
            admin: true,
        }],
        ..EmulatorConfig::default()
    })
    .await;
    let token = || {
        http()
            .post(format!("{}/oidc/v1/token", emu.base_url()))
            .basic_auth("c0ffee00-0000-4000-8000-000000000002", Some("shh"))
            .form(&[("grant_type", "client_credentials"), ("scope", "all-apis")])
            .send()
    };
    // A burst for every API path leaves the token endpoint alone...
    emu.inject_throttle(1, 1, "");
    assert_eq!(token().await.expect("token").status(), 200);
    emu.inject_throttle(0, 1, "");
    // ...one naming it throttles it.
    emu.inject_throttle(1, 2, "/oidc/v1/token");
    let throttled = token().await.expect("token");
    assert_eq!(throttled.status(), 429);
    assert_eq!(throttled.headers()["retry-after"], "2");
    assert_eq!(token().await.expect("token").status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_accepts_job_settings_as_objects() {
    let emu = start(EmulatorConfig::default()).await;
    let snapshot = json!({
        "seq": 10,
        "jobs": {"77": {
            "job_id": 77, "creator_user_name": "admin@example.com",
            "run_as_user_name": "admin@example.com", "created_time": 1,
            "settings": {"name": "Restored", "max_concurrent_runs": 3, "tasks": [{"task_key": "a"}]}
        }}
    });
    emu.restore(snapshot).expect("restore");
    assert_eq!(job_names(&emu).await, vec!["Restored".to_owned()]);
    let found: Value = call(
        &emu,
        reqwest::Method::GET,
        "/api/2.2/jobs/list?name=restored",
        None,
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(found["jobs"][0]["job_id"], 77);
    let got: Value = call(
        &emu,
        reqwest::Method::GET,
        "/api/2.2/jobs/get?job_id=77",
        None,
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(got["settings"]["max_concurrent_runs"], 3);
    assert_eq!(got["settings"]["tasks"][0]["task_key"], "a");
    assert_eq!(got["has_more"], false);
}
