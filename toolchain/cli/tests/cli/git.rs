//! `skill install <git>`: a real repository, served over `file://` and by a real `git daemon`
//! on loopback, fetched by the system git and built here.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Env;

/// Runs git in `dir` with a fixed identity; its stdout.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("git is installed by scripts/test.sh");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `git daemon` serving every repository under `base` on a loopback port.
struct GitDaemon {
    child: Child,
    port: u16,
}

impl GitDaemon {
    fn start(base: &Path) -> GitDaemon {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let child = Command::new("git")
            .arg("daemon")
            .arg("--reuseaddr")
            .arg("--export-all")
            .arg("--listen=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .arg(base)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon (Debian's git) is installed by scripts/test.sh");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "git daemon did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        GitDaemon { child, port }
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One repository, many ways in: by tag, branch, commit (full and short) and subdirectory, over
/// file:// and git://; update after a new commit; and each error a user meets (no such
/// reference, no skill.yaml there, no access, a build that fails) plus a repository that tries
/// to lead the install outside itself.
#[test]
fn install_and_update_from_git() {
    let env = Env::new();
    let work = env.work.path();
    let repo = work.join("repo");
    std::fs::create_dir_all(repo.join("skills")).unwrap();
    env.skill(&[
        "init",
        "gitdemo",
        "-t",
        "rust",
        "--dir",
        "repo/skills/gitdemo",
    ])
    .ok();
    std::fs::write(repo.join("README.md"), "a repository with a skill inside\n").unwrap();
    std::fs::write(repo.join(".gitignore"), "target/\n").unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    git(&repo, &["tag", "-a", "v1.0.0", "-m", "the first release"]);
    let first = git(&repo, &["rev-parse", "HEAD"]).trim().to_string();
    git(work, &["clone", "-q", "--bare", "repo", "served.git"]);
    let served = work.join("served.git");
    let file_url = format!("file://{}", served.display());
    let greet = |env: &Env| {
        env.skill(&["run", "gitdemo:greet", "name=World"])
            .ok()
            .to_string()
    };

    // By tag over file://, inside a subdirectory: reviewed before it is built, and recorded.
    let tagged = env.skill(&[
        "install",
        &format!("{file_url}//skills/gitdemo#v1.0.0"),
        "--yes",
    ]);
    tagged.ok();
    assert!(tagged.stderr.contains("build scripts"), "{}", tagged.stderr);
    assert_eq!(greet(&env), "Hello, World!\n");
    let info = env.skill(&["info", "gitdemo", "--json"]);
    let info: serde_json::Value = serde_json::from_str(info.ok()).unwrap();
    assert_eq!(info["origin"]["commit"], first.as_str());
    assert_eq!(
        info["origin"]["source"],
        format!("{file_url}//skills/gitdemo#{first}")
    );

    // The errors: no such reference (what there is, named), no skill.yaml at that path (where
    // there are skills, named), a repository that does not exist.
    let unknown = env.skill(&[
        "install",
        &format!("{file_url}//skills/gitdemo#nope"),
        "--yes",
    ]);
    assert_eq!(unknown.code, 3, "{}", unknown.stderr);
    assert!(
        unknown.fails().contains("main, v1.0.0"),
        "{}",
        unknown.stderr
    );
    let root = env.skill(&["install", &format!("{file_url}#v1.0.0"), "--yes"]);
    assert_eq!(root.code, 3, "{}", root.stderr);
    assert!(
        root.fails()
            .contains(&format!("{file_url}//skills/gitdemo#v1.0.0")),
        "{}",
        root.stderr
    );

    // A server that never answers: the deadline ends it, git's helpers included.
    let (stalled, _) = crate::serve_http(|_, _| {
        std::thread::sleep(Duration::from_secs(60));
        crate::HttpResponse::new(500, "")
    });
    let started = Instant::now();
    let stalls = env.skill_with_env(
        &[
            "install",
            &format!("http://127.0.0.1:{stalled}/r.git"),
            "--yes",
        ],
        &[("SKILL_GIT_TIMEOUT", "2".as_ref())],
    );
    assert!(stalls.fails().contains("took longer"), "{}", stalls.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    // Credentials in a URL would be stored and shown: refused, and not echoed.
    let token = env.skill(&["install", "https://me:hunter2@127.0.0.1:1/r.git", "--yes"]);
    assert_eq!(token.code, 2, "{}", token.stderr);
    assert!(!token.fails().contains("hunter2"), "{}", token.stderr);

    let daemon = GitDaemon::start(work);
    let daemon_url = format!("git://127.0.0.1:{}/served.git", daemon.port);
    let missing = env.skill(&[
        "install",
        &format!("git://127.0.0.1:{}/missing.git", daemon.port),
        "--yes",
    ]);
    assert_eq!(missing.code, 5, "{}", missing.stderr);
    assert!(
        missing.fails().contains("git ls-remote"),
        "{}",
        missing.stderr
    );

    // By branch over git://: another source for an installed skill needs --replace.
    let by_branch = format!("{daemon_url}//skills/gitdemo#main");
    let elsewhere = env.skill(&["install", &by_branch, "--yes"]);
    assert_eq!(elsewhere.code, 7, "{}", elsewhere.stderr);
    env.skill(&["install", &by_branch, "--yes", "--replace"])
        .ok();
    let fresh = env.skill(&["update", "gitdemo"]);
    assert!(
        fresh.ok().is_empty() && fresh.stderr.contains("newest commit"),
        "{}",
        fresh.stderr
    );

    // A new commit on the branch: update fetches and rebuilds it.
    let lib = repo.join("skills/gitdemo/src/lib.rs");
    let code = std::fs::read_to_string(&lib).unwrap();
    assert!(code.contains("Hello, "), "{code}");
    std::fs::write(&lib, code.replace("Hello, ", "Howdy, ")).unwrap();
    git(&repo, &["commit", "-q", "-am", "second"]);
    git(&repo, &["push", "-q", served.to_str().unwrap(), "main"]);
    env.skill(&["update", "gitdemo", "--yes"]).ok();
    assert_eq!(greet(&env), "Howdy, World!\n");

    // A build that fails: the compiler's own message, and the installed version untouched.
    git(&repo, &["checkout", "-q", "-b", "broken"]);
    std::fs::write(&lib, "this is not rust\n").unwrap();
    git(&repo, &["commit", "-q", "-am", "broken"]);
    git(&repo, &["push", "-q", served.to_str().unwrap(), "broken"]);
    let broken = env.skill(&[
        "install",
        &format!("{daemon_url}//skills/gitdemo#broken"),
        "--yes",
    ]);
    assert_ne!(broken.code, 0);
    assert!(broken.stderr.contains("error"), "{}", broken.stderr);
    assert_eq!(greet(&env), "Howdy, World!\n");

    // A repository that points outside itself: a subdirectory that is a symlink to /, a
    // skill.yaml that is a symlink.
    git(&repo, &["checkout", "-q", "main"]);
    git(&repo, &["checkout", "-q", "-b", "evil"]);
    std::os::unix::fs::symlink("/", repo.join("skills/escape")).unwrap();
    // A file by the name the checkout marker once had, linked to a file of the user's.
    let victim = work.join("victim.txt");
    std::fs::write(&victim, "mine").unwrap();
    std::os::unix::fs::symlink(&victim, repo.join(".skill-checkout")).unwrap();
    std::fs::create_dir_all(repo.join("skills/linked")).unwrap();
    std::os::unix::fs::symlink(
        "../gitdemo/skill.yaml",
        repo.join("skills/linked/skill.yaml"),
    )
    .unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "evil"]);
    git(&repo, &["push", "-q", served.to_str().unwrap(), "evil"]);
    for subdir in ["escape", "linked"] {
        let evil = env.skill(&[
            "install",
            &format!("{daemon_url}//skills/{subdir}#evil"),
            "--yes",
            "--replace",
        ]);
        assert_eq!(evil.code, 5, "{subdir}: {}", evil.stderr);
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "mine");

    // A branch named like a short commit id cannot take the pin over.
    git(
        &repo,
        &[
            "push",
            "-q",
            served.to_str().unwrap(),
            &format!("HEAD:refs/heads/{}", &first[..10]),
        ],
    );

    // The configuration of a repository the user stands in does not apply to the fetch.
    git(work, &["init", "-q"]);
    let proxy = work.join("proxy.sh");
    let pwned = work.join("pwned-by-gitproxy");
    std::fs::write(
        &proxy,
        format!("#!/bin/sh\ntouch {}\nexit 1\n", pwned.display()),
    )
    .unwrap();
    std::fs::set_permissions(&proxy, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    git(work, &["config", "core.gitProxy", proxy.to_str().unwrap()]);
    let proxied = env.skill(&[
        "install",
        &format!("{daemon_url}//skills/gitdemo#nosuch"),
        "--yes",
    ]);
    assert_eq!(proxied.code, 3, "{}", proxied.stderr);
    assert!(
        !pwned.exists(),
        "the working directory's git config ran a command"
    );

    // By commit, full (pinned: update leaves it) and short (found by fetching everything).
    env.skill(&[
        "install",
        &format!("{daemon_url}//skills/gitdemo#{}", &first[..10]),
        "--yes",
    ])
    .ok();
    assert_eq!(greet(&env), "Hello, World!\n");
    env.skill(&[
        "install",
        &format!("{daemon_url}//skills/gitdemo#{first}"),
        "--yes",
    ])
    .ok();
    let pinned = env.skill(&["update", "gitdemo"]);
    assert_eq!(pinned.code, 2, "{}", pinned.stderr);
    assert!(
        pinned.fails().contains("pinned to commit"),
        "{}",
        pinned.stderr
    );

    // A whole setup, locked here and synced into an empty home: gitdemo from git (pinned to
    // its commit) and misbehave from a registry, in two instances, one with a secret.
    let registry = crate::registry::TestRegistry::start(None);
    let default = format!("{}/acme", registry.host);
    let vars = [("SKILL_REGISTRY", default.as_ref())];
    crate::misbehave();
    let misbehave = crate::repo_root().join("toolchain/cli/tests/fixtures/misbehave");
    env.skill_with_env(&["publish", misbehave.to_str().unwrap()], &vars)
        .ok();
    env.skill_with_env(&["install", "misbehave", "--yes"], &vars)
        .ok();
    env.skill_with_env(&["install", "misbehave", "--yes", "-i", "prod"], &vars)
        .ok();
    env.skill(&["config", "misbehave@prod", "--set", "region=us-east-1"])
        .ok();
    let secret = "sync-secret-7d41e0";
    env.skill_with_input(
        &["config", "misbehave@prod", "--set", "token"],
        &format!("{secret}\n"),
    )
    .ok();
    let lock_file = env.path("skills-lock.json");
    env.skill(&["lock", "-o", lock_file.to_str().unwrap()]).ok();
    let locked = std::fs::read_to_string(&lock_file).unwrap();
    assert!(
        !locked.contains(secret),
        "a secret in the lock file:\n{locked}"
    );
    assert!(
        locked.contains("SKILL_SECRET_MISBEHAVE_PROD_TOKEN"),
        "{locked}"
    );

    let elsewhere = Env::new();
    let no_secret = elsewhere.skill(&["sync", lock_file.to_str().unwrap(), "--yes"]);
    assert_eq!(no_secret.code, 4, "{}", no_secret.stderr);
    assert!(
        no_secret
            .fails()
            .contains("SKILL_SECRET_MISBEHAVE_PROD_TOKEN"),
        "{}",
        no_secret.stderr
    );
    let secret_var = [("SKILL_SECRET_MISBEHAVE_PROD_TOKEN", secret.as_ref())];
    elsewhere
        .skill_with_env(&["sync", lock_file.to_str().unwrap(), "--yes"], &secret_var)
        .ok();
    let listed = |env: &Env, what: &[&str]| {
        let home = env.home.path().to_str().unwrap().to_string();
        env.skill(what).ok().replace(&home, "$SKILL_HOME")
    };
    for listing in [["list", "--json"], ["instances", "--json"]] {
        assert_eq!(
            listed(&elsewhere, &listing),
            listed(&env, &listing),
            "{listing:?}"
        );
    }
    assert_eq!(
        elsewhere
            .skill(&["run", "misbehave@prod:setting", "key=token"])
            .ok()
            .trim(),
        format!("token=Some({secret:?})")
    );
    let again = elsewhere.skill(&["sync", lock_file.to_str().unwrap(), "--yes"]);
    assert!(
        again.ok().is_empty() && again.stderr.contains("Fresh"),
        "{}",
        again.stderr
    );

    // A digest edited in the file (the registry has no such manifest), or a source that no
    // longer names the digest: refused, nothing installed.
    let digest = serde_json::from_str::<serde_json::Value>(&locked).unwrap()["skills"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "misbehave")
        .unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let forged = format!("sha256:{}", "0".repeat(64));
    for (edited, code) in [
        (locked.replace(&digest, &forged), 3),
        (locked.replacen(&digest, &forged, 1), 2),
    ] {
        let file = env.path("edited-lock.json");
        std::fs::write(&file, edited).unwrap();
        let third = Env::new();
        let refused = third.skill(&["sync", file.to_str().unwrap(), "--yes"]);
        assert_eq!(refused.code, code, "{}", refused.stderr);
        assert!(
            !third.home.path().join("skills/misbehave").exists(),
            "{}",
            refused.stderr
        );
    }

    // Nothing half-done in the cache: every checkout is whole (its marker, beside it, written
    // last); prune clears the cache.
    let checkouts = env.home.path().join("cache/git/checkouts");
    for url in std::fs::read_dir(&checkouts).unwrap().flatten() {
        for entry in std::fs::read_dir(url.path()).unwrap().flatten() {
            let name = entry.file_name().into_string().unwrap();
            assert!(
                !name.starts_with(".checkout-"),
                "debris: {}",
                entry.path().display()
            );
            if entry.file_type().unwrap().is_dir() {
                assert!(url.path().join(format!("{name}.done")).is_file(), "{name}");
            }
        }
    }
    let pruned = env.skill(&["prune", "--json"]);
    assert!(
        pruned.ok().contains("cache/git/checkouts"),
        "{}",
        pruned.stdout
    );
    assert_eq!(std::fs::read_dir(&checkouts).unwrap().count(), 0);
}
