//! Validates a generated repository of 10,000 resources in 50 apps and
//! prints the time and peak memory, against a baseline measured in the same
//! run: parsing the same files as plain YAML with no validation.
//!
//! `cargo bench --bench validate` (set `MORTAR_BENCH_RESOURCES` for another
//! size). Without `--bench` (as `cargo test --all-targets` runs it) it checks
//! a 200-resource repository only.

use std::path::Path;
use std::time::{Duration, Instant};

const APPS: usize = 50;

fn main() {
    // `cargo bench` passes `--bench`; under `cargo test --all-targets` this
    // runs as a quick smoke check on a small repository instead.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let total: usize = std::env::var("MORTAR_BENCH_RESOURCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benchmarking { 10_000 } else { 200 });
    let per_app = total.div_ceil(APPS);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path();
    let files = generate(root, per_app);
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    println!(
        "repository: {APPS} apps, {} resources, {} files, {:.1} MiB",
        per_app * APPS,
        files.len(),
        bytes as f64 / 1_048_576.0
    );

    // Baseline: read and parse every file as plain YAML, nothing else.
    let baseline = best_of(3, || {
        let mut docs = 0usize;
        for f in &files {
            let text = std::fs::read_to_string(f).expect("readable file");
            let parsed: Vec<serde_json::Value> =
                serde_saphyr::from_str_multiple(&text).expect("valid YAML");
            docs += parsed.len();
        }
        assert!(docs > 0);
    });
    let rss_after_baseline = peak_rss_kib();

    let mut resources = 0;
    let render = best_of(3, || {
        let rendered = match mortar::manifest::render_dir(root, None) {
            Ok(r) => r,
            Err(diags) => panic!("the generated repository is invalid:\n{diags}"),
        };
        resources = rendered.resources().count();
    });
    assert_eq!(resources, per_app * APPS);
    let peak = peak_rss_kib();

    println!("baseline (plain YAML parse): {:>9.1} ms", ms(baseline));
    println!("mortar validate (render):    {:>9.1} ms", ms(render));
    println!(
        "ratio render / baseline:     {:>9.2}x",
        ms(render) / ms(baseline)
    );
    println!(
        "throughput:                  {:>9.0} resources/s",
        resources as f64 / render.as_secs_f64()
    );
    match (rss_after_baseline, peak) {
        (Some(base), Some(peak)) => println!(
            "peak RSS (VmHWM): after baseline {:.1} MiB, after render {:.1} MiB",
            base as f64 / 1024.0,
            peak as f64 / 1024.0
        ),
        _ => println!("peak RSS: not available on this platform"),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// Peak resident set size in KiB, from /proc/self/status.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn write(path: &Path, text: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("create dir");
    std::fs::write(path, text).expect("write file");
    path.to_path_buf()
}

/// A root app, one workspace, one project, and `APPS` apps of `per_app`
/// resources each: jobs on a shared cluster, clusters, groups and warehouses.
fn generate(root: &Path, per_app: usize) -> Vec<std::path::PathBuf> {
    let mut files = vec![
        write(
            &root.join("root.yaml"),
            "apiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: { name: root }\nspec:\n  source: { path: apps }\n  variables: { spark_version: 15.4.x-scala2.12 }\n",
        ),
        write(
            &root.join("workspaces.yaml"),
            "apiVersion: mortar.dev/v1alpha1\nkind: Workspace\nmetadata: { name: prod }\nspec: { host: https://prod.example.com }\n",
        ),
    ];
    let mut apps = String::new();
    for a in 0..APPS {
        apps.push_str(&format!(
            "---\napiVersion: mortar.dev/v1alpha1\nkind: Application\nmetadata: {{ name: team-{a} }}\nspec:\n  source: {{ path: teams/team-{a} }}\n  destination: {{ workspace: prod }}\n  variables: {{ team: team-{a} }}\n"
        ));
        let mut text = String::new();
        text.push_str(&format!(
            "apiVersion: mortar.dev/v1alpha1\nkind: Cluster\nmetadata: {{ name: t{a}-shared }}\nspec:\n  cluster_name: shared-${{var.team}}\n  spark_version: ${{var.spark_version}}\n  node_type_id: i3.xlarge\n  autoscale: {{ min_workers: 1, max_workers: 8 }}\n  autotermination_minutes: 30\n  custom_tags: {{ team: \"${{var.team}}\" }}\npermissions:\n  - {{ group_name: g-0, permission_level: CAN_RESTART }}\n"
        ));
        for i in 1..per_app {
            let doc = match i % 4 {
                0 => format!(
                    "kind: Group\nmetadata: {{ name: t{a}-g-{i} }}\nspec:\n  displayName: ${{var.team}}-g-{i}\n  entitlements:\n    - value: workspace-access\n"
                ),
                1 => format!(
                    "kind: SqlWarehouse\nmetadata: {{ name: t{a}-wh-{i} }}\nspec:\n  name: ${{var.team}}-wh-{i}\n  cluster_size: Small\n  max_num_clusters: 2\n  auto_stop_mins: 15\n  warehouse_type: PRO\npermissions:\n  - {{ group_name: analysts, permission_level: CAN_USE }}\n"
                ),
                _ => format!(
                    "kind: Job\nmetadata: {{ name: t{a}-job-{i} }}\nspec:\n  name: ${{var.team}}-job-{i}\n  max_concurrent_runs: 1\n  schedule: {{ quartz_cron_expression: \"0 0 {h} * * ?\", timezone_id: UTC }}\n  tags: {{ team: \"${{var.team}}\" }}\n  tasks:\n    - task_key: ingest\n      existing_cluster_id: ${{resources.clusters.t{a}-shared.id}}\n      notebook_task: {{ notebook_path: /Workspace/jobs/ingest, base_parameters: {{ n: \"{i}\" }} }}\n    - task_key: transform\n      depends_on: [{{ task_key: ingest }}]\n      existing_cluster_id: ${{resources.clusters.t{a}-shared.id}}\n      notebook_task: {{ notebook_path: /Workspace/jobs/transform }}\npermissions:\n  - {{ group_name: data-engineers, permission_level: CAN_MANAGE_RUN }}\n",
                    h = i % 24
                ),
            };
            text.push_str("---\napiVersion: mortar.dev/v1alpha1\n");
            text.push_str(&doc);
        }
        files.push(write(
            &root.join(format!("teams/team-{a}/resources.yaml")),
            &text,
        ));
    }
    files.push(write(&root.join("apps/apps.yaml"), &apps));
    files
}
