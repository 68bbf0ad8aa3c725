//! The path a new user takes, exactly as the README shows it.

use crate::{Env, regex_escape, repo_root, rust_skill};

#[test]
fn init_build_install_run_list_remove() {
    let env = Env::new();
    let created = env.skill(&["init", "hello", "-t", "rust"]);
    created.ok();
    assert!(
        created.stderr.contains("Created skill `hello` (rust)"),
        "{}",
        created.stderr
    );
    let project = env.path("hello");
    for file in [
        "Cargo.toml",
        "skill.yaml",
        "src/lib.rs",
        ".gitignore",
        "README.md",
    ] {
        assert!(project.join(file).is_file(), "{file} missing");
    }
    let lib = std::fs::read_to_string(project.join("src/lib.rs")).unwrap();
    assert!(
        !lib.contains("wit_bindgen") && !lib.contains("Guest for"),
        "no hand-written WIT glue:\n{lib}"
    );

    let mut build = env.command(&["build"]);
    build.current_dir(&project);
    let build = build.output().unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    for file in ["hello.wasm", "hello.cwasm", "skill.yaml", "manifest.json"] {
        assert!(
            project.join("target/skill").join(file).is_file(),
            "target/skill/{file} missing"
        );
    }

    let mut install = env.command(&["install", "."]);
    install.current_dir(&project);
    let install = install.output().unwrap();
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    assert!(
        String::from_utf8_lossy(&install.stderr)
            .contains("Installed hello 0.1.0 as hello@default: 1 tool (greet)")
    );

    assert_eq!(
        env.skill(&["run", "hello:greet", "name=World"]).ok(),
        "Hello, World!\n"
    );
    assert_eq!(
        env.skill(&["run", "hello", "greet", "--name", "World"])
            .ok(),
        "Hello, World!\n"
    );
    assert_eq!(
        env.skill(&["run", "hello@default:greet", "--name=World"])
            .ok(),
        "Hello, World!\n"
    );
    assert_eq!(
        env.skill(&["run", "--instance", "default", "hello", "greet", "World"])
            .ok(),
        "Hello, World!\n"
    );
    assert_eq!(env.skill(&["hello:greet", "World"]).ok(), "Hello, World!\n");

    let list = env.skill(&["list"]);
    let lines: Vec<&str> = list.ok().lines().collect();
    assert_eq!(
        lines,
        [
            "NAME   VERSION  TOOLS  DESCRIPTION",
            "hello  0.1.0    1      The hello skill"
        ]
    );

    // -q: the result only, one name per line, for scripts.
    let quiet = env.skill(&["-q", "list"]);
    assert_eq!((quiet.ok(), quiet.stderr.as_str()), ("hello\n", ""));
    let quiet = env.skill(&["instances", "-q"]);
    assert_eq!((quiet.ok(), quiet.stderr.as_str()), ("hello@default\n", ""));

    let json: serde_json::Value =
        serde_json::from_str(env.skill(&["list", "--json"]).ok()).unwrap();
    assert_eq!(json[0]["name"], "hello");
    assert_eq!(json[0]["tools"][0]["name"], "greet");
    assert_eq!(json[0]["tools"][0]["params"][0]["kind"], "string");
    assert_eq!(json[0]["tools"][0]["params"][0]["required"], true);
    assert_eq!(json[0]["instances"][0], "default");

    let long = env.skill(&["ls", "-l"]);
    assert!(
        long.ok()
            .contains("greet            Greets someone by name."),
        "{}",
        long.stdout
    );
    assert!(
        long.stdout.contains("name           string, required"),
        "{}",
        long.stdout
    );

    // `remove` asks; anything but yes keeps the skill.
    let declined = env.skill_with_input(&["remove", "hello"], "n\n");
    assert!(declined.fails().contains("did not remove `hello`"));
    assert!(
        declined
            .stderr
            .contains("Remove hello 0.1.0 (1 tool) and its instances (default) with their config, secrets and data? [y/N]"),
        "{}",
        declined.stderr
    );
    env.skill(&["run", "hello:greet", "name=still"]).ok();
    let confirmed = env.skill_with_input(&["remove", "hello"], "y\n");
    assert!(
        confirmed.stderr.contains("Removed hello 0.1.0"),
        "{}",
        confirmed.stderr
    );
    assert!(
        env.skill(&["run", "hello:greet", "name=gone"])
            .fails()
            .contains("skill `hello` is not installed")
    );

    // `rm -f` does not ask.
    env.skill(&["install", project.join("target/skill").to_str().unwrap()])
        .ok();
    env.skill(&["rm", "hello", "-f"]).ok();
    assert_eq!(env.skill(&["list", "--json"]).ok().trim(), "[]");
    env.assert_transcript("flow");
}

#[test]
fn install_builds_an_unbuilt_project_first() {
    let env = Env::new();
    env.skill(&["init", "fresh", "--description", "Fresh from the oven"])
        .ok();
    assert!(!env.path("fresh/target/skill").exists());
    let install = env.skill(&["install", "fresh"]);
    install.ok();
    assert!(
        install.stderr.contains("Compiling fresh 0.1.0"),
        "{}",
        install.stderr
    );
    assert!(
        install.stderr.contains("Installed fresh 0.1.0"),
        "{}",
        install.stderr
    );
    assert_eq!(env.skill(&["fresh:greet", "oven"]).ok(), "Hello, oven!\n");
    assert!(env.skill(&["list"]).ok().contains("Fresh from the oven"));

    // Up to date: installing again does not rebuild.
    let again = env.skill(&["install", "fresh"]);
    assert!(!again.stderr.contains("Compiling"), "{}", again.stderr);
    assert!(
        again.stderr.contains("Installed fresh 0.1.0 (reinstalled)"),
        "{}",
        again.stderr
    );

    // A changed source is rebuilt, and the JSON build report describes the result.
    let lib = env.path("fresh/src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, source.replace("Hello, {name}!", "Hi, {name}!")).unwrap();
    let report: serde_json::Value =
        serde_json::from_str(env.skill(&["build", "fresh", "--json"]).ok()).unwrap();
    assert_eq!(report["name"], "fresh");
    assert_eq!(report["tools"], serde_json::json!(["greet"]));
    let stages: Vec<&str> = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "tools",
            "compile",
            "optimize",
            "componentize",
            "preinitialize",
            "stamp",
            "validate",
            "precompile"
        ]
    );
    assert_eq!(report["component"]["sha256"].as_str().unwrap().len(), 64);
    env.skill(&["install", "fresh"]).ok();
    assert_eq!(env.skill(&["fresh:greet", "oven"]).ok(), "Hi, oven!\n");
}

#[test]
fn typed_parameters_defaults_and_data() {
    let env = Env::new();
    env.skill(&["install", rust_skill().to_str().unwrap()]).ok();
    assert_eq!(
        env.skill(&["run", "rust-skill:add", "2", "40"]).ok(),
        "42\n"
    );
    assert_eq!(
        env.skill(&["run", "rust-skill:add", "a=-2", "--b", "1"])
            .ok(),
        "-1\n"
    );
    // `times` defaults to 2 (filled in by the host); an optional flag and an optional string.
    assert_eq!(
        env.skill(&["run", "rust-skill:repeat", "ab"]).ok(),
        "abab\n"
    );
    assert_eq!(
        env.skill(&[
            "run",
            "rust-skill:repeat",
            "ab",
            "--times",
            "3",
            "--separator=-",
            "--shout"
        ])
        .ok(),
        "AB-AB-AB\n"
    );
    let json: serde_json::Value = serde_json::from_str(
        env.skill(&["run", "--json", "rust-skill:divide", "7", "2"])
            .ok(),
    )
    .unwrap();
    assert_eq!(
        json,
        serde_json::json!({ "text": "3.5", "data": { "quotient": 3.5 } })
    );

    // A tool error: stderr, exit code 1, nothing on stdout.
    let failed = env.skill(&["run", "rust-skill:divide", "a=1", "b=0"]);
    assert_eq!(failed.code, 1);
    assert_eq!(failed.stdout, "");
    assert!(
        failed
            .stderr
            .contains("error: rust-skill:divide failed: cannot divide by zero"),
        "{}",
        failed.stderr
    );
    // A typed invalid-args error from the guest comes with the usage line.
    let overflow = env.skill(&["run", "rust-skill:add", "9223372036854775807", "1"]);
    assert!(
        overflow
            .fails()
            .contains("invalid arguments: the sum overflows"),
        "{}",
        overflow.stderr
    );
    assert!(
        overflow
            .stderr
            .contains("usage: skill run rust-skill:add a=<integer> b=<integer>")
    );
    env.assert_transcript("typed-parameters");
}

/// The versions Cargo resolved for the build crate's and the CLI's direct dependencies,
/// asked of cargo itself (`cargo tree`, which reads the lock file as the build did).
fn locked_versions() -> std::collections::BTreeMap<String, String> {
    let mut versions = std::collections::BTreeMap::new();
    for package in ["skill-build", "skill-cli"] {
        let out = std::process::Command::new(env!("CARGO"))
            .args([
                "tree",
                "--offline",
                "--locked",
                "--edges",
                "normal",
                "--depth",
                "1",
            ])
            .args(["--prefix", "none", "-p", package])
            .current_dir(repo_root())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let mut words = line.split(' ');
            if let (Some(name), Some(version)) = (words.next(), words.next()) {
                let version = version.trim_start_matches('v').to_string();
                versions.insert(name.to_string(), version);
            }
        }
    }
    versions
}

#[test]
fn version_and_help() {
    let env = Env::new();
    let version = env.skill(&["version"]);
    let locked = locked_versions();
    assert!(
        version
            .ok()
            .contains(&format!("wasmtime {}", locked["wasmtime"])),
        "{}",
        version.stdout
    );
    assert!(version.stdout.contains("contract skill-engine:skill@0.3.0"));
    let json: serde_json::Value =
        serde_json::from_str(env.skill(&["version", "--json"]).ok()).unwrap();
    assert_eq!(json["skill"], env!("CARGO_PKG_VERSION"));
    // What the binary reports (and records in skill.lock) is what Cargo resolved.
    assert_eq!(json["wasmtime"], locked["wasmtime"]);
    assert_eq!(json["bundled"]["wizer"], locked["wasmtime-wizer"]);
    assert_eq!(json["bundled"]["wit-component"], locked["wit-component"]);
    let binaryen = locked["wasm-opt"].split('.').nth(1).unwrap();
    assert_eq!(json["bundled"]["wasm-opt"], binaryen);
    // One SDK version, whichever language's SDK is asked.
    let root = repo_root();
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let sdk = &json["sdk"];
    assert!(read("sdk-rust/Cargo.toml").contains(&format!("version = {sdk}")));
    assert!(read("sdk-js/package.json").contains(&format!("\"version\": {sdk}")));
    assert!(read("sdk-python/pyproject.toml").contains(&format!("version = {sdk}")));
    assert_eq!(json["pinned"]["python"]["componentize-py"], "0.25.1");
    assert!(
        version
            .stdout
            .contains("pinned for JavaScript/TypeScript: componentize-js 0.23.0")
    );
    assert!(env.skill(&["--version"]).ok().starts_with("skill "));
    env.skill(&["init", "--list"]).ok();
    env.assert_transcript("version-and-templates");
    // `doctor` with no build tools installed yet (its own empty tools directory): the same
    // on every machine that has what scripts/install.sh installs.
    let no_tools = tempfile::tempdir().unwrap();
    let doctor = env.skill_with_env(
        &["doctor"],
        &[("SKILL_TOOLS_DIR", no_tools.path().as_os_str())],
    );
    assert_eq!(doctor.code, 1, "{}", doctor.stdout);
    env.assert_transcript_with(
        "doctor",
        &[
            (
                &regex_escape(&no_tools.path().display().to_string()),
                "[NO_TOOLS]",
            ),
            (
                r"(cargo|rustc) \d+\.\d+\.\d+ \([0-9a-f]+ \d{4}-\d{2}-\d{2}\)",
                "$1 [VERSION]",
            ),
            (r"\bv\d+\.\d+\.\d+\b", "[VERSION]"),
            (r"\b(npm|Python) \d+\.\d+\.\d+\b", "$1 [VERSION]"),
            (r"(?m)^(\s+ok\s+npm\s+)\d+\.\d+\.\d+$", "$1[VERSION]"),
            (r"\d+ compiled component\(s\)", "[N] compiled component(s)"),
        ],
    );
    // Completions for every shell, naming the subcommands.
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = env.skill(&["completion", shell]);
        for word in ["instances", "config", "grant", "test"] {
            assert!(script.ok().contains(word), "{shell} lacks {word}");
        }
    }
    assert_eq!(env.skill(&["completion", "tcsh"]).code, 2);
    for command in [
        "init",
        "new",
        "build",
        "test",
        "install",
        "run",
        "list",
        "instances",
        "config",
        "grant",
        "revoke",
        "remove",
        "validate",
        "doctor",
        "version",
        "completion",
    ] {
        let help = env.skill(&[command, "--help"]);
        assert!(
            help.ok().contains("Usage: skill"),
            "{command}: {}",
            help.stdout
        );
    }
    assert!(
        env.skill(&["run", "--help"])
            .ok()
            .contains("key=value   --key value")
    );
}

#[test]
fn validate_checks_what_was_built_without_building() {
    let env = Env::new();
    let built = rust_skill().to_str().unwrap();
    let valid = env.skill(&["validate", built]);
    valid.ok();
    assert!(
        valid
            .stderr
            .contains("Valid rust-skill 0.1.0 implements skill-engine:skill@0.3.0"),
        "{}",
        valid.stderr
    );
    assert!(
        valid
            .stderr
            .contains("Tools 4 (greet, add, repeat, divide)"),
        "{}",
        valid.stderr
    );
    let json: serde_json::Value =
        serde_json::from_str(env.skill(&["validate", "--json", built]).ok()).unwrap();
    assert_eq!(json["ok"], true);
    assert!(
        json["exports"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("skill-engine:skill/guest@0.3.0"))
    );
    // Validating installs nothing.
    assert_eq!(env.skill(&["list", "--json"]).ok().trim(), "[]");

    env.skill(&["init", "unbuilt"]).ok();
    let unbuilt = env.skill(&["validate", "unbuilt"]);
    assert!(
        unbuilt.fails().contains("`unbuilt` has not been built yet"),
        "{}",
        unbuilt.stderr
    );
    assert!(
        !env.path("unbuilt/target").exists(),
        "validate must not build"
    );
}

#[test]
fn doctor_finds_stale_native_code_and_install_removes_it() {
    let env = Env::new();
    env.skill(&["install", crate::rust_skill().to_str().unwrap()])
        .ok();
    let cache = env.home.path().join("cache/aot");
    let stale = cache.join(format!("{}-0123456789abcdef.cwasm", "a".repeat(64)));
    std::fs::write(&stale, vec![0u8; 4096]).unwrap();
    let aot = |run: &crate::Run| -> serde_json::Value {
        let checks: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        checks
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "AOT cache")
            .cloned()
            .unwrap()
    };
    let before = aot(&env.skill(&["doctor", "--json"]));
    assert_eq!(before["ok"], false, "{before}");
    assert!(
        before["detail"]
            .as_str()
            .unwrap()
            .contains("1 from another wasmtime version")
    );
    let path = aot(&env.skill(&["doctor", "--json"]));
    assert!(
        path["fix"]
            .as_str()
            .unwrap()
            .contains("skill doctor --install")
    );
    env.command(&["doctor", "--install"]).output().unwrap();
    assert!(!stale.exists());
    let after = aot(&env.skill(&["doctor", "--json"]));
    assert_eq!(after["ok"], true, "{after}");
    assert_eq!(after["detail"], "1 compiled component(s) for this engine");
    let on_path: serde_json::Value =
        serde_json::from_str(&env.skill(&["doctor", "--json"]).stdout).unwrap();
    let on_path = on_path
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "skill on PATH")
        .unwrap()
        .clone();
    assert_eq!(on_path["ok"], true, "{on_path}");
}

/// Reads what a background `skill` printed so far.
fn read_log(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Polls `check` until it is true or `limit` passes; the failure shows `log`.
fn wait_for(
    limit: std::time::Duration,
    log: &std::path::Path,
    what: &str,
    mut check: impl FnMut() -> bool,
) {
    let deadline = std::time::Instant::now() + limit;
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}; watch printed:\n{}",
            read_log(log)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// How many inotify watches process `pid` holds (its fdinfo has a `inotify wd:` line each).
fn inotify_watches(pid: u32) -> usize {
    let dir = format!("/proc/{pid}/fdinfo");
    std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|info| {
            info.lines()
                .filter(|l| l.starts_with("inotify wd:"))
                .count()
        })
        .sum()
}

#[test]
fn watch_rebuilds_and_reinstalls_on_each_change() {
    let env = Env::new();
    env.skill(&["init", "watched", "-t", "rust"]).ok();
    let dir = env.path("watched");
    // A symlink out of the project, to a tree of 400 directories: followed, each would be
    // watched (one to `/` in a cloned project: every directory on the machine).
    let outside = tempfile::tempdir().unwrap();
    for i in 0..400 {
        std::fs::create_dir(outside.path().join(format!("d{i}"))).unwrap();
    }
    std::os::unix::fs::symlink(outside.path(), dir.join("outside")).unwrap();
    let log = env.path("watch.log");
    let out = std::fs::File::create(&log).unwrap();
    let mut watch = env
        .command(&["watch", dir.to_str().unwrap()])
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let greet = |name: &str| env.skill(&["run", "watched@dev:greet", &format!("name={name}")]);
    let limit = std::time::Duration::from_secs(240);
    wait_for(limit, &log, "the first install", || {
        greet("A").stdout == "Hello, A!\n"
    });
    let watches = inotify_watches(watch.id());
    assert!(
        watches > 0 && watches < 400,
        "{watches} directories watched"
    );

    // An edit is picked up: rebuilt, reinstalled, new behaviour.
    let lib = dir.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        source.replace("format!(\"Hello, {name}!\")", "format!(\"Hi, {name}!\")"),
    )
    .unwrap();
    wait_for(limit, &log, "the edited greeting", || {
        greet("B").stdout == "Hi, B!\n"
    });

    // A broken edit: the error is shown, the installed skill keeps working, and the watch waits.
    wait_for(limit, &log, "the second Ready", || {
        read_log(&log).matches("Ready").count() == 2
    });
    std::fs::write(&lib, "this is not rust").unwrap();
    wait_for(limit, &log, "the build error", || {
        read_log(&log).contains("the build failed")
    });
    assert_eq!(greet("C").stdout, "Hi, C!\n");
    // Its own outputs never trigger another build.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let printed = read_log(&log);
    assert_eq!(printed.matches("Ready").count(), 2, "{printed}");
    assert_eq!(printed.matches("the build failed").count(), 1, "{printed}");

    std::fs::write(&lib, source.replace("Hello", "Howdy")).unwrap();
    wait_for(limit, &log, "the fixed build", || {
        greet("D").stdout == "Howdy, D!\n"
    });
    watch.kill().unwrap();
    let _ = watch.wait();
    let printed = read_log(&log);
    assert!(printed.contains("Changed src/lib.rs"), "{printed}");
}

/// Global settings: config.toml under $SKILL_HOME, the environment over it, flags over both;
/// `skill settings` says where each value came from.
#[test]
fn settings_come_from_flags_env_file_and_defaults() {
    let env = Env::new();
    let config = env.home.path().join("config.toml");
    std::fs::write(
        &config,
        "[serve]\nport = 4123\ntoken = \"hunter2-not-shown\"\n\n[output]\nformat = \"json\"\n\n[build]\nnpm = \"/opt/npm\"\n",
    )
    .unwrap();
    let shown = env.skill(&["settings", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(shown.ok()).unwrap();
    assert!(!shown.stdout.contains("hunter2"), "{}", shown.stdout);
    assert_eq!(rows[1]["value"], "4123");
    assert_eq!(rows[1]["source"], "config.toml");
    env.skill(&["settings"]).ok();
    // output.format = json makes --json the default...
    assert_eq!(env.skill(&["list"]).ok().trim(), "[]");
    // ...unless the environment says otherwise.
    let text = env
        .command(&["list"])
        .env("SKILL_OUTPUT", "text")
        .output()
        .unwrap();
    assert!(
        text.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
    // serve.host from the file: anything but loopback needs a token, and there is none.
    std::fs::write(&config, "[serve]\nhost = \"0.0.0.0\"\n").unwrap();
    let serve = env.skill(&["serve"]);
    assert!(serve.fails().contains("token"), "{}", serve.stderr);
    // A misspelt key is named, with what exists.
    std::fs::write(&config, "[serve]\nprot = 1\n").unwrap();
    let typo = env.skill(&["settings"]);
    assert!(typo.fails().contains("not a setting"), "{}", typo.stderr);
    env.assert_transcript("settings");
}

/// `skill` hands commands to the binaries beside it. One missing says which; binaries that do
/// not fit (here skill-serve installed under both names) refuse at once instead of exec'ing
/// each other forever (they did, ~120 times a second).
#[test]
fn helper_binaries_missing_or_mismatched_fail_fast() {
    let env = Env::new();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_skill"))
        .parent()
        .unwrap();
    let place = |dir: &std::path::Path, from: &str, to: &str| {
        std::fs::create_dir_all(dir).unwrap();
        if std::fs::hard_link(bin.join(from), dir.join(to)).is_err() {
            std::fs::copy(bin.join(from), dir.join(to)).unwrap();
        }
    };
    let lonely = env.path("lonely");
    place(&lonely, "skill", "skill");
    let out = std::process::Command::new(lonely.join("skill"))
        .args(["version"])
        .env("SKILL_HOME", env.home.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("skill-toolchain is missing there"),
        "{stderr}"
    );

    let mixed = env.path("mixed");
    place(&mixed, "skill-serve", "skill");
    place(&mixed, "skill-serve", "skill-serve");
    let mut child = std::process::Command::new(mixed.join("skill"))
        .args(["list"])
        .env("SKILL_HOME", env.home.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("mismatched binaries kept exec'ing each other");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("does not run this command"), "{stderr}");
}
