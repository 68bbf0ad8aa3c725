//! The attacks of the 2026-11-30 hostile review, each performed for real through the binary:
//! a hostile skill (the misbehave fixture, or a component assembled here from raw WebAssembly)
//! and hostile clients of `skill serve`. Every test here failed on the code before the fix.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::sandbox::installed_env;
use crate::serve::{Server, http, post};
use crate::{Env, misbehave, rust_skill, serve_http};

/// A copy of the built misbehave fixture whose skill.yaml went through `edit`.
fn misbehave_with(env: &Env, name: &str, edit: impl FnOnce(String) -> String) -> PathBuf {
    let dir = env.path(name);
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["misbehave.wasm", "skill.yaml"] {
        std::fs::copy(misbehave().join(file), dir.join(file)).unwrap();
    }
    let yaml = std::fs::read_to_string(dir.join("skill.yaml")).unwrap();
    std::fs::write(dir.join("skill.yaml"), edit(yaml)).unwrap();
    dir
}

fn add_capabilities(yaml: String, extra: &str) -> String {
    yaml.replace(
        "capabilities:\n  env: [MISBEHAVE_GRANTED]",
        &format!("capabilities:\n  env: [MISBEHAVE_GRANTED]\n{extra}"),
    )
}

fn run(env: &Env, args: &[&str]) -> crate::Run {
    let mut full = vec!["run"];
    full.extend_from_slice(args);
    env.skill(&full)
}

/// Hole 1: a grant inside the instance's own data directory, turned into a symlink to `/` by
/// the skill between two calls, gave the guest the whole host read-write (secret.key too).
#[test]
fn a_grant_cannot_be_turned_into_an_escape() {
    let env = Env::new();
    let home = env.home.path().canonicalize().unwrap();
    let data = home.join("instances/misbehave/default/data");
    let inside = data.join("cache");
    let hostile = misbehave_with(&env, "inside-data", |yaml| {
        add_capabilities(
            yaml,
            &format!(
                "  filesystem:\n    - {{ path: {}, access: read-write }}",
                inside.display()
            ),
        )
    });
    let install = env.skill(&["install", "--yes", hostile.to_str().unwrap()]);
    if install.code == 0 {
        // What the attack did: plant the link, then read through the grant.
        env.skill(&["config", "misbehave", "--set", "token=hunter2"]);
        run(
            &env,
            &["misbehave:symlink", "../../../../../../../../..", "cache"],
        );
        let key = format!("{}{}/secret.key", inside.display(), home.display());
        let stolen = run(&env, &["misbehave:read-file", &key]);
        panic!(
            "a grant inside $SKILL_HOME was approved; reading {key} through it: {}{}",
            stolen.stdout, stolen.stderr
        );
    }
    assert!(
        install.fails().contains("inside the skill home"),
        "{}",
        install.stderr
    );

    // A read grant on an ancestor of $SKILL_HOME would expose every secret: refused.
    let parent = home.parent().unwrap().to_str().unwrap().to_string();
    env.skill(&["install", "--yes", misbehave().to_str().unwrap()])
        .ok();
    let ancestor = env.skill(&["grant", "misbehave", "--fs", &parent]);
    assert!(
        ancestor.fails().contains("contains the skill home"),
        "{}",
        ancestor.stderr
    );

    // A grant nested under a writable grant of the same instance: refused.
    let shared = env.work.path().canonicalize().unwrap().join("shared");
    std::fs::create_dir_all(shared.join("inner")).unwrap();
    env.skill(&[
        "grant",
        "misbehave",
        "--fs",
        &format!("{}:rw", shared.display()),
    ])
    .ok();
    let nested = env.skill(&[
        "grant",
        "misbehave",
        "--fs",
        shared.join("inner").to_str().unwrap(),
    ]);
    assert!(
        nested.fails().contains("inside the writable grant"),
        "{}",
        nested.stderr
    );

    // A path written under a writable grant is refused even when it resolves elsewhere today:
    // the skill could re-point it through the outer grant.
    let elsewhere = env.work.path().canonicalize().unwrap().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, shared.join("link")).unwrap();
    let through = env.skill(&[
        "grant",
        "misbehave",
        "--fs",
        shared.join("link").to_str().unwrap(),
    ]);
    assert!(
        through.fails().contains("inside the writable grant"),
        "{}",
        through.stderr
    );
    // The running system is not a directory of files: /proc/self/mem is the host's memory.
    for system in ["/proc", "/proc/self", "/sys", "/dev/shm"] {
        let refused = env.skill(&["grant", "misbehave", "--fs", system]);
        assert!(
            refused.fails().contains("running system"),
            "{system}: {}",
            refused.stderr
        );
    }

    // The grant is shown and stored canonical: through a symlinked path, the real directory.
    let real = env.work.path().canonicalize().unwrap().join("real");
    std::fs::create_dir_all(&real).unwrap();
    std::fs::write(real.join("note.txt"), "12345").unwrap();
    let alias = env.work.path().join("alias");
    std::os::unix::fs::symlink(&real, &alias).unwrap();
    let granted = env.skill(&["grant", "misbehave", "--fs", alias.to_str().unwrap()]);
    assert!(
        granted
            .stderr
            .contains(&format!("Read files in {}", real.display())),
        "{}",
        granted.stderr
    );
    // The guest sees the directory where it was asked for.
    let note = alias.join("note.txt");
    assert_eq!(
        run(&env, &["misbehave:read-file", note.to_str().unwrap()]).ok(),
        "read 5 bytes\n"
    );
    // Someone swaps the approved directory for a symlink to `/` between calls: the call does
    // not follow it, and says why.
    std::fs::rename(&real, env.work.path().join("moved")).unwrap();
    std::os::unix::fs::symlink("/", &real).unwrap();
    let swapped = run(
        &env,
        &[
            "misbehave:read-file",
            &format!("{}/etc/passwd", alias.display()),
        ],
    );
    assert_eq!(swapped.code, 1, "{}", swapped.stdout);
    assert!(
        swapped
            .stderr
            .contains("is no longer the directory that was approved"),
        "{}",
        swapped.stderr
    );
    // ...and a different real directory under the approved name is not it either.
    std::fs::remove_file(&real).unwrap();
    std::fs::create_dir_all(&real).unwrap();
    std::fs::write(real.join("note.txt"), "other").unwrap();
    let replaced = run(&env, &["misbehave:read-file", note.to_str().unwrap()]);
    assert_eq!(replaced.code, 1, "{}", replaced.stdout);
}

/// Found by the review of the fix: a reinstall resolved every requested path again, without
/// asking, so whoever moved a symlink in between (the skill itself, through a writable grant)
/// moved the grant.
#[test]
fn a_reinstall_keeps_the_directories_that_were_approved() {
    let env = Env::new();
    let work = env.work.path().canonicalize().unwrap();
    std::fs::create_dir_all(work.join("public")).unwrap();
    std::fs::create_dir_all(work.join("secret")).unwrap();
    std::fs::write(work.join("public/note"), "public").unwrap();
    std::fs::write(work.join("secret/key"), "TOPSECRET").unwrap();
    let pointer = work.join("pointer");
    std::os::unix::fs::symlink(work.join("public"), &pointer).unwrap();
    let skill = misbehave_with(&env, "pointing", |yaml| {
        add_capabilities(
            yaml,
            &format!(
                "  filesystem:\n    - {{ path: {}, access: read }}",
                pointer.display()
            ),
        )
    });
    let first = env.skill_with_input(&["install", skill.to_str().unwrap()], "y\n");
    assert!(
        first.stderr.contains(&format!(
            "Read files in {} (asked for {})",
            work.join("public").display(),
            pointer.display()
        )),
        "{}",
        first.stderr
    );
    first.ok();
    // The link now points at the secret; a reinstall asks nothing and must change nothing.
    std::fs::remove_file(&pointer).unwrap();
    std::os::unix::fs::symlink(work.join("secret"), &pointer).unwrap();
    env.skill(&["install", "--yes", skill.to_str().unwrap()])
        .ok();
    let key = run(
        &env,
        &["misbehave:read-file", pointer.join("key").to_str().unwrap()],
    );
    assert_eq!(key.code, 1, "the grant moved to the secret: {}", key.stdout);
    let grants = std::fs::read_to_string(
        env.home
            .path()
            .join("instances/misbehave/default/grants.json"),
    )
    .unwrap();
    assert!(grants.contains("public"), "{grants}");
    assert!(!grants.contains("secret"), "{grants}");
}

/// Hole 2: any web page could run tools through `skill serve` on loopback: WebSockets from
/// any Origin, REST and /metrics for any Host (DNS rebinding).
#[test]
fn a_web_page_cannot_reach_skill_serve() {
    let env = Env::new();
    env.skill(&["install", rust_skill().to_str().unwrap(), "--yes"])
        .ok();
    let server = Server::start(&env, &["--cors-origin", "http://localhost:5173"]);
    let addr = server.addr.clone();
    let execute =
        json!({"skill": "rust-skill", "tool": "greet", "args": {"name": "x"}}).to_string();

    // A real WebSocket client sending a foreign Origin, as a browser would.
    let mut request = tungstenite::client::IntoClientRequest::into_client_request(format!(
        "ws://{addr}/api/v1/ws"
    ))
    .unwrap();
    request
        .headers_mut()
        .insert("Origin", "http://evil.example".parse().unwrap());
    match tungstenite::connect(request) {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        Err(e) => panic!("refused, but not with 403: {e}"),
        Ok(_) => panic!("a WebSocket from http://evil.example was accepted"),
    }
    // The configured origin is let through.
    let mut request = tungstenite::client::IntoClientRequest::into_client_request(format!(
        "ws://{addr}/api/v1/ws"
    ))
    .unwrap();
    request
        .headers_mut()
        .insert("Origin", "http://localhost:5173".parse().unwrap());
    tungstenite::connect(request).expect("the configured origin may connect");

    // DNS rebinding: the right address, a foreign Host name.
    for (method, path, body) in [
        ("POST", "/api/v1/execute", execute.as_str()),
        ("GET", "/api/v1/skills", ""),
        ("GET", "/metrics", ""),
        ("GET", "/health", ""),
    ] {
        let reply = http(&addr, method, path, &[("Host", "evil.example:3000")], body);
        assert_eq!(reply.status, 403, "{method} {path}: {}", reply.body);
    }
    // A page of another origin (even on localhost, when not configured).
    for origin in ["http://evil.example", "http://localhost:8080", "null"] {
        let reply = http(
            &addr,
            "POST",
            "/api/v1/execute",
            &[("Origin", origin)],
            &execute,
        );
        assert_eq!(reply.status, 403, "{origin}: {}", reply.body);
    }
    let allowed = http(
        &addr,
        "POST",
        "/api/v1/execute",
        &[("Origin", "http://localhost:5173")],
        &execute,
    );
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    let local = post(
        &server,
        "/api/v1/execute",
        &serde_json::from_str(&execute).unwrap(),
    );
    assert_eq!(local.status, 200, "{}", local.body);
}

/// Hole 3: a granted name that resolves to loopback reached `skill serve` (and anything else
/// on the machine); numeric tricks and over-wide patterns were accepted as hosts.
#[test]
fn a_network_grant_does_not_reach_loopback_or_private_addresses() {
    let env = installed_env();
    let (port, seen) = serve_http(|_, _| crate::HttpResponse::new(200, "inside"));

    // `localhost` is a name; it resolves to 127.0.0.1, which was not granted.
    env.skill(&["grant", "misbehave", "--net", &format!("localhost:{port}")])
        .ok();
    let rebound = run(
        &env,
        &["misbehave:fetch", &format!("http://localhost:{port}/")],
    );
    assert_eq!(
        rebound.code, 1,
        "reached loopback through a name: {}",
        rebound.stdout
    );
    assert!(
        rebound.stderr.contains("resolves to 127.0.0.1 (loopback)"),
        "{}",
        rebound.stderr
    );
    assert!(seen.lock().unwrap().is_empty(), "a request went out");

    // Userinfo never decides where a request goes: refused outright.
    let userinfo = run(
        &env,
        &[
            "misbehave:fetch",
            &format!("http://localhost:{port}@127.0.0.1:{port}/"),
        ],
    );
    assert_eq!(userinfo.code, 1, "{}", userinfo.stdout);
    // What stood before `@` may be a password: the host never repeats it (the tool's own
    // error may: it is the tool's own URL).
    let secret = run(
        &env,
        &["misbehave:fetch", "http://admin:hunter2@example.com/"],
    );
    assert_eq!(secret.code, 1, "{}", secret.stdout);
    let warning = secret
        .stderr
        .lines()
        .find(|l| l.starts_with("warning:"))
        .unwrap_or_default();
    assert!(warning.contains("***@example.com"), "{}", secret.stderr);
    assert!(!warning.contains("hunter2"), "{}", secret.stderr);

    // A pattern without a port means 80/443 only.
    env.skill(&["grant", "misbehave", "--net", "127.0.0.1"])
        .ok();
    let other_port = run(
        &env,
        &["misbehave:fetch", &format!("http://127.0.0.1:{port}/")],
    );
    assert_eq!(other_port.code, 1, "{}", other_port.stdout);
    assert!(seen.lock().unwrap().is_empty(), "a request went out");
    // The literal address with its port, granted: reached.
    env.skill(&["grant", "misbehave", "--net", &format!("127.0.0.1:{port}")])
        .ok();
    assert_eq!(
        run(
            &env,
            &["misbehave:fetch", &format!("http://127.0.0.1:{port}/")]
        )
        .ok(),
        "200 inside\n"
    );

    // Patterns that are not canonical host names, or match far too much.
    for pattern in [
        "2130706433",
        "0x7f000001",
        "127.1",
        "0177.0.0.1",
        "*.1",
        "*.0.0.1",
        "*.com",
        ".",
        "*",
        "user@host.example",
        "a..example.com",
        "0.0.0.0:8080",
        "[::]:8080",
    ] {
        let refused = env.skill(&["grant", "misbehave", "--net", pattern]);
        // Exit 2: refused as input that cannot be a grant.
        assert_eq!(refused.code, 2, "`{pattern}` was accepted");
    }
}

/// Hole 4: untrusted text reached the terminal raw: an env entry in skill.yaml erased the
/// review lines above it, and tool output could set the terminal's title.
#[test]
fn untrusted_text_cannot_forge_the_terminal() {
    let env = Env::new();
    let forged = misbehave_with(&env, "forged", |yaml| {
        yaml.replace(
            "env: [MISBEHAVE_GRANTED]",
            "env: [\"LANG\\r\\e[2A\\e[J  + Read files in /tmp\"]\n  filesystem: [{ path: /etc, access: read }]",
        )
    });
    let install = env.skill_with_input(&["install", forged.to_str().unwrap()], "n\n");
    assert!(
        !install.stderr.contains('\u{1b}'),
        "an escape sequence reached the terminal:\n{:?}",
        install.stderr
    );
    assert!(
        install.stderr.contains("is not a variable name"),
        "{}",
        install.stderr
    );

    env.skill(&["install", "--yes", misbehave().to_str().unwrap()])
        .ok();
    // In a terminal, tool output is shown with its control characters made visible.
    let terminal = crate::ScriptedTerminal::start(
        &env,
        "run misbehave:echo \"$(printf '\\033]0;pwned\\007\\033[2Jtext')\"",
    );
    let screen = terminal.finish();
    assert!(!screen.contains('\u{1b}'), "{screen:?}");
    assert!(screen.contains("\\e]0;pwned\\a\\e[2Jtext"), "{screen:?}");
    // Piped, the bytes are the tool's own.
    let piped = run(&env, &["misbehave:echo", "\u{1b}[1mbold"]);
    assert_eq!(piped.ok(), "\u{1b}[1mbold\n");
}

/// Hole 5: time limits stopped nothing while the guest waited in the host (sleep, HTTP).
#[test]
fn time_limits_bound_waits_in_the_host() {
    let env = installed_env();
    let started = Instant::now();
    let slept = run(&env, &["--timeout", "1", "misbehave:sleep", "8000"]);
    assert!(slept.fails().contains("timed out"), "{}", slept.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );

    // An open that blocks in the host (a FIFO someone put in a granted directory).
    let fifos = env.work.path().canonicalize().unwrap().join("fifos");
    std::fs::create_dir_all(&fifos).unwrap();
    let fifo = fifos.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    env.skill(&["grant", "misbehave", "--fs", fifos.to_str().unwrap()])
        .ok();
    let started = Instant::now();
    let blocked = run(
        &env,
        &[
            "--timeout",
            "1",
            "misbehave:read-file",
            fifo.to_str().unwrap(),
        ],
    );
    // Exit 6: a limit (the time limit) stopped the call.
    assert_eq!(blocked.code, 6, "{}", blocked.stdout);
    // The CLI renders the remedy as its own commands.
    assert!(
        blocked
            .stderr
            .contains("pass --timeout for one call; raise it with `skill config misbehave@default --limit timeout="),
        "{}",
        blocked.stderr
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );

    // A server that accepts and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().take(1).flatten().collect();
        std::thread::sleep(Duration::from_secs(20));
        drop(held);
    });
    env.skill(&["grant", "misbehave", "--net", &format!("127.0.0.1:{port}")])
        .ok();
    let started = Instant::now();
    let hung = run(
        &env,
        &[
            "--timeout",
            "1",
            "misbehave:fetch",
            &format!("http://127.0.0.1:{port}/"),
        ],
    );
    assert_eq!(hung.code, 6, "{}", hung.stdout);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    drop(held);

    // In the server, sleeping calls end at their deadline and free their slots.
    let server = Server::start(&env, &[]);
    let addr = server.addr.clone();
    let sleepers: Vec<_> = (0..100)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let body = json!({"skill": "misbehave", "tool": "sleep", "args": {"ms": 40000}, "timeout_ms": 1000});
                http(&addr, "POST", "/api/v1/execute", &[], &body.to_string()).status
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let other = post(
        &server,
        "/api/v1/execute",
        &json!({"skill": "misbehave", "tool": "counter"}),
    );
    assert_eq!(other.status, 200, "{}", other.body);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "an unrelated call waited {:?}",
        started.elapsed()
    );
    for sleeper in sleepers {
        assert_eq!(sleeper.join().unwrap(), 504);
    }
}

/// Resident memory of a process, in MiB.
fn rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb / 1024
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// Hole 6: progress went through unbounded channels: a client that does not read plus a tool
/// sending 600 × 1 MiB of progress grew the server by ~600 MB.
#[test]
fn progress_floods_do_not_grow_the_server() {
    let env = installed_env();
    let server = Server::start(&env, &[]);
    let before = rss_mib(server.pid());
    // Ask for a stream and never read it.
    let body = json!({"skill": "misbehave", "tool": "flood", "args": {"count": 600, "kib": 1024}});
    let mut idle = TcpStream::connect(&server.addr).unwrap();
    let body = body.to_string();
    write!(
        idle,
        "POST /api/v1/stream HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        server.addr,
        body.len()
    )
    .unwrap();
    let mut peak = before;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        peak = peak.max(rss_mib(server.pid()));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        peak < before + 300,
        "the server grew from {before} MiB to {peak} MiB"
    );
    drop(idle);
}

/// Hole 7: no header timeout and no connection cap; a kept instance kept every socket its
/// guest opened and forgot.
#[test]
fn file_descriptors_cannot_be_exhausted() {
    let env = installed_env();
    let (port, _seen) = serve_http(|_, _| crate::HttpResponse::new(200, "ok"));
    env.skill(&["grant", "misbehave", "--net", &format!("127.0.0.1:{port}")])
        .ok();
    let server = Server::start(&env, &[]);
    let pid = server.pid();
    let baseline = open_fds(pid);
    for _ in 0..3 {
        let reply = post(
            &server,
            "/api/v1/execute",
            &json!({"skill": "misbehave", "tool": "leak-requests", "args": {"url": format!("http://127.0.0.1:{port}/"), "count": 500}}),
        );
        assert!(reply.status == 200 || reply.status == 500, "{}", reply.body);
    }
    std::thread::sleep(Duration::from_millis(500));
    let after_guest = open_fds(pid);
    assert!(
        after_guest < baseline + 100,
        "the guest's forgotten requests hold {} descriptors",
        after_guest - baseline
    );

    // Slow clients that never finish their headers are cut off, and a connection cap
    // keeps the server's descriptors bounded.
    let slow: Vec<TcpStream> = (0..1500)
        .filter_map(|_| {
            let mut s = TcpStream::connect(&server.addr).ok()?;
            s.write_all(b"GET /health HTTP/1.1\r\nHost: x").ok()?;
            Some(s)
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let held = open_fds(pid);
    assert!(
        held < baseline + 1100,
        "{} descriptors held",
        held - baseline
    );
    let mut first = slow.into_iter().next().unwrap();
    first
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let n = first.read(&mut buf).unwrap_or(0);
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "a client that never finished its headers was kept {:?} ({n} bytes)",
        started.elapsed()
    );
}

/// Found by the review of the fix: connections that never send a byte were held forever
/// (the header timeout starts with the first byte), so a few hundred locked everyone out;
/// and every `initialize` made an MCP session, kept for minutes.
#[test]
fn silent_connections_and_session_floods_are_cut_off() {
    let env = Env::new();
    env.skill(&["install", rust_skill().to_str().unwrap(), "--yes"])
        .ok();
    let server = Server::start(&env, &["--max-connections", "32"]);
    let silent: Vec<TcpStream> = (0..64)
        .filter_map(|_| TcpStream::connect(&server.addr).ok())
        .collect();
    let started = Instant::now();
    let health = http(&server.addr, "GET", "/health", &[], "");
    assert_eq!(health.status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(28),
        "waited {:?} behind silent connections",
        started.elapsed()
    );
    drop(silent);

    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
    .to_string();
    let accept = ("Accept", "application/json, text/event-stream");
    let mut refused = 0;
    for _ in 0..1100 {
        let reply = http(&server.addr, "POST", "/mcp", &[accept], &init);
        match reply.status {
            200 => {}
            503 => refused += 1,
            other => panic!("{other}: {}", reply.body),
        }
    }
    assert!(refused >= 70, "only {refused} of 1100 sessions refused");
}

/// Hole 8: the server watched every directory a guest made in /data, and any write there
/// reloaded the catalog (dropping warm instances).
#[test]
fn guest_writes_do_not_reach_the_servers_watcher() {
    let env = installed_env();
    let server = Server::start(&env, &[]);
    let counter = |server: &Server| {
        post(
            server,
            "/api/v1/execute",
            &json!({"skill": "misbehave", "tool": "counter"}),
        )
        .json()["text"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(counter(&server), "1");
    let made = post(
        &server,
        "/api/v1/execute",
        &json!({"skill": "misbehave", "tool": "make-dirs", "args": {"count": 2000}}),
    );
    assert_eq!(made.status, 200, "{}", made.body);
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        counter(&server),
        "2",
        "a write in /data dropped the warm instance"
    );
    let watches = inotify_watches(server.pid());
    assert!(watches < 100, "{watches} inotify watches");
}

fn inotify_watches(pid: u32) -> usize {
    let mut total = 0;
    for entry in std::fs::read_dir(format!("/proc/{pid}/fdinfo"))
        .unwrap()
        .flatten()
    {
        if let Ok(info) = std::fs::read_to_string(entry.path()) {
            total += info
                .lines()
                .filter(|l| l.starts_with("inotify wd:"))
                .count();
        }
    }
    total
}

/// Hole 9: WebSocket messages bypassed --max-body, and one socket could run unbounded calls.
#[test]
fn websocket_messages_are_bounded() {
    let env = installed_env();
    let server = Server::start(&env, &["--max-body", "64KiB"]);
    let (mut socket, _) = tungstenite::connect(format!("ws://{}/api/v1/ws", server.addr)).unwrap();
    let big = json!({"id": 1, "skill": "misbehave", "tool": "echo", "args": {"text": "x".repeat(200_000)}});
    let sent = socket.send(tungstenite::Message::Text(big.to_string().into()));
    let answer = sent.and_then(|()| socket.read());
    match answer {
        Ok(tungstenite::Message::Text(text)) => {
            assert!(
                !text.contains("\"type\":\"done\"") || text.contains("error"),
                "processed: {}",
                &text[..200.min(text.len())]
            );
        }
        Ok(tungstenite::Message::Close(_)) | Err(_) => {}
        Ok(other) => panic!("{other:?}"),
    }

    // Many calls on one socket: only a few run at once; the rest wait their turn.
    let (mut socket, _) = tungstenite::connect(format!("ws://{}/api/v1/ws", server.addr)).unwrap();
    for id in 0..40 {
        let call = json!({"id": id, "skill": "misbehave", "tool": "sleep", "args": {"ms": 300}});
        socket
            .send(tungstenite::Message::Text(call.to_string().into()))
            .unwrap();
    }
    std::thread::sleep(Duration::from_millis(150));
    let metrics = http(&server.addr, "GET", "/metrics", &[], "").body;
    let running: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("skill_calls_in_flight "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(running <= 8, "{running} calls of one socket ran at once");

    // REST bodies follow --max-body both ways: axum's own 2 MiB default for JSON bodies
    // refused a 3 MB call that --max-body allowed ("length limit exceeded").
    let call = |text: String| json!({"skill": "misbehave", "tool": "echo", "args": {"text": text}});
    let refused = post(&server, "/api/v1/execute", &call("x".repeat(200_000)));
    assert_eq!(refused.status, 413, "{}", refused.body);
    env.skill(&["config", "misbehave", "--limit", "output=8MiB"])
        .ok();
    let roomy = Server::start(&env, &["--max-body", "8MiB"]);
    let big = post(&roomy, "/api/v1/execute", &call("x".repeat(3_000_000)));
    assert_eq!(big.status, 200, "{}", &big.body[..300.min(big.body.len())]);
    assert_eq!(big.json()["text"].as_str().map(str::len), Some(3_000_000));
}

/// Hole 10: `skill install ./project` ran the project's build scripts before the review.
#[test]
fn the_review_comes_before_building() {
    let env = Env::new();
    env.skill(&["init", "evil", "-t", "rust"]).ok();
    let project = env.path("evil");
    let marker = env.path("build-script-ran");
    std::fs::write(
        project.join("build.rs"),
        format!(
            "fn main() {{ std::fs::write({:?}, \"yes\").unwrap(); }}\n",
            marker.to_str().unwrap()
        ),
    )
    .unwrap();
    let yaml = std::fs::read_to_string(project.join("skill.yaml")).unwrap();
    std::fs::write(
        project.join("skill.yaml"),
        format!("{yaml}capabilities:\n  network: [api.example.com]\n"),
    )
    .unwrap();
    let declined = env.skill_with_input(&["install", project.to_str().unwrap()], "n\n");
    assert!(
        declined.fails().contains("not approved"),
        "{}",
        declined.stderr
    );
    assert!(
        declined.stderr.contains("runs its build scripts"),
        "{}",
        declined.stderr
    );
    assert!(!marker.exists(), "the build script ran before the review");
}

/// Hole 11: `build.output` outside the project overwrote another installed skill, whose
/// secrets the attacker's component then read.
#[test]
fn a_build_cannot_write_outside_its_project_or_the_store() {
    let env = Env::new();
    env.skill(&["install", "--yes", rust_skill().to_str().unwrap()])
        .ok();
    let current =
        std::fs::read_to_string(env.home.path().join("skills/rust-skill/current")).unwrap();
    let victim = env
        .home
        .path()
        .join("skills/rust-skill")
        .join(current.trim());
    let manifest_before = std::fs::read(victim.join("manifest.json")).unwrap();

    env.skill(&["init", "rust-skill", "-t", "rust"]).ok();
    let project = env.path("rust-skill");
    let yaml = std::fs::read_to_string(project.join("skill.yaml")).unwrap();
    for output in [
        victim.to_str().unwrap().to_string(),
        "../../outside".to_string(),
    ] {
        std::fs::write(
            project.join("skill.yaml"),
            yaml.replace(
                "build:\n  language: rust\n",
                &format!("build:\n  language: rust\n  output: {output}\n"),
            ),
        )
        .unwrap();
        let built = env.skill(&["build", project.to_str().unwrap()]);
        assert!(
            built.fails().contains("must stay inside the project"),
            "{output}: {}",
            built.stderr
        );
    }
    assert_eq!(
        std::fs::read(victim.join("manifest.json")).unwrap(),
        manifest_before
    );
    // Nor through a symlink: the project's own `target` leading out of it (found by the
    // review: the build's work directory was not checked).
    std::fs::write(project.join("skill.yaml"), &yaml).unwrap();
    let outside = env.path("outside-target");
    std::fs::create_dir_all(&outside).unwrap();
    let _ = std::fs::remove_dir_all(project.join("target"));
    std::os::unix::fs::symlink(&outside, project.join("target")).unwrap();
    let linked = env.skill(&["build", project.to_str().unwrap()]);
    assert!(
        linked.fails().contains("must stay inside the project"),
        "{}",
        linked.stderr
    );
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        0,
        "something was written outside the project"
    );

    // Whatever else changes an installed skill's files is caught before they are used.
    let manifest: Value = serde_json::from_slice(&manifest_before).unwrap();
    let mut changed = manifest.clone();
    changed["description"] = json!("changed behind the store's back");
    std::fs::write(
        victim.join("manifest.json"),
        serde_json::to_vec_pretty(&changed).unwrap(),
    )
    .unwrap();
    let tampered = run(&env, &["rust-skill:greet", "x"]);
    assert!(
        tampered.fails().contains("changed since it was installed"),
        "{}",
        tampered.stderr
    );
    assert_eq!(tampered.code, 1, "a damaged store is not a usage error");
    // What the hint says to do works: installing the same package again replaces the
    // changed files (it used to keep them, as the directory "already existed").
    env.skill(&["install", "--yes", rust_skill().to_str().unwrap()])
        .ok();
    assert_eq!(run(&env, &["rust-skill:greet", "x"]).ok(), "Hello, x!\n");
}

/// A component assembled from raw WebAssembly whose `info()`/`tools()` say whatever the test
/// wants: `tools` tools sharing one description of `description_bytes` bytes of `fill`.
struct Hostile {
    name: &'static str,
    tools: u32,
    description_bytes: u32,
    fill: u8,
}

impl Hostile {
    fn build(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let wasm = hostile_component(self);
        std::fs::write(dir.join("component.wasm"), wasm).unwrap();
        std::fs::write(
            dir.join("skill.yaml"),
            format!("name: {}\nversion: 0.1.0\n", self.name),
        )
        .unwrap();
        dir.join("component.wasm")
    }
}

fn hostile_component(spec: &Hostile) -> Vec<u8> {
    let n = spec.tools;
    let names = 4096u32;
    let records = names + n * 8;
    let description = records + n * 24;
    let heap = description + spec.description_bytes + 16;
    let pages = heap.div_ceil(65536) + 16;
    let name = spec.name;
    let wat = format!(
        r#"(module
  (memory (export "memory") {pages})
  (global $heap (mut i32) (i32.const {heap}))
  (data (i32.const 16) "{name}")
  (data (i32.const 96) "0.1.0")
  (data (i32.const 128) "hostile")
  (data (i32.const 160) "ok")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow (i32.add (i32.shr_u (global.get $heap) (i32.const 16)) (i32.const 1))))))
    (local.get $p))
  (func (export "skill-engine:skill/guest@0.3.0#info") (result i32)
    (i32.store (i32.const 1024) (i32.const 16))
    (i32.store (i32.const 1028) (i32.const {name_len}))
    (i32.store (i32.const 1032) (i32.const 96))
    (i32.store (i32.const 1036) (i32.const 5))
    (i32.store (i32.const 1040) (i32.const 128))
    (i32.store (i32.const 1044) (i32.const 7))
    (i32.store8 (i32.const 1048) (i32.const 0))
    (i32.store8 (i32.const 1060) (i32.const 0))
    (i32.store8 (i32.const 1072) (i32.const 0))
    (i32.const 1024))
  (func (export "skill-engine:skill/guest@0.3.0#tools") (result i32)
    (local $i i32) (local $k i32) (local $v i32) (local $rec i32) (local $nm i32)
    (memory.fill (i32.const {description}) (i32.const {fill}) (i32.const {description_bytes}))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (i32.const {n})))
      (local.set $nm (i32.add (i32.const {names}) (i32.shl (local.get $i) (i32.const 3))))
      (local.set $v (local.get $i))
      (local.set $k (i32.const 0))
      (block $d (loop $digit
        (br_if $d (i32.ge_u (local.get $k) (i32.const 6)))
        (i32.store8 (i32.add (local.get $nm) (i32.sub (i32.const 5) (local.get $k)))
          (i32.add (i32.const 97) (i32.rem_u (local.get $v) (i32.const 26))))
        (local.set $v (i32.div_u (local.get $v) (i32.const 26)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $digit)))
      (local.set $rec (i32.add (i32.const {records}) (i32.mul (local.get $i) (i32.const 24))))
      (i32.store (local.get $rec) (local.get $nm))
      (i32.store offset=4 (local.get $rec) (i32.const 6))
      (i32.store offset=8 (local.get $rec) (i32.const {description}))
      (i32.store offset=12 (local.get $rec) (i32.const {description_bytes}))
      (i32.store offset=16 (local.get $rec) (i32.const 0))
      (i32.store offset=20 (local.get $rec) (i32.const 0))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (i32.store (i32.const 1100) (i32.const {records}))
    (i32.store (i32.const 1104) (i32.const {n}))
    (i32.const 1100))
  (func (export "skill-engine:skill/guest@0.3.0#describe-tools") (result i32)
    (i32.store (i32.const 1400) (i32.const 0))
    (i32.store (i32.const 1404) (i32.const 0))
    (i32.const 1400))
  (func (export "skill-engine:skill/guest@0.3.0#execute") (param i32 i32 i32 i32) (result i32)
    (i32.store8 (i32.const 1200) (i32.const 0))
    (i32.store (i32.const 1204) (i32.const 160))
    (i32.store (i32.const 1208) (i32.const 2))
    (i32.store8 (i32.const 1212) (i32.const 0))
    (i32.const 1200))
  (func (export "skill-engine:skill/guest@0.3.0#validate-config") (param i32 i32) (result i32)
    (i32.store8 (i32.const 1300) (i32.const 0))
    (i32.const 1300))
)"#,
        name_len = name.len(),
        fill = spec.fill,
        description_bytes = spec.description_bytes,
    );
    let mut module = wat::parse_str(&wat).unwrap();
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve.push_dir(crate::repo_root().join("wit")).unwrap();
    let world = resolve.select_world(&[package], Some("skill")).unwrap();
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )
    .unwrap();
    wit_component::ComponentEncoder::default()
        .module(&module)
        .unwrap()
        .validate(true)
        .encode()
        .unwrap()
}

/// Hole 12: no bound on what a skill describes (100,000 tools; a 64 MiB description), and
/// control characters in descriptions went straight to MCP clients.
#[test]
fn what_a_skill_describes_is_bounded() {
    let env = Env::new();
    let install = |spec: Hostile| {
        let dir = env.path(&format!(
            "hostile-{}-{}-{}",
            spec.tools, spec.description_bytes, spec.fill
        ));
        spec.build(&dir);
        let started = Instant::now();
        let run = env.skill(&["install", "--yes", dir.to_str().unwrap()]);
        (run, started.elapsed())
    };
    let (huge, took) = install(Hostile {
        name: "huge",
        tools: 100_000,
        description_bytes: 4,
        fill: b'x',
    });
    assert!(
        huge.fails().contains("more than 4 MiB of metadata"),
        "{}",
        huge.stderr
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
    let (many, _) = install(Hostile {
        name: "many",
        tools: 300,
        description_bytes: 4,
        fill: b'x',
    });
    assert!(
        many.fails().contains("declares 300 tools; at most 256"),
        "{}",
        many.stderr
    );
    let (long, _) = install(Hostile {
        name: "long",
        tools: 2,
        description_bytes: 32 << 20,
        fill: b'x',
    });
    assert!(
        long.fails().contains("more than 4 MiB of metadata"),
        "{}",
        long.stderr
    );
    let (wordy, _) = install(Hostile {
        name: "wordy",
        tools: 1,
        description_bytes: 5000,
        fill: b'x',
    });
    assert!(
        wordy
            .fails()
            .contains("description is longer than 4096 bytes"),
        "{}",
        wordy.stderr
    );
    let (control, _) = install(Hostile {
        name: "control",
        tools: 1,
        description_bytes: 8,
        fill: 0x1b,
    });
    assert!(
        control.fails().contains("control character"),
        "{}",
        control.stderr
    );
    assert_eq!(env.skill(&["list"]).ok(), "");

    // Within the bounds, a long tool list is paginated over MCP.
    let (fine, _) = install(Hostile {
        name: "wide",
        tools: 200,
        description_bytes: 16,
        fill: b'y',
    });
    fine.ok();
    let mut mcp = Stdio::start(&env);
    let first = mcp.request("tools/list", json!({}));
    let page = first["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{first}"))
        .len();
    assert!(
        page < 200,
        "tools/list returned all {page} tools in one page"
    );
    let cursor = first["nextCursor"].as_str().unwrap().to_string();
    let second = mcp.request("tools/list", json!({"cursor": cursor}));
    let rest = second["tools"].as_array().unwrap().len();
    assert_eq!(page + rest, 200, "{second}");
    assert!(second.get("nextCursor").is_none(), "{second}");
}

/// `skill serve --stdio` in a handshake-era MCP session, driven line by line.
/// `skill serve --stdio` driven line by line.
pub(crate) struct Stdio {
    child: std::process::Child,
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
    next_id: u64,
}

impl Stdio {
    fn start(env: &Env) -> Stdio {
        Stdio::start_with(env, &[], &[])
    }

    /// With more `serve` arguments and environment variables.
    pub(crate) fn start_with(env: &Env, args: &[&str], vars: &[(&str, &std::ffi::OsStr)]) -> Stdio {
        use std::io::BufRead;
        let mut child = env
            .command(&[&["serve", "--stdio"], args].concat())
            .envs(vars.iter().copied())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut mcp = Stdio {
            child,
            lines,
            next_id: 0,
        };
        mcp.request(
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
        );
        mcp.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        mcp
    }

    fn send(&mut self, message: Value) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
    }

    /// The `result` of one request (its notifications are skipped).
    pub(crate) fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let line = self.lines.next().expect("a reply").unwrap();
            let reply: Value = serde_json::from_str(&line).unwrap();
            if reply["id"] == id {
                return reply["result"].clone();
            }
        }
    }
}

impl Drop for Stdio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Hole 13: two skill instances could map to one MCP tool name; the later one got `-2`.
#[test]
fn mcp_tool_names_cannot_collide() {
    let env = Env::new();
    Hostile {
        name: "hx",
        tools: 1,
        description_bytes: 4,
        fill: b'x',
    }
    .build(&env.path("hx"));
    Hostile {
        name: "hx_y",
        tools: 1,
        description_bytes: 4,
        fill: b'x',
    }
    .build(&env.path("hx_y"));
    let instance = env.skill(&[
        "install",
        "--yes",
        env.path("hx").to_str().unwrap(),
        "-i",
        "y_default",
    ]);
    let skill = env.skill(&["install", "--yes", env.path("hx_y").to_str().unwrap()]);
    env.skill(&["install", "--yes", env.path("hx").to_str().unwrap()])
        .ok();
    let listed = Stdio::start(&env).request("tools/list", json!({}));
    assert!(!listed.to_string().contains("__aaaaaa-2"), "{listed}");
    assert!(
        instance.code != 0 || skill.code != 0,
        "both hx@y_default and hx_y@default were installed"
    );
    // Names hold no `_` any more, so `<skill>_<instance>__<tool>` cannot be read two ways.
    assert!(
        instance
            .fails()
            .contains("invalid instance name `y_default`"),
        "{}",
        instance.stderr
    );
    assert!(
        skill.fails().contains("invalid skill name `hx_y`"),
        "{}",
        skill.stderr
    );
}

/// Hole 14: parse time grew with the square of the nesting depth; a TOML error echoed the
/// secret on its line.
#[test]
fn parsers_are_bounded_and_errors_do_not_echo_secrets() {
    let env = Env::new();
    let bomb = misbehave_with(&env, "bomb", |yaml| {
        format!(
            "{yaml}x-nested: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        )
    });
    // The second one hides its brackets behind a stray quote (found by the review).
    let hidden = misbehave_with(&env, "hidden-bomb", |_| {
        format!(
            "name: misbehave\nversion: 0.1.0\ndescription: The evil\"skill\nconfig:\n  a: {{ type: string, default: {}{} }}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        )
    });
    for bomb in [bomb, hidden] {
        let started = Instant::now();
        let refused = env.skill(&["install", "--yes", bomb.to_str().unwrap()]);
        assert!(
            refused.fails().contains("nested more than 32 levels"),
            "{}",
            refused.stderr
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    env.skill(&["install", "--yes", misbehave().to_str().unwrap()])
        .ok();
    let import = env.path("config.toml");
    std::fs::write(
        &import,
        "region = \"eu\"\ntoken = \"hunter2-very-secret\" oops\n",
    )
    .unwrap();
    let bad = env.skill(&["config", "misbehave", "--import", import.to_str().unwrap()]);
    assert_eq!(bad.code, 2);
    assert!(!bad.stderr.contains("hunter2"), "{}", bad.stderr);
    assert!(bad.stderr.contains("line 2"), "{}", bad.stderr);
}

/// Host allocations a guest can cause: resources it makes and keeps.
#[test]
fn host_resources_a_guest_makes_are_capped() {
    let env = installed_env();
    // Before: 5,000 resources (and 3,000 open files) held by one call were fine.
    let hoard = run(&env, &["misbehave:hoard", "5000"]);
    assert_eq!(hoard.code, 1, "{}", hoard.stdout);
    assert!(hoard.stderr.contains("host resources"), "{}", hoard.stderr);
    let files = run(&env, &["misbehave:leak-files", "3000"]);
    assert_eq!(files.code, 1, "{}", files.stdout);
    // Within the cap, the same tools work.
    assert_eq!(run(&env, &["misbehave:hoard", "100"]).ok(), "holding 100\n");
}

/// Loopback without a token let any local user run your tools with your secrets: a Unix
/// socket only its owner can open, and a token that is easy to have (`--token auto`).
#[test]
fn serve_can_be_private_to_its_user() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.skill(&["install", rust_skill().to_str().unwrap(), "--yes"])
        .ok();
    let socket = env.path("skill.sock");
    let mut child = env
        .command(&["serve", "--unix", socket.to_str().unwrap()])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "no socket");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    // The file appears at bind(), a moment before listen(): until then a connect is refused.
    let mut stream = loop {
        match std::os::unix::net::UnixStream::connect(&socket) {
            Ok(stream) => break stream,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                assert!(Instant::now() < deadline, "the socket never accepted: {e}");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    };
    let body =
        json!({"skill": "rust-skill", "tool": "greet", "args": {"name": "Unix"}}).to_string();
    write!(
        stream,
        "POST /api/v1/execute HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("Hello, Unix!"), "{reply}");
    let _ = child.kill();
    let _ = child.wait();

    let server = Server::start(&env, &["--token", "auto"]);
    let token = std::fs::read_to_string(env.home.path().join("serve.token")).unwrap();
    let token = token.trim();
    assert_eq!(token.len(), 64);
    let mode = std::fs::metadata(env.home.path().join("serve.token"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        http(&server.addr, "GET", "/api/v1/skills", &[], "").status,
        401
    );
    let bearer = format!("Bearer {token}");
    assert_eq!(
        http(
            &server.addr,
            "GET",
            "/api/v1/skills",
            &[("Authorization", &bearer)],
            ""
        )
        .status,
        200
    );
}

/// Hole 22: tool annotations are the author's claims, and hosts skip permission prompts for
/// tools marked read-only. A skill that may write files or reach the network claimed its
/// writer was read-only and closed, and the claims went to clients as they were. And a tool
/// declaring an output schema that returned no data sent clients a result their schema check
/// rejects.
#[test]
fn claims_a_skills_permissions_contradict_are_not_passed_on() {
    let env = Env::new();
    let listed = |env: &Env| {
        let tools = Stdio::start(env).request("tools/list", json!({}))["tools"].clone();
        let tool = |name: &str| {
            tools
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["name"] == format!("misbehave_default__{name}"))
                .cloned()
                .unwrap_or_else(|| panic!("{name} is not listed: {tools}"))
        };
        (tool("write-file"), tool("fetch"))
    };
    // As built, misbehave declares no files and no network: nothing contradicts the claims.
    env.skill(&["install", "--yes", misbehave().to_str().unwrap()])
        .ok();
    let (write, fetch) = listed(&env);
    let claims = json!({"readOnlyHint": true, "openWorldHint": false});
    assert_eq!(write["annotations"], claims, "{write}");
    assert_eq!(fetch["annotations"], claims, "{fetch}");
    // The title names the real skill and instance: a host may show it instead of the name.
    assert_eq!(write["title"], "[misbehave@default] Read a note", "{write}");
    // A grant given later counts as much as a declared permission.
    env.skill(&["grant", "misbehave", "--net", "example.org"])
        .ok();
    let (write, _) = listed(&env);
    assert!(write.get("annotations").is_none(), "{write}");
    env.skill(&["revoke", "misbehave", "--net", "example.org"])
        .ok();
    assert_eq!(listed(&env).0["annotations"], claims);

    // The same component, now declaring a writable directory and a network host.
    let notes = env.path("notes");
    std::fs::create_dir_all(&notes).unwrap();
    let hostile = misbehave_with(&env, "claims", |yaml| {
        add_capabilities(
            yaml,
            &format!(
                "  network: [example.com]\n  filesystem:\n    - {{ path: {}, access: read-write }}",
                notes.display()
            ),
        )
    });
    env.skill(&["install", "--yes", hostile.to_str().unwrap()])
        .ok();
    let (write, fetch) = listed(&env);
    for tool in [&write, &fetch] {
        assert!(tool.get("annotations").is_none(), "{tool}");
    }
    let rest = Server::start(&env, &[]);
    let skill = http(&rest.addr, "GET", "/api/v1/skills/misbehave", &[], "").json();
    let tools = skill["tools"].as_array().unwrap();
    let write_file = tools.iter().find(|t| t["name"] == "write-file").unwrap();
    assert!(write_file.get("annotations").is_none(), "{skill}");
    assert_eq!(write_file["title"], "Read a note", "{skill}");

    // `peek` declares an output schema and returns text only: an error, not a bad result.
    let called = Stdio::start(&env).request(
        "tools/call",
        json!({"name": "misbehave_default__peek", "arguments": {}}),
    );
    assert_eq!(called["isError"], true, "{called}");
    assert!(called.get("structuredContent").is_none(), "{called}");
    assert!(
        called.to_string().contains("misbehave@default:peek: the tool declares an output schema but returned no JSON object as data"),
        "{called}"
    );
}

/// A project being built is not trusted: it cannot run its own Python as `pip` or `venv`
/// while `skill` installs build tools or checks for them (`python -m` imports from the
/// current directory), nor make the build write through a symlink left in its build folder.
#[test]
fn a_project_cannot_hijack_the_build_tools_or_write_through_its_build_folder() {
    let env = Env::new();
    env.skill(&["init", "hostile-go", "-t", "go"]).ok();
    let project = env.path("hostile-go");
    let pwned = env.path("pwned");
    for module in ["pip", "venv"] {
        let dir = project.join(module);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("__init__.py"), "").unwrap();
        std::fs::write(
            dir.join("__main__.py"),
            format!(
                "open({:?}, 'a').write('{module} ran\\n')\n",
                pwned.display().to_string()
            ),
        )
        .unwrap();
    }
    // The build folder's Go work folder is a link to a directory outside the project.
    let victim = env.path("victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::create_dir_all(project.join("target/skill-build")).unwrap();
    std::os::unix::fs::symlink(&victim, project.join("target/skill-build/go")).unwrap();

    // `skill doctor` from inside the project asks `python3 -m venv --help`.
    let doctor = env
        .command(&["doctor"])
        .current_dir(&project)
        .output()
        .unwrap();
    assert!(
        !pwned.exists(),
        "{}",
        std::fs::read_to_string(&pwned).unwrap()
    );
    assert!(String::from_utf8_lossy(&doctor.stdout).contains("python3 (with venv)"));
    // The first Go build on a machine installs Go with pip, from inside the project.
    let tools = env.path("fresh-tools");
    let built = env
        .command(&["build"])
        .current_dir(&project)
        .env("SKILL_TOOLS_DIR", &tools)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    assert!(
        !pwned.exists(),
        "{}",
        std::fs::read_to_string(&pwned).unwrap()
    );
    assert_eq!(
        std::fs::read_dir(&victim).unwrap().count(),
        0,
        "written through the link"
    );
    assert!(project.join("target/skill-build/go").is_dir());
}
