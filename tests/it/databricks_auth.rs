//! Authentication end to end: OIDC federation with a real OpenID provider
//! (`tests/idp`, npm `oidc-provider`) whose JWTs the emulator verifies
//! against the provider's JWKS, and `mortar auth check` run as a user runs
//! it, with each auth method from a config file and from the SDK
//! environment variables.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use mortar::config::{AuthConfig, IdpConfig, SecretRef, ValueRef};
use mortar::databricks::{AuthError, Client, Error};
use mortar_emulator::{EmulatorConfig, OAuthClient, RunningEmulator, Secret};

use crate::databricks_support::{Idp, emulator, mortar_bin, secret_file, trusting_idp, workspace};

const SP: &str = "0c8c5e8f-1111-4222-8333-444455556666";
const M2M_ID: &str = "6f1f4a3e-0000-4000-8000-0000000000aa";
const M2M_SECRET: &str = "m2m-secret";
const AUDIENCE: &str = "https://workspace.example/";

/// An emulator that trusts `issuer` for service principal [`SP`] and
/// knows one OAuth M2M client.
async fn workspace_trusting(issuer: &str) -> RunningEmulator {
    emulator(EmulatorConfig {
        oauth_clients: vec![OAuthClient {
            client_id: M2M_ID.into(),
            client_secret: Secret::new(M2M_SECRET),
            service_principal: Some("mortar-m2m".into()),
            admin: true,
        }],
        federation_policies: vec![trusting_idp(issuer, AUDIENCE, SP)],
        ..EmulatorConfig::default()
    })
    .await
}

fn idp_auth(issuer: &str, audience: &str, secret: SecretRef) -> AuthConfig {
    AuthConfig::OidcFederation {
        client_id: Some(ValueRef::Literal(SP.into())),
        token_file: None,
        idp: Some(IdpConfig {
            issuer: issuer.into(),
            client_id: ValueRef::Literal("mortar".into()),
            client_secret: secret,
            audience: Some(audience.into()),
            scopes: Vec::new(),
            allow_insecure_http: false,
        }),
    }
}

fn file_auth(path: &Path) -> AuthConfig {
    AuthConfig::OidcFederation {
        client_id: Some(ValueRef::Literal(SP.into())),
        token_file: Some(path.to_path_buf()),
        idp: None,
    }
}

#[tokio::test]
async fn federation_exchanges_the_idp_jwt_for_a_workspace_token() {
    let idp = Idp::start().await;
    let emu = workspace_trusting(&idp.issuer).await;
    let dir = tempfile::tempdir().expect("tempdir");

    // The JWT obtained from the IdP by client credentials (openidconnect discovery).
    let secret = secret_file(dir.path(), "idp-secret", "mortar-secret");
    let client = Client::new(
        "fed",
        &workspace(emu.base_url(), idp_auth(&idp.issuer, AUDIENCE, secret)),
    )
    .expect("client");
    let me = client.me().await.expect("federated identity");
    assert_eq!(me["applicationId"], SP);
    assert_eq!(client.auth_method(), "oidc-federation");

    // The JWT read from a file (a projected service-account token).
    let jwt_path = dir.path().join("token");
    std::fs::write(
        &jwt_path,
        idp.token("mortar", "mortar-secret", AUDIENCE).await,
    )
    .expect("write jwt");
    let client =
        Client::new("fed-file", &workspace(emu.base_url(), file_auth(&jwt_path))).expect("client");
    let me = client.me().await.expect("federated identity from a file");
    assert_eq!(me["applicationId"], SP);
}

#[tokio::test]
async fn the_token_file_is_read_again_for_every_exchange() {
    let idp = Idp::start().await;
    let mut config = EmulatorConfig {
        federation_policies: vec![trusting_idp(&idp.issuer, AUDIENCE, SP)],
        ..EmulatorConfig::default()
    };
    // Workspace tokens live 2 s, so the client exchanges again soon.
    config.oauth_token_ttl = Duration::from_secs(2);
    let emu = emulator(config).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let jwt_path = dir.path().join("token");
    std::fs::write(
        &jwt_path,
        idp.token("mortar", "mortar-secret", AUDIENCE).await,
    )
    .expect("write");
    let client =
        Client::new("fed-file", &workspace(emu.base_url(), file_auth(&jwt_path))).expect("client");
    client.me().await.expect("first exchange");

    // The projected token is rotated (here: to one the workspace refuses).
    std::fs::write(
        &jwt_path,
        idp.token("mortar", "mortar-secret", "https://rotated.example/")
            .await,
    )
    .expect("rotate");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let err = client.me().await.expect_err("the rotated file was used");
    assert!(err.to_string().contains("audience"), "{err}");
    assert_eq!(client.token_requests(), 2);
}

async fn refused(emu: &RunningEmulator, jwt_path: &Path) -> Error {
    let client =
        Client::new("fed", &workspace(emu.base_url(), file_auth(jwt_path))).expect("client");
    client
        .me()
        .await
        .expect_err("the workspace must refuse this JWT")
}

#[tokio::test]
async fn expired_wrong_audience_and_wrong_issuer_jwts_are_refused() {
    let idp = Idp::start().await;
    let other_idp = Idp::start().await;
    let emu = workspace_trusting(&idp.issuer).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let jwt_path = dir.path().join("token");

    // Expired: a 1 s token, used after it lapsed.
    let short = idp
        .token("mortar-short", "mortar-short-secret", AUDIENCE)
        .await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    std::fs::write(&jwt_path, short).expect("write");
    let err = refused(&emu, &jwt_path).await;
    assert!(
        matches!(err, Error::Auth(AuthError::JwtExpired { .. })),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("expired") && msg.contains("token"), "{msg}");

    // Wrong audience: signed by the trusted issuer, for another resource.
    std::fs::write(
        &jwt_path,
        idp.token("mortar", "mortar-secret", "https://elsewhere.example/")
            .await,
    )
    .expect("write");
    let msg = refused(&emu, &jwt_path).await.to_string();
    assert!(msg.contains("audience"), "{msg}");

    // Wrong issuer: a valid JWT for the right audience from an untrusted IdP.
    std::fs::write(
        &jwt_path,
        other_idp.token("mortar", "mortar-secret", AUDIENCE).await,
    )
    .expect("write");
    let msg = refused(&emu, &jwt_path).await.to_string();
    assert!(msg.contains("issuer"), "{msg}");
}

async fn auth_check(config: Option<&Path>, env: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new(mortar_bin());
    cmd.arg("auth").arg("check");
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    cmd.env_clear();
    for (k, v) in env {
        cmd.env(k, v);
    }
    tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("auth check finishes")
        .expect("run mortar")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn auth_check_succeeds_with_each_method_from_a_config_file() {
    let idp = Idp::start().await;
    let emu = workspace_trusting(&idp.issuer).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("pat"), emu.token()).expect("pat");
    let jwt = idp.token("mortar", "mortar-secret", AUDIENCE).await;
    std::fs::write(d.join("jwt"), &jwt).expect("jwt");
    let config = d.join("mortar.yaml");
    let host = emu.base_url();
    std::fs::write(
        &config,
        format!(
            r#"workspaces:
  with-pat:
    host: {host}
    auth:
      method: pat
      token: {{ file: {pat} }}
  with-m2m:
    host: {host}
    auth:
      method: oauth-m2m
      client_id: {M2M_ID}
      client_secret: {{ env: TEST_M2M_SECRET }}
  with-idp:
    host: {host}
    auth:
      method: oidc-federation
      client_id: {SP}
      idp:
        issuer: {issuer}
        client_id: mortar
        client_secret: {{ env: TEST_IDP_SECRET }}
        audience: {AUDIENCE}
  with-token-file:
    host: {host}
    auth:
      method: oidc-federation
      client_id: {SP}
      token_file: {jwt}
"#,
            pat = d.join("pat").display(),
            jwt = d.join("jwt").display(),
            issuer = idp.issuer,
        ),
    )
    .expect("config");
    let out = auth_check(
        Some(&config),
        &[
            ("TEST_M2M_SECRET", M2M_SECRET),
            ("TEST_IDP_SECRET", "mortar-secret"),
            // Even the most verbose logs carry no secret.
            ("RUST_LOG", "trace"),
        ],
    )
    .await;
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("with-pat: ok") && all.contains("(pat)"),
        "{all}"
    );
    assert!(
        all.contains("with-m2m: ok") && all.contains("(oauth-m2m)"),
        "{all}"
    );
    assert!(
        all.contains(&format!("service principal {M2M_ID}")),
        "{all}"
    );
    assert!(
        all.contains("with-idp: ok") && all.contains("(oidc-federation)"),
        "{all}"
    );
    assert!(all.contains("with-token-file: ok"), "{all}");
    assert!(all.contains(&format!("service principal {SP}")), "{all}");
    for secret in [
        M2M_SECRET,
        "mortar-secret",
        emu.token().as_str(),
        jwt.as_str(),
    ] {
        assert!(!all.contains(secret), "a secret was printed: {all}");
    }
    assert!(!all.contains("Bearer ") && !all.contains("Basic "), "{all}");
    assert!(all.contains("databricks call"), "trace logs were on: {all}");

    // --workspace picks one.
    let out = auth_check_one(&config, "with-pat").await;
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(!all.contains("with-m2m"), "{all}");
}

async fn auth_check_one(config: &Path, name: &str) -> Output {
    let out = tokio::process::Command::new(mortar_bin())
        .args(["auth", "check", "--workspace", name, "--config"])
        .arg(config)
        .env_clear()
        .output();
    tokio::time::timeout(Duration::from_secs(120), out)
        .await
        .expect("finishes")
        .expect("run mortar")
}

#[tokio::test]
async fn auth_check_names_the_problem() {
    let idp = Idp::start().await;
    let other_idp = Idp::start().await;
    let emu = workspace_trusting(&idp.issuer).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let config = d.join("mortar.yaml");
    let host = emu.base_url();
    std::fs::write(&config, format!(
        r#"workspaces:
  wrong-secret:
    host: {host}
    auth: {{ method: oauth-m2m, client_id: {M2M_ID}, client_secret: {{ env: WRONG }} }}
  wrong-audience:
    host: {host}
    auth:
      method: oidc-federation
      client_id: {SP}
      idp: {{ issuer: "{issuer}", client_id: mortar, client_secret: {{ env: IDP }}, audience: "https://elsewhere.example/" }}
  wrong-issuer:
    host: {host}
    auth:
      method: oidc-federation
      client_id: {SP}
      idp: {{ issuer: "{other}", client_id: mortar, client_secret: {{ env: IDP }}, audience: "{AUDIENCE}" }}
  wrong-idp-secret:
    host: {host}
    auth:
      method: oidc-federation
      client_id: {SP}
      idp: {{ issuer: "{issuer}", client_id: mortar, client_secret: {{ env: WRONG }}, audience: "{AUDIENCE}" }}
  unreachable:
    host: http://127.0.0.1:{closed}
    auth: {{ method: pat, token: {{ env: IDP }} }}
"#,
        issuer = idp.issuer,
        other = other_idp.issuer,
    ))
    .expect("config");
    let out = auth_check(
        Some(&config),
        &[("WRONG", "not-the-secret"), ("IDP", "mortar-secret")],
    )
    .await;
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    let line = |name: &str| {
        all.lines()
            .find(|l| l.starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no line for {name}: {all}"))
            .to_string()
    };
    let l = line("wrong-secret");
    assert!(
        l.contains("FAILED") && l.contains("wrong client id or client secret"),
        "{l}"
    );
    let l = line("wrong-audience");
    assert!(l.contains("FAILED") && l.contains("audience"), "{l}");
    let l = line("wrong-issuer");
    assert!(l.contains("FAILED") && l.contains("issuer"), "{l}");
    let l = line("wrong-idp-secret");
    assert!(
        l.contains("FAILED")
            && l.contains("identity provider")
            && l.contains("wrong client id or client secret"),
        "{l}"
    );
    let l = line("unreachable");
    assert!(
        l.contains("FAILED") && l.contains("connection failed"),
        "{l}"
    );
    assert!(!all.contains("not-the-secret"), "{all}");

    // A typo in the config file names the file, line and field.
    std::fs::write(&config, "workspaces:\n  w:\n    host: https://x.example\n    auth: { method: pat, tokn: { env: X } }\n")
        .expect("config");
    let out = auth_check(Some(&config), &[]).await;
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("mortar.yaml") && all.contains("tokn") && all.contains("line 4"),
        "{all}"
    );
}

#[tokio::test]
async fn auth_check_uses_the_sdk_environment_variables() {
    let idp = Idp::start().await;
    let emu = workspace_trusting(&idp.issuer).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let host = emu.base_url().to_string();

    let token = emu.token();
    let out = auth_check(
        None,
        &[("DATABRICKS_HOST", &host), ("DATABRICKS_TOKEN", &token)],
    )
    .await;
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("default: ok") && all.contains("(pat)"),
        "{all}"
    );

    let out = auth_check(
        None,
        &[
            ("DATABRICKS_HOST", &host),
            ("DATABRICKS_CLIENT_ID", M2M_ID),
            ("DATABRICKS_CLIENT_SECRET", M2M_SECRET),
        ],
    )
    .await;
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("(oauth-m2m)") && all.contains(M2M_ID), "{all}");

    let jwt = dir.path().join("jwt");
    std::fs::write(&jwt, idp.token("mortar", "mortar-secret", AUDIENCE).await).expect("jwt");
    let jwt = jwt.display().to_string();
    let out = auth_check(
        None,
        &[
            ("DATABRICKS_HOST", &host),
            ("DATABRICKS_CLIENT_ID", SP),
            ("DATABRICKS_OIDC_TOKEN_FILEPATH", &jwt),
        ],
    )
    .await;
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("(oidc-federation)") && all.contains(SP),
        "{all}"
    );

    // Nothing configured at all: a clear instruction, exit 1.
    let out = auth_check(None, &[]).await;
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("DATABRICKS_HOST"), "{all}");
}
