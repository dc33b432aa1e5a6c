//! Git sources: real repositories made with the `git` CLI, read at every kind
//! of revision from the object database (never the working tree), with
//! symlinks, submodules, size limits and revision errors; and the example
//! repository rendered identically from a commit and from a directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::harness::copy_dir;
use mortar::manifest::{self, RenderOptions};
use mortar::source::tree::{self as source, DirEntry, DirTree, EntryKind, SourceError, SourceTree};
use mortar::source::{GitTree, OpenError, Source, SourceSpec};

const ADA: (&str, &str) = ("Ada Lovelace", "ada@example.com");
const GRACE: (&str, &str) = ("Grace Hopper", "grace@example.com");

/// A repository in a temporary directory, driven by the `git` CLI with a
/// fixed identity and no user or system configuration.
struct Repo {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl Repo {
    fn init() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo");
        std::fs::create_dir_all(&path).unwrap();
        let repo = Repo { dir, path };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    fn command(&self, author: (&str, &str), date: &str) -> Command {
        let mut cmd = Command::new("git");
        cmd.current_dir(&self.path)
            .env("HOME", self.dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", author.0)
            .env("GIT_AUTHOR_EMAIL", author.1)
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_NAME", "Mortar CI")
            .env("GIT_COMMITTER_EMAIL", "ci@example.com")
            .env("GIT_COMMITTER_DATE", date);
        cmd
    }

    fn run(&self, mut cmd: Command, args: &[&str]) -> String {
        let out = cmd.args(args).output().expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    fn git(&self, args: &[&str]) -> String {
        self.run(self.command(ADA, "2024-01-01T00:00:00Z"), args)
    }

    fn write(&self, file: &str, text: &str) {
        let full = self.path.join(file);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    #[cfg(unix)]
    fn symlink(&self, link: &str, target: &str) {
        let full = self.path.join(link);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, full).unwrap();
    }

    /// Commits everything as `author` at `date`; returns the commit SHA.
    fn commit(&self, message: &str, author: (&str, &str), date: &str) -> String {
        self.git(&["add", "-A"]);
        self.commit_staged(message, author, date)
    }

    /// Commits the index as it is.
    fn commit_staged(&self, message: &str, author: (&str, &str), date: &str) -> String {
        self.run(self.command(author, date), &["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn open(&self, revision: &str) -> GitTree {
        GitTree::open(&self.path, revision).unwrap_or_else(|e| panic!("open at `{revision}`: {e}"))
    }
}

fn read(tree: &dyn SourceTree, path: &str) -> String {
    String::from_utf8(tree.read(path, 1 << 20).unwrap()).unwrap()
}

#[test]
fn each_kind_of_revision_reads_that_commits_content() {
    let r = Repo::init();
    r.write("config.yaml", "v: 1\n");
    r.write("a/b/c.yaml", "deep: 1\n");
    let c1 = r.commit("First version", ADA, "2024-01-02T03:04:05Z");
    r.git(&["tag", "v1"]);

    r.write("config.yaml", "v: 2\n");
    r.write("a/b/c.yaml", "deep: 2\n");
    let c2 = r.commit("Bump to 2\n\nLonger body.", GRACE, "2024-02-03T04:05:06Z");
    r.git(&["tag", "-a", "v2", "-m", "release 2"]);

    r.git(&["checkout", "-q", "-b", "feature", &c1]);
    r.write("config.yaml", "v: feature\n");
    let c3 = r.commit("Try a feature", ADA, "2024-03-04T05:06:07Z");
    r.git(&["checkout", "-q", "main"]);

    // Uncommitted edits in the working tree are never read.
    r.write("config.yaml", "v: dirty\n");
    r.write("untracked.yaml", "x: 1\n");

    // The annotated tag is its own object, peeled to the commit.
    assert_ne!(r.git(&["rev-parse", "v2"]), c2);

    let short = &c1[..7];
    let cases: [(&str, &str, &str); 11] = [
        ("main", &c2, "v: 2\n"),
        ("refs/heads/main", &c2, "v: 2\n"),
        ("HEAD", &c2, "v: 2\n"),
        ("feature", &c3, "v: feature\n"),
        ("refs/heads/feature", &c3, "v: feature\n"),
        ("v1", &c1, "v: 1\n"),
        ("refs/tags/v1", &c1, "v: 1\n"),
        ("v2", &c2, "v: 2\n"),
        ("refs/tags/v2", &c2, "v: 2\n"),
        (&c1, &c1, "v: 1\n"),
        (short, &c1, "v: 1\n"),
    ];
    for (revision, commit, config) in cases {
        let tree = r.open(revision);
        assert_eq!(tree.revision().commit, commit, "commit of `{revision}`");
        assert_eq!(tree.revision().requested, revision);
        assert_eq!(
            read(&tree, "config.yaml"),
            config,
            "content at `{revision}`"
        );
        assert_eq!(tree.entry("untracked.yaml").unwrap(), None);
    }
    assert_eq!(read(&r.open("v1"), "a/b/c.yaml"), "deep: 1\n");
    assert_eq!(read(&r.open("feature"), "a/b/c.yaml"), "deep: 1\n");
    assert_eq!(read(&r.open("main"), "a/b/c.yaml"), "deep: 2\n");

    let main = r.open("main");
    let rev = main.revision();
    assert_eq!(rev.author, "Grace Hopper <grace@example.com>");
    assert_eq!(rev.committer, "Mortar CI <ci@example.com>");
    assert_eq!(rev.summary, "Bump to 2");
    assert_eq!(rev.time, "2024-02-03T04:05:06Z".parse().unwrap());
    assert_eq!(rev.short(), &c2[..12]);
    let describe = main.describe();
    assert!(
        describe.contains(&r.path.display().to_string()),
        "{describe}"
    );
    assert!(
        describe.contains(&format!("main ({})", &c2[..12])),
        "{describe}"
    );

    let tagged = r.open("v1");
    assert_eq!(tagged.revision().author, "Ada Lovelace <ada@example.com>");
    assert_eq!(tagged.revision().summary, "First version");

    // Through the module's entry point, with the revision for the audit trail.
    let source = Source::open(&SourceSpec::Git {
        repo: r.path.clone(),
        revision: "v2".into(),
    })
    .unwrap();
    assert_eq!(source.revision().unwrap().commit, c2);
    assert_eq!(read(&source, "config.yaml"), "v: 2\n");
    let dir = Source::open(&SourceSpec::Dir(r.path.clone())).unwrap();
    assert_eq!(dir.revision(), None);
    assert_eq!(read(&dir, "config.yaml"), "v: dirty\n");
}

#[cfg(unix)]
#[test]
fn entries_symlinks_and_listings_match_the_directory() {
    let r = Repo::init();
    r.write("a/b/c.yaml", "deep: 1\n");
    r.write("a.yaml", "top: 1\n");
    r.write("a-b/x.yaml", "x: 1\n");
    r.write("run.sh", "#!/bin/sh\n");
    let run = r.path.join("run.sh");
    let mut mode = std::fs::metadata(&run).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut mode, 0o755);
    std::fs::set_permissions(&run, mode).unwrap();
    r.symlink("link.yaml", "a/b/c.yaml");
    r.symlink("dirlink", "a/b");
    r.symlink("a/up", "../a.yaml");
    r.symlink("out", "../outside");
    r.symlink("abs", "/etc");
    r.commit("Tree with links", ADA, "2024-01-02T03:04:05Z");
    assert!(r.git(&["ls-tree", "HEAD", "run.sh"]).starts_with("100755"));
    let git = r.open("HEAD");
    let dir = DirTree::new(&r.path);

    let root = git.list("").unwrap();
    let names: Vec<(&str, &EntryKind)> = root.iter().map(|e| (e.name.as_str(), &e.kind)).collect();
    assert_eq!(
        names,
        vec![
            ("a", &EntryKind::Dir),
            ("a-b", &EntryKind::Dir),
            ("a.yaml", &EntryKind::File),
            ("abs", &EntryKind::Symlink("/etc".into())),
            ("dirlink", &EntryKind::Symlink("a/b".into())),
            ("link.yaml", &EntryKind::Symlink("a/b/c.yaml".into())),
            ("out", &EntryKind::Symlink("../outside".into())),
            ("run.sh", &EntryKind::File),
        ]
    );
    let without_git = |entries: Vec<DirEntry>| -> Vec<DirEntry> {
        entries.into_iter().filter(|e| e.name != ".git").collect()
    };
    assert_eq!(root, without_git(dir.list("").unwrap()));
    for path in ["a", "a/b", "a-b"] {
        assert_eq!(
            git.list(path).unwrap(),
            dir.list(path).unwrap(),
            "list `{path}`"
        );
    }
    for path in [
        "a",
        "a/b/c.yaml",
        "a/up",
        "link.yaml",
        "out",
        "missing",
        "a/missing",
    ] {
        assert_eq!(
            git.entry(path).unwrap(),
            dir.entry(path).unwrap(),
            "entry `{path}`"
        );
    }
    assert_eq!(git.entry("").unwrap(), Some(EntryKind::Dir));

    // Symlinks are followed by the shared rules, inside the root only.
    assert_eq!(
        source::resolve(&git, "dirlink/c.yaml").unwrap(),
        ("a/b/c.yaml".to_string(), Some(EntryKind::File))
    );
    assert_eq!(
        source::resolve(&git, "a/up").unwrap(),
        ("a.yaml".to_string(), Some(EntryKind::File))
    );
    for escaping in ["out/x.yaml", "abs/passwd"] {
        let err = source::resolve(&git, escaping).unwrap_err();
        assert!(
            matches!(err, SourceError::Escapes { .. }),
            "{escaping}: {err}"
        );
        assert_eq!(err, source::resolve(&dir, escaping).unwrap_err());
    }

    // Kinds are checked like on disk.
    assert_eq!(
        git.read("link.yaml", 1024).unwrap_err(),
        SourceError::NotAFile("link.yaml".into())
    );
    assert_eq!(
        git.read("a", 1024).unwrap_err(),
        SourceError::NotAFile("a".into())
    );
    assert_eq!(
        git.read("nope.yaml", 1024).unwrap_err(),
        SourceError::NotFound("nope.yaml".into())
    );
    assert_eq!(
        git.list("a.yaml").unwrap_err(),
        SourceError::NotADirectory("a.yaml".into())
    );
    assert_eq!(
        git.list("nope").unwrap_err(),
        SourceError::NotFound("nope".into())
    );
}

#[test]
fn files_over_the_limit_are_refused_loose_or_packed() {
    let r = Repo::init();
    r.write("big.yaml", &"a".repeat(4096));
    r.write("small.yaml", "x: 1\n");
    r.commit("Big file", ADA, "2024-01-02T03:04:05Z");
    for packed in [false, true] {
        if packed {
            r.git(&["gc", "-q"]);
            let packs = std::fs::read_dir(r.path.join(".git/objects/pack")).unwrap();
            assert!(
                packs
                    .map(|e| e.unwrap().file_name())
                    .any(|n| n.to_string_lossy().ends_with(".pack")),
                "git gc packed the objects"
            );
        }
        let tree = r.open("main");
        assert_eq!(
            tree.read("big.yaml", 1024).unwrap_err(),
            SourceError::TooLarge {
                path: "big.yaml".into(),
                size: 4096,
                limit: 1024
            }
        );
        assert_eq!(tree.read("big.yaml", 4096).unwrap().len(), 4096);
        assert_eq!(read(&tree, "small.yaml"), "x: 1\n");
    }
}

#[test]
fn bad_revisions_and_paths_are_clear_errors() {
    let r = Repo::init();
    r.write("a.yaml", "x: 1\n");
    r.commit("One", ADA, "2024-01-02T03:04:05Z");
    let repo = r.path.display().to_string();

    let err = GitTree::open(&r.path, "nope").unwrap_err();
    assert!(matches!(err, OpenError::UnknownRevision { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("revision `nope` not found in repository {repo}")
    );
    let err = GitTree::open(&r.path, "deadbeefdeadbeef").unwrap_err();
    assert!(matches!(err, OpenError::UnknownRevision { .. }), "{err:?}");
    let err = GitTree::open(&r.path, "").unwrap_err();
    assert!(matches!(err, OpenError::InvalidRevision { .. }), "{err:?}");

    r.git(&["tag", "tree-tag", "HEAD^{tree}"]);
    let err = GitTree::open(&r.path, "tree-tag").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("revision `tree-tag` in repository {repo} names a tree, not a commit")
    );

    // Write blobs until two share a 4-character prefix; that prefix is ambiguous.
    let handle = git2::Repository::open(&r.path).unwrap();
    let mut seen = std::collections::HashMap::new();
    let prefix = (0..100_000)
        .find_map(|i| {
            let id = handle
                .blob(format!("blob {i}\n").as_bytes())
                .unwrap()
                .to_string();
            let prefix = id[..4].to_string();
            seen.insert(prefix.clone(), id).map(|_| prefix)
        })
        .unwrap();
    let err = GitTree::open(&r.path, &prefix).unwrap_err();
    assert!(
        matches!(err, OpenError::AmbiguousRevision { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(&format!("`{prefix}`")) && message.contains(&repo),
        "{message}"
    );

    let plain = tempfile::tempdir().unwrap();
    let err = GitTree::open(plain.path(), "main").unwrap_err();
    assert!(matches!(err, OpenError::NotARepository { .. }), "{err:?}");
    assert!(err.to_string().starts_with(&format!(
        "{} is not a Git repository",
        plain.path().display()
    )));
    let missing = plain.path().join("missing");
    let err = GitTree::open(&missing, "main").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} is not a Git repository: the path does not exist",
            missing.display()
        )
    );
    // A subdirectory of a repository is not the repository.
    r.write("sub/x.yaml", "x: 1\n");
    let err = GitTree::open(&r.path.join("sub"), "main").unwrap_err();
    assert!(matches!(err, OpenError::NotARepository { .. }), "{err:?}");

    let err = Source::open(&SourceSpec::Dir(missing.clone())).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("source directory {} does not exist", missing.display())
    );
    let err = Source::open(&SourceSpec::Dir(r.path.join("a.yaml"))).unwrap_err();
    assert!(matches!(err, OpenError::NotADirectory { .. }), "{err:?}");
}

#[test]
fn submodules_are_not_read_as_files() {
    let other = Repo::init();
    other.write("x.yaml", "x: 1\n");
    let pinned = other.commit("Other", ADA, "2024-01-02T03:04:05Z");

    let r = Repo::init();
    r.write("vendor/readme.yaml", "x: 1\n");
    r.git(&["add", "-A"]);
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{pinned},vendor/sub"),
    ]);
    r.commit_staged("Pin a submodule", ADA, "2024-01-02T03:04:05Z");
    let tree = r.open("main");

    assert_eq!(
        tree.list("vendor").unwrap(),
        vec![
            DirEntry {
                name: "readme.yaml".into(),
                kind: EntryKind::File
            },
            DirEntry {
                name: "sub".into(),
                kind: EntryKind::Dir
            },
        ]
    );
    let err = tree.list("vendor/sub").unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "`vendor/sub`: it is a Git submodule (commit {pinned})"
        )),
        "{err}"
    );
    let err = tree.entry("vendor/sub/x.yaml").unwrap_err();
    assert!(err.to_string().contains("Git submodule"), "{err}");
    assert_eq!(
        tree.read("vendor/sub", 1024).unwrap_err(),
        SourceError::NotAFile("vendor/sub".into())
    );
}

/// A fresh repository holding a copy of the example `manifests/`, committed.
fn example_repo() -> Repo {
    let r = Repo::init();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests"),
        &r.path,
    );
    r.commit("Example repository", ADA, "2024-01-02T03:04:05Z");
    r
}

#[test]
fn the_example_repository_renders_the_same_from_git_and_from_disk() {
    let r = example_repo();
    let options = RenderOptions::default();
    let from_dir = manifest::render(&DirTree::new(&r.path), &options).unwrap();
    let from_git = manifest::render(&r.open("main"), &options).unwrap();
    assert!(from_dir.apps.len() > 1, "the example has an app tree");
    assert!(
        from_dir.resources().count() > 10,
        "the example has resources"
    );
    assert_eq!(from_git, from_dir);

    // A bare clone, with no working tree at all, renders the same.
    let bare = r.dir.path().join("bare.git");
    r.git(&[
        "clone",
        "-q",
        "--bare",
        "--no-local",
        ".",
        bare.to_str().unwrap(),
    ]);
    let from_bare = manifest::render(&GitTree::open(&bare, "main").unwrap(), &options).unwrap();
    assert_eq!(from_bare, from_dir);

    // So does the repository after its working tree is emptied.
    for entry in std::fs::read_dir(&r.path).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != ".git" {
            let path = entry.path();
            if path.is_dir() {
                std::fs::remove_dir_all(path).unwrap();
            } else {
                std::fs::remove_file(path).unwrap();
            }
        }
    }
    let source = Source::open(&SourceSpec::Git {
        repo: r.path.clone(),
        revision: "HEAD".into(),
    })
    .unwrap();
    assert_eq!(manifest::render(&source, &options).unwrap(), from_dir);
}

#[cfg(unix)]
#[test]
fn symlinks_leaving_the_repository_are_refused_by_render_like_on_disk() {
    for (target, reason) in [
        ("/etc", "symlink `escape` points to absolute path `/etc`"),
        (
            "../outside",
            "symlink `escape` points outside to `../outside`",
        ),
    ] {
        let r = example_repo();
        std::fs::create_dir_all(r.dir.path().join("outside")).unwrap();
        r.symlink("escape", target);
        let app = std::fs::read_to_string(r.path.join("apps/unity-catalog.yaml")).unwrap();
        assert_eq!(app.matches("    path: unity-catalog\n").count(), 1);
        r.write(
            "apps/unity-catalog.yaml",
            &app.replace("    path: unity-catalog\n", "    path: escape\n"),
        );
        r.commit("Point an app outside", ADA, "2024-01-03T00:00:00Z");

        let options = RenderOptions::default();
        let from_git = manifest::render(&r.open("main"), &options).unwrap_err();
        let from_dir = manifest::render(&DirTree::new(&r.path), &options).unwrap_err();
        let text = from_git.to_string();
        assert!(text.contains("apps/unity-catalog.yaml"), "{text}");
        assert!(
            text.contains(&format!("leaves the manifest root: {reason}")),
            "{text}"
        );
        assert_eq!(from_git.to_string(), from_dir.to_string());
    }
}

#[test]
fn one_git_source_serves_several_threads() {
    let r = example_repo();
    let options = RenderOptions::default();
    let expected = manifest::render(&DirTree::new(&r.path), &options).unwrap();
    let source = std::sync::Arc::new(
        Source::open(&SourceSpec::Git {
            repo: r.path.clone(),
            revision: "main".into(),
        })
        .unwrap(),
    );
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let source = source.clone();
            let options = options.clone();
            std::thread::spawn(move || manifest::render(source.as_ref(), &options).unwrap())
        })
        .collect();
    for worker in workers {
        assert_eq!(worker.join().unwrap(), expected);
    }
}
