//! Skills calling skills (`call-tool`, contract 0.2.0 and later), with a chain built from all three
//! SDKs: relay-a (Python) → relay-b (JavaScript) → misbehave (Rust). Each call runs in the
//! callee's own instance, sandbox and limits; only declared skills can be called; calls nest
//! at most 4 deep; the first caller's deadline bounds the whole chain. A component built
//! against contract 0.1.0 still installs and runs. And skills as commands: `skill exec`
//! (misbehave's Rust `main`, relay-a's Python `@command`) and PATH shims in a fresh shell.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::serve::{Server, post};
use crate::{Env, Run, build_once, misbehave, repo_root};

fn fixture(name: &str) -> PathBuf {
    repo_root().join("toolchain/cli/tests/fixtures").join(name)
}

fn relay_a() -> &'static Path {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    build_once(&CELL, fixture("relay-a"))
}

fn relay_b() -> &'static Path {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    build_once(&CELL, fixture("relay-b"))
}

/// `relay-a[@instance]:forward` asking relay-b to call `tool` of misbehave with `args`.
fn through_the_chain(
    env: &Env,
    instance: &str,
    tool: &str,
    args: serde_json::Value,
    extra: &[&str],
) -> Run {
    let inner = json!({"skill": "misbehave", "tool": tool, "args": args});
    let target = format!("relay-a@{instance}:forward");
    let args = format!("args={inner}");
    let mut full = vec!["run"];
    full.extend_from_slice(extra);
    full.extend([target.as_str(), "skill=relay-b", "tool=forward", &args]);
    env.skill_with_env(&full, &[("MISBEHAVE_GRANTED", OsStr::new("s3cret"))])
}

#[track_caller]
fn failure(run: &Run) -> &str {
    assert_ne!(run.code, 0, "expected failure\nstdout:\n{}", run.stdout);
    &run.stderr
}

#[test]
fn skills_call_the_skills_they_declared_in_the_callees_own_sandbox() {
    let env = Env::new();
    let install = |path: &Path, instance: &str| {
        let dir = path.to_str().unwrap();
        env.skill(&["install", dir, "-i", instance, "--yes", "--no-deps"])
            .ok();
    };
    // misbehave has the env grant and a secret `token`; relay-a and relay-b have neither.
    for instance in ["default", "prod"] {
        install(misbehave(), instance);
        env.skill_with_input(
            &["config", &format!("misbehave@{instance}"), "--set", "token"],
            &format!("{instance}-token\n"),
        )
        .ok();
    }
    install(relay_b(), "default");
    install(relay_b(), "prod");
    for instance in ["default", "prod", "staging"] {
        install(relay_a(), instance);
    }

    // The callee's grants, not the caller's: only misbehave may read MISBEHAVE_GRANTED.
    let granted = through_the_chain(
        &env,
        "default",
        "getenv",
        json!({"name": "MISBEHAVE_GRANTED"}),
        &[],
    );
    assert_eq!(granted.ok(), "MISBEHAVE_GRANTED=s3cret\n");
    let own = env.skill_with_env(
        &["run", "relay-a:getenv", "name=MISBEHAVE_GRANTED"],
        &[("MISBEHAVE_GRANTED", OsStr::new("s3cret"))],
    );
    assert_eq!(own.ok(), "MISBEHAVE_GRANTED is not set\n");

    // The callee's instance: the caller's instance name where the callee has one, else
    // `default`, at every hop (relay-b has no `staging`, so misbehave@default answers).
    for (instance, token) in [
        ("default", "default-token"),
        ("prod", "prod-token"),
        ("staging", "default-token"),
    ] {
        let run = through_the_chain(&env, instance, "setting", json!({"key": "token"}), &[]);
        assert_eq!(run.ok(), format!("token=Some(\"{token}\")\n"), "{instance}");
    }

    // Only declared skills: relay-a lists relay-b, not misbehave.
    let undeclared = env.skill(&[
        "run",
        "relay-a:forward",
        "skill=misbehave",
        "tool=echo",
        r#"args={"text": "hi"}"#,
    ]);
    assert!(
        failure(&undeclared).contains(
            "relay-a may call only the skills it lists in skill_dependencies, and `misbehave` is not one of them"
        ),
        "{}",
        undeclared.stderr
    );
    // A name that is no skill's comes back without being echoed.
    let hostile = env.skill(&[
        "run",
        "relay-a:forward",
        "skill=\u{1b}[2Jx",
        "tool=t",
        "args={}",
    ]);
    let stderr = failure(&hostile);
    assert!(
        stderr.contains("may call only the skills it lists"),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");

    // The callee checks the arguments like any call; its error comes back through both SDKs.
    let invalid = through_the_chain(&env, "default", "sleep", json!({"ms": "x"}), &[]);
    assert!(
        failure(&invalid).contains("misbehave:sleep: argument `ms` expects integer"),
        "{}",
        invalid.stderr
    );
    assert!(
        invalid.stderr.contains("invalid arguments"),
        "{}",
        invalid.stderr
    );
    let unknown = through_the_chain(&env, "default", "no-such-tool", json!({}), &[]);
    assert!(
        failure(&unknown).contains("skill `misbehave` has no tool `no-such-tool`"),
        "{}",
        unknown.stderr
    );

    // A cycle (installed with --no-deps) ends at the depth limit.
    let bounced = env.skill(&["run", "relay-a:bounce"]);
    assert!(
        failure(&bounced).contains(
            "calls nest at most 4 deep: relay-a → relay-b → relay-a → relay-b → relay-a → relay-b"
        ),
        "{}",
        bounced.stderr
    );

    // The first caller's deadline bounds the callee: misbehave would sleep 20 s.
    let started = Instant::now();
    let slow = through_the_chain(
        &env,
        "default",
        "sleep",
        json!({"ms": 20_000}),
        &["--timeout", "2"],
    );
    let took = started.elapsed();
    assert!(failure(&slow).contains("timed out"), "{}", slow.stderr);
    assert!(took < Duration::from_secs(8), "took {took:?}");

    // The server routes calls the same way (its routers share its runtime).
    let server = Server::start(&env, &["--http-only"]);
    let inner = json!({"skill": "misbehave", "tool": "setting", "args": {"key": "token"}});
    let reply = post(
        &server,
        "/api/v1/execute",
        &json!({"skill": "relay-a", "instance": "prod", "tool": "forward",
                "args": {"skill": "relay-b", "tool": "forward", "args": inner}}),
    )
    .json();
    assert_eq!(reply["text"], "token=Some(\"prod-token\")", "{reply}");
    let refused = post(
        &server,
        "/api/v1/execute",
        &json!({"skill": "relay-a", "tool": "forward",
                "args": {"skill": "misbehave", "tool": "echo", "args": {"text": "x"}}}),
    )
    .json();
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("may call only the skills it lists"),
        "{refused}"
    );
    drop(server);

    commands_and_shims(&env);
    attacks_on_calls(&env);

    // The same relay-b on StarlingMonkey (componentize-js), whose bindings differ from
    // QuickJS's (integers as BigInt, a failed call thrown as an Error with a payload).
    let starling = tempfile::tempdir().unwrap();
    for file in ["skill.yaml", "package.json", "src/index.js"] {
        let text = std::fs::read_to_string(fixture("relay-b").join(file)).unwrap();
        let text = text.replace("  engine: quickjs\n", "").replace(
            "../../../../../sdk-js",
            repo_root().join("sdk-js").to_str().unwrap(),
        );
        let to = starling.path().join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, text).unwrap();
    }
    install(starling.path(), "default");
    let granted = through_the_chain(
        &env,
        "default",
        "getenv",
        json!({"name": "MISBEHAVE_GRANTED"}),
        &[],
    );
    assert_eq!(granted.ok(), "MISBEHAVE_GRANTED=s3cret\n");
    let slept = through_the_chain(&env, "default", "sleep", json!({"ms": 5}), &[]);
    assert_eq!(slept.ok(), "slept 5 ms\n");
    let invalid = through_the_chain(&env, "default", "sleep", json!({"ms": "x"}), &[]);
    assert!(
        failure(&invalid).contains("misbehave:sleep: argument `ms` expects integer"),
        "{}",
        invalid.stderr
    );

    // Components built against contracts 0.2.0 and 0.1.0 install and run unchanged, and
    // their manifests say which contract they implement. 0.2.0 has no `describe-tools`: its
    // tools have no title, annotations or output schema (never "read-only").
    let older = fixture("contract-0.2.0/rust-skill.wasm");
    env.skill(&["install", older.to_str().unwrap(), "--yes"])
        .ok();
    assert_eq!(
        env.skill(&["run", "rust-skill:divide", "a=1", "b=4"]).ok(),
        "0.25\n"
    );
    let info: serde_json::Value =
        serde_json::from_str(env.skill(&["info", "rust-skill", "--json"]).ok()).unwrap();
    let manifest = &info["manifest"];
    assert_eq!(manifest["contract"], "skill-engine:skill@0.2.0", "{info}");
    let tools = manifest["tools"].as_array().unwrap();
    assert!(
        tools.len() == 4
            && tools.iter().all(|t| t.get("annotations").is_none()
                && t.get("title").is_none()
                && t.get("output_schema").is_none()),
        "{info}"
    );
    let old = fixture("contract-0.1.0/rust-skill.wasm");
    env.skill(&["install", old.to_str().unwrap(), "--yes"]).ok();
    assert_eq!(
        env.skill(&["run", "rust-skill:greet", "name=Old"]).ok(),
        "Hello, Old!\n"
    );
    let info = env.skill(&["list", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(info.ok()).unwrap();
    let contracts: Vec<(String, String)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["contract"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect();
    assert!(
        contracts.contains(&("rust-skill".into(), "skill-engine:skill@0.1.0".into()))
            && contracts.contains(&("relay-a".into(), "skill-engine:skill@0.3.0".into())),
        "{contracts:?}"
    );
}

/// `skill exec` and shims, in the home the chain test set up.
fn commands_and_shims(env: &Env) {
    let granted = [("MISBEHAVE_GRANTED", OsStr::new("g"))];
    let args = env.skill(&["exec", "misbehave", "--", "args", "a", "b c", "-x"]);
    assert_eq!(args.ok(), "misbehave args a b c -x\n");
    // stdin is the terminal's (here a pipe), passed through byte for byte.
    let cat = env.skill_with_input(&["exec", "misbehave", "--", "cat"], "piped\nin\n");
    assert_eq!(cat.ok(), "piped\nin\n");
    // More than a pipe holds, ending without a newline (the SDK flushes after `main`).
    let big: String = (0..200_000u32)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let cat = env.skill_with_input(&["exec", "misbehave", "--", "cat"], &big);
    assert!(cat.ok() == big, "{} bytes came back", cat.stdout.len());
    // The instance's sandbox and config.
    let own = env.skill_with_env(&["exec", "misbehave", "env"], &granted);
    assert_eq!(own.ok(), "Some(\"g\")\n");
    let prod = env.skill(&["exec", "misbehave@prod", "setting"]);
    assert_eq!(prod.ok(), "Some(\"prod-token\")\n");
    // Exit codes: WASI 0.2's exit says success or failure; a limit is 6, a crash 1.
    assert_eq!(env.skill(&["exec", "misbehave", "exit", "0"]).code, 0);
    assert_eq!(env.skill(&["exec", "misbehave", "exit", "3"]).code, 1);
    let usage = env.skill(&["exec", "misbehave"]);
    assert_eq!(usage.code, 1);
    assert!(
        usage.stderr.contains("usage: misbehave"),
        "{}",
        usage.stderr
    );
    let spin = env.skill(&["exec", "--timeout", "1", "misbehave", "spin"]);
    assert_eq!(spin.code, 6, "{}", spin.stderr);
    assert!(
        spin.stderr.contains("the command timed out"),
        "{}",
        spin.stderr
    );
    let crash = env.skill(&["exec", "misbehave", "crash"]);
    assert_eq!(crash.code, 1);
    assert!(crash.stderr.contains("asked to crash"), "{}", crash.stderr);
    // A skill without a command says so.
    let none = env.skill(&["exec", "relay-b"]);
    assert!(
        none.fails().contains("this skill is not a command"),
        "{}",
        none.stderr
    );

    // Python's @command, which calls relay-b → misbehave itself.
    let python = env.skill(&["exec", "relay-a", "--", "hello", "world"]);
    assert_eq!(python.ok(), "hello world\n");
    let python = env.skill_with_input(&["exec", "relay-a"], "from stdin\n");
    assert_eq!(python.ok(), "from stdin\n");
    let failed = env.skill(&["exec", "relay-a", "fail"]);
    assert_eq!(failed.code, 1);
    assert!(failed.stderr.contains("asked to fail"), "{}", failed.stderr);

    // Shims.
    let bin = env.home.path().join("bin");
    env.skill(&["shim", "misbehave@prod", "--as", "mb"]).ok();
    assert!(std::fs::read_link(bin.join("mb")).is_ok());
    let shadow = env.skill(&["shim", "misbehave", "--as", "sh"]);
    assert_eq!(shadow.code, 7, "{}", shadow.stderr);
    assert!(
        shadow.stderr.contains("already a command on PATH"),
        "{}",
        shadow.stderr
    );
    for bad in ["Mb", "skill-x", "../x"] {
        assert_eq!(
            env.skill(&["shim", "misbehave", "--as", bad]).code,
            2,
            "{bad}"
        );
    }
    assert!(
        env.skill(&["shim", "relay-b"])
            .fails()
            .contains("relay-b is not a command")
    );
    let installed = env.skill(&[
        "install",
        relay_a().to_str().unwrap(),
        "--yes",
        "--no-deps",
        "--shim",
    ]);
    installed.ok();
    assert!(
        installed.stderr.contains("bin/relay-a"),
        "{}",
        installed.stderr
    );
    let listed: serde_json::Value =
        serde_json::from_str(env.skill(&["shims", "--json"]).ok()).unwrap();
    let names: Vec<(&str, &str, bool)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap(),
                s["target"].as_str().unwrap(),
                s["linked"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("mb", "misbehave@prod", true),
            ("relay-a", "relay-a@default", true)
        ]
    );
    // A fresh shell with the shims on PATH: arguments, stdin and exit codes pass through,
    // and nothing of skill's own argument parsing is in the way (`--help` is the command's).
    let shell = |script: &str| {
        let mut child = std::process::Command::new("bash")
            .args(["--noprofile", "--norc", "-c", script])
            .env_clear()
            .env("HOME", env.home.path())
            .env("SKILL_HOME", env.home.path())
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdin.take());
        Run::from(child.wait_with_output().unwrap())
    };
    let through = shell("printf 'x\\ny' | mb cat && mb setting && mb args --help -v && relay-a hi");
    assert_eq!(
        through.ok(),
        "x\nySome(\"prod-token\")\nmb args --help -v\nhi\n"
    );
    assert_eq!(shell("mb exit 1").code, 1);
    assert_eq!(shell("relay-a fail").code, 1);
    // doctor says the shims are not on PATH here, with the line to add.
    let doctor: serde_json::Value =
        serde_json::from_str(&env.skill(&["doctor", "--json"]).stdout).unwrap();
    let check = doctor
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "shims on PATH")
        .expect("doctor checks the shims");
    assert_eq!(check["ok"], false, "{check}");
    assert!(
        check["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("export PATH=\"{}:$PATH\"", bin.display())),
        "{check}"
    );
    // A link whose record is gone (or another $SKILL_HOME) is no shim, and never skill's own
    // command line: `mb list` must not list, `mb remove x --yes` must not remove.
    std::fs::rename(
        env.home.path().join("shims/mb"),
        env.home.path().join("mb.record"),
    )
    .unwrap();
    let orphan = shell("mb list");
    assert_eq!(orphan.code, 3, "{}", orphan.stderr);
    assert!(
        orphan.stderr.contains("which is not a shim here"),
        "{}",
        orphan.stderr
    );
    assert!(orphan.stdout.is_empty(), "{}", orphan.stdout);
    std::fs::rename(
        env.home.path().join("mb.record"),
        env.home.path().join("shims/mb"),
    )
    .unwrap();
    env.skill(&["shim", "--rm", "mb"]).ok();
    assert!(!bin.join("mb").exists());
    assert_eq!(env.skill(&["shim", "--rm", "mb"]).code, 3);
    // Removing a skill removes its shims.
    env.skill(&["remove", "relay-a", "--force"]).ok();
    assert!(!bin.join("relay-a").exists());
    assert_eq!(env.skill(&["shims", "--json"]).ok().trim(), "[]");
    env.skill(&["install", relay_a().to_str().unwrap(), "--yes", "--no-deps"])
        .ok();
}

/// What a hostile caller tried against call-tool (found in review), in the chain's home.
fn attacks_on_calls(env: &Env) {
    // Calling a dependency is a permission: the review asks, and a script must say --yes.
    let unasked = env.skill(&[
        "install",
        relay_a().to_str().unwrap(),
        "-i",
        "fresh",
        "--no-deps",
    ]);
    assert_ne!(unasked.code, 0);
    assert!(
        unasked.stderr.contains("Call the tools of relay-b"),
        "{}",
        unasked.stderr
    );
    // Revoked, the call is refused; granted again, it works; only listed skills can be granted.
    let echo = |env: &Env| through_the_chain(env, "default", "echo", json!({"text": "ok"}), &[]);
    env.skill(&["revoke", "relay-a", "--call", "relay-b"]).ok();
    let revoked = echo(env);
    assert!(
        failure(&revoked).contains("relay-a@default was not approved to call relay-b"),
        "{}",
        revoked.stderr
    );
    env.skill(&["grant", "relay-a", "--call", "relay-b"]).ok();
    assert_eq!(echo(env).ok(), "ok\n");
    let unlisted = env.skill(&["grant", "relay-a", "--call", "misbehave"]);
    assert!(unlisted.fails().contains("does not list misbehave"));

    // Every nested call's log messages share the first call's output limit (1 MiB here):
    // five floods of 1 MiB each through call-tool must not make 5 MiB of messages.
    let args = json!({"count": 300, "kib": 4});
    let flood = env.skill(&[
        "run",
        "relay-b:forward",
        "skill=misbehave",
        "tool=flood",
        &format!("args={args}"),
        "times=5",
    ]);
    flood.ok();
    assert!(
        flood.stderr.len() < (1 << 20) + (64 << 10),
        "{} bytes of messages",
        flood.stderr.len()
    );
    assert!(
        flood.stderr.len() > 512 << 10,
        "{} bytes",
        flood.stderr.len()
    );

    // The server counts routed calls against its memory budget, without waiting for room.
    // What one call of a skill may hold, from the server's own refusal at a 1 MiB budget:
    let tiny = Server::start(env, &["--http-only", "--memory-budget", "1MiB"]);
    let mib = |skill: &str, tool: &str, args: serde_json::Value| -> u64 {
        let refused = post(
            &tiny,
            "/api/v1/execute",
            &json!({"skill": skill, "tool": tool, "args": args}),
        )
        .json();
        let message = refused["error"]["message"].as_str().unwrap().to_string();
        message
            .split("may hold ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{message}"))
    };
    let forward = json!({"skill": "misbehave", "tool": "echo", "args": {"text": "x"}});
    let relay_b_mib = mib("relay-b", "forward", forward.clone());
    let misbehave_mib = mib("misbehave", "sleep", json!({"ms": 1}));
    drop(tiny);
    // Room for relay-b's call, and less than misbehave's below it besides.
    let budget = format!("{}MiB", relay_b_mib + misbehave_mib - 1);
    let server = Server::start(env, &["--http-only", "--memory-budget", &budget]);
    let nested = post(
        &server,
        "/api/v1/execute",
        &json!({"skill": "relay-b", "tool": "forward", "args": forward}),
    )
    .json();
    assert!(
        nested["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("misbehave@default:echo was not called: the server's memory budget"),
        "{nested}"
    );
    drop(server);

    // Calls that wait for memory get it when a call ends, also when the server keeps
    // instances between calls (a finished call used to park its reservation in an idle
    // instance, and the waiters never woke).
    let budget = format!("{misbehave_mib}MiB");
    let server = Server::start(env, &["--http-only", "--memory-budget", &budget]);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let calls: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    post(
                        &server,
                        "/api/v1/execute",
                        &json!({"skill": "misbehave", "tool": "sleep", "args": {"ms": 1000}}),
                    )
                    .json()
                })
            })
            .collect();
        for call in calls {
            let reply = call.join().unwrap();
            assert_eq!(reply["text"], "slept 1000 ms", "{reply}");
        }
    });
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
}
