//! `skill init` / `skill new`: every template's extras (tools from --tool, a config schema from
//! --config), the multi-tool template with its secret, and the questions asked in a terminal.

use crate::{Env, ScriptedTerminal};

#[test]
fn multi_tool_js_template_uses_its_config_and_secret() {
    let env = Env::new();
    env.skill(&["new", "multi", "-t", "multi-tool-js"]).ok();
    let dir = env.path("multi");
    // Installing dependencies runs no lifecycle script (code from a registry, before any
    // review): before the fix, this one wrote its marker during the build.
    let package = dir.join("package.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&package).unwrap()).unwrap();
    json["scripts"]["preinstall"] =
        serde_json::json!("node -e \"require('fs').writeFileSync('lifecycle-ran','')\"");
    std::fs::write(&package, json.to_string()).unwrap();
    let dir = dir.to_str().unwrap();
    env.skill(&["build", dir]).ok();
    assert!(
        !env.path("multi/lifecycle-ran").exists(),
        "npm ran the package's lifecycle script"
    );
    env.skill(&["install", dir]).ok();
    let run = |args: &[&str]| {
        let mut full = vec!["run"];
        full.extend_from_slice(args);
        env.skill(&full)
    };
    assert_eq!(run(&["multi:greet", "name=World"]).ok(), "Hello, World!\n");
    assert_eq!(
        run(&["multi:word-count", "text=one two three"]).ok(),
        "3 words, 13 characters\n"
    );
    assert_eq!(
        run(&["multi:slugify", "title=Hello, World"]).ok(),
        "hello-world\n"
    );
    let whoami = run(&["multi:whoami"]);
    assert!(
        whoami.fails().contains("not configured"),
        "{}",
        whoami.stderr
    );
    env.skill_with_input(&["config", "multi", "--set", "api_token"], "abcd1234\n")
        .ok();
    assert_eq!(run(&["multi:whoami"]).ok(), "token ending in …1234\n");
    env.skill(&["config", "multi", "--set", "greeting=Howdy"])
        .ok();
    assert_eq!(run(&["multi:greet", "name=World"]).ok(), "Howdy, World!\n");
    let refused = env.skill(&["config", "multi", "--set", "max_words=0"]);
    assert!(refused.fails().contains("max_words must be at least 1"));
    env.skill(&["config", "multi", "--set", "max_words=2"]).ok();
    let long = run(&["multi:word-count", "text=one two three"]);
    assert!(
        long.fails().contains("accepts at most 2"),
        "{}",
        long.stderr
    );

    // The template's own test cases pass against what was built.
    let tested = env.skill(&["test", dir]);
    assert!(
        tested.ok().ends_with("\n6 passed, 0 failed\n"),
        "{}",
        tested.stdout
    );
    assert!(
        tested
            .stdout
            .contains("ok   tests/greet.yaml: whoami shows only the token's end")
    );
}

#[test]
fn skill_test_reports_each_case_and_fails_on_any_failure() {
    let env = Env::new();
    env.skill(&["init", "tested", "-t", "rust"]).ok();
    let dir = env.path("tested");
    // What the cases run with is said, since nobody is asked.
    let yaml = std::fs::read_to_string(dir.join("skill.yaml")).unwrap();
    std::fs::write(
        dir.join("skill.yaml"),
        format!("{yaml}capabilities:\n  env: [LANG]\n"),
    )
    .unwrap();
    let cases = dir.join("tests/greet.yaml");
    let mut text = std::fs::read_to_string(&cases).unwrap();
    text.push_str(
        "\n- name: a wrong expectation\n  tool: greet\n  args: { name: Ann }\n  expect: \"Hi, Ann!\"\n",
    );
    std::fs::write(&cases, text).unwrap();
    // Builds first (nothing was built yet), runs the cases, then `cargo test`.
    let run = env.skill(&["test", dir.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("ok   tests/greet.yaml: greets by name"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("ok   tests/greet.yaml: the name is required")
    );
    assert!(
        run.stdout
            .contains("FAIL tests/greet.yaml: a wrong expectation ("),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("     expected `Hi, Ann!`, got `Hello, Ann!`")
    );
    assert!(
        run.stdout.contains("ok   cargo test: unit tests"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.ends_with("\n3 passed, 1 failed\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains(
            "the test cases run with every permission skill.yaml asks for, without a review:\n  + Read the environment variable LANG"
        ),
        "{}",
        run.stderr
    );

    let json = env.skill(&["test", dir.to_str().unwrap(), "--json", "--no-unit"]);
    assert_eq!(json.code, 1);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        (report["passed"].as_u64(), report["failed"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(report["results"][2]["passed"], false);

    let filtered = env.skill(&["test", dir.to_str().unwrap(), "--filter", "required"]);
    assert!(
        filtered.ok().ends_with("\n1 passed, 0 failed\n"),
        "{}",
        filtered.stdout
    );
    let none = env.skill(&[
        "test",
        dir.to_str().unwrap(),
        "--filter",
        "nothing-like-this",
    ]);
    assert!(none.fails().contains("has no tests matching the filter"));
}

/// `skill docs` fills in the generated blocks and keeps the author's text; a broken SKILL.md
/// fails validate and build with its line; `skill find` finds the tools it describes.
fn skill_md_is_checked_refreshed_and_searched(env: &Env, dir: &str) {
    let path = std::path::Path::new(dir).join("SKILL.md");
    let original = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        original.replace(
            "Describe what `list-issues` does and when to use it.",
            "Lists the open issues of the tracker, newest first.",
        ),
    )
    .unwrap();
    env.skill(&["docs", dir]).ok();
    let docs = std::fs::read_to_string(&path).unwrap();
    assert!(
        docs.contains("Lists the open issues of the tracker, newest first."),
        "{docs}"
    );
    assert!(
        docs.contains("skill run tracker:close-issue input=<string>"),
        "{docs}"
    );
    assert_eq!(docs.matches("<!-- skill docs -->").count(), 4, "{docs}");
    let readme = std::fs::read_to_string(std::path::Path::new(dir).join("README.md")).unwrap();
    assert!(
        readme.contains("skill run tracker:check-config"),
        "{readme}"
    );
    env.skill(&["docs", "--check", dir]).ok();
    // Editing SKILL.md needs no rebuild, and validate reads it as it is now.
    std::fs::write(&path, docs.replace("name: tracker", "name: Tracker")).unwrap();
    let invalid = env.skill(&["validate", dir]);
    assert!(
        invalid
            .fails()
            .contains("SKILL.md:2: `name: Tracker` may hold only lowercase"),
        "{}",
        invalid.stderr
    );
    let stale = env.skill(&["docs", "--check", dir]);
    assert!(
        stale.fails().contains("SKILL.md not up to date"),
        "{}",
        stale.stderr
    );
    std::fs::write(&path, docs.replace("## close-issue", "## close-isue")).unwrap();
    let validated = env.skill(&["validate", dir]);
    validated.ok();
    for advice in [
        "section `close-isue` names no tool of this skill",
        "tool `close-issue` has no section",
    ] {
        assert!(validated.stderr.contains(advice), "{}", validated.stderr);
    }
    std::fs::write(&path, &docs).unwrap();

    // Installed, the tools are found by what they do, with SKILL.md's words.
    env.skill(&["install", dir]).ok();
    let found = env.skill(&["find", "--json", "open issues newest"]);
    let found: serde_json::Value = serde_json::from_str(found.ok()).unwrap();
    assert_eq!(found[0]["tool"], "list-issues", "{found:#}");
    assert_eq!(
        found[0]["instances"],
        serde_json::json!(["tracker@default"])
    );
    assert_eq!(
        found[0]["command"],
        "skill run tracker:list-issues input=<string>"
    );
    assert_eq!(
        found[0]["excerpt"][0],
        "Lists the open issues of the tracker, newest first."
    );
    let shown = env.skill(&["find", "greet someone"]);
    let shown = shown.ok();
    assert!(shown.contains("tracker@default → greet"), "{shown}");
    assert!(
        shown.contains("e.g. skill run tracker:greet name=World"),
        "{shown}"
    );
    let none = env.skill(&["find", "xylophone"]);
    assert!(
        none.fails()
            .contains("no tool matches \"xylophone\" among 4 installed tools"),
        "{}",
        none.stderr
    );
    // Removed, they are gone from the index.
    env.skill(&["remove", "tracker", "--yes"]).ok();
    assert_eq!(env.skill(&["find", "--json", "greet"]).ok().trim(), "[]");
}

#[test]
fn tools_and_config_from_flags_are_generated_and_run() {
    let env = Env::new();
    env.skill(&[
        "init",
        "tracker",
        "-t",
        "rust",
        "--tool",
        "list-issues",
        "--tool",
        "close-issue",
        "--config",
    ])
    .ok();
    let dir = env.path("tracker");
    let dir = dir.to_str().unwrap();
    let built = env.skill(&["build", dir]);
    built.ok();
    // The template's SKILL.md documents every tool it generated: no advice from the check.
    assert!(!built.stderr.contains("SKILL.md"), "{}", built.stderr);
    skill_md_is_checked_refreshed_and_searched(&env, dir);
    env.skill(&["install", dir]).ok();
    // The schema's required secret blocks every tool until it is set.
    let blocked = env.skill(&["run", "tracker:greet", "name=World"]);
    assert!(
        blocked
            .fails()
            .contains("hint: set it with `skill config tracker@default --set api_key`"),
        "{}",
        blocked.stderr
    );
    env.skill_with_input(&["config", "tracker", "--set", "api_key"], "k3y\n")
        .ok();
    assert_eq!(
        env.skill(&["run", "tracker:greet", "name=World"]).ok(),
        "Hello, World!\n"
    );
    assert_eq!(
        env.skill(&["run", "tracker:list-issues", "input=open"])
            .ok(),
        "list-issues: open\n"
    );
    assert_eq!(
        env.skill(&["run", "tracker:check-config"]).ok(),
        "api_key is set (3 characters)\n"
    );
    let bad = env.skill(&["init", "x", "--tool", "Bad Name"]);
    assert!(bad.fails().contains("`Bad Name` is not a tool name"));
    let twice = env.skill(&["init", "y", "--tool", "greet"]);
    assert!(twice.fails().contains("listed twice"));
    let list = env.skill(&["init", "--list"]);
    for template in [
        "javascript",
        "multi-tool-js",
        "python",
        "rust",
        "typescript",
    ] {
        assert!(list.ok().contains(template), "{}", list.stdout);
    }
}

#[test]
fn init_with_no_name_asks_in_a_terminal_and_refuses_otherwise() {
    let env = Env::new();
    let refused = env.skill(&["init"]);
    assert!(
        refused
            .fails()
            .contains("which name should the skill have?")
    );

    let mut terminal = ScriptedTerminal::start(&env, "init");
    terminal.answer("Name of the skill:", "asked\n");
    terminal.answer("Choose 1-", "python\n");
    terminal.answer("need configuration", "n\n");
    terminal.answer("More tools besides greet", "summarize, translate\n");
    let screen = terminal.finish();
    assert!(screen.contains("multi-tool-js"), "{screen}");
    let app = std::fs::read_to_string(env.path("asked/app.py")).unwrap();
    assert!(app.contains("def summarize(input: str) -> str:"), "{app}");
    assert!(app.contains("def translate(input: str) -> str:"), "{app}");
    let yaml = std::fs::read_to_string(env.path("asked/skill.yaml")).unwrap();
    assert!(yaml.contains("language: python"), "{yaml}");
    assert!(!yaml.contains("config:"), "{yaml}");
}
