//! The sandbox: what a guest can see, and what happens when it exceeds a limit.

use std::time::{Duration, Instant};

use crate::{Env, HttpRequest, HttpResponse, misbehave, serve_http};

/// A fresh home with the misbehave fixture installed as `misbehave@default`.
pub(crate) fn installed_env() -> Env {
    let env = Env::new();
    env.skill(&["install", "--yes", misbehave().to_str().unwrap()])
        .ok();
    env
}

#[test]
fn the_initializer_ran_once_at_build_time_with_a_stopped_clock() {
    let env = installed_env();
    // `init` never runs at call time: the count comes from the Wizer snapshot, and the clock
    // it read was the build's fixed one (which keeps the snapshot reproducible).
    assert_eq!(
        env.skill(&["run", "misbehave:preinitialized"]).ok(),
        "init runs=1 clock=0\n"
    );
}

#[test]
fn a_guest_sees_nothing_it_was_not_given() {
    let env = installed_env();
    let peek = env.skill(&["run", "misbehave:peek"]);
    // No files, no environment, no network, no config; its stdout/stderr are captured.
    assert_eq!(
        peek.ok(),
        "file=false dir=false env=0 net=false config=None\n"
    );
    assert!(
        !peek.stderr.contains("this line goes"),
        "guest output leaked:\n{}",
        peek.stderr
    );
    // -v shows what the guest wrote, on stderr only.
    let verbose = env.skill(&["-v", "run", "misbehave:peek"]);
    assert_eq!(
        verbose.ok(),
        "file=false dir=false env=0 net=false config=None\n"
    );
    assert!(
        verbose
            .stderr
            .contains("this line goes to the guest's stdout"),
        "{}",
        verbose.stderr
    );
    assert!(
        verbose
            .stderr
            .contains("this line goes to the guest's stderr"),
        "{}",
        verbose.stderr
    );
}

#[test]
fn runaway_cpu_is_stopped_by_the_deadline() {
    let env = installed_env();
    let started = Instant::now();
    let spin = env.skill(&["run", "--timeout", "0.5", "misbehave:spin"]);
    assert!(
        spin.fails().contains("tool `spin` timed out after"),
        "{}",
        spin.stderr
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn memory_and_output_are_capped() {
    let env = installed_env();
    assert_eq!(
        env.skill(&["run", "misbehave:hog", "16"]).ok(),
        (16u64 << 20).to_string() + "\n"
    );
    let hog = env.skill(&["run", "misbehave:hog", "512"]);
    assert!(
        hog.fails().contains("exceeded its memory limit of 128 MiB"),
        "{}",
        hog.stderr
    );
    // The limit comes from skill.yaml; the hint names the command that raises it.
    assert!(
        hog.stderr
            .contains("raise it with `skill config misbehave@default --limit memory=256MiB`"),
        "{}",
        hog.stderr
    );
    assert_eq!(
        env.skill(&["run", "misbehave:chatter", "1000"]).ok(),
        "done\n"
    );
    let chatter = env.skill(&["run", "misbehave:chatter", "2000000"]);
    assert!(
        chatter.fails().contains("wrote more than 1024 KiB"),
        "{}",
        chatter.stderr
    );
}

#[test]
fn a_panic_is_reported_with_its_message() {
    let env = installed_env();
    let crash = env.skill(&["run", "misbehave:crash", "the sky fell"]);
    let stderr = crash.fails();
    assert!(stderr.contains("tool `crash` crashed"), "{stderr}");
    assert!(stderr.contains("the sky fell"), "{stderr}");
    assert_eq!(crash.stdout, "");
}

#[test]
fn typed_tool_errors_logs_and_progress() {
    let env = installed_env();
    let failed = env.skill(&["run", "misbehave:refuse", "failed"]);
    assert_eq!(failed.code, 1);
    assert!(
        failed
            .stderr
            .contains("error: misbehave:refuse failed: it went wrong"),
        "{}",
        failed.stderr
    );
    let unconfigured = env.skill(&["run", "misbehave:refuse", "unconfigured"]);
    assert!(
        unconfigured
            .fails()
            .contains("not configured: token is not set")
    );
    assert!(
        unconfigured
            .stderr
            .contains("hint: configure it with `skill config misbehave@default`")
    );
    let choice = env.skill(&["run", "misbehave:refuse", "sideways"]);
    assert!(
        choice
            .fails()
            .contains("argument `how` must be one of failed, invalid, unconfigured")
    );
    let bad_data = env.skill(&["run", "misbehave:bad-data"]);
    assert!(
        bad_data
            .fails()
            .contains("returned `data` that is not JSON"),
        "{}",
        bad_data.stderr
    );

    let report = env.skill(&["run", "misbehave:report"]);
    assert_eq!(report.ok(), "done\n");
    assert!(
        report.stderr.contains("[info] starting"),
        "{}",
        report.stderr
    );
    assert!(
        report.stderr.contains("[ 50%] halfway"),
        "{}",
        report.stderr
    );
    assert!(
        !report.stderr.contains("a detail"),
        "debug logs only with -v:\n{}",
        report.stderr
    );
    assert!(
        env.skill(&["-v", "run", "misbehave:report"])
            .stderr
            .contains("[debug] a detail")
    );
}

/// The hostile-skill suite: every way out the fixture tries is closed, each with a clear error,
/// and the instance's own directory (and what the user grants) still works.
#[test]
fn a_hostile_skill_stays_inside_its_sandbox() {
    let env = installed_env();
    let data = env.home.path().join("instances/misbehave/default/data");
    let denied = |args: &[&str], expect: &str| {
        let mut full = vec!["run"];
        full.extend_from_slice(args);
        let run = env.skill(&full);
        assert_eq!(
            run.code, 1,
            "{args:?} should fail:\n{}{}",
            run.stdout, run.stderr
        );
        assert!(run.stderr.contains(expect), "{args:?}: {}", run.stderr);
    };
    denied(
        &["misbehave:read-file", "/etc/passwd"],
        "cannot read /etc/passwd",
    );
    // A private key that exists (planted under a HOME of the test's own), so the denial is
    // the sandbox's doing and not a missing file.
    let home = env.work.path().join("user-home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    let key = home.join(".ssh/id_rsa");
    std::fs::write(&key, "PLANTED-PRIVATE-KEY").unwrap();
    let stolen = env
        .command(&["run", "misbehave:read-file", key.to_str().unwrap()])
        .env("HOME", &home)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&stolen.stdout),
        String::from_utf8_lossy(&stolen.stderr)
    );
    assert_eq!(stolen.status.code(), Some(1), "{said}");
    assert!(said.contains("cannot read"), "{said}");
    assert!(!said.contains("PLANTED-PRIVATE-KEY"), "{said}");
    denied(
        &["misbehave:read-file", "/data/../../../../etc/passwd"],
        "cannot read",
    );
    denied(&["misbehave:read-file", "../../etc/passwd"], "cannot read");
    let outside = env.work.path().join("escaped.txt");
    denied(
        &["misbehave:write-file", outside.to_str().unwrap(), "x"],
        "cannot write",
    );
    assert!(!outside.exists());
    // A symlink planted in the data directory cannot lead out of it.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc/passwd", data.join("escape")).unwrap();
        denied(
            &["misbehave:read-file", "/data/escape"],
            "cannot read /data/escape",
        );
        std::os::unix::fs::symlink("/etc", data.join("etc")).unwrap();
        denied(&["misbehave:read-file", "/data/etc/passwd"], "cannot read");
    }
    // Its own directory works, and the files land in the instance's data directory.
    assert_eq!(
        env.skill(&["run", "misbehave:write-file", "/data/note.txt", "hi"])
            .ok(),
        "wrote /data/note.txt\n"
    );
    assert_eq!(
        std::fs::read_to_string(data.join("note.txt")).unwrap(),
        "hi"
    );
    assert_eq!(
        env.skill(&["run", "misbehave:read-file", "/data/note.txt"])
            .ok(),
        "read 2 bytes\n"
    );
    // Environment: only what skill.yaml asked for and the install granted.
    let getenv = |name: &str| {
        env.command(&["run", "misbehave:getenv", name])
            .env("MISBEHAVE_GRANTED", "yes")
            .env("MISBEHAVE_SECRET_ENV", "no")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap()
    };
    assert_eq!(getenv("MISBEHAVE_GRANTED"), "MISBEHAVE_GRANTED=yes\n");
    assert_eq!(
        getenv("MISBEHAVE_SECRET_ENV"),
        "MISBEHAVE_SECRET_ENV is not set\n"
    );
    assert_eq!(getenv("HOME"), "HOME is not set\n");
    // Unbounded recursion and 1 GB of output are stopped.
    let recurse = env.skill(&["run", "misbehave:recurse"]);
    assert!(
        recurse.fails().contains("tool `recurse` crashed"),
        "{}",
        recurse.stderr
    );
    let flood = env.skill(&["run", "misbehave:chatter", "1073741824"]);
    assert!(
        flood.fails().contains("wrote more than 1024 KiB"),
        "{}",
        flood.stderr
    );
}

#[test]
fn granted_directories_are_readable_and_writable_only_as_granted() {
    let env = installed_env();
    let shared = env.work.path().join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::write(shared.join("in.txt"), "12345").unwrap();
    let file = shared.join("in.txt");
    let file = file.to_str().unwrap();
    let out = shared.join("out.txt");
    let out = out.to_str().unwrap();
    let dir = shared.to_str().unwrap();

    let before = env.skill(&["run", "misbehave:read-file", file]);
    assert_eq!(before.code, 1, "{}", before.stdout);
    env.skill(&["grant", "misbehave", "--fs", dir]).ok();
    assert_eq!(
        env.skill(&["run", "misbehave:read-file", file]).ok(),
        "read 5 bytes\n"
    );
    let readonly = env.skill(&["run", "misbehave:write-file", out, "x"]);
    assert!(
        readonly.stderr.contains("cannot write"),
        "{}",
        readonly.stderr
    );
    env.skill(&["grant", "misbehave@default", "--fs", &format!("{dir}:rw")])
        .ok();
    env.skill(&["run", "misbehave:write-file", out, "x"]).ok();
    assert_eq!(
        std::fs::read_to_string(shared.join("out.txt")).unwrap(),
        "x"
    );
    env.skill(&["revoke", "misbehave", "--fs", dir]).ok();
    let after = env.skill(&["run", "misbehave:read-file", file]);
    assert_eq!(after.code, 1, "{}", after.stdout);
    let log = std::fs::read_to_string(env.home.path().join("audit.log")).unwrap();
    let actions: Vec<&str> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| v["action"].as_str().unwrap().to_string())
        .map(|a| Box::leak(a.into_boxed_str()) as &str)
        .collect();
    assert_eq!(actions, ["grant", "install", "grant", "grant", "revoke"]);
}

/// The fixture loaded in a runtime of its own (keep all four alive), and call options with
/// small memory and output limits.
fn misbehave_in_a_runtime(
    timeout: Duration,
) -> (
    tempfile::TempDir,
    skill_engine::Runtime,
    skill_engine::LoadedSkill,
    skill_engine::CallOptions,
) {
    use skill_engine::{CallOptions, Limits, Runtime, SkillHome};
    let home = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(&SkillHome::at(home.path())).unwrap();
    let bytes = std::fs::read(misbehave().join("misbehave.wasm")).unwrap();
    let skill = runtime.load_bytes(&bytes).unwrap();
    let options = CallOptions {
        limits: Limits {
            timeout,
            memory_bytes: 64 << 20,
            output_bytes: 64 << 10,
        },
        ..Default::default()
    };
    (home, runtime, skill, options)
}

/// One runtime, many hostile calls: after each is contained, the next call works.
#[test]
fn the_runtime_keeps_working_after_each_contained_attempt() {
    use skill_manifest::args::Args;
    let (_home, _runtime, skill, options) = misbehave_in_a_runtime(Duration::from_millis(500));
    let text = |v: &str| skill_manifest::args::ArgValue::Text(v.to_string());
    let int = |n: i64| skill_manifest::args::ArgValue::Integer(n);
    let attempts: Vec<(&str, Args)> = vec![
        ("spin", Args::new()),
        ("hog", vec![("mib".to_string(), int(1024))]),
        ("recurse", Args::new()),
        ("chatter", vec![("bytes".to_string(), int(1 << 30))]),
        ("crash", vec![("message".to_string(), text("boom"))]),
    ];
    for (tool, args) in attempts {
        let result = skill.execute(tool, &args, &options);
        assert!(result.is_err(), "{tool} should have been stopped");
        let ok = skill
            .execute(
                "read_file",
                &vec![("path".to_string(), text("/nope"))],
                &options,
            )
            .unwrap();
        assert!(
            ok.result.is_err(),
            "a normal call after {tool} returns its own error"
        );
        let report = skill.execute("report", &Args::new(), &options).unwrap();
        assert_eq!(report.result.unwrap().text, "done", "after {tool}");
    }
}

/// What servers rely on when they keep an instance between calls: guest state persists,
/// each call gets its own deadline and its own share of stdout/stderr, and a call that traps
/// or hits a limit leaves the instance unusable.
#[test]
fn a_kept_instance_serves_calls_until_one_breaks_it() {
    use skill_manifest::args::Args;
    let (_home, _runtime, skill, options) = misbehave_in_a_runtime(Duration::from_secs(30));
    let int = |n: i64| skill_manifest::args::ArgValue::Integer(n);
    let text = |v: &str| skill_manifest::args::ArgValue::Text(v.to_string());
    let timeout = options.limits.timeout;
    let run = |instance: &mut skill_engine::WarmInstance, tool: &str, args: Args| {
        instance.execute(tool, &args, timeout, None)
    };
    let counted = |instance: &mut skill_engine::WarmInstance| {
        run(instance, "counter", Args::new())
            .unwrap()
            .result
            .unwrap()
            .text
    };

    let mut instance = skill.instantiate(&options).unwrap();
    assert_eq!(counted(&mut instance), "1");
    assert_eq!(
        counted(&mut instance),
        "2",
        "globals persist in a kept instance"
    );
    // Each call sees only its own output.
    for _ in 0..2 {
        let peek = run(&mut instance, "peek", Args::new()).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&peek.stdout),
            "this line goes to the guest's stdout\n"
        );
        assert_eq!(
            String::from_utf8_lossy(&peek.stderr),
            "this line goes to the guest's stderr\n"
        );
    }
    // A tool's own error does not break it.
    let refused = run(
        &mut instance,
        "refuse",
        vec![("how".into(), text("failed"))],
    )
    .unwrap();
    assert!(refused.result.is_err());
    assert!(instance.reusable());
    // Each call gets a fresh deadline: a short one stops a spin...
    let started = Instant::now();
    let spun = instance.execute("spin", &Args::new(), Duration::from_millis(200), None);
    assert!(spun.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // ...and a stopped instance is not offered again.
    assert!(!instance.reusable(), "a timed-out instance must be dropped");

    let breakers: Vec<(&str, Args)> = vec![
        ("crash", vec![("message".to_string(), text("boom"))]),
        ("hog", vec![("mib".to_string(), int(1024))]),
        ("chatter", vec![("bytes".to_string(), int(1 << 20))]),
    ];
    for (tool, args) in breakers {
        let mut instance = skill.instantiate(&options).unwrap();
        assert_eq!(counted(&mut instance), "1");
        assert!(run(&mut instance, tool, args).is_err(), "{tool}");
        assert!(!instance.reusable(), "{tool} must break the instance");
    }
    // Output below the per-call cap is fine once, but a kept instance is retired before the
    // output it accumulates could eat into a later call's cap.
    let mut instance = skill.instantiate(&options).unwrap();
    let chatter = run(
        &mut instance,
        "chatter",
        vec![("bytes".into(), int(40 << 10))],
    )
    .unwrap();
    assert_eq!(chatter.stdout.len(), 40 << 10);
    assert!(instance.reusable());
    run(
        &mut instance,
        "chatter",
        vec![("bytes".into(), int(40 << 10))],
    )
    .unwrap();
    assert!(!instance.reusable());
}

/// `/ok`, and redirects to a granted and to an ungranted host name (both reach this same
/// server).
fn serve_redirects() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<HttpRequest>>>) {
    serve_http(|request, port| match request.path.as_str() {
        "/ok" => HttpResponse::new(200, "hello from the granted host"),
        "/redirect-in" => {
            HttpResponse::new(302, "").header("location", &format!("http://127.0.0.1:{port}/ok"))
        }
        "/redirect-out" => {
            HttpResponse::new(302, "").header("location", &format!("http://localhost:{port}/ok"))
        }
        _ => HttpResponse::new(404, "no"),
    })
}

#[test]
fn outgoing_http_reaches_only_granted_hosts_even_through_redirects() {
    let env = installed_env();
    let (port, seen) = serve_redirects();
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");

    let before = env.skill(&["run", "misbehave:fetch", &url("/ok")]);
    assert_eq!(before.code, 1, "{}", before.stdout);
    assert!(
        before.stderr.contains("HttpRequestDenied"),
        "{}",
        before.stderr
    );
    assert!(
        before.stderr.contains(&format!(
            "misbehave@default tried to reach 127.0.0.1:{port}, which it was not granted; allow it with `skill grant misbehave@default --net 127.0.0.1:{port}`"
        )),
        "{}",
        before.stderr
    );
    assert!(seen.lock().unwrap().is_empty(), "a denied request went out");

    // A literal address with its port (a grant without a port means 80 and 443 only).
    let granted = format!("127.0.0.1:{port}");
    env.skill(&["grant", "misbehave", "--net", &granted]).ok();
    assert_eq!(
        env.skill(&["run", "misbehave:fetch", &url("/ok")]).ok(),
        "200 hello from the granted host\n"
    );
    assert_eq!(
        env.skill(&["run", "misbehave:fetch", &url("/redirect-in")])
            .ok(),
        "200 hello from the granted host\n"
    );
    // A granted host redirecting to one that is not: the second hop is refused.
    let out = env.skill(&["run", "misbehave:fetch", &url("/redirect-out")]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr
            .contains(&format!("tried to reach localhost:{port}")),
        "{}",
        out.stderr
    );
    assert!(
        !seen
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.header("host").starts_with("localhost")),
        "the redirect target was reached: {:?}",
        seen.lock().unwrap()
    );
    // Revoked: refused again.
    env.skill(&["revoke", "misbehave", "--net", &granted]).ok();
    assert_eq!(env.skill(&["run", "misbehave:fetch", &url("/ok")]).code, 1);
}
