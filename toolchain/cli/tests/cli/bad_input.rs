//! Bad input: one clear error line with a hint, a non-zero exit, and the store unchanged.

use crate::{Env, rust_skill};

/// Every listed file in the store, with its contents, to check nothing changed.
fn snapshot(env: &Env) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![env.home.path().join("skills")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

fn installed_env() -> Env {
    let env = Env::new();
    env.skill(&["install", rust_skill().to_str().unwrap()]).ok();
    env
}

#[test]
fn files_that_are_not_skills() {
    let env = installed_env();
    let before = snapshot(&env);
    let yaml = std::fs::read(rust_skill().join("skill.yaml")).unwrap();
    std::fs::write(env.path("skill.yaml"), &yaml).unwrap();

    std::fs::write(env.path("text.wasm"), "hello").unwrap();
    assert!(
        env.skill(&["install", "text.wasm"])
            .fails()
            .contains("not a WebAssembly file")
    );

    std::fs::write(env.path("core.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let core = env.skill(&["install", "core.wasm"]);
    assert!(
        core.fails()
            .contains("this is a core wasm module, not a component"),
        "{}",
        core.stderr
    );

    // A valid component that implements nothing of the contract.
    std::fs::write(env.path("empty.wasm"), b"\0asm\x0d\0\x01\0").unwrap();
    let empty = env.skill(&["install", "empty.wasm"]);
    assert!(
        empty
            .fails()
            .contains("missing export `skill-engine:skill/guest@0.3.0`"),
        "{}",
        empty.stderr
    );

    // Truncated component.
    let component = std::fs::read(rust_skill().join("rust-skill.wasm")).unwrap();
    std::fs::write(env.path("cut.wasm"), &component[..component.len() / 2]).unwrap();
    let cut = env.skill(&["install", "cut.wasm"]);
    assert!(
        cut.fails().contains("malformed component"),
        "{}",
        cut.stderr
    );

    std::fs::create_dir(env.path("empty-dir")).unwrap();
    let neither = env.skill(&["install", "empty-dir"]);
    assert!(
        neither
            .fails()
            .contains("is neither a skill project nor a built skill"),
        "{}",
        neither.stderr
    );
    // Not a path, and no registry to look the name up in: both said, exit 4.
    let missing = env.skill(&["install", "missing"]);
    assert!(
        missing.fails().contains("does not exist here"),
        "{}",
        missing.stderr
    );
    assert_eq!(missing.code, 4);
    assert!(
        env.skill(&["install", "./missing"])
            .fails()
            .contains("does not exist")
    );

    // A component whose skill.yaml disagrees with it.
    std::fs::create_dir(env.path("renamed")).unwrap();
    std::fs::write(env.path("renamed/other.wasm"), &component).unwrap();
    std::fs::write(
        env.path("renamed/skill.yaml"),
        "name: other\nversion: 0.1.0\n",
    )
    .unwrap();
    let renamed = env.skill(&["install", "renamed/other.wasm"]);
    assert!(
        renamed.fails().contains(
            "the component says it is `rust-skill 0.1.0`, but skill.yaml says `other 0.1.0`"
        ),
        "{}",
        renamed.stderr
    );

    // A broken skill.yaml.
    std::fs::write(
        env.path("renamed/skill.yaml"),
        "name: other\nversion: 0.1.0\ncolour: red\n",
    )
    .unwrap();
    assert!(
        env.skill(&["install", "renamed/other.wasm"])
            .fails()
            .contains("unknown field `colour`")
    );

    assert_eq!(snapshot(&env), before, "the store changed");
    env.assert_transcript("bad-input-files");
}

#[test]
fn unknown_names_list_what_exists() {
    let env = installed_env();
    let before = snapshot(&env);
    let skill = env.skill(&["run", "nope:greet"]);
    assert!(skill.fails().contains("skill `nope` is not installed"));
    assert!(skill.stderr.contains("installed skills: rust-skill"));
    let instance = env.skill(&["run", "rust-skill@prod:greet", "x"]);
    assert!(
        instance
            .fails()
            .contains("skill `rust-skill` has no instance `prod`")
    );
    assert!(instance.stderr.contains("instances of rust-skill: default"));
    let tool = env.skill(&["run", "rust-skill:gret", "x"]);
    assert!(
        tool.fails()
            .contains("skill `rust-skill` has no tool `gret`")
    );
    assert!(
        tool.stderr
            .contains("tools of rust-skill: greet, add, repeat, divide"),
        "{}",
        tool.stderr
    );
    assert!(
        env.skill(&["run", "rust-skill"])
            .fails()
            .contains("which tool of `rust-skill`?")
    );
    assert!(
        env.skill(&["rm", "nope", "-f"])
            .fails()
            .contains("skill `nope` is not installed")
    );
    assert!(
        env.skill(&["frobnicate"])
            .fails()
            .contains("unknown command `frobnicate`")
    );
    assert!(
        Env::new()
            .skill(&["run", "x:y"])
            .fails()
            .contains("no skills are installed")
    );
    assert_eq!(snapshot(&env), before);
    env.assert_transcript("bad-input-names");
}

#[test]
fn arguments_are_checked_before_the_call() {
    let env = installed_env();
    let missing = env.skill(&["run", "rust-skill:greet"]);
    assert!(
        missing
            .fails()
            .contains("missing required argument `name` (string): Who to greet"),
        "{}",
        missing.stderr
    );
    assert!(
        missing
            .stderr
            .contains("hint: usage: skill run rust-skill:greet name=<string>")
    );
    let ill_typed = env.skill(&["run", "rust-skill:add", "a=two", "b=2"]);
    assert!(
        ill_typed
            .fails()
            .contains("argument `a` expects an integer, got `two`")
    );
    let unknown = env.skill(&["run", "rust-skill:greet", "--nme", "x"]);
    assert!(
        unknown
            .fails()
            .contains("unknown argument `nme` for tool `greet` (parameters: name)")
    );
    let extra = env.skill(&["run", "rust-skill:greet", "a", "b"]);
    assert!(extra.fails().contains("unexpected argument `b`"));
    let boolean = env.skill(&["run", "rust-skill:repeat", "x", "--shout=maybe"]);
    assert!(
        boolean
            .fails()
            .contains("argument `shout` expects true or false, got `maybe`")
    );
    env.assert_transcript("bad-input-arguments");
}

#[test]
fn init_refuses_bad_names_and_non_empty_directories() {
    let env = Env::new();
    std::fs::create_dir(env.path("taken")).unwrap();
    std::fs::write(env.path("taken/keep.txt"), "mine").unwrap();
    let taken = env.skill(&["init", "taken"]);
    assert!(
        taken
            .fails()
            .contains("destination `taken` already exists and is not empty")
    );
    assert_eq!(
        std::fs::read_to_string(env.path("taken/keep.txt")).unwrap(),
        "mine"
    );
    assert!(
        env.skill(&["init", "Bad Name"])
            .fails()
            .contains("invalid skill name `Bad Name`")
    );
    let template = env.skill(&["init", "x", "-t", "cobol"]);
    assert!(template.fails().contains("unknown template `cobol`"));
    assert!(
        template.stderr.contains(
            "available templates: go, javascript, multi-tool-js, python, rust, typescript"
        )
    );
    assert!(!env.path("x").exists());
    // An existing empty directory is fine.
    std::fs::create_dir(env.path("fresh")).unwrap();
    env.skill(&["init", "fresh"]).ok();
    assert!(env.path("fresh/skill.yaml").is_file());
    env.assert_transcript("bad-input-init");
}

#[test]
fn compile_errors_point_at_the_users_file() {
    let env = Env::new();
    env.skill(&["init", "broken"]).ok();
    let lib = env.path("broken/src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        source.replace(
            "format!(\"Hello, {name}!\")",
            "format!(\"Hello, {name}!\") + 1",
        ),
    )
    .unwrap();
    let build = env.skill(&["build", "broken"]);
    assert_ne!(build.code, 0);
    assert!(
        build.stderr.contains("src/lib.rs"),
        "the compiler's message names the file:\n{}",
        build.stderr
    );
    assert!(
        build.stderr.contains("error: could not compile `broken`"),
        "{}",
        build.stderr
    );
    assert!(
        build.stderr.contains("hint: fix the errors above"),
        "{}",
        build.stderr
    );
    assert!(
        !build.stderr.contains("Compiling skill-sdk"),
        "no cargo chatter:\n{}",
        build.stderr
    );
}

/// An output directory that would hold the sources is refused before anything is built: it
/// would make every build look current.
#[test]
fn build_output_cannot_hold_the_sources() {
    let env = Env::new();
    env.skill(&["init", "out-here", "-t", "rust"]).ok();
    let yaml = env.path("out-here/skill.yaml");
    for output in [".", "src"] {
        let text = std::fs::read_to_string(&yaml).unwrap();
        let text: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("output:"))
            .map(|l| format!("{l}\n"))
            .collect();
        let text = text.replacen("build:\n", &format!("build:\n  output: {output}\n"), 1);
        std::fs::write(&yaml, text).unwrap();
        let built = env.skill(&["build", "out-here"]);
        assert!(
            built.fails().contains("would hold the project's sources"),
            "{output}: {}",
            built.stderr
        );
    }
}
