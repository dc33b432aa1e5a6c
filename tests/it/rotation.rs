//! Credential rotation against an emulated workspace over real HTTP: a
//! service principal's OAuth secret is created, delivered to a secret
//! scope, replaced when its period ends, and the old one revoked only after
//! the overlap — checked by signing in with the delivered values, by the
//! workspace's own list of secrets, and by the audit trail, which names
//! credentials by id and fingerprint and never holds a value.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mortar::audit::Trigger;
use mortar::engine::{Engine, Scope};
use mortar::manifest::render::RenderedApp;
use mortar::rotation::{Checked, KubeTarget, StepName};
use mortar_emulator::{EmulatorConfig, RunningEmulator};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::databricks_support::{emulator, test_limits};
use super::harness::engine;

const SCOPE: &str = "etl";
const KEY: &str = "runner-client-secret";

/// A secret scope delivery, as the example's runner declares it.
fn to_scope() -> String {
    format!("secret_scope: {{ scope: {SCOPE}, key: {KEY} }}")
}

fn write_repo(root: &Path, rotate_every: &str, overlap: &str, deliver_to: &str) {
    let top = "apiVersion: mortar.dev/v1alpha1\nkind: Workspace\nmetadata: { name: dev }\nspec: { host: https://dev.example.com }\n---\napiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: team }\nspec:\n  source: { path: team }\n  destination: { workspace: dev }\n  syncPolicy: { automated: {} }\n";
    let team = format!(
        "apiVersion: mortar.dev/v1alpha1\nkind: ServicePrincipal\nmetadata: {{ name: runner }}\nspec: {{ displayName: runner }}\ncredentials:\n  type: oauth-secret\n  rotate_every: {rotate_every}\n  overlap: {overlap}\n  deliver_to:\n    {deliver_to}\n---\napiVersion: mortar.dev/v1alpha1\nkind: SecretScope\nmetadata: {{ name: etl }}\nspec: {{ scope: {SCOPE} }}\n"
    );
    for (file, text) in [("top.yaml", top.to_string()), ("team/team.yaml", team)] {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// The emulated workspace, read the way its users would.
struct Workspace {
    emu: RunningEmulator,
    http: reqwest::Client,
}

struct Env {
    ws: Workspace,
    dir: tempfile::TempDir,
    engine: Engine,
    app: RenderedApp,
}

impl Env {
    /// The repository applied: the service principal and the scope exist.
    async fn start(rotate_every: &str, overlap: &str) -> Env {
        Env::start_to(rotate_every, overlap, &to_scope()).await
    }

    /// As [`Env::start`], delivering to `deliver_to` (a YAML mapping).
    async fn start_to(rotate_every: &str, overlap: &str, deliver_to: &str) -> Env {
        let emu = emulator(EmulatorConfig::default()).await;
        let dir = tempfile::tempdir().unwrap();
        write_repo(&dir.path().join("repo"), rotate_every, overlap, deliver_to);
        let (limits, retry) = test_limits();
        let engine = engine(dir.path(), emu.base_url(), &emu.token(), limits, retry);
        let tree = engine.render(None).unwrap();
        let planned = engine
            .plan_to_apply(&tree, &Scope::default())
            .await
            .unwrap();
        let report = engine
            .apply(
                planned,
                Trigger::Cli("test".into()),
                Arc::new(|_| {}),
                CancellationToken::new(),
            )
            .await
            .unwrap();
        assert!(report.success(), "{report:?}");
        let app = tree
            .rendered
            .apps
            .iter()
            .find(|a| a.name == "team")
            .unwrap()
            .clone();
        assert_eq!(app.rotations.len(), 1);
        Env {
            ws: Workspace {
                emu,
                http: reqwest::Client::new(),
            },
            dir,
            engine,
            app,
        }
    }

    async fn rotate(&self) -> Checked {
        self.rotate_in(None).await
    }

    /// A look at the rotation by a controller running in `kube`'s namespace.
    async fn rotate_in(&self, kube: Option<&KubeTarget>) -> Checked {
        self.engine
            .rotate(&self.app, &self.app.rotations[0], kube, Some("abc123"))
            .await
    }

    fn audit_text(&self) -> String {
        audit_text(self.dir.path())
    }

    fn rotation_records(&self) -> Vec<(String, String, String, String)> {
        rotation_records(self.dir.path())
    }
}

impl Workspace {
    async fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.emu.base_url()))
            .bearer_auth(self.emu.token());
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    async fn principal(&self) -> (String, String) {
        let list = self
            .api(
                reqwest::Method::GET,
                "/api/2.0/preview/scim/v2/ServicePrincipals?filter=displayName%20eq%20%22runner%22",
                None,
            )
            .await;
        let sp = &list["Resources"][0];
        (
            sp["id"].as_str().unwrap().to_string(),
            sp["applicationId"].as_str().unwrap().to_string(),
        )
    }

    /// The ids of the service principal's OAuth secrets, as the workspace lists them.
    async fn live_secret_ids(&self) -> Vec<String> {
        let (scim_id, _) = self.principal().await;
        let list = self
            .api(
                reqwest::Method::GET,
                &format!("/api/2.0/accounts/servicePrincipals/{scim_id}/credentials/secrets"),
                None,
            )
            .await;
        let mut ids: Vec<String> = list["secrets"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| s["id"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    }

    /// The value in the scope, as a job reading it would see it.
    async fn delivered(&self) -> String {
        use base64::Engine as _;
        let got = self
            .api(
                reqwest::Method::GET,
                &format!("/api/2.0/secrets/get?scope={SCOPE}&key={KEY}"),
                None,
            )
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(got["value"].as_str().unwrap())
            .unwrap();
        String::from_utf8(bytes).unwrap()
    }

    /// Whether the service principal signs in with `secret` (OAuth M2M).
    async fn signs_in(&self, secret: &str) -> bool {
        let (_, application_id) = self.principal().await;
        self.http
            .post(format!("{}/oidc/v1/token", self.emu.base_url()))
            .basic_auth(application_id, Some(secret))
            .form(&[("grant_type", "client_credentials"), ("scope", "all-apis")])
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    }
}

fn audit_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("state/audit.jsonl")).unwrap_or_default()
}

/// `(action, phase, databricks id, fingerprint)` of each rotation record.
fn rotation_records(dir: &Path) -> Vec<(String, String, String, String)> {
    let field = |r: &Value, f: &str| r["event"][f].as_str().unwrap_or("").to_string();
    audit_text(dir)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| {
            r["event"]["action"]
                .as_str()
                .is_some_and(|a| a.starts_with("rotate"))
        })
        .map(|r| {
            (
                field(&r, "action"),
                field(&r, "phase"),
                field(&r, "databricks_id"),
                field(&r, "fingerprint"),
            )
        })
        .collect()
}

fn steps(checked: &Checked) -> Vec<StepName> {
    assert!(checked.failed.is_none(), "{:?}", checked.failed);
    checked.done.iter().map(|d| d.step).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_is_delivered_replaced_when_due_and_the_old_one_revoked_after_the_overlap() {
    let env = Env::start("6s", "3s").await;

    // The first look makes a credential and delivers it; the pipelines
    // sign in with what the scope holds.
    let first = env.rotate().await;
    assert_eq!(steps(&first), [StepName::Create, StepName::Deliver]);
    let first_id = first.done[0].credential_id.clone();
    let first_value = env.ws.delivered().await;
    assert!(env.ws.signs_in(&first_value).await);
    assert_eq!(env.ws.live_secret_ids().await, vec![first_id.clone()]);

    // Looking again before the period ends changes nothing.
    let again = env.rotate().await;
    assert_eq!(steps(&again), []);
    assert_eq!(env.ws.delivered().await, first_value);

    // The period ends: a second credential is delivered and both work
    // during the overlap.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let second = env.rotate().await;
    assert_eq!(steps(&second), [StepName::Create, StepName::Deliver]);
    let second_id = second.done[0].credential_id.clone();
    let second_value = env.ws.delivered().await;
    assert_ne!(second_value, first_value);
    assert!(
        env.ws.signs_in(&first_value).await,
        "the old one still works in the overlap"
    );
    assert!(env.ws.signs_in(&second_value).await);
    let mut both = vec![first_id.clone(), second_id.clone()];
    both.sort();
    assert_eq!(env.ws.live_secret_ids().await, both);
    assert_eq!(steps(&env.rotate().await), [], "the overlap is not over");

    // The overlap passes: the old one is revoked, the new one stays.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let third = env.rotate().await;
    assert_eq!(steps(&third), [StepName::Revoke]);
    assert_eq!(third.done[0].credential_id, first_id);
    assert!(!env.ws.signs_in(&first_value).await, "revoked");
    assert!(env.ws.signs_in(&second_value).await);
    assert_eq!(env.ws.live_secret_ids().await, vec![second_id.clone()]);

    // The audit trail: each step's intent and outcome, by id and
    // fingerprint; no value anywhere in it.
    let records = env.rotation_records();
    let outcomes: Vec<(&str, &str)> = records
        .iter()
        .filter(|r| r.1 == "outcome")
        .map(|r| (r.0.as_str(), r.2.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("rotate_create", first_id.as_str()),
            ("rotate_deliver", first_id.as_str()),
            ("rotate_create", second_id.as_str()),
            ("rotate_deliver", second_id.as_str()),
            ("rotate_revoke", first_id.as_str()),
        ]
    );
    assert!(
        records
            .iter()
            .filter(|r| !r.2.is_empty())
            .all(|r| r.3.len() == 12 && r.3.chars().all(|c| c.is_ascii_hexdigit())),
        "{records:?}"
    );
    let audit = env.audit_text();
    for value in [&first_value, &second_value] {
        assert!(
            !audit.contains(value.as_str()),
            "a value in the audit trail"
        );
    }
    // `mortar audit show` names the steps the way people read them.
    let shown = super::harness::run_blocking(&[
        "audit",
        "show",
        env.dir.path().join("state/audit.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(shown.stdout.contains("rotate"), "{}", shown.stdout);
    assert!(!shown.stdout.contains(second_value.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_that_cannot_deliver_never_revokes_what_works() {
    let env = Env::start("4s", "2s").await;
    let first = env.rotate().await;
    assert_eq!(steps(&first), [StepName::Create, StepName::Deliver]);
    let first_value = env.ws.delivered().await;

    // The scope is deleted by hand, and the period ends.
    env.ws
        .api(
            reqwest::Method::POST,
            "/api/2.0/secrets/scopes/delete",
            Some(serde_json::json!({ "scope": SCOPE })),
        )
        .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let failed = env.rotate().await;
    let (step, error) = failed.failed.as_ref().expect("the rotation fails");
    let message = mortar::engine::error_chain(error);
    assert!(
        message.contains(&format!("secret scope `{SCOPE}` does not exist")),
        "{step:?}: {message}"
    );
    assert_eq!(error.metric_label(), "scope_missing");
    // What was delivered before keeps working, and nothing new is left live.
    assert!(env.ws.signs_in(&first_value).await);
    assert_eq!(env.ws.live_secret_ids().await.len(), 1);
    assert!(
        !env.rotation_records()
            .iter()
            .any(|r| r.0 == "rotate_revoke"),
        "nothing was revoked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_rotates_on_schedule_and_revokes_after_the_overlap() {
    use super::daemon_support::git;

    let ws = Workspace {
        emu: emulator(EmulatorConfig::default()).await,
        http: reqwest::Client::new(),
    };
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    write_repo(&repo, "5s", "2s", &to_scope());
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(
        &repo,
        &["commit", "-q", "-m", "a runner with a rotated secret"],
    );
    std::fs::write(dir.path().join("pat"), ws.emu.token()).unwrap();
    let config = format!(
        "source: {{ git: {{ repo: repo, revision: main }} }}\nworkspaces:\n  dev:\n    host: {}\n    auth: {{ method: pat, token: {{ file: pat }} }}\ncontroller: {{ drift_interval: 1s, shutdown_grace: 10s }}\nserver:\n  listen: '127.0.0.1:0'\n  metrics_listen: '127.0.0.1:0'\n",
        ws.emu.base_url()
    );
    std::fs::write(dir.path().join("mortar.yaml"), config).unwrap();
    let (_handle, cancel, run) = super::daemon_support::start(&dir.path().join("mortar.yaml"));

    // The app syncs (the principal and the scope exist), the first secret
    // is delivered, replaced after 5 s, and its predecessor revoked 2 s later.
    let watch = async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let found = loop {
            let records = rotation_records(dir.path());
            if let Some(r) = records
                .iter()
                .find(|r| r.0 == "rotate_revoke" && r.1 == "outcome")
            {
                let id = r.2.clone();
                break Some((records, id));
            }
            if tokio::time::Instant::now() > deadline {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        cancel.cancel();
        found
    };
    let (_, revoked) = tokio::join!(run, watch);
    let Some(revoked) = revoked else {
        panic!(
            "no revocation within a minute: {:?}",
            rotation_records(dir.path())
        );
    };

    let (records, revoked_id) = revoked;
    let delivered: Vec<&str> = records
        .iter()
        .filter(|r| r.0 == "rotate_deliver" && r.1 == "outcome")
        .map(|r| r.2.as_str())
        .collect();
    assert!(delivered.len() >= 2, "{records:?}");
    assert_eq!(delivered[0], revoked_id, "the first one goes");
    let current = ws.delivered().await;
    assert!(ws.signs_in(&current).await);
    let live = ws.live_secret_ids().await;
    assert!(!live.contains(&revoked_id), "{live:?}");
    assert!(
        !audit_text(dir.path()).contains(current.as_str()),
        "a value in the audit trail"
    );
}

/// The value of key `key` of Secret `name` in `namespace`, as a pod
/// mounting it would read it; `None` while the Secret or key is absent.
async fn kube_secret_value(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    key: &str,
) -> Option<String> {
    let api: kube::Api<k8s_openapi::api::core::v1::Secret> =
        kube::Api::namespaced(client.clone(), namespace);
    let secret = api.get_opt(name).await.unwrap()?;
    let bytes = secret.data?.remove(key)?;
    Some(String::from_utf8(bytes.0).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_is_delivered_to_a_kubernetes_secret_and_replaced_in_place() {
    let cluster = super::kube_support::TestCluster::shared();
    let namespace = cluster.fresh_namespace("rotation").await;
    let client = cluster.admin_client().await;
    let kube = KubeTarget {
        client: client.clone(),
        namespace: namespace.clone(),
    };
    let env = Env::start_to(
        "4s",
        "2s",
        "kubernetes_secret: { name: runner-oauth, key: client-secret }",
    )
    .await;

    // Outside a cluster there is nowhere to deliver: nothing is created.
    let outside = env.rotate().await;
    let (_, error) = outside.failed.as_ref().expect("no cluster, no delivery");
    assert_eq!(error.metric_label(), "no_cluster");
    assert!(env.ws.live_secret_ids().await.is_empty());

    // In the controller's namespace the Secret is made with the value.
    let first = env.rotate_in(Some(&kube)).await;
    assert_eq!(steps(&first), [StepName::Create, StepName::Deliver]);
    let first_id = first.done[0].credential_id.clone();
    let first_value = kube_secret_value(&client, &namespace, "runner-oauth", "client-secret")
        .await
        .expect("the Secret holds the value");
    assert!(env.ws.signs_in(&first_value).await);

    // Replaced in the same Secret when due; the old one revoked after the overlap.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let second = env.rotate_in(Some(&kube)).await;
    assert_eq!(steps(&second), [StepName::Create, StepName::Deliver]);
    let second_id = second.done[0].credential_id.clone();
    let second_value = kube_secret_value(&client, &namespace, "runner-oauth", "client-secret")
        .await
        .unwrap();
    assert_ne!(second_value, first_value);
    assert!(env.ws.signs_in(&first_value).await, "the overlap");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let third = env.rotate_in(Some(&kube)).await;
    assert_eq!(steps(&third), [StepName::Revoke]);
    assert_eq!(third.done[0].credential_id, first_id);
    assert!(!env.ws.signs_in(&first_value).await, "revoked");
    assert!(env.ws.signs_in(&second_value).await);
    assert_eq!(env.ws.live_secret_ids().await, vec![second_id]);
    let audit = env.audit_text();
    assert!(
        audit.contains("Kubernetes Secret runner-oauth/client-secret"),
        "{audit}"
    );
    assert!(!audit.contains(first_value.as_str()) && !audit.contains(second_value.as_str()));
}
