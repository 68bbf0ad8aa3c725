//! `skill serve` with real clients: the Python `mcp` package (stdio and streamable HTTP, both
//! protocol generations), the MCP Inspector CLI, the MCP conformance suite, plain HTTP for the
//! REST API and a WebSocket client. Clients come from scripts/test-clients.sh.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Env, misbehave, repo_root, rust_skill};

fn clients_dir() -> PathBuf {
    let dir = repo_root().join("target/test-clients");
    assert!(
        dir.join(".complete").exists(),
        "the MCP test clients are not installed; run scripts/test-clients.sh (scripts/test.sh does)"
    );
    dir
}

pub(crate) fn python() -> PathBuf {
    clients_dir().join("venv/bin/python")
}

pub(crate) fn client_script(name: &str) -> PathBuf {
    repo_root().join("toolchain/cli/tests/clients").join(name)
}

/// An env with the example and the misbehaving fixture installed.
fn env_with_skills() -> Env {
    let env = Env::new();
    env.skill(&["install", rust_skill().to_str().unwrap(), "--yes"])
        .ok();
    env.skill(&["install", misbehave().to_str().unwrap(), "--yes"])
        .ok();
    env
}

/// A running `skill serve`, stopped (SIGKILL) on drop unless stopped gracefully first.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    pub(crate) fn start(env: &Env, args: &[&str]) -> Server {
        let mut all = vec!["serve", "--port", "0"];
        all.extend_from_slice(args);
        let mut child = env
            .command(&all)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = String::new();
        let addr = loop {
            let Some(Ok(line)) = lines.next() else {
                panic!("skill serve ended before listening:\n{seen}");
            };
            seen.push_str(&line);
            seen.push('\n');
            if let Some(addr) = listening_addr(&line) {
                break addr;
            }
        };
        let stderr = Arc::new(Mutex::new(seen));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Server {
            child,
            addr,
            stderr,
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// SIGTERM, then the exit status (bounded wait).
    fn terminate(&mut self) -> std::process::ExitStatus {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "skill serve did not stop:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in `skill serve: listening on http(s)://ADDR (...)`.
fn listening_addr(line: &str) -> Option<String> {
    let url = line.split("listening on ").nth(1)?;
    let rest = url.split_once("://")?.1;
    Some(rest.split_whitespace().next()?.to_string())
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: String,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One HTTP/1.1 request over a fresh connection (so Host and any header can be set freely).
pub(crate) fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let rest = raw.get(split + 4..).unwrap_or_default();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Reply {
        status,
        headers: head,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A chunked body's bytes (a compressed body is not text, so this works on bytes).
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&rest[..end]).trim(), 16).unwrap_or(0);
        let after = &rest[end + 2..];
        if size == 0 || after.len() < size {
            break;
        }
        body.extend_from_slice(&after[..size]);
        rest = after[size..]
            .strip_prefix(b"\r\n")
            .unwrap_or(&after[size..]);
    }
    body
}

pub(crate) fn post(server: &Server, path: &str, body: &Value) -> Reply {
    http(&server.addr, "POST", path, &[], &body.to_string())
}

/// Runs the Python client script and returns the JSON it printed.
fn python_client(env: &Env, args: &[&str], mode: &str) -> Value {
    let output = Command::new(python())
        .arg(client_script("mcp_client.py"))
        .args(args)
        .env("SKILL_HOME", env.home.path())
        .env("MCP_MODE", mode)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "client failed\n{stdout}\n{stderr}");
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}\nstdout:\n{stdout}\nstderr:\n{stderr}"))
}

fn check_python_session(seen: &Value, protocol: &str) {
    assert_eq!(seen["protocol_version"], protocol, "{seen}");
    let greet = &seen["tools"]["rust-skill_default__greet"];
    assert!(
        greet["description"]
            .as_str()
            .unwrap()
            .starts_with("[rust-skill@default] Greets"),
        "{greet}"
    );
    assert_eq!(
        greet["input_schema"]["properties"]["name"]["type"],
        "string"
    );
    assert_eq!(greet["input_schema"]["required"], json!(["name"]));
    assert_eq!(
        seen["tools"]["rust-skill_default__repeat"]["input_schema"]["properties"]["times"]["default"],
        2
    );
    assert_eq!(
        seen["greet"],
        json!({"is_error": false, "text": ["Hello, Python!"]})
    );
    // Title, annotations and output schema as the author declared them (contract 0.3.0);
    // a tool that declares none has none, never "read-only".
    let divide = &seen["tools"]["rust-skill_default__divide"];
    assert_eq!(
        divide["title"], "[rust-skill@default] Divide two numbers",
        "{divide}"
    );
    assert_eq!(
        divide["annotations"],
        json!({"readOnlyHint": true, "idempotentHint": true, "openWorldHint": false}),
        "{divide}"
    );
    assert_eq!(
        divide["output_schema"]["required"],
        json!(["quotient"]),
        "{divide}"
    );
    let repeat = &seen["tools"]["rust-skill_default__repeat"];
    assert!(
        repeat["annotations"].is_null() && repeat["title"].is_null(),
        "{repeat}"
    );
    assert_eq!(
        seen["divide"],
        json!({"is_error": false, "structured": {"quotient": 0.25}})
    );
    assert_eq!(seen["divide_by_zero"]["is_error"], true);
    assert!(
        seen["divide_by_zero"]["text"][0]
            .as_str()
            .unwrap()
            .contains("cannot divide by zero")
    );
    assert_eq!(seen["bad_args"]["is_error"], true);
    assert!(
        seen["bad_args"]["text"][0]
            .as_str()
            .unwrap()
            .contains("expects integer")
    );
    assert_eq!(
        seen["progress"],
        json!([{"progress": 50.0, "total": 100.0, "message": "halfway"}])
    );
    assert_eq!(seen["report"]["text"], json!(["done"]));
    assert_eq!(seen["chatter"]["is_error"], false);
    assert!(
        seen["unknown_tool"]
            .as_str()
            .unwrap()
            .contains("no tool named"),
        "{seen}"
    );
}

#[test]
fn python_mcp_client_over_stdio() {
    let env = env_with_skills();
    let skill = env!("CARGO_BIN_EXE_skill");
    check_python_session(
        &python_client(&env, &["stdio", skill], "auto"),
        "2026-07-28",
    );
    check_python_session(
        &python_client(&env, &["stdio", skill], "legacy"),
        "2025-11-25",
    );
}

#[test]
fn python_mcp_client_over_streamable_http() {
    let env = env_with_skills();
    let server = Server::start(&env, &[]);
    let url = server.url("/mcp");
    check_python_session(&python_client(&env, &["http", &url], "auto"), "2026-07-28");
    check_python_session(
        &python_client(&env, &["http", &url], "legacy"),
        "2025-11-25",
    );
    // Logs went to stderr; the unknown tool was logged there, not sent as output.
    assert!(
        server.stderr().contains("no tool named"),
        "{}",
        server.stderr()
    );
}

#[test]
fn clients_hear_tools_list_changed_on_install_and_remove() {
    // Built before any client waits (a first build can take longer than the client's wait).
    let misbehave = misbehave();
    let env = Env::new();
    env.skill(&["install", rust_skill().to_str().unwrap(), "--yes"])
        .ok();
    let server = Server::start(&env, &[]);
    for (mode, change) in [("auto", "install"), ("legacy", "remove")] {
        let mut client = Command::new(python())
            .arg(client_script("mcp_list_changed.py"))
            .arg(server.url("/mcp"))
            .env("MCP_MODE", mode)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(client.stdout.take().unwrap()).lines();
        let ready = lines.next().unwrap().unwrap();
        assert!(ready.starts_with("READY "), "{ready}");
        if change == "install" {
            env.skill(&["install", misbehave.to_str().unwrap(), "--yes"])
                .ok();
        } else {
            env.skill(&["remove", "misbehave", "--yes"]).ok();
        }
        let after: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        let status = client.wait().unwrap();
        assert!(status.success());
        let has_misbehave = after["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_str().unwrap().starts_with("misbehave_default__"));
        assert_eq!(has_misbehave, change == "install", "{mode}: {after}");
    }
}

pub(crate) fn inspector(args: &[&str], env: &Env) -> Value {
    let output = Command::new("node")
        .arg(clients_dir().join("node_modules/@modelcontextprotocol/inspector/cli/build/cli.js"))
        .arg("--cli")
        .args(args)
        .env("SKILL_HOME", env.home.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "inspector failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let start = stdout
        .find('{')
        .unwrap_or_else(|| panic!("no JSON:\n{stdout}"));
    serde_json::from_str(&stdout[start..]).unwrap()
}

#[test]
fn mcp_inspector_cli_lists_and_calls_tools() {
    let env = Env::new();
    env.skill(&["install", rust_skill().to_str().unwrap(), "--yes"])
        .ok();
    let skill = env!("CARGO_BIN_EXE_skill");
    let call = [
        "--method",
        "tools/call",
        "--tool-name",
        "rust-skill_default__add",
        "--tool-arg",
        "a=2",
        "--tool-arg",
        "b=40",
    ];
    // stdio: the inspector launches `skill serve --stdio`.
    let listed = inspector(&[skill, "serve", "--stdio", "--method", "tools/list"], &env);
    let names: Vec<&str> = listed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "rust-skill_default__add",
            "rust-skill_default__divide",
            "rust-skill_default__greet",
            "rust-skill_default__repeat"
        ]
    );
    let mut args = vec![skill, "serve", "--stdio"];
    args.extend_from_slice(&call);
    let called = inspector(&args, &env);
    assert_eq!(called["content"][0]["text"], "42", "{called}");
    assert_eq!(called["isError"], false);
    // Streamable HTTP against a running server.
    let server = Server::start(&env, &[]);
    let url = server.url("/mcp");
    let mut args = vec![url.as_str(), "--transport", "http"];
    args.extend_from_slice(&call);
    assert_eq!(inspector(&args, &env)["content"][0]["text"], "42");
}

#[test]
fn conformance_suite_passes_with_its_baseline() {
    let env = Env::new();
    env.skill(&["install", rust_skill().to_str().unwrap(), "--yes"])
        .ok();
    let server = Server::start(&env, &[]);
    let output = Command::new(clients_dir().join("node_modules/.bin/conformance"))
        .args([
            "server",
            "--url",
            &server.url("/mcp"),
            "--expected-failures",
        ])
        .arg(repo_root().join("toolchain/cli/tests/clients/conformance-baseline.yml"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "conformance failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for passing in [
        "server-initialize",
        "ping",
        "tools-list",
        "dns-rebinding-protection",
    ] {
        assert!(
            stdout.contains(&format!("✓ {passing}:")),
            "{passing} should pass:\n{stdout}"
        );
    }
}

#[test]
fn rest_api_lists_executes_streams_and_reports() {
    let env = env_with_skills();
    let server = Server::start(&env, &[]);
    let addr = server.addr.clone();

    let skills = http(&addr, "GET", "/api/v1/skills", &[], "").json();
    let names: Vec<&str> = skills["skills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["misbehave", "rust-skill"]);
    let one = http(&addr, "GET", "/api/v1/skills/rust-skill", &[], "").json();
    assert_eq!(one["instances"], json!(["default"]));
    assert_eq!(
        http(&addr, "GET", "/api/v1/skills/nope", &[], "").status,
        404
    );

    let ok = post(
        &server,
        "/api/v1/execute",
        &json!({"skill": "rust-skill", "tool": "divide", "args": {"a": 1, "b": 4}}),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["text"], "0.25");
    assert_eq!(ok.json()["data"], json!({"quotient": 0.25}));

    let failed = post(
        &server,
        "/api/v1/execute",
        &json!({"skill": "rust-skill@default", "tool": "divide", "args": {"a": 1, "b": 0}}),
    );
    assert_eq!(failed.status, 422);
    assert_eq!(failed.json()["error"]["kind"], "tool");

    let unknown = post(
        &server,
        "/api/v1/execute",
        &json!({"skill": "rust-skill", "tool": "greeet"}),
    );
    assert_eq!(unknown.status, 404);
    assert!(
        unknown.json()["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("greet")
    );

    let ill_typed = post(
        &server,
        "/api/v1/execute",
        &json!({"skill": "rust-skill", "tool": "add", "args": {"a": "x", "b": 1}}),
    );
    assert_eq!(ill_typed.status, 400);

    // Malformed JSON is a 400 with a hint, and the server keeps serving.
    let bad = http(&addr, "POST", "/api/v1/execute", &[], "{not json");
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"]["hint"].as_str().is_some());
    let bad_rpc = http(
        &addr,
        "POST",
        "/mcp",
        &[("Accept", "application/json, text/event-stream")],
        "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\"",
    );
    assert!(
        bad_rpc.status >= 400 || bad_rpc.body.contains("-32700"),
        "{}",
        bad_rpc.body
    );

    // SSE: start, progress, done, close, in that order.
    let stream = post(
        &server,
        "/api/v1/stream",
        &json!({"skill": "misbehave", "tool": "report"}),
    );
    assert_eq!(stream.status, 200);
    let events: Vec<&str> = stream
        .body
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .filter(|e| *e != "log")
        .collect();
    assert_eq!(
        events,
        ["start", "progress", "done", "close"],
        "{}",
        stream.body
    );
    assert!(stream.body.contains("\"message\":\"halfway\""));

    // Trapping and spinning guests come back as errors; the server stays up.
    let timed_out = post(
        &server,
        "/api/v1/execute",
        &json!({"skill": "misbehave", "tool": "spin", "timeout_ms": 200}),
    );
    assert_eq!(timed_out.status, 504, "{}", timed_out.body);
    // A remote client reads what it (or the server's operator) can do, not a command it
    // cannot run; `skill run` says the command (below, in the CLI's own test).
    let hint = timed_out.json()["error"]["hint"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(hint.contains("server's operator can raise"), "{hint}");
    assert!(
        !hint.contains("skill config") && !hint.contains("--"),
        "{hint}"
    );
    let crashed = post(
        &server,
        "/api/v1/execute",
        &json!({"skill": "misbehave", "tool": "crash", "args": {"message": "boom"}}),
    );
    assert_eq!(crashed.status, 500);

    assert_eq!(http(&addr, "GET", "/health", &[], "").status, 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    while http(&addr, "GET", "/ready", &[], "").status != 200 {
        assert!(Instant::now() < deadline, "never ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    let metrics = http(&addr, "GET", "/metrics", &[], "").body;
    assert!(
        metrics.contains("skill_executions_total{skill=\"rust-skill\",tool=\"divide\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("skill_execution_errors_total{skill=\"rust-skill\",tool=\"divide\"} 1")
    );
    assert!(metrics.contains(
        "skill_execution_duration_seconds_bucket{skill=\"misbehave\",tool=\"spin\",le=\"+Inf\"} 1"
    ));

    let openapi = http(&addr, "GET", "/api/v1/openapi.json", &[], "").json();
    assert_eq!(openapi["openapi"], "3.1.0");
    assert!(openapi["paths"]["/api/v1/execute"]["post"].is_object());

    // Compression when asked for.
    let gz = http(
        &addr,
        "GET",
        "/api/v1/openapi.json",
        &[("Accept-Encoding", "gzip")],
        "",
    );
    assert!(
        gz.headers
            .to_ascii_lowercase()
            .contains("content-encoding: gzip"),
        "{}",
        gz.headers
    );
}

#[test]
fn calls_reuse_an_instance_until_one_breaks_it_unless_fresh_instances() {
    let env = env_with_skills();
    let counter = |server: &Server| {
        let reply = post(
            server,
            "/api/v1/execute",
            &json!({"skill": "misbehave", "tool": "counter"}),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()["text"].as_str().unwrap().to_string()
    };
    let server = Server::start(&env, &[]);
    assert_eq!(counter(&server), "1");
    assert_eq!(
        counter(&server),
        "2",
        "the second call ran in the kept instance"
    );
    // A trap and a timeout each discard the instance they ran in.
    let crashed = post(
        &server,
        "/api/v1/execute",
        &json!({"skill": "misbehave", "tool": "crash", "args": {"message": "boom"}}),
    );
    assert_eq!(crashed.status, 500);
    assert_eq!(counter(&server), "1", "a crashed instance is not reused");
    let timed_out = post(
        &server,
        "/api/v1/execute",
        &json!({"skill": "misbehave", "tool": "spin", "timeout_ms": 200}),
    );
    assert_eq!(timed_out.status, 504, "{}", timed_out.body);
    assert_eq!(counter(&server), "1", "a timed-out instance is not reused");
    // Changing the instance's config drops its kept instances.
    assert_eq!(counter(&server), "2");
    env.skill(&["config", "misbehave", "--set", "region=us-east-1"])
        .ok();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n = counter(&server);
        if n == "1" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "config change never dropped the instance"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(server);

    let fresh = Server::start(&env, &["--fresh-instances"]);
    assert_eq!(counter(&fresh), "1");
    assert_eq!(
        counter(&fresh),
        "1",
        "--fresh-instances: a new instance per call"
    );
}

/// Raw streamable-HTTP exchanges in a handshake-era session: single-message replies come as
/// JSON (plain tools/call directly, the rest through rmcp), a call with a progress token
/// streams, and the direct path keeps the session, Host and Origin checks.
#[test]
fn mcp_http_replies_are_json_unless_notifications_come_first() {
    let env = env_with_skills();
    let server = Server::start(&env, &[]);
    let addr = server.addr.clone();
    let header = |reply: &Reply, name: &str| {
        reply
            .headers
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let accept = ("Accept", "application/json, text/event-stream");
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let opened = http(&addr, "POST", "/mcp", &[accept], &init.to_string());
    assert_eq!(opened.status, 200, "{}", opened.body);
    assert_eq!(header(&opened, "content-type"), "application/json");
    assert_eq!(opened.json()["result"]["protocolVersion"], "2025-11-25");
    let session = header(&opened, "mcp-session-id");
    assert!(!session.is_empty(), "{}", opened.headers);
    let in_session = |extra: &[(&str, &str)], body: Value| {
        let mut headers = vec![
            accept,
            ("Mcp-Session-Id", session.as_str()),
            ("MCP-Protocol-Version", "2025-11-25"),
        ];
        headers.extend_from_slice(extra);
        http(&addr, "POST", "/mcp", &headers, &body.to_string())
    };
    let initialized = in_session(
        &[],
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    assert_eq!(initialized.status, 202);

    let call = |name: &str, args: Value| {
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": name, "arguments": args}})
    };
    let added = in_session(
        &[],
        call("rust-skill_default__add", json!({"a": 2, "b": 40})),
    );
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(header(&added, "content-type"), "application/json");
    assert_eq!(added.json()["id"], 7);
    assert_eq!(added.json()["result"]["content"][0]["text"], "42");
    assert_eq!(added.json()["result"]["isError"], false);
    let failed = in_session(
        &[],
        call("rust-skill_default__divide", json!({"a": 1, "b": 0})),
    );
    assert_eq!(failed.json()["result"]["isError"], true, "{}", failed.body);
    let unknown = in_session(&[], call("nope__nothing", json!({})));
    assert_eq!(unknown.json()["error"]["code"], -32602, "{}", unknown.body);

    // The direct path keeps rmcp's guards: DNS rebinding, cross-origin pages, dead sessions.
    let add = call("rust-skill_default__add", json!({"a": 1, "b": 1}));
    assert_eq!(
        in_session(&[("Host", "evil.example")], add.clone()).status,
        403
    );
    assert_eq!(
        in_session(&[("Origin", "http://evil.example")], add.clone()).status,
        403
    );
    let stale = http(
        &addr,
        "POST",
        "/mcp",
        &[
            accept,
            ("Mcp-Session-Id", "no-such-session"),
            ("MCP-Protocol-Version", "2025-11-25"),
        ],
        &add.to_string(),
    );
    assert_eq!(stale.status, 404, "{}", stale.body);

    // Other requests go through rmcp and still come back as JSON...
    let listed = in_session(
        &[],
        json!({"jsonrpc": "2.0", "id": 8, "method": "tools/list"}),
    );
    assert_eq!(header(&listed, "content-type"), "application/json");
    assert!(listed.json()["result"]["tools"].as_array().unwrap().len() > 4);
    // ...unless a notification comes first: progress, then the result, on one stream.
    let with_progress = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
        "params": {"name": "misbehave_default__report", "_meta": {"progressToken": "p"}}});
    let streamed = in_session(&[], with_progress);
    assert_eq!(streamed.status, 200);
    assert!(
        header(&streamed, "content-type").starts_with("text/event-stream"),
        "{}",
        streamed.headers
    );
    let progress = streamed.body.find("notifications/progress");
    let result = streamed.body.find("\"id\":9");
    assert!(
        progress.is_some() && result.is_some() && progress < result,
        "{}",
        streamed.body
    );
}

#[test]
fn websocket_runs_calls_and_streams_progress() {
    let env = env_with_skills();
    let server = Server::start(&env, &[]);
    let (mut socket, _) = tungstenite::connect(format!("ws://{}/api/v1/ws", server.addr)).unwrap();
    let send = |socket: &mut tungstenite::WebSocket<_>, v: Value| {
        socket
            .send(tungstenite::Message::Text(v.to_string().into()))
            .unwrap();
    };
    send(
        &mut socket,
        json!({"id": 1, "skill": "misbehave", "tool": "report"}),
    );
    send(
        &mut socket,
        json!({"id": 2, "skill": "rust-skill", "tool": "greet", "args": {"name": "WS"}}),
    );
    send(
        &mut socket,
        json!({"id": 3, "skill": "rust-skill", "tool": "nope"}),
    );
    let mut done = std::collections::BTreeMap::new();
    let mut progress = Vec::new();
    while done.len() < 3 {
        let message = socket.read().unwrap();
        let value: Value = serde_json::from_str(message.to_text().unwrap()).unwrap();
        match value["type"].as_str().unwrap() {
            "done" => {
                done.insert(value["id"].as_i64().unwrap(), value);
            }
            "progress" => progress.push(value),
            _ => {}
        }
    }
    assert_eq!(done[&1]["text"], "done");
    assert_eq!(done[&2]["text"], "Hello, WS!");
    assert_eq!(done[&3]["error"]["kind"], "not-found");
    assert_eq!(progress.len(), 1);
    assert_eq!(progress[0]["id"], 1);
    assert_eq!(progress[0]["percent"], 50);
}

#[test]
fn many_concurrent_calls_all_succeed() {
    let env = Env::new();
    env.skill(&["install", rust_skill().to_str().unwrap(), "--yes"])
        .ok();
    let server = Server::start(&env, &[]);
    let addr = server.addr.clone();
    let threads: Vec<_> = (0..48)
        .map(|i| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let body =
                    json!({"skill": "rust-skill", "tool": "add", "args": {"a": i, "b": 1000}});
                http(&addr, "POST", "/api/v1/execute", &[], &body.to_string())
            })
        })
        .collect();
    for (i, t) in threads.into_iter().enumerate() {
        let reply = t.join().unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.json()["text"], (i + 1000).to_string());
    }
    assert!(
        !server.stderr().contains("pool unavailable"),
        "{}",
        server.stderr()
    );
}

#[test]
fn non_loopback_needs_a_token_and_mcp_checks_host() {
    let env = Env::new();
    env.skill(&["install", rust_skill().to_str().unwrap(), "--yes"])
        .ok();
    let refused = env.skill(&["serve", "--host", "0.0.0.0", "--port", "0"]);
    assert!(
        refused.fails().contains("SKILL_SERVE_TOKEN"),
        "{}",
        refused.stderr
    );

    let token = "0123456789abcdef0123456789abcdef";
    // --token on the command line, bound to every address.
    let server = Server::start(&env, &["--host", "0.0.0.0", "--token", token]);
    let port = server.addr.rsplit(':').next().unwrap().to_string();
    let local = format!("127.0.0.1:{port}");
    assert_eq!(http(&local, "GET", "/api/v1/skills", &[], "").status, 401);
    let wrong = http(
        &local,
        "GET",
        "/api/v1/skills",
        &[("Authorization", "Bearer nope")],
        "",
    );
    assert_eq!(wrong.status, 401);
    assert!(
        wrong
            .headers
            .to_ascii_lowercase()
            .contains("www-authenticate: bearer")
    );
    let bearer = format!("Bearer {token}");
    assert_eq!(
        http(
            &local,
            "GET",
            "/api/v1/skills",
            &[("Authorization", &bearer)],
            ""
        )
        .status,
        200
    );
    assert_eq!(http(&local, "GET", "/health", &[], "").status, 200);

    // DNS rebinding: a page on evil.example resolving to us must not reach /mcp.
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let accept = ("Accept", "application/json, text/event-stream");
    let rebound = http(
        &local,
        "POST",
        "/mcp",
        &[("Authorization", &bearer), ("Host", "evil.example"), accept],
        &init.to_string(),
    );
    assert_eq!(rebound.status, 403, "{}", rebound.body);
    let cross_origin = http(
        &local,
        "POST",
        "/mcp",
        &[
            ("Authorization", &bearer),
            ("Origin", "http://evil.example"),
            accept,
        ],
        &init.to_string(),
    );
    assert_eq!(cross_origin.status, 403, "{}", cross_origin.body);
    let fine = http(
        &local,
        "POST",
        "/mcp",
        &[("Authorization", &bearer), accept],
        &init.to_string(),
    );
    assert_eq!(fine.status, 200, "{}", fine.body);

    // Bodies over the limit are refused from their Content-Length, before they are read.
    let mut big = TcpStream::connect(&local).unwrap();
    big.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST /api/v1/execute HTTP/1.1\r\nHost: {local}\r\nAuthorization: {bearer}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{{",
        2 << 20
    );
    big.write_all(head.as_bytes()).unwrap();
    let mut answer = [0u8; 12];
    big.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 413");
}

#[test]
fn shutdown_drains_running_calls() {
    let env = Env::new();
    env.skill(&["install", misbehave().to_str().unwrap(), "--yes"])
        .ok();
    let mut server = Server::start(&env, &[]);
    let addr = server.addr.clone();
    // A call that runs ~1.5 s (then hits its timeout) is in flight when SIGTERM arrives.
    let call = std::thread::spawn(move || {
        let body = json!({"skill": "misbehave", "tool": "spin", "timeout_ms": 1500});
        http(&addr, "POST", "/api/v1/execute", &[], &body.to_string())
    });
    std::thread::sleep(Duration::from_millis(400));
    let status = server.terminate();
    let reply = call.join().unwrap();
    assert_eq!(
        reply.status, 504,
        "the in-flight call got its answer: {}",
        reply.body
    );
    assert!(status.success(), "{}", server.stderr());
    // No new connections after shutdown.
    assert!(TcpStream::connect(&server.addr).is_err());
}

#[test]
fn mcp_config_prints_a_launchable_snippet() {
    let env = Env::new();
    let json_out: Value = serde_json::from_str(env.skill(&["mcp-config", "--json"]).ok()).unwrap();
    let entry = &json_out["mcpServers"]["skill"];
    assert_eq!(entry["command"], env!("CARGO_BIN_EXE_skill"));
    assert_eq!(entry["args"], json!(["serve", "--stdio"]));
    assert_eq!(
        entry["env"]["SKILL_HOME"],
        env.home.path().to_str().unwrap()
    );
    let human = env.skill(&["mcp-config", "aws@prod", "--name", "aws"]);
    assert!(
        human.ok().contains("claude mcp add aws"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("serve --stdio aws@prod"));
    assert!(human.stdout.contains("\"mcpServers\""));
}

#[test]
fn watch_serve_tells_clients_about_each_reinstall() {
    let env = Env::new();
    env.skill(&["init", "served", "-t", "rust"]).ok();
    let dir = env.path("served");
    let mut watch = env
        .command(&["watch", dir.to_str().unwrap(), "--serve", "--port", "0"])
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(watch.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let limit = Duration::from_secs(240);
    let addr = loop {
        let line = rx
            .recv_timeout(limit)
            .expect("watch --serve never listened");
        if let Some(addr) = listening_addr(&line) {
            break addr;
        }
    };
    let mut client = Command::new(python())
        .arg(client_script("mcp_list_changed.py"))
        .arg(format!("http://{addr}/mcp"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(client.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "READY 1");

    // A new tool in the source: rebuilt, reinstalled into served@dev, announced to the client.
    let lib = dir.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        source.replace(
            "/// Greets someone by name.",
            "/// Says goodbye.\n#[tool]\nfn farewell() -> String {\n    \"Bye!\".into()\n}\n\n/// Greets someone by name.",
        )
        .replace("export!(greet", "export!(greet, farewell"),
    )
    .unwrap();
    let after: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(
        after["tools"],
        json!(["served_dev__farewell", "served_dev__greet"]),
        "{after}"
    );
    assert!(client.wait().unwrap().success());
    // Ctrl-C reaches the whole process group: watch and its server stop together.
    unsafe { libc::kill(-(watch.id() as i32), libc::SIGINT) };
    let _ = watch.wait();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(&addr).is_ok() {
        assert!(Instant::now() < deadline, "the server outlived watch");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn tls_serves_https_with_the_given_certificate() {
    let env = Env::new();
    env.skill(&["install", rust_skill().to_str().unwrap(), "--yes"])
        .ok();
    let helper = client_script("tls_check.py");
    let certs = env.work.path();
    let made = Command::new(python())
        .arg(&helper)
        .arg("make")
        .arg(certs)
        .status()
        .unwrap();
    assert!(made.success());
    let cert = certs.join("cert.pem");
    let key = certs.join("key.pem");
    let server = Server::start(
        &env,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let port = server.addr.rsplit(':').next().unwrap();
    let output = Command::new(python())
        .arg(&helper)
        .arg("get")
        .arg(format!("https://localhost:{port}/api/v1/skills"))
        .arg(&cert)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.starts_with("200\n") && stdout.contains("rust-skill"),
        "{stdout}"
    );
    assert!(
        server.stderr().contains("listening on https://"),
        "{}",
        server.stderr()
    );
    // Plain HTTP to the TLS port gets no HTTP answer.
    let mut plain = TcpStream::connect(&server.addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    plain
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(!answer.starts_with(b"HTTP/1.1 200"));

    let missing = env.skill(&[
        "serve",
        "--port",
        "0",
        "--tls-cert",
        "nope.pem",
        "--tls-key",
        "nope.pem",
    ]);
    assert!(missing.fails().contains("nope.pem"), "{}", missing.stderr);
}

#[test]
fn without_the_pool_reservation_calls_still_run() {
    let env = Env::new();
    env.skill(&["install", rust_skill().to_str().unwrap(), "--yes"])
        .ok();
    // 64 GiB of address space: enough for on-demand instances, not for the pool's slots.
    let template = env.command(&[]);
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg(format!(
            "ulimit -v {}; exec \"$0\" serve --port 0",
            64 * 1024 * 1024
        ))
        .arg(env!("CARGO_BIN_EXE_skill"))
        .envs(
            template
                .get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .current_dir(env.work.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = shell.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = String::new();
    let addr = loop {
        let line = lines.next().expect("server ended").unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if let Some(addr) = listening_addr(&line) {
            break addr;
        }
    };
    assert!(seen.contains("instance pool unavailable"), "{seen}");
    let reply = http(
        &addr,
        "POST",
        "/api/v1/execute",
        &[],
        &json!({"skill": "rust-skill", "tool": "greet", "args": {"name": "P"}}).to_string(),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["text"], "Hello, P!");
    let _ = child.kill();
    let _ = child.wait();
}
