//! The Helm chart, with real Helm: it lints, renders objects that validate
//! against the Kubernetes 1.37 schemas, is hardened and least-privileged,
//! carries a `mortar.yaml` the binary accepts, refuses bad values, and
//! installs into a real API server where its ServiceAccount may read the
//! Secrets it is told of and nothing more. And the Dockerfile lints clean.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use serde_json::Value;

use super::harness::repo_root;
use super::kube_support::{TestCluster, client_from};

/// A tool `scripts/k8s-tools` installed.
fn tool(name: &str) -> PathBuf {
    let dir = std::env::var("MORTAR_TEST_K8S_TOOLS").unwrap_or_else(|_| {
        panic!("MORTAR_TEST_K8S_TOOLS is not set: run the tests through scripts/test, which installs Helm, kubernetes-validate and hadolint (scripts/k8s-tools)")
    });
    Path::new(&dir).join("bin").join(name)
}

fn chart() -> PathBuf {
    repo_root().join("charts/mortar")
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("the tool runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn helm(args: &[&str]) -> (bool, String, String) {
    run(Command::new(tool("helm"))
        .args(args)
        .env(
            "HELM_CACHE_HOME",
            std::env::temp_dir().join("mortar-helm-cache"),
        )
        .env(
            "HELM_CONFIG_HOME",
            std::env::temp_dir().join("mortar-helm-config"),
        )
        .env(
            "HELM_DATA_HOME",
            std::env::temp_dir().join("mortar-helm-data"),
        ))
}

/// The chart rendered with one of its `ci/` values files.
fn render(values: &str) -> String {
    let values = chart().join("ci").join(values);
    let (ok, out, err) = helm(&[
        "template",
        "mortar",
        chart().to_str().unwrap(),
        "--namespace",
        "mortar",
        "-f",
        values.to_str().unwrap(),
    ]);
    assert!(ok, "helm template: {err}");
    out
}

fn objects(rendered: &str) -> Vec<Value> {
    rendered
        .split("\n---")
        .filter_map(|doc| serde_saphyr::from_str::<Value>(doc).ok())
        .filter(|v| v.is_object())
        .collect()
}

fn find<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} rendered"))
}

const VALUES: [&str; 4] = [
    "default-values.yaml",
    "ha-values.yaml",
    "federation-values.yaml",
    "servicemonitor-values.yaml",
];

#[test]
fn every_values_file_lints_and_renders_objects_valid_for_kubernetes_1_37() {
    for values in VALUES {
        let path = chart().join("ci").join(values);
        let (ok, out, err) = helm(&[
            "lint",
            "--strict",
            chart().to_str().unwrap(),
            "-f",
            path.to_str().unwrap(),
        ]);
        assert!(ok, "helm lint --strict -f {values}:\n{out}{err}");
        let rendered = render(values);
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &rendered).unwrap();
        let (ok, out, err) = run(Command::new(tool("kubernetes-validate"))
            .args(["--strict", "-k", "1.37.0"])
            .arg(file.path()));
        assert!(
            ok,
            "{values} does not validate against Kubernetes 1.37:\n{out}{err}"
        );
        assert!(out.contains("passed for resource"), "{out}{err}");
    }
}

#[test]
fn every_rendering_is_hardened() {
    for values in VALUES {
        let objects = objects(&render(values));
        let workload = objects
            .iter()
            .find(|o| o["kind"] == "Deployment" || o["kind"] == "StatefulSet")
            .expect("a workload");
        let pod = &workload["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{values}");
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        let container = &pod["containers"][0];
        let sc = &container["securityContext"];
        assert_eq!(sc["readOnlyRootFilesystem"], true, "{values}");
        assert_eq!(sc["allowPrivilegeEscalation"], false, "{values}");
        assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
        assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
        assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
        assert!(container["resources"]["limits"]["memory"].is_string());
    }
}

#[test]
fn the_role_names_exactly_the_leases_and_secrets_of_the_release() {
    let objects = objects(&render("ha-values.yaml"));
    let role = find(&objects, "Role");
    let rules = role["rules"].as_array().unwrap();
    let names = |resource: &str| -> BTreeSet<String> {
        rules
            .iter()
            .filter(|r| r["resources"][0] == resource && r["resourceNames"].is_array())
            .flat_map(|r| r["resourceNames"].as_array().unwrap().clone())
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names("secrets"),
        BTreeSet::from([
            "mortar-databricks".to_string(),
            "mortar-webhooks".to_string()
        ])
    );
    let leases = names("leases");
    assert_eq!(leases.len(), 3 + 4, "{leases:?}");
    assert!(leases.contains("mortar-shard-2") && leases.contains("mortar-member-3"));
    // App state in ConfigMaps (the default), which nothing may delete.
    assert!(
        rules.iter().any(|r| r["resources"][0] == "configmaps"
            && r["verbs"].as_array().unwrap().iter().any(|v| v == "update")),
        "no rule for app state"
    );
    // Nothing else may be read, and no Secret without its name.
    for rule in rules {
        let resources: Vec<&str> = rule["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(
            resources
                .iter()
                .all(|r| ["leases", "events", "secrets", "configmaps"].contains(r)),
            "{rule}"
        );
        if resources.contains(&"secrets") {
            assert!(rule["resourceNames"].is_array(), "{rule}");
        }
        assert!(
            !rule["verbs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v == "*" || v == "delete")
        );
    }
    let binding = find(&objects, "RoleBinding");
    assert_eq!(binding["subjects"][0]["name"], "mortar");
}

#[test]
fn the_config_map_holds_a_mortar_yaml_the_binary_accepts() {
    let objects = objects(&render("ha-values.yaml"));
    let config_map = find(&objects, "ConfigMap");
    let text = config_map["data"]["mortar.yaml"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mortar.yaml");
    std::fs::write(&file, text).unwrap();
    let config = mortar::config::Config::load(&file).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let k = config
        .kubernetes
        .as_ref()
        .expect("the chart configures the cluster side");
    assert_eq!(
        (k.shards, k.max_replicas, k.lease.as_str()),
        (3, 4, "mortar")
    );
    assert_eq!(config.server.listen.to_string(), "0.0.0.0:8080");
    assert_eq!(config.server.metrics_listen.to_string(), "0.0.0.0:9090");
    assert_eq!(
        config
            .kubernetes_secret_names()
            .into_iter()
            .collect::<Vec<_>>(),
        ["mortar-databricks", "mortar-webhooks"]
    );
    assert_eq!(find(&objects, "StatefulSet")["spec"]["replicas"], 3);
}

#[test]
fn without_sign_in_the_api_stays_on_the_pods_loopback() {
    let rendered = render("default-values.yaml");
    let objects = objects(&rendered);
    let text = find(&objects, "ConfigMap")["data"]["mortar.yaml"]
        .as_str()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mortar.yaml");
    std::fs::write(&file, &text).unwrap();
    let config = mortar::config::Config::load(&file).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.server.metrics_listen.to_string(), "0.0.0.0:9090");
    let (ok, notes, err) = helm(&[
        "install",
        "mortar",
        chart().to_str().unwrap(),
        "--dry-run=client",
        "--namespace",
        "mortar",
        "-f",
        chart().join("ci/default-values.yaml").to_str().unwrap(),
    ]);
    assert!(ok, "helm install --dry-run: {err}");
    assert!(
        notes.contains(
            "No config.server.auth: the web view and API listen on the pod's loopback only"
        ),
        "{notes}"
    );
}

#[test]
fn federation_mounts_a_projected_token_for_the_configured_audience() {
    let objects = objects(&render("federation-values.yaml"));
    let pod = &find(&objects, "Deployment")["spec"]["template"]["spec"];
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "federation-token")
        .expect("the token volume");
    let token = &volume["projected"]["sources"][0]["serviceAccountToken"];
    assert_eq!(
        token["audience"],
        "https://adb-2222222222222222.2.azuredatabricks.net/oidc/v1/token"
    );
    assert_eq!(token["path"], "databricks");
    let mount = pod["containers"][0]["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "federation-token")
        .unwrap();
    assert_eq!(mount["mountPath"], "/var/run/secrets/tokens");
    let text = find(&objects, "ConfigMap")["data"]["mortar.yaml"]
        .as_str()
        .unwrap();
    assert!(
        text.contains("token_file: /var/run/secrets/tokens/databricks"),
        "{text}"
    );
}

#[test]
fn bad_values_are_refused_by_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    for (bad, why) in [
        ("replicas: abc\n", "replicas"),
        ("replica: 3\n", "replica"),
        ("federation: { enabled: true }\n", "audience"),
        (
            "config: { source: { dir: x }, state: { dir: /x } }\n",
            "state",
        ),
        ("leaseDuration: fifteen\n", "leaseDuration"),
    ] {
        let file = dir.path().join("bad.yaml");
        std::fs::write(&file, bad).unwrap();
        let (ok, out, err) = helm(&[
            "lint",
            "--strict",
            chart().to_str().unwrap(),
            "-f",
            file.to_str().unwrap(),
        ]);
        assert!(!ok, "accepted {bad:?}:\n{out}");
        assert!(
            format!("{out}{err}").contains(why),
            "{bad:?} refused without naming {why}:\n{out}{err}"
        );
    }
}

#[test]
fn the_dockerfile_lints_clean() {
    let (ok, out, err) = run(Command::new(tool("hadolint")).arg(repo_root().join("Dockerfile")));
    assert!(ok, "hadolint:\n{out}{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chart_installs_and_its_account_reads_only_its_secrets() {
    let cluster = TestCluster::shared();
    let ns = cluster.fresh_namespace("chart").await;
    let values = chart().join("ci/ha-values.yaml");
    let kubeconfig = cluster.kubeconfig_path();
    let (ok, out, err) = helm(&[
        "install",
        "mortar",
        chart().to_str().unwrap(),
        "--namespace",
        &ns,
        "-f",
        values.to_str().unwrap(),
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
    ]);
    assert!(ok, "helm install:\n{out}{err}");
    let admin = cluster.admin_client().await;
    // Every object is stored.
    let (ok, out, err) = run(Command::new(tool("kubectl"))
        .args([
            "get",
            "statefulset,service,configmap,serviceaccount,role,rolebinding,pdb",
            "-n",
            &ns,
            "-o",
            "name",
        ])
        .arg("--kubeconfig")
        .arg(&kubeconfig));
    assert!(ok, "{err}");
    for object in [
        "statefulset.apps/mortar",
        "service/mortar",
        "service/mortar-metrics",
        "configmap/mortar",
        "serviceaccount/mortar",
        "role.rbac.authorization.k8s.io/mortar",
        "rolebinding.rbac.authorization.k8s.io/mortar",
        "poddisruptionbudget.policy/mortar",
    ] {
        assert!(
            out.lines().any(|l| l == object),
            "{object} not stored:\n{out}"
        );
    }
    // The chart's account reads the Secrets named in values, no other.
    let secrets = Api::<Secret>::namespaced(admin, &ns);
    for name in ["mortar-databricks", "unrelated"] {
        secrets
            .create(
                &PostParams::default(),
                &Secret {
                    metadata: ObjectMeta {
                        name: Some(name.into()),
                        ..Default::default()
                    },
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    let token = cluster
        .service_account_token(&ns, "mortar", None, 600)
        .await;
    let client = client_from(&cluster.kubeconfig_for_token(&token)).await;
    let as_mortar = Api::<Secret>::namespaced(client, &ns);
    assert!(as_mortar.get("mortar-databricks").await.is_ok());
    let refused = as_mortar.get("unrelated").await;
    assert!(
        matches!(refused, Err(kube::Error::Api(ref s)) if s.code == 403),
        "{refused:?}"
    );
}
