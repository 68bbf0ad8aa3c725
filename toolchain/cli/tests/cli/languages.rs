//! JavaScript, TypeScript and Python skills from their templates: built with the pinned
//! toolchains (installed once into a shared tools directory), installed, run; their compile
//! errors reported in the author's terms; detection, skill.lock and --locked.

use crate::{Env, repo_root};

/// `skill init NAME -t TEMPLATE` in a fresh env; returns the env and the project dir name.
fn init(template: &str, name: &str) -> Env {
    let env = Env::new();
    env.skill(&["init", name, "-t", template]).ok();
    env
}

fn build_install_run(env: &Env, name: &str) {
    let project = env.path(name);
    let dir = project.to_str().unwrap();
    env.skill(&["build", dir]).ok();
    env.skill(&["install", dir]).ok();
    let run = env.skill(&["run", &format!("{name}:greet"), "name=World"]);
    assert_eq!(run.ok(), "Hello, World!\n");
}

#[test]
fn javascript_template_builds_installs_and_runs() {
    let env = init("javascript", "hello-js");
    build_install_run(&env, "hello-js");
    let project = env.path("hello-js");

    // The lock records the exact tools; a second build with --locked agrees with it.
    let lock = std::fs::read_to_string(project.join("skill.lock")).unwrap();
    for needle in [
        "language = \"javascript\"",
        "componentize-js = \"0.23.0\"",
        "esbuild = \"0.28.2\"",
        "\"package-lock.json\" = \"sha256:",
    ] {
        assert!(lock.contains(needle), "{needle} missing from\n{lock}");
    }
    assert!(!lock.contains("typescript"), "{lock}");

    // node missing: the build says so and points at `skill doctor`.
    let run = env
        .command(&["build", project.to_str().unwrap()])
        .env("SKILL_NODE", "node-that-is-not-installed")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(
        stderr.contains("`node-that-is-not-installed` is not installed"),
        "{stderr}"
    );
    assert!(stderr.contains("skill doctor"), "{stderr}");
    let report = env.skill(&["build", project.to_str().unwrap(), "--locked", "--json"]);
    let report: serde_json::Value = serde_json::from_str(report.ok()).unwrap();
    assert_eq!(report["toolchain"]["componentize-js"], "0.23.0");
    assert_eq!(report["tools"], serde_json::json!(["greet"]));

    // A tool the author declared without a handler: named, in their terms.
    std::fs::write(
        project.join("src/index.js"),
        "import { defineSkill } from '@skill-engine/sdk';\n\
         defineSkill({ tools: { greet: { description: 'hi' } } });\n",
    )
    .unwrap();
    let run = env.skill(&["build", project.to_str().unwrap()]);
    let stderr = run.fails();
    assert!(
        stderr.contains("tool 'greet' has no handler function"),
        "{stderr}"
    );

    // A syntax error: esbuild's message points at the author's file and line.
    std::fs::write(project.join("src/index.js"), "export const x = ;\n").unwrap();
    let run = env.skill(&["build", project.to_str().unwrap()]);
    let stderr = run.fails();
    assert!(stderr.contains("src/index.js:1:"), "{stderr}");
    assert!(
        stderr.contains("could not bundle hello-js (esbuild)"),
        "{stderr}"
    );
}

#[test]
fn typescript_template_with_quickjs() {
    let env = init("typescript", "hello-ts");
    let project = env.path("hello-ts");
    let yaml = project.join("skill.yaml");
    let text = std::fs::read_to_string(&yaml).unwrap();
    std::fs::write(
        &yaml,
        text.replace("  # engine: quickjs ", "  engine: quickjs "),
    )
    .unwrap();
    build_install_run(&env, "hello-ts");
    let lock = std::fs::read_to_string(project.join("skill.lock")).unwrap();
    assert!(lock.contains("componentize-qjs = \"0.4.5\""), "{lock}");
    assert!(lock.contains("typescript = \"5.9.3\""), "{lock}");
    assert!(!lock.contains("componentize-js"), "{lock}");
    let size = std::fs::metadata(project.join("target/skill/hello-ts.wasm"))
        .unwrap()
        .len();
    assert!(
        size < 4_000_000,
        "a QuickJS component is small, got {size} bytes"
    );

    // A type error: tsc's message with the author's file, line and column, then one summary.
    std::fs::write(
        project.join("src/index.ts"),
        "import { defineSkill, tool } from '@skill-engine/sdk';\n\
         const n: number = 'text';\n\
         defineSkill({ tools: {} });\n",
    )
    .unwrap();
    let run = env.skill(&["build", project.to_str().unwrap()]);
    let stderr = run.fails();
    assert!(
        stderr.contains("src/index.ts(2,7): error TS2322"),
        "{stderr}"
    );
    assert!(stderr.contains("type errors in hello-ts (tsc)"), "{stderr}");
}

#[test]
fn python_template_builds_installs_and_runs() {
    let env = init("python", "hello-py");
    build_install_run(&env, "hello-py");
    let project = env.path("hello-py");
    let lock = std::fs::read_to_string(project.join("skill.lock")).unwrap();
    assert!(lock.contains("componentize-py = \"0.25.1\""), "{lock}");

    // Types from hints, optional from defaults, descriptions from the docstring; a pure-Python
    // dependency from pyproject.toml goes into the component.
    let pyproject = project.join("pyproject.toml");
    let text = std::fs::read_to_string(&pyproject).unwrap();
    std::fs::write(
        &pyproject,
        text.replace("dependencies = []", "dependencies = [\"six==1.16.0\"]"),
    )
    .unwrap();
    std::fs::write(
        project.join("app.py"),
        "import six\nfrom skill_sdk import tool, ToolError\n\n\
         @tool\n\
         def greet(name: str) -> str:\n    \"\"\"Say hello.\"\"\"\n    return f'Hello, {name}!'\n\n\
         @tool\n\
         def six_version() -> str:\n    \"\"\"The bundled six.\"\"\"\n    return six.__version__\n\n\
         @tool\n\
         def add(a: int, b: int = 2) -> dict:\n    \"\"\"Add two numbers.\n\n    Args:\n        a: The first.\n        b: The second.\n    \"\"\"\n    return {'sum': a + b}\n\n\
         @tool\n\
         def fail(reason: str) -> str:\n    \"\"\"Always fails.\"\"\"\n    raise ToolError.invalid_args(reason)\n",
    )
    .unwrap();
    env.skill(&["install", project.to_str().unwrap()]).ok();
    assert_eq!(
        env.skill(&["run", "hello-py:add", "a=3"]).ok(),
        "{\"sum\": 5}\n"
    );
    assert_eq!(env.skill(&["run", "hello-py:six-version"]).ok(), "1.16.0\n");
    let lock = std::fs::read_to_string(project.join("skill.lock")).unwrap();
    assert!(
        lock.contains("\"pyproject.toml dependencies\" = \"sha256:"),
        "{lock}"
    );
    let run = env.skill(&["run", "hello-py:fail", "reason=nope"]);
    assert!(run.fails().contains("nope"), "{}", run.stderr);
    let list = env.skill(&["list", "--json"]);
    assert!(list.ok().contains("The first."), "{}", list.stdout);

    // A syntax error: Python's own message with the author's file and line.
    std::fs::write(project.join("app.py"), "def broken(:\n    pass\n").unwrap();
    let run = env.skill(&["build", project.to_str().unwrap()]);
    let stderr = run.fails();
    assert!(stderr.contains("app.py\", line 1"), "{stderr}");
    assert!(stderr.contains("SyntaxError"), "{stderr}");
}

#[test]
fn detection_is_saved_and_two_markers_ask_for_a_choice() {
    let env = Env::new();
    let dir = env.path("detect");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("skill.yaml"),
        "# mine\nname: detect\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("package.json"),
        "{\"name\": \"detect\", \"type\": \"module\"}",
    )
    .unwrap();
    std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"detect\"\n").unwrap();

    // Two markers, no terminal: both are named and --lang is the way out.
    let run = env.skill(&["build", dir.to_str().unwrap()]);
    let stderr = run.fails();
    assert!(
        stderr.contains("Cargo.toml (rust) and package.json (javascript)"),
        "{stderr}"
    );
    assert!(stderr.contains("--lang rust|javascript"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.join("skill.yaml")).unwrap(),
        "# mine\nname: detect\nversion: 0.1.0\n",
        "nothing is written when detection fails"
    );

    // One marker plus a .ts entry: TypeScript, saved into skill.yaml with comments kept.
    std::fs::remove_file(dir.join("Cargo.toml")).unwrap();
    std::fs::write(dir.join("src/index.ts"), "export const x: number = 1;\n").unwrap();
    let run = env.skill(&["build", dir.to_str().unwrap()]);
    // No SDK and no defineSkill: the build fails later, after detection was saved.
    assert_ne!(run.code, 0);
    let yaml = std::fs::read_to_string(dir.join("skill.yaml")).unwrap();
    assert_eq!(
        yaml,
        "# mine\nname: detect\nversion: 0.1.0\nbuild:\n  language: typescript\n  entry: src/index.ts\n"
    );
}

#[test]
fn locked_builds_fail_with_the_difference() {
    let env = Env::new();
    let project = copy_rust_example(&env.path("copy"));
    let dir = project.to_str().unwrap();

    let run = env.skill(&["build", dir, "--locked"]);
    if !project.join("skill.lock").exists() {
        assert!(
            run.fails().contains("there is no skill.lock"),
            "{}",
            run.stderr
        );
        env.skill(&["build", dir]).ok();
    } else {
        run.ok();
    }
    let lock_path = project.join("skill.lock");
    let lock = std::fs::read_to_string(&lock_path).unwrap();
    assert!(lock.contains("rustc = \"1."), "{lock}");
    assert!(lock.contains("\"Cargo.lock\" = \"sha256:"), "{lock}");
    let tampered = lock
        .lines()
        .map(|l| {
            if l.starts_with("rustc = ") {
                "rustc = \"0.1.0 (old)\"".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&lock_path, tampered).unwrap();
    let run = env.skill(&["build", dir, "--locked"]);
    let stderr = run.fails();
    assert!(
        stderr.contains("tools.rustc: 0.1.0 (old) in skill.lock, 1."),
        "{stderr}"
    );
    assert!(stderr.contains("1 difference"), "{stderr}");
    // Without --locked the lock is brought up to date.
    env.skill(&["build", dir]).ok();
    assert_eq!(std::fs::read_to_string(&lock_path).unwrap(), lock);
}

/// Two clean builds of the Rust example, from two different project directories and two
/// different cargo target directories, give byte-identical components (metadata stamp
/// included). Both use the same SDK path: cargo hashes the absolute path of a path dependency
/// outside the workspace into the crate's metadata (and so into TypeIds in the code), which
/// is why `skill init` projects share `$SKILL_HOME/sdk` (docs/architecture.md).
#[test]
fn rust_builds_are_reproducible() {
    let env = Env::new();
    let sdk = repo_root().join("sdk-rust");
    let mut digests = Vec::new();
    for copy in ["a", "b/nested"] {
        let project = env.path(copy).join("rust-skill");
        copy_dir(&repo_root().join("examples/rust-skill"), &project);
        let manifest = project.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        let text = text.replace(
            "path = \"../../sdk-rust\"",
            &format!("path = {:?}", sdk.display().to_string()),
        );
        std::fs::write(&manifest, text).unwrap();
        let report = env
            .command(&["build", project.to_str().unwrap(), "--json"])
            .env("CARGO_TARGET_DIR", env.path(copy).join("target"))
            .output()
            .unwrap();
        assert!(
            report.status.success(),
            "{}",
            String::from_utf8_lossy(&report.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
        digests.push(report["component"]["sha256"].as_str().unwrap().to_string());
    }
    assert_eq!(digests[0], digests[1]);
}

/// The Rust example with the SDK and WIT it refers to by relative path.
fn copy_rust_example(root: &std::path::Path) -> std::path::PathBuf {
    for dir in ["examples/rust-skill", "sdk-rust", "wit"] {
        copy_dir(&repo_root().join(dir), &root.join(dir));
    }
    root.join("examples/rust-skill")
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// sdk-js is written in TypeScript (src/); the index.js and index.d.ts that projects use are
/// tsc's output, committed. The pinned tsc must produce exactly them.
#[test]
fn sdk_js_is_compiled_from_its_typescript_source() {
    let env = Env::new();
    env.skill(&["doctor", "--install"]).ok();
    let kit = std::fs::read_dir(crate::tools_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name().unwrap().to_string_lossy().starts_with("js-")
                && p.join("node_modules/typescript/bin/tsc").is_file()
        })
        .expect("the JS build tools are installed");
    let out = tempfile::tempdir().unwrap();
    let sdk = repo_root().join("sdk-js");
    let tsc = std::process::Command::new("node")
        .arg(kit.join("node_modules/typescript/bin/tsc"))
        .args(["-p", sdk.join("tsconfig.json").to_str().unwrap()])
        .args(["--outDir", out.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        tsc.status.success(),
        "{}{}",
        String::from_utf8_lossy(&tsc.stdout),
        String::from_utf8_lossy(&tsc.stderr)
    );
    for file in ["index.js", "index.d.ts"] {
        assert_eq!(
            std::fs::read_to_string(out.path().join(file)).unwrap(),
            std::fs::read_to_string(sdk.join(file)).unwrap(),
            "sdk-js/{file} is not what tsc makes of src/index.ts: run `npx tsc -p sdk-js` (TypeScript 5.9.3)"
        );
    }
}

/// Go: the template scaffolds, builds with the pinned Go, installs, runs and passes `skill
/// test` (its YAML cases in the sandbox and its own `go test`); the example is built from two
/// clean copies in different places, byte-identical, and runs every feature through the CLI
/// and a real MCP client (the Inspector).
#[test]
fn go_template_and_example() {
    let env = init("go", "hello-go");
    build_install_run(&env, "hello-go");
    let project = env.path("hello-go");
    let lock = std::fs::read_to_string(project.join("skill.lock")).unwrap();
    for needle in [
        "language = \"go\"",
        "go = \"1.27.3\"",
        "wasi-preview1-adapter = ",
    ] {
        assert!(lock.contains(needle), "{needle} missing from\n{lock}");
    }
    let tested = env.skill(&["test", project.to_str().unwrap()]);
    let out = tested.ok();
    assert!(out.contains("go test: unit tests"), "{out}");
    assert!(out.contains("3 passed, 0 failed"), "{out}");

    // A compile error: Go's own message with the author's file and line.
    std::fs::write(
        project.join("main.go"),
        "package main\n\nfunc main() { x }\n",
    )
    .unwrap();
    let broken = env.skill(&["build", project.to_str().unwrap()]);
    let stderr = broken.fails();
    assert!(stderr.contains("main.go:3:"), "{stderr}");
    assert!(
        stderr.contains("go build could not build hello-go"),
        "{stderr}"
    );

    // The example from two copies (each with the SDK at ../../sdk-go): the same bytes.
    let mut digests = Vec::new();
    for copy in ["a", "b/nested"] {
        let root = env.path(copy);
        copy_dir(
            &repo_root().join("examples/go-skill"),
            &root.join("examples/go-skill"),
        );
        copy_dir(&repo_root().join("sdk-go"), &root.join("sdk-go"));
        let report = env.skill(&[
            "build",
            root.join("examples/go-skill").to_str().unwrap(),
            "--json",
        ]);
        let report: serde_json::Value = serde_json::from_str(report.ok()).unwrap();
        digests.push(report["component"]["sha256"].as_str().unwrap().to_string());
    }
    assert_eq!(digests[0], digests[1]);
    let example = env.path("a/examples/go-skill");
    let tested = env.skill(&["test", example.to_str().unwrap()]);
    assert!(
        tested.ok().contains("6 passed, 0 failed"),
        "{}",
        tested.stdout
    );

    env.skill(&["install", example.to_str().unwrap(), "--yes"])
        .ok();
    let run = |args: &[&str]| env.skill(&[&["run"], args].concat()).ok().to_string();
    assert_eq!(run(&["go-skill:greet", "name=Go"]), "Hello, Go!\n");
    env.skill(&["config", "go-skill", "--set", "greeting=Howdy"])
        .ok();
    assert_eq!(run(&["go-skill:greet", "name=Go"]), "Howdy, Go!\n");
    // Large values, both ways: the host writes them into the skill through cabi_realloc,
    // where a garbage collection would make Go read the clock and wasmtime trap ("cannot
    // leave component instance"); the SDK keeps the collector off there.
    let big = "x".repeat(100_000);
    assert_eq!(
        run(&["go-skill:greet", &format!("name={big}")]).len(),
        100_009
    );
    let greeting = "g".repeat(70_000);
    env.skill(&[
        "config",
        "go-skill",
        "--set",
        &format!("greeting={greeting}"),
    ])
    .ok();
    assert_eq!(run(&["go-skill:greet", "name=Go"]).len(), 70_006);
    env.skill(&["config", "go-skill", "--set", "greeting=Howdy"])
        .ok();
    assert_eq!(
        run(&["go-skill:stats", "numbers=[1,2,3,4]", "measure=median"]),
        "{\"median\":2.5}\n"
    );
    // Typed errors keep their kind; a debug log reaches -v.
    let empty = env.skill(&["run", "go-skill:stats", "numbers=[]"]);
    assert!(
        empty.fails().contains("non-empty JSON array"),
        "{}",
        empty.stderr
    );
    let logged = env.skill(&["run", "-v", "go-skill:stats", "numbers=[1,2]"]);
    assert!(logged.stderr.contains("2 numbers"), "{}", logged.stderr);
    // Each call starts its own Go runtime, which sees the instance's sandbox: its /data, the
    // directories and the environment variables granted, and nothing else.
    assert_eq!(run(&["go-skill:note", "text=one"]), "1 notes\n");
    assert_eq!(run(&["go-skill:note", "text=two"]), "2 notes\n");
    let shared = env.path("shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::write(shared.join("f.txt"), "granted content\n").unwrap();
    let file = format!("path={}", shared.join("f.txt").display());
    let refused = |args: &[&str]| {
        let run = env.skill(&[&["run"], args].concat());
        assert!(
            run.code != 0 && run.stderr.contains("Bad file number"),
            "{}",
            run.stderr
        );
    };
    refused(&["go-skill:read", &file]);
    env.skill(&["grant", "go-skill", "--fs", shared.to_str().unwrap()])
        .ok();
    assert_eq!(run(&["go-skill:read", &file]), "granted content\n");
    refused(&["go-skill:read", "path=/etc/passwd"]);
    let denied = env
        .command(&["run", "go-skill:env", "name=GO_SKILL_SECRET"])
        .env("GO_SKILL_SECRET", "visible")
        .output()
        .unwrap();
    assert!(!denied.status.success());
    env.skill(&["grant", "go-skill", "--env", "GO_SKILL_SECRET"])
        .ok();
    let granted = env
        .command(&["run", "go-skill:env", "name=GO_SKILL_SECRET"])
        .env("GO_SKILL_SECRET", "visible")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&granted.stdout), "visible\n");

    // MCP: the Inspector lists the Go tools with their hints and calls one.
    let skill = env!("CARGO_BIN_EXE_skill");
    let listed =
        crate::serve::inspector(&[skill, "serve", "--stdio", "--method", "tools/list"], &env);
    let stats = listed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "go-skill_default__stats")
        .cloned()
        .unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(stats["title"], "[go-skill@default] Describe numbers");
    assert_eq!(stats["annotations"]["readOnlyHint"], true, "{stats}");
    assert_eq!(stats["outputSchema"]["type"], "object", "{stats}");
    let called = crate::serve::inspector(
        &[
            skill,
            "serve",
            "--stdio",
            "--method",
            "tools/call",
            "--tool-name",
            "go-skill_default__count",
            "--tool-arg",
            "to=3",
        ],
        &env,
    );
    assert_eq!(called["content"][0]["text"], "counted to 3", "{called}");
    assert_eq!(called["isError"], false, "{called}");

    // The network (last: a network grant withdraws the tools' read-only claims, above),
    // through the SDK's client (wasi:http): refused until granted; then a GET
    // that follows a redirect (each hop checked by the host), a POST with its body, and a
    // 12 MB body read whole: the heap grows while the host writes into it, unless the
    // bytes land in a buffer the SDK set aside (it trapped: "cannot leave component
    // instance"). Then the template's project with tools of this test's own, below.
    let (port, seen) = crate::serve_http(|request, _| match request.path.as_str() {
        "/old" => crate::HttpResponse::new(301, "").header("location", "/new?x=1"),
        "/big" => crate::HttpResponse::new(200, &"b".repeat(12_000_000)),
        "/stream" => crate::HttpResponse::new(200, &"s".repeat(96_000_000)),
        _ => crate::HttpResponse::new(
            200,
            &format!(
                "{} {} {} {}",
                request.method,
                request.path,
                request.header("user-agent"),
                request.body
            ),
        ),
    });
    let url = |path: &str| format!("url=http://127.0.0.1:{port}{path}");
    let target = url("/old");
    for body in [None, Some("body=secret")] {
        let mut args = vec!["run", "go-skill:fetch", &target];
        args.extend(body);
        let refused = env.skill(&args);
        assert!(
            refused.code == 1 && refused.stderr.contains("HTTP-request-denied"),
            "{}",
            refused.stderr
        );
    }
    assert!(seen.lock().unwrap().is_empty(), "a request went out");
    env.skill(&["grant", "go-skill", "--net", &format!("127.0.0.1:{port}")])
        .ok();
    assert_eq!(
        run(&["go-skill:fetch", &url("/old")]),
        "200 GET /new?x=1 skill-go \n"
    );
    assert_eq!(
        run(&["go-skill:fetch", &url("/post"), "body=a body"]),
        "200 POST /post skill-go a body\n"
    );
    assert!(
        run(&["go-skill:fetch", &url("/big")]).ends_with("… (12000000 bytes)\n"),
        "the whole body was not read"
    );
    assert_eq!(seen.lock().unwrap().len(), 4);

    // Host calls from many goroutines at once, with collections between them (their
    // buffers were released out of order: a panic in the SDK); and a 96 MB body streamed
    // through a small buffer within a 48 MiB instance (every read used to stay allocated).
    std::fs::write(project.join("main.go"), GO_HTTP_TOOLS).unwrap();
    env.skill(&["install", project.to_str().unwrap(), "--yes"])
        .ok();
    env.skill(&["grant", "hello-go", "--net", &format!("127.0.0.1:{port}")])
        .ok();
    assert_eq!(
        run(&["hello-go:parallel", &url("/post"), "n=16"]),
        "160 ok []\n"
    );
    env.skill(&["config", "hello-go", "--limit", "memory=48MiB"])
        .ok();
    assert_eq!(
        run(&["hello-go:stream", &url("/stream")]),
        "96000000 bytes\n"
    );
}

/// Tools of the Go test's own (in the template's project): skillhttp from many goroutines,
/// and a body streamed through a small buffer.
const GO_HTTP_TOOLS: &str = r#"package main

import (
	"fmt"
	"io"
	"sync"

	"skill-engine/sdk-go"
	"skill-engine/sdk-go/skillhttp"
)

type Args struct {
	URL string
	N   int `default:"1"`
}

func init() {
	skill.Tool("parallel", "N goroutines, 10 GETs each, making garbage.", func(a Args) (string, error) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, failed := 0, []string{}
		for range a.N {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 10 {
					_ = make([]byte, 1<<20)
					resp, err := skillhttp.Get(a.URL)
					if err == nil {
						_, err = io.ReadAll(resp.Body)
						resp.Body.Close()
					}
					mu.Lock()
					if err != nil {
						failed = append(failed, err.Error())
					} else {
						ok++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return fmt.Sprintf("%d ok %v", ok, failed), nil
	})
	skill.Tool("stream", "Count a body's bytes, read through a small buffer.", func(a Args) (string, error) {
		resp, err := skillhttp.Get(a.URL)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		return fmt.Sprintf("%d bytes", n), err
	})
}

func main() {}
"#;

/// JavaScript: two clean builds of the template in different directories. StarlingMonkey
/// (componentize-js, run with the build's own Wizer) gives the same bytes; QuickJS
/// (componentize-qjs, whose Wizer is built into it) still differs in its hash-map seeds,
/// which docs/building.md records — this test notices the day it stops differing.
#[test]
fn javascript_builds_are_reproducible_on_starlingmonkey() {
    let env = Env::new();
    env.skill(&["init", "same-js", "-t", "javascript"]).ok();
    let template = env.path("same-js");
    let build = |copy: &str, quickjs: bool| {
        let project = env.path(copy).join("same-js");
        copy_dir(&template, &project);
        if quickjs {
            let yaml = project.join("skill.yaml");
            let text = std::fs::read_to_string(&yaml).unwrap();
            std::fs::write(
                &yaml,
                text.replace("  # engine: quickjs ", "  engine: quickjs "),
            )
            .unwrap();
        }
        let report = env.skill(&["build", project.to_str().unwrap(), "--json"]);
        let report: serde_json::Value = serde_json::from_str(report.ok()).unwrap();
        report["component"]["sha256"].as_str().unwrap().to_string()
    };
    assert_eq!(build("a", false), build("b/nested", false));
    assert_ne!(
        build("qa", true),
        build("qb/nested", true),
        "QuickJS builds became reproducible: say so in docs/building.md"
    );
}
