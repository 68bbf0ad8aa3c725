//! Instances, config, secrets, the install review and the audit log.

use std::path::Path;

use crate::{Env, ScriptedTerminal, misbehave, rust_skill};

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}

#[test]
fn instances_keep_their_own_config_and_secrets_never_show() {
    let env = Env::new();
    let skill = misbehave().to_str().unwrap();
    env.skill(&["install", "--yes", skill, "-i", "prod"]).ok();
    env.skill(&["install", "--yes", skill, "--instance", "staging"])
        .ok();
    let listed = env.skill(&["instances", "misbehave"]);
    assert!(listed.ok().contains("misbehave@prod"), "{}", listed.stdout);
    assert!(listed.stdout.contains("misbehave@staging"));
    assert!(!listed.stdout.contains("misbehave@default"));

    env.skill(&["config", "misbehave@prod", "--set", "region=us-east-1"])
        .ok();
    // The secret comes on stdin, not in argv.
    env.skill_with_input(&["config", "misbehave@prod", "--set", "token"], "hunter2\n")
        .ok();
    let run = |target: &str, key: &str| env.skill(&["run", target, key]).ok().to_string();
    assert_eq!(
        run("misbehave@prod:setting", "token"),
        "token=Some(\"hunter2\")\n"
    );
    assert_eq!(run("misbehave@staging:setting", "token"), "token=None\n");
    assert_eq!(
        run("misbehave@staging:setting", "region"),
        "region=Some(\"eu-west-1\")\n"
    );
    assert_eq!(
        run("misbehave@prod:setting", "region"),
        "region=Some(\"us-east-1\")\n"
    );
    // `env: MISBEHAVE_TOKEN` in the schema maps the value into the guest's environment.
    assert_eq!(
        run("misbehave@prod:getenv", "MISBEHAVE_TOKEN"),
        "MISBEHAVE_TOKEN=hunter2\n"
    );

    let show = env.skill(&["config", "misbehave@prod", "--show"]);
    assert!(!show.ok().contains("hunter2"), "{}", show.stdout);
    assert!(show.stdout.contains("token"), "{}", show.stdout);
    assert!(
        show.stdout.contains("retries  3 (default)"),
        "{}",
        show.stdout
    );
    let terse = env.skill(&["config", "misbehave@prod", "--show", "-q"]);
    assert!(
        terse.ok().lines().any(|l| l == "retries=3"),
        "{}",
        terse.stdout
    );
    assert!(!terse.stdout.contains("hunter2"), "{}", terse.stdout);
    let export = env.skill(&["config", "misbehave@prod", "--export"]);
    assert!(!export.ok().contains("hunter2"));
    assert!(export.stdout.contains("region = \"us-east-1\""));
    let get = env.skill(&["config", "misbehave@prod", "--get", "token"]);
    assert!(get.fails().contains("`token` is a secret"));
    assert!(!get.stderr.contains("hunter2"));
    assert_eq!(
        env.skill(&["config", "misbehave@prod", "--get", "token", "--reveal"])
            .ok(),
        "hunter2\n"
    );
    let revealed = env.skill(&["config", "misbehave@prod", "--export", "--reveal"]);
    assert!(revealed.ok().contains("token = \"hunter2\""));

    // Bad values: the schema's type, then the skill's own validate-config; nothing changes.
    let typed = env.skill(&["config", "misbehave@prod", "--set", "retries=lots"]);
    assert!(
        typed
            .fails()
            .contains("config `retries` must be an integer")
    );
    let refused = env.skill(&["config", "misbehave@prod", "--set", "retries=11"]);
    assert!(
        refused
            .fails()
            .contains("misbehave rejected the config: retries must be 0-10"),
        "{}",
        refused.stderr
    );
    let unknown = env.skill(&["config", "misbehave@prod", "--set", "regoin=x"]);
    assert!(unknown.fails().contains("did you mean `region`?"));
    assert_eq!(
        run("misbehave@prod:setting", "retries"),
        "retries=Some(\"3\")\n"
    );

    // Export → import moves plain values to another instance.
    std::fs::write(env.path("prod.toml"), &export.stdout).unwrap();
    env.skill(&["config", "misbehave@staging", "--import", "prod.toml"])
        .ok();
    assert_eq!(
        run("misbehave@staging:setting", "region"),
        "region=Some(\"us-east-1\")\n"
    );
    assert_eq!(run("misbehave@staging:setting", "token"), "token=None\n");

    // --edit: an invalid result keeps the old config; a valid one is applied.
    let editor = env.path("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nprintf 'region = [broken\\n' > \"$1\"\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let broken = env
        .command(&["config", "misbehave@staging", "--edit"])
        .env("EDITOR", &editor)
        .env_remove("VISUAL")
        .output()
        .unwrap();
    assert!(!broken.status.success());
    assert!(String::from_utf8_lossy(&broken.stderr).contains("the old config is kept"));
    assert_eq!(
        run("misbehave@staging:setting", "region"),
        "region=Some(\"us-east-1\")\n"
    );
    std::fs::write(
        &editor,
        "#!/bin/sh\nprintf 'region = \"ap-south-1\"\\n' > \"$1\"\n",
    )
    .unwrap();
    let edited = env
        .command(&["config", "misbehave@staging", "--edit"])
        .env("EDITOR", &editor)
        .env_remove("VISUAL")
        .output()
        .unwrap();
    assert!(
        edited.status.success(),
        "{}",
        String::from_utf8_lossy(&edited.stderr)
    );
    assert_eq!(
        run("misbehave@staging:setting", "region"),
        "region=Some(\"ap-south-1\")\n"
    );

    // The secret is nowhere on disk in the clear, and the audit log names keys only.
    let mut files = Vec::new();
    walk(env.home.path(), &mut files);
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !bytes.windows(7).any(|w| w == b"hunter2"),
            "{} holds the secret",
            file.display()
        );
    }
    let log = std::fs::read_to_string(env.home.path().join("audit.log")).unwrap();
    assert!(log.contains("\"keys\":[\"token\"]"), "{log}");
    env.assert_transcript("instances-config");
}

#[test]
fn install_asks_before_granting_and_again_for_more() {
    let env = Env::new();
    let skill = misbehave().to_str().unwrap();
    let declined = env.skill_with_input(&["install", skill], "n\n");
    assert!(declined.fails().contains("were not approved"));
    assert!(
        declined
            .stderr
            .contains("asks for these permissions for misbehave@default"),
        "{}",
        declined.stderr
    );
    assert!(
        declined
            .stderr
            .contains("+ Read the environment variable MISBEHAVE_GRANTED")
    );
    assert!(declined.stderr.contains("+ Use up to 128MiB of memory"));
    assert_eq!(env.skill(&["list"]).stdout, "");
    assert!(!env.home.path().join("instances/misbehave").exists());

    env.skill_with_input(&["install", skill], "y\n").ok();
    // The same request again: nothing to ask.
    let again = env.skill(&["install", skill]);
    assert!(!again.stderr.contains("asks for"), "{}", again.stderr);
    again.ok();

    // A version that asks for more shows only the difference.
    let wider = env.path("wider");
    std::fs::create_dir_all(&wider).unwrap();
    for file in ["misbehave.wasm", "skill.yaml"] {
        std::fs::copy(misbehave().join(file), wider.join(file)).unwrap();
    }
    let yaml = std::fs::read_to_string(wider.join("skill.yaml")).unwrap();
    std::fs::write(
        wider.join("skill.yaml"),
        yaml.replace(
            "env: [MISBEHAVE_GRANTED]",
            "env: [MISBEHAVE_GRANTED]\n  network: [api.example.com]",
        ),
    )
    .unwrap();
    let more = env.skill(&["install", wider.to_str().unwrap()]);
    assert!(more.fails().contains("were not approved"));
    assert!(
        more.stderr
            .contains("asks for more than misbehave@default was granted:\n  + Connect to api.example.com over HTTP(S)\n"),
        "{}",
        more.stderr
    );
    assert!(
        !more.stderr.contains("MISBEHAVE_GRANTED"),
        "{}",
        more.stderr
    );
    env.skill(&["install", "--yes", wider.to_str().unwrap()])
        .ok();
    let listed = env.skill(&["instances", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(listed.ok()).unwrap();
    assert!(
        rows[0]["permissions"]
            .to_string()
            .contains("Connect to api.example.com"),
        "{rows}"
    );
    env.assert_transcript("install-review");
}

#[test]
fn concurrent_config_writers_lose_no_update() {
    let env = Env::new();
    env.skill(&["install", rust_skill().to_str().unwrap()]).ok();
    let children: Vec<_> = (0..20)
        .map(|i| {
            env.command(&["config", "rust-skill", "--set", &format!("key{i}=value{i}")])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let shown = env.skill(&["config", "rust-skill", "--show", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(shown.ok()).unwrap();
    let keys: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 20, "{keys:?}");
    for i in 0..20 {
        assert!(
            keys.contains(&format!("key{i}").as_str()),
            "key{i} lost: {keys:?}"
        );
    }
}

#[test]
fn instances_are_named_in_errors_and_removed_on_their_own() {
    let env = Env::new();
    env.skill(&["install", rust_skill().to_str().unwrap(), "-i", "prod"])
        .ok();
    let missing = env.skill(&["run", "rust-skill:greet", "name=x"]);
    assert!(
        missing
            .fails()
            .contains("skill `rust-skill` has no instance `default`"),
        "{}",
        missing.stderr
    );
    assert!(missing.stderr.contains("instances of rust-skill: prod"));
    env.skill(&["run", "rust-skill@prod:greet", "name=x"]).ok();
    env.skill(&["install", rust_skill().to_str().unwrap()]).ok();
    env.skill(&["remove", "--force", "rust-skill@prod"]).ok();
    let gone = env.skill(&["run", "rust-skill@prod:greet", "name=x"]);
    assert!(gone.fails().contains("no instance `prod`"));
    assert_eq!(
        env.skill(&["run", "rust-skill:greet", "name=x"]).ok(),
        "Hello, x!\n"
    );
    env.skill(&["remove", "--force", "rust-skill"]).ok();
    assert!(!env.home.path().join("instances/rust-skill").exists());
}

/// The wizard, driven through a real pseudo-terminal, one answer at a time.
#[test]
fn config_with_no_flags_in_a_terminal_is_a_wizard() {
    let env = Env::new();
    env.skill(&["install", "--yes", misbehave().to_str().unwrap()])
        .ok();
    let mut terminal = ScriptedTerminal::start(&env, "config misbehave");
    // region (typed), retries (Enter keeps the default), token (hidden input).
    terminal.answer("region (string)", "us-west-2\n");
    terminal.answer("retries (integer)", "\n");
    terminal.answer("token — API token", "hunter3\n");
    let screen = terminal.finish();
    assert!(screen.contains("region (string) [eu-west-1]:"), "{screen}");
    assert!(
        !screen.contains("hunter3"),
        "the secret was echoed: {screen}"
    );
    assert_eq!(
        env.skill(&["run", "misbehave:setting", "region"]).ok(),
        "region=Some(\"us-west-2\")\n"
    );
    assert_eq!(
        env.skill(&["run", "misbehave:setting", "token"]).ok(),
        "token=Some(\"hunter3\")\n"
    );
    assert_eq!(
        env.skill(&["run", "misbehave:setting", "retries"]).ok(),
        "retries=Some(\"3\")\n"
    );
}
