//! A real Kubernetes API server for the cluster tests: kube-apiserver from
//! the Kubernetes Go module with etcd embedded (`tests/kube-apiserver`,
//! built by `scripts/kube-apiserver`), started once per test binary on
//! loopback with RBAC on. Each test works in namespaces of its own.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};

/// The running API server.
pub struct TestCluster {
    dir: PathBuf,
    url: String,
    /// Held open: the server exits when this test binary does.
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

static CLUSTER: OnceLock<TestCluster> = OnceLock::new();

impl TestCluster {
    /// The test binary's API server, started on first use.
    pub fn shared() -> &'static TestCluster {
        CLUSTER.get_or_init(TestCluster::start)
    }

    fn start() -> TestCluster {
        let binary = std::env::var("MORTAR_TEST_KUBE_APISERVER").unwrap_or_else(|_| {
            panic!(
                "MORTAR_TEST_KUBE_APISERVER is not set: run the tests through scripts/test, which builds the test kube-apiserver (scripts/kube-apiserver)"
            )
        });
        let dir = tempfile::Builder::new()
            .prefix("mortar-kube-")
            .tempdir()
            .expect("tempdir")
            .keep();
        let mut child = Command::new(&binary)
            .arg("--dir")
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("apiserver.log")).expect("log file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the API server's first line");
        let Some(url) = line.trim().strip_prefix("ready ") else {
            let log = std::fs::read_to_string(dir.join("apiserver.log")).unwrap_or_default();
            let tail: String = log.lines().rev().take(30).collect::<Vec<_>>().join("\n");
            panic!("the test kube-apiserver did not start:\n{tail}");
        };
        TestCluster {
            url: url.to_string(),
            dir,
            _stdin: Mutex::new(stdin),
            _child: Mutex::new(child),
        }
    }

    /// A kubeconfig for a `system:masters` administrator.
    pub fn kubeconfig_path(&self) -> PathBuf {
        self.dir.join("admin.kubeconfig")
    }

    /// A client for the administrator (one per test: a client belongs to
    /// the runtime it was made in).
    pub async fn admin_client(&self) -> kube::Client {
        client_from(&self.kubeconfig_path()).await
    }

    /// A new namespace, named `<prefix>-<random>`.
    pub async fn fresh_namespace(&self, prefix: &str) -> String {
        let name = format!("{prefix}-{:08x}", rand::random::<u32>());
        Api::<Namespace>::all(self.admin_client().await)
            .create(
                &PostParams::default(),
                &Namespace {
                    metadata: ObjectMeta {
                        name: Some(name.clone()),
                        ..Default::default()
                    },
                    ..Default::default()
                },
            )
            .await
            .expect("namespace created");
        name
    }

    /// A token of a ServiceAccount (TokenRequest), for `audience` (the API
    /// server's own by default), valid `seconds`.
    pub async fn service_account_token(
        &self,
        namespace: &str,
        account: &str,
        audience: Option<&str>,
        seconds: i64,
    ) -> String {
        let api = Api::<ServiceAccount>::namespaced(self.admin_client().await, namespace);
        let request = TokenRequest {
            spec: Some(TokenRequestSpec {
                audiences: audience.map(|a| vec![a.to_string()]),
                expiration_seconds: Some(seconds),
                ..Default::default()
            }),
            ..Default::default()
        };
        api.create_token_request(account, &PostParams::default(), &request)
            .await
            .expect("token issued")
            .status
            .and_then(|s| s.token)
            .expect("a token in the answer")
    }

    /// A kubeconfig file that authenticates with `token`.
    pub fn kubeconfig_for_token(&self, token: &str) -> PathBuf {
        let path = self
            .dir
            .join(format!("token-{:08x}.kubeconfig", rand::random::<u32>()));
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {}\n    certificate-authority: {}\nusers:\n- name: sa\n  user:\n    token: {token}\ncontexts:\n- name: sa\n  context: {{ cluster: test, user: sa }}\ncurrent-context: sa\n",
                self.url,
                self.dir.join("ca.crt").display()
            ),
        )
        .expect("kubeconfig written");
        path
    }
}

/// A client from a kubeconfig file.
pub async fn client_from(path: &Path) -> kube::Client {
    let file = Kubeconfig::read_from(path).expect("kubeconfig readable");
    let config = kube::Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig usable");
    kube::Client::try_from(config).expect("client")
}
