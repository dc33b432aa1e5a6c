//! The web view: in a real browser (Debian's chromium driven by
//! playwright-core, `tests/browser`) against the daemon behind the real
//! IdP, people signing in through its login page; and without sign-in on
//! loopback, where the page's buttons still need the page's CSRF token.
//! Screenshots of the main pages are kept for review (the path is printed).

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::api_access::{Env, team_history, team_waiting};
use super::daemon_support::{synced_at, wait_for};

/// Where the screenshots of this run go.
fn shots_dir() -> PathBuf {
    let dir = std::env::temp_dir().join("mortar-web-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `tests/browser/scenarios/{scenario}.mjs` in a fresh browser with
/// `env`; returns what it returned.
async fn browse(scenario: &str, env: &[(&str, &str)], shots: &Path) -> Value {
    let runner = std::env::var("MORTAR_TEST_BROWSER").unwrap_or_else(|_| {
        panic!(
            "MORTAR_TEST_BROWSER is not set: run scripts/test, which installs tests/browser (npm ci) and Debian's chromium"
        )
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser/scenarios")
        .join(format!("{scenario}.mjs"));
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new("node")
            .arg(&runner)
            .arg(&script)
            .envs(env.iter().copied())
            .env("MORTAR_BROWSER_SHOTS", shots)
            .env("MORTAR_BROWSER_TIMEOUT_MS", "90000")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the browser finishes within 2 minutes")
    .unwrap_or_else(|e| panic!("cannot run node {runner}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let answer: Value = serde_json::from_str(last).unwrap_or(Value::Null);
    assert!(
        out.status.success() && answer["ok"] == true,
        "{scenario}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_a_viewer_sees_the_tree_and_an_operator_syncs() {
    let env = Env::start().await;
    let (mut handle, cancel, daemon) = super::daemon_support::start(&env.config());
    let test = async {
        let base = team_waiting(&mut handle, &env).await;
        let shots = shots_dir();

        let viewer = browse(
            "viewer",
            &[("MORTAR_URL", &base), ("MORTAR_APPS", "root,base,team")],
            &shots,
        )
        .await;
        assert_eq!(
            viewer["refused"],
            "vera holds viewer; none of them allows sync on root"
        );

        browse(
            "operator",
            &[
                ("MORTAR_URL", &base),
                ("MORTAR_APP", "team"),
                ("MORTAR_PERSON", "otto <otto@example.com>"),
            ],
            &shots,
        )
        .await;
        wait_for(&mut handle, "team synced by Otto", |s| {
            synced_at(s, "team", &env.first)
        })
        .await;
        for page in [
            "tree-viewer",
            "app-viewer",
            "app-after-sync",
            "tree-operator",
        ] {
            let file = shots.join(format!("{page}.png"));
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            assert!(
                size > 10_000,
                "a screenshot of {page} at {}",
                file.display()
            );
        }
        println!("screenshots: {}", shots.display());
        cancel.cancel();
    };
    tokio::join!(test, daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_sign_in_loopback_callers_act_but_only_from_the_page() {
    let env = Env::start_without_sign_in().await;
    let (mut handle, cancel, daemon) = super::daemon_support::start(&env.config());
    let test = async {
        let base = team_waiting(&mut handle, &env).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();

        // The tree says there is no sign-in, and offers every button.
        let page = http
            .get(format!("{base}/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("No sign-in configured"), "{page}");
        assert!(page.contains("data-command=\"sync\""), "{page}");
        let csrf = page
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the page's CSRF token")
            .to_string();

        // A form posted from elsewhere (no token, or another site) is refused.
        let refused = http
            .post(format!("{base}/apps/team/sync"))
            .form(&[("csrf", "guess")])
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let cross_site = http
            .post(format!("{base}/apps/team/sync"))
            .header("Origin", "https://evil.example")
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
        let json = http
            .post(format!("{base}/api/v1/apps/team/sync"))
            .send()
            .await
            .unwrap();
        assert_eq!(json.status(), StatusCode::FORBIDDEN);

        // The page's own form syncs, and the history says so.
        let pressed = http
            .post(format!("{base}/apps/team/sync"))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(pressed.status(), StatusCode::SEE_OTHER);
        assert_eq!(pressed.headers()["location"], "/apps/team?did=sync");
        wait_for(&mut handle, "team synced from the page", |s| {
            synced_at(s, "team", &env.first)
        })
        .await;
        let page = http
            .get(format!("{base}/apps/team"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("<td class=\"by\">local</td>"), "{page}");
        assert!(page.contains("verified"), "{page}");

        // The CLI does the same through the API (it fetches the token).
        let out = mortar_cli(&["app", "pause", "team", "--server", &base]).await;
        let stdout = succeeded(&out);
        assert!(
            stdout.contains("team's automated sync is paused at"),
            "{stdout}"
        );
        wait_for(&mut handle, "team paused", |s| {
            s.app("team").is_some_and(|a| a.paused)
        })
        .await;
        let out = mortar_cli(&["app", "pause", "team", "--server", &base]).await;
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("409 Conflict: team is paused already"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        cancel.cancel();
    };
    tokio::join!(test, daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_signs_in_with_the_device_flow_and_syncs() {
    use tokio::io::AsyncBufReadExt as _;
    let env = Env::start().await;
    let (mut handle, cancel, daemon) = super::daemon_support::start(&env.config());
    let test = async {
        let base = team_waiting(&mut handle, &env).await;
        let token_file = env.path().join("cli/token");

        // `mortar app login` prints where to go, and waits.
        let mut login = tokio::process::Command::new(env!("CARGO_BIN_EXE_mortar"))
            .args(["app", "login", "--server", &base, "--token-file"])
            .arg(&token_file)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = tokio::io::BufReader::new(login.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("login prints within 30 s")
            .unwrap()
            .expect("a line");
        let url = first
            .strip_prefix("Open ")
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_else(|| panic!("{first}"))
            .to_string();
        browse(
            "device",
            &[
                ("MORTAR_DEVICE_URL", &url),
                ("MORTAR_LOGIN", "otto"),
                ("MORTAR_PASSWORD", "otto-password"),
            ],
            &shots_dir(),
        )
        .await;
        let status = tokio::time::timeout(Duration::from_secs(30), login.wait())
            .await
            .expect("login ends once approved")
            .unwrap();
        let mut rest = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            rest.push_str(&line);
            rest.push('\n');
        }
        assert!(status.success(), "{rest}");
        assert!(rest.contains("Signed in"), "{rest}");
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        // The kept token syncs as Otto.
        let token_file = token_file.to_str().expect("a UTF-8 path");
        let out = mortar_cli(&[
            "app",
            "sync",
            "team",
            "--server",
            &base,
            "--token-file",
            token_file,
        ])
        .await;
        let stdout = succeeded(&out);
        assert!(stdout.contains("otto <otto@example.com>"), "{stdout}");
        wait_for(&mut handle, "team synced by Otto from the terminal", |s| {
            synced_at(s, "team", &env.first)
        })
        .await;
        assert_eq!(
            team_history(&env)[0].person.as_deref(),
            Some("otto <otto@example.com>")
        );
        cancel.cancel();
    };
    tokio::join!(test, daemon);
}

/// The `mortar` binary run with `args`, to its end.
async fn mortar_cli(args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_mortar"))
        .args(args)
        .output()
        .await
        .expect("mortar runs")
}

/// The standard output of a run that must have succeeded.
fn succeeded(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
