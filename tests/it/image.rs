//! The container image, built with podman from the Dockerfile without a
//! registry: its runtime stage on `scratch`, fed the binary this test run
//! built (with the shared libraries it links and the CA bundle, laid out as
//! the Dockerfile's own build stage lays out `/out/`), then run — as the
//! image's non-root user, without a network — for `mortar --version` and
//! `mortar demo --exit-after-sync`. The release compile of the build stage
//! is not run here (no Rust base image can be pulled).

use std::path::Path;
use std::process::Command;

use super::harness::repo_root;

fn podman(conf: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new("podman")
        .args(args)
        .env("CONTAINERS_CONF", conf)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run podman ({e}): run the tests through scripts/test, which installs it")
        });
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `/out/` as the build stage makes it: the binary, what `ldd` says it
/// links, and the CA bundle.
fn lay_out(out: &Path) {
    let binary = Path::new(env!("CARGO_BIN_EXE_mortar"));
    let bin = out.join("usr/local/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(binary, bin.join("mortar")).unwrap();
    let ldd = Command::new("ldd").arg(binary).output().expect("ldd runs");
    for lib in String::from_utf8_lossy(&ldd.stdout)
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
    {
        let target = out.join(lib.trim_start_matches('/'));
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(std::fs::canonicalize(lib).unwrap(), &target).unwrap();
    }
    let certs = out.join("etc/ssl/certs");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(
        "/etc/ssl/certs/ca-certificates.crt",
        certs.join("ca-certificates.crt"),
    )
    .expect("the CA bundle (Debian's ca-certificates)");
}

#[test]
fn the_image_builds_without_a_registry_and_runs_the_demo_as_non_root() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("containers.conf");
    std::fs::write(
        &conf,
        "[containers]\ndefault_ulimits = [\"nofile=20000:20000\", \"nproc=4096:4096\"]\n[engine]\nruntime = \"runc\"\n",
    )
    .unwrap();
    lay_out(&dir.path().join("stage/out"));
    let tarball = dir.path().join("binary.tar");
    let tar = Command::new("tar")
        .arg("-C")
        .arg(dir.path().join("stage"))
        .arg("-cf")
        .arg(&tarball)
        .arg("out")
        .status()
        .unwrap();
    assert!(tar.success());
    let (ok, _, err) = podman(
        &conf,
        &[
            "import",
            tarball.to_str().unwrap(),
            "localhost/mortar-binary:test",
        ],
    );
    assert!(ok, "podman import: {err}");
    let context = dir.path().join("context");
    std::fs::create_dir_all(&context).unwrap();
    let dockerfile = repo_root().join("Dockerfile");
    let (ok, out, err) = podman(
        &conf,
        &[
            "build",
            "--pull=never",
            "--network=none",
            "-f",
            dockerfile.to_str().unwrap(),
            "--build-arg",
            "BINARY_STAGE=localhost/mortar-binary:test",
            "-t",
            "localhost/mortar:test",
            context.to_str().unwrap(),
        ],
    );
    assert!(ok, "podman build:\n{out}\n{err}");
    let (ok, config, err) = podman(
        &conf,
        &[
            "image",
            "inspect",
            "localhost/mortar:test",
            "--format",
            "{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}|{{index .Config.Labels \"org.opencontainers.image.title\"}}",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(
        config.trim(),
        "65532:65532|[\"mortar\"]|[\"run\",\"--config\",\"/etc/mortar/mortar.yaml\"]|mortar"
    );
    let (ok, out, err) = podman(
        &conf,
        &[
            "run",
            "--rm",
            "--network=none",
            "localhost/mortar:test",
            "--version",
        ],
    );
    assert!(ok, "mortar --version in the image: {err}");
    assert_eq!(out.trim(), format!("mortar {}", env!("CARGO_PKG_VERSION")));
    let (ok, out, err) = podman(
        &conf,
        &[
            "run",
            "--rm",
            "--network=none",
            "--read-only",
            "--tmpfs",
            "/tmp",
            "localhost/mortar:test",
            "demo",
            "--exit-after-sync",
            "--dir",
            "/tmp/demo",
        ],
    );
    assert!(ok, "mortar demo in the image:\n{out}\n{err}");
    assert!(out.contains("Synced") && out.contains("Healthy"), "{out}");
    let _ = podman(
        &conf,
        &[
            "rmi",
            "-f",
            "localhost/mortar:test",
            "localhost/mortar-binary:test",
        ],
    );
}
