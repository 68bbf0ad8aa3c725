//! The installed-skill store and the AOT cache under concurrency and tampering.

use std::path::PathBuf;

use crate::{Env, rust_skill};

fn cache_entries(env: &Env) -> Vec<PathBuf> {
    let dir = env.home.path().join("cache/aot");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    entries.sort();
    entries
}

#[test]
fn a_damaged_cache_entry_is_recompiled_never_loaded() {
    let env = Env::new();
    env.skill(&["install", rust_skill().to_str().unwrap()]).ok();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.home.path().join("cache/aot"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    let entries = cache_entries(&env);
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    let original = std::fs::read(entry).unwrap();

    let hit = env.skill(&["-v", "run", "rust-skill:greet", "x"]);
    assert!(
        hit.stderr.contains("loaded from the AOT cache"),
        "{}",
        hit.stderr
    );

    // Flip one byte in the code: the MAC no longer matches.
    let mut tampered = original.clone();
    tampered[original.len() / 2] ^= 0x55;
    std::fs::write(entry, &tampered).unwrap();
    let run = env.skill(&["-v", "run", "rust-skill:greet", "x"]);
    assert_eq!(run.ok(), "Hello, x!\n");
    assert!(
        run.stderr
            .contains("recompiled (cache entry failed its integrity check"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(entry).unwrap(),
        original,
        "the entry is rewritten"
    );

    // Truncate it.
    std::fs::write(entry, &original[..100]).unwrap();
    let run = env.skill(&["-v", "run", "rust-skill:greet", "y"]);
    assert_eq!(run.ok(), "Hello, y!\n");
    assert!(run.stderr.contains("recompiled"), "{}", run.stderr);

    // A .cwasm made elsewhere (here: the build output, a valid wasmtime artifact without our
    // MAC) put in place of the entry is refused too.
    std::fs::copy(rust_skill().join("rust-skill.cwasm"), entry).unwrap();
    let run = env.skill(&["-v", "run", "rust-skill:greet", "z"]);
    assert_eq!(run.ok(), "Hello, z!\n");
    assert!(run.stderr.contains("recompiled"), "{}", run.stderr);

    // A new cache key (e.g. a copied home) invalidates every entry.
    std::fs::write(env.home.path().join("cache/aot/key"), [7u8; 32]).unwrap();
    let run = env.skill(&["-v", "run", "rust-skill:greet", "w"]);
    assert!(run.stderr.contains("recompiled"), "{}", run.stderr);
}

#[test]
fn a_modified_component_in_the_store_is_refused() {
    let env = Env::new();
    env.skill(&["install", rust_skill().to_str().unwrap()]).ok();
    for entry in cache_entries(&env) {
        std::fs::remove_file(entry).unwrap();
    }
    let skill_dir = env.home.path().join("skills/rust-skill");
    let version_dir = std::fs::read_to_string(skill_dir.join("current")).unwrap();
    let component = skill_dir.join(version_dir.trim()).join("component.wasm");
    let mut bytes = std::fs::read(&component).unwrap();
    bytes.push(0);
    std::fs::write(&component, bytes).unwrap();
    let run = env.skill(&["run", "rust-skill:greet", "x"]);
    assert!(
        run.fails()
            .contains("does not match the digest recorded at install time"),
        "{}",
        run.stderr
    );
}

#[test]
fn concurrent_installs_and_runs_leave_a_consistent_store() {
    let env = Env::new();
    let source = rust_skill().to_str().unwrap().to_string();
    env.skill(&["install", &source]).ok();
    let children: Vec<_> = (0..6)
        .map(|i| {
            let args: Vec<String> = if i % 2 == 0 {
                vec!["install".into(), source.clone()]
            } else {
                vec!["run".into(), "rust-skill:greet".into(), format!("n{i}")]
            };
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            env.command(&args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "child {i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if i % 2 == 1 {
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                format!("Hello, n{i}!\n")
            );
        }
    }
    // Exactly one version directory and the pointer, no staging debris.
    let skill_dir = env.home.path().join("skills/rust-skill");
    let mut names: Vec<String> = std::fs::read_dir(&skill_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(names[1], "current");
    assert!(names[0].starts_with("0.1.0-"), "{names:?}");
    assert_eq!(
        env.skill(&["run", "rust-skill:greet", "after"]).ok(),
        "Hello, after!\n"
    );
}

#[test]
fn an_install_killed_at_any_moment_leaves_the_old_state_or_the_new() {
    let source = rust_skill().to_str().unwrap().to_string();
    // Kill later and later (7 ms steps) until an install finishes before the kill, so some
    // kills land in the short window where the store is written.
    let mut killed = 0;
    for delay_ms in (0u64..5000).step_by(7) {
        let env = Env::new();
        let mut child = env
            .command(&["install", &source])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill(); // SIGKILL: no cleanup runs
        let _ = child.wait();

        // Either not installed at all, or installed and working; never half.
        let listed: serde_json::Value =
            serde_json::from_str(env.skill(&["list", "--json"]).ok()).unwrap();
        match listed.as_array().unwrap().len() {
            0 => assert!(!finished, "a finished install left nothing"),
            1 => assert_eq!(
                env.skill(&["run", "rust-skill:greet", "x"]).ok(),
                "Hello, x!\n"
            ),
            n => panic!("{n} skills after one install"),
        }
        // And the next install works and sweeps any debris.
        env.skill(&["install", &source]).ok();
        assert_eq!(
            env.skill(&["run", "rust-skill:greet", "y"]).ok(),
            "Hello, y!\n"
        );
        let debris: Vec<_> = std::fs::read_dir(env.home.path().join("skills/rust-skill"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(debris.is_empty(), "delay {delay_ms} ms: {debris:?}");
        if finished {
            break;
        }
        killed += 1;
    }
    assert!(
        killed > 3,
        "the install finished before most kills ({killed} killed)"
    );
}
