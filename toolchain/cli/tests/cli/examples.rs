//! The examples in `examples/`, built from source and run: one per language, and a real-world
//! GitHub client tested against a local stand-in for the API, through the real sandbox and
//! the real wasi:http path.

use serde_json::json;

use crate::serve::Server;
use crate::{Env, HttpResponse, example, serve_http};

fn run(env: &Env, args: &[&str]) -> String {
    let mut full = vec!["run"];
    full.extend_from_slice(args);
    env.skill(&full).ok().to_string()
}

#[test]
fn the_javascript_and_python_examples_build_and_run() {
    let env = Env::new();
    env.skill(&["install", example("simple-skill").to_str().unwrap()])
        .ok();
    assert_eq!(
        run(&env, &["simple-skill:greet", "name=World"]),
        "Hello, World!\n"
    );
    assert_eq!(
        run(&env, &["simple-skill:reverse", "text=héllo"]),
        "olléh\n"
    );
    assert_eq!(
        run(&env, &["simple-skill:sum", "numbers=[1, 2, 3.5]"]),
        "6.5\n"
    );
    let bad = env.skill(&["run", "simple-skill:sum", "numbers=\"x\""]);
    assert!(
        bad.fails()
            .contains("numbers must be a JSON array of numbers")
    );

    env.skill(&["install", example("python-skill").to_str().unwrap()])
        .ok();
    assert_eq!(
        run(&env, &["python-skill:greet", "name=World"]),
        "Hello, World!\n"
    );
    assert_eq!(
        run(
            &env,
            &[
                "python-skill:stats",
                "numbers=[1, 2, 3, 4]",
                "measure=median"
            ]
        ),
        "{\"median\": 2.5}\n"
    );
    assert_eq!(
        run(
            &env,
            &["python-skill:wrap", "text=the quick brown fox", "width=10"]
        ),
        "the quick\nbrown fox\n"
    );
    let empty = env.skill(&["run", "python-skill:stats", "numbers=[]"]);
    assert!(empty.fails().contains("non-empty JSON array"));

    // The example pair: number-report (Rust) calls python-skill's tools (call-tool). Its
    // dependency is installed already, so resolving it needs no registry.
    // Calling python-skill is a permission the review asks about.
    let installed = env.skill_with_input(
        &["install", example("number-report").to_str().unwrap()],
        "y\n",
    );
    installed.ok();
    assert!(
        installed
            .stderr
            .contains("+ Call the tools of python-skill (which run with python-skill's own permissions and secrets)"),
        "{}",
        installed.stderr
    );
    assert!(
        installed
            .stderr
            .contains("Resolving the dependencies of number-report"),
        "{}",
        installed.stderr
    );
    assert_eq!(
        run(
            &env,
            &[
                "number-report:report",
                "numbers=[3, 1, 4, 1, 5]",
                "--width",
                "30"
            ]
        ),
        "5 numbers: the mean is 2.80,\nthe median 3.00, and they\nspread by a standard deviation\nof 1.79.\n"
    );
    let empty = env.skill(&["run", "number-report:report", "numbers=[]"]);
    assert_ne!(empty.code, 0);
    assert!(
        empty
            .stderr
            .contains("python-skill could not compute the statistics: numbers must be a non-empty"),
        "{}",
        empty.stderr
    );

    // `skill serve` keeps an instance between calls: QuickJS and CPython answer repeated
    // calls (and a failed one in between) in the same instance.
    let server = Server::start(&env, &["--http-only"]);
    for _ in 0..3 {
        let reversed = execute(
            &server,
            json!({"skill": "simple-skill", "tool": "reverse", "args": {"text": "héllo"}}),
        );
        assert_eq!(reversed["text"], "olléh", "{reversed}");
        let median = execute(
            &server,
            json!({"skill": "python-skill", "tool": "stats",
            "args": {"numbers": [1, 2, 3, 4], "measure": "median"}}),
        );
        assert_eq!(median["text"], "{\"median\": 2.5}", "{median}");
        let report = execute(
            &server,
            json!({"skill": "number-report", "tool": "report", "args": {"numbers": [2, 4]}}),
        );
        assert_eq!(report["data"]["mean"], 3.0, "{report}");
        let failed = execute(
            &server,
            json!({"skill": "python-skill", "tool": "stats", "args": {"numbers": []}}),
        );
        assert!(
            failed["error"]["message"]
                .as_str()
                .unwrap()
                .contains("non-empty"),
            "{failed}"
        );
    }
}

fn execute(server: &Server, body: serde_json::Value) -> serde_json::Value {
    crate::serve::post(server, "/api/v1/execute", &body).json()
}

#[test]
fn the_rust_example_runs_all_its_tools() {
    let env = Env::new();
    env.skill(&["install", crate::rust_skill().to_str().unwrap()])
        .ok();
    assert_eq!(
        run(&env, &["rust-skill:greet", "name=World"]),
        "Hello, World!\n"
    );
    assert_eq!(run(&env, &["rust-skill:add", "a=2", "b=40"]), "42\n");
}

#[test]
fn github_issues_talks_to_its_api_only_through_granted_hosts() {
    let (port, seen) = serve_http(|request, _| {
        if request.header("authorization") != "Bearer t0ken" {
            return HttpResponse::new(401, r#"{"message":"Bad credentials"}"#);
        }
        match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/repos/octo/hello/issues?state=open&per_page=30") => HttpResponse::new(
                200,
                r#"[{"number":1,"title":"It breaks","state":"open","html_url":"https://gh/1"},
                    {"number":2,"title":"A pull request","state":"open","html_url":"https://gh/2","pull_request":{}}]"#,
            ),
            ("POST", "/repos/octo/hello/issues") => HttpResponse::new(
                201,
                r#"{"number":3,"title":"New","html_url":"https://gh/3"}"#,
            ),
            _ => HttpResponse::new(404, r#"{"message":"Not Found"}"#),
        }
    });
    let env = Env::new();
    let skill = example("github-issues").to_str().unwrap();
    let review = env.skill_with_input(&["install", skill, "-i", "work"], "y\n");
    assert!(review.ok().is_empty());
    assert!(
        review
            .stderr
            .contains("+ Connect to api.github.com over HTTP(S)"),
        "{}",
        review.stderr
    );
    // The token is required: nothing runs until it is set.
    let unset = env.skill(&["run", "github-issues@work:list-issues", "repo=octo/hello"]);
    assert!(
        unset.fails().contains("`token` not set"),
        "{}",
        unset.stderr
    );
    env.skill_with_input(
        &["config", "github-issues@work", "--set", "token"],
        "t0ken\n",
    )
    .ok();
    env.skill(&[
        "config",
        "github-issues@work",
        "--set",
        &format!("api_url=http://127.0.0.1:{port}"),
        "--set",
        "repo=octo/hello",
    ])
    .ok();
    let bad_repo = env.skill(&["config", "github-issues@work", "--set", "repo=nope"]);
    assert!(bad_repo.fails().contains("`repo` must be owner/name"));

    // Granted api.github.com only: the stand-in on loopback is refused before any connection.
    let denied = env.skill(&["run", "github-issues@work:list-issues"]);
    assert_eq!(denied.code, 1);
    assert!(
        denied.stderr.contains(&format!(
            "skill grant github-issues@work --net 127.0.0.1:{port}"
        )),
        "{}",
        denied.stderr
    );
    assert!(seen.lock().unwrap().is_empty());

    env.skill(&[
        "grant",
        "github-issues@work",
        "--net",
        &format!("127.0.0.1:{port}"),
    ])
    .ok();
    assert_eq!(
        run(&env, &["github-issues@work:list-issues"]),
        "#1 It breaks\n"
    );
    let listed = env.skill(&["run", "--json", "github-issues@work:list-issues"]);
    let listed: serde_json::Value = serde_json::from_str(listed.ok()).unwrap();
    assert_eq!(listed["data"][0]["number"], 1);
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        1,
        "pull requests are left out"
    );
    assert_eq!(
        run(
            &env,
            &[
                "github-issues@work:create-issue",
                "title=New",
                "body=Details"
            ]
        ),
        "created #3: https://gh/3\n"
    );
    let created = seen.lock().unwrap().last().cloned().unwrap();
    let body: serde_json::Value = serde_json::from_str(&created.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({ "title": "New", "body": "Details" })
    );
    assert_eq!(created.header("user-agent"), "skill-github-issues");

    // Served, one StarlingMonkey instance answers repeated calls, fetch included.
    let server = Server::start(&env, &["--http-only"]);
    for _ in 0..3 {
        let listed = execute(
            &server,
            json!({"skill": "github-issues@work", "tool": "list-issues"}),
        );
        assert_eq!(listed["text"], "#1 It breaks", "{listed}");
    }
    drop(server);

    // A rejected token is the user's to fix: a not-configured error with the command.
    env.skill_with_input(
        &["config", "github-issues@work", "--set", "token"],
        "wrong\n",
    )
    .ok();
    let rejected = env.skill(&["run", "github-issues@work:list-issues"]);
    assert!(
        rejected.fails().contains("GitHub rejected the token (401)"),
        "{}",
        rejected.stderr
    );
    // The secret never reached the server's logs of other instances, nor the disk in the clear.
    let audit = std::fs::read_to_string(env.home.path().join("audit.log")).unwrap();
    assert!(!audit.contains("t0ken"));
}
