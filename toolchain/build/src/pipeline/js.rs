//! The JavaScript/TypeScript compile stage: project dependencies (npm) → type check (tsc, for
//! TypeScript) → bundle (esbuild, npm dependencies included) → componentize (componentize-js
//! with StarlingMonkey, or componentize-qjs with QuickJS) against the contract's WIT.
//!
//! The author's `package.json` needs nothing but a dependency on the SDK: the entry module
//! calls `defineSkill(...)`, and the bundle's own entry (fed to esbuild on stdin) imports it
//! and re-exports the SDK's `guest`, which is what the component exports.

use std::path::Path;
use std::process::{Command, Stdio};

use skill_engine::{Error, Result};
use skill_manifest::manifest::{JsEngine, Language};

use super::{Compiled, Toolchain, run_tool};
use crate::progress::Stage;
use crate::project::Project;

/// The npm package name of the SDK, which the bundle entry imports.
pub const SDK_PACKAGE: &str = "@skill-engine/sdk";

pub fn compile(project: &Project, tc: &Toolchain, stage: &dyn Stage) -> Result<Compiled> {
    let tools = &tc.js_tools()?;
    let node = crate::tools::node();
    crate::tools::require_program(&node, &["--version"])?;
    let entry = project.entry_path().expect("JS projects have an entry");
    let entry_rel = project.build.entry.clone().expect("entry");
    if !entry.is_file() {
        return Err(Error::not_found(format!(
            "the entry module {entry_rel} does not exist"
        ))
        .with_hint("create it, or point `build.entry` in skill.yaml at the module that calls defineSkill()"));
    }
    let work = project.work_dir();
    std::fs::create_dir_all(&work).map_err(|e| Error::io("create directory", &work, e))?;

    install_dependencies(project, stage)?;

    if project.language == Language::Typescript {
        stage.set_detail("type-checking (tsc)");
        let mut tsc = Command::new(&node);
        tsc.arg(tools.join("node_modules/typescript/bin/tsc"))
            .arg("--noEmit")
            .arg("--pretty")
            .arg("false");
        if project.root.join("tsconfig.json").is_file() {
            tsc.arg("-p").arg(&project.root);
        } else {
            tsc.args([
                "--strict",
                "--target",
                "es2022",
                "--module",
                "esnext",
                "--moduleResolution",
                "bundler",
                "--skipLibCheck",
            ])
            .arg(&entry_rel);
        }
        tsc.current_dir(&project.root);
        run_tool(&mut tsc, "tsc", || {
            format!("type errors in {} (tsc)", project.name())
        })?;
    }

    stage.set_detail("bundling (esbuild)");
    let engine = project.js_engine();
    let bundle = work.join("bundle.js");
    super::clear_output(&bundle)?;
    let info = serde_json::json!({
        "name": project.skill_yaml.name,
        "version": project.skill_yaml.version,
        "description": project.skill_yaml.description.clone().unwrap_or_default(),
    });
    // The entry is given relative to the project, so the bundle's path comments are too.
    let stdin_entry = format!(
        "import {:?};\nexport {{ guest }} from {:?};\n",
        format!("./{entry_rel}"),
        SDK_PACKAGE
    );
    let mut esbuild = Command::new(&node);
    esbuild
        .arg(tools.join("node_modules/esbuild/bin/esbuild"))
        .args([
            "--bundle",
            "--format=esm",
            "--platform=neutral",
            "--target=es2022",
            "--main-fields=module,main",
            "--external:skill-engine:*",
            "--charset=utf8",
            "--log-level=warning",
            "--sourcefile=skill-entry.js",
        ])
        .arg(format!("--define:__SKILL_INFO__={info}"))
        // The two engines' bindings differ (an s64 is a BigInt in componentize-js, a number
        // in componentize-qjs): the SDK asks which one it runs on.
        .arg(format!(
            "--define:__SKILL_JS_ENGINE__=\"{}\"",
            match engine {
                JsEngine::Starlingmonkey => "starlingmonkey",
                JsEngine::Quickjs => "quickjs",
            }
        ))
        .arg(format!("--outfile={}", bundle.display()))
        .current_dir(&project.root);
    run_tool_with_stdin(&mut esbuild, "esbuild", stdin_entry.as_bytes(), || {
        format!("could not bundle {} (esbuild)", project.name())
    })?;

    let output = work.join(format!("{}.component.wasm", project.name()));
    super::clear_output(&output)?;
    match engine {
        JsEngine::Starlingmonkey => {
            stage.set_detail("componentize-js (StarlingMonkey)");
            let wizer = wizer_wrapper(&work)?;
            let mut cmd = Command::new(&node);
            cmd.env(WIZER_BIN_ENV, &wizer)
                .arg(tools.join("componentize.mjs"))
                .arg(&bundle)
                .arg(tc.sdk.wit())
                .arg("skill")
                .arg(&output)
                .arg(format!("{}.js", project.name()))
                // fetch (wasi:http) only for skills that ask for network access.
                .arg(if project.skill_yaml.capabilities.network.is_empty() {
                    "no-http"
                } else {
                    "http"
                })
                .current_dir(&work);
            run_tool(&mut cmd, "componentize-js", || {
                format!("componentize-js could not build {}", project.name())
            })?;
        }
        JsEngine::Quickjs => {
            stage.set_detail("componentize-qjs (QuickJS)");
            let mut cmd = Command::new(&node);
            cmd.arg(tools.join("node_modules/componentize-qjs/bin/componentize-qjs"))
                .arg("--wit")
                .arg(tc.sdk.wit())
                .arg("--js")
                .arg("bundle.js")
                .args(["--world", "skill", "--sync", "--output"])
                .arg(&output)
                .current_dir(&work);
            run_tool(&mut cmd, "componentize-qjs", || {
                format!("componentize-qjs could not build {}", project.name())
            })?;
        }
    }
    Ok(Compiled {
        component: output,
        is_core_module: false,
        tools: tools_used(project),
        dependency_lock: super::lock_digest(&project.root, "package-lock.json"),
    })
}

/// componentize-js runs the Wizer binary this names: the build's own (see `wizer_wrapper`).
const WIZER_BIN_ENV: &str = "SKILL_WIZER_BIN";
/// The argument that makes `skill-toolchain` the Wizer CLI (cli::main_toolchain).
pub const WIZER_COMMAND: &str = "__componentize-wizer";

/// A script for componentize-js's `wizerBin` that runs this program as a Wizer that is
/// reproducible (stopped clocks, fixed random bytes, fixed paths: pipeline/wizer.rs,
/// `run_wizer_cli`). The Wizer npm package would snapshot StarlingMonkey with the real
/// clock, random seeds and a new temporary path each build.
fn wizer_wrapper(work: &std::path::Path) -> Result<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let exe = std::env::current_exe()
        .map_err(|e| Error::io("find", std::path::Path::new("the running program"), e))?;
    let quoted = format!("'{}'", exe.display().to_string().replace('\'', "'\\''"));
    let script = work.join("wizer");
    skill_store::fsutil::write_atomic(
        &script,
        format!("#!/bin/sh\nexec {quoted} {WIZER_COMMAND} \"$@\"\n").as_bytes(),
    )?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::io("make executable", &script, e))?;
    Ok(script)
}

/// The pinned JS tools that shape this project's component: the engine's componentizer,
/// esbuild, and TypeScript for TypeScript projects.
pub fn tools_used(project: &Project) -> Vec<(String, String)> {
    let engine = project.js_engine();
    crate::tools::Kit::Js
        .pins()
        .into_iter()
        .filter(|(name, _)| match name.as_str() {
            "componentize-js" => engine == JsEngine::Starlingmonkey,
            "componentize-qjs" => engine == JsEngine::Quickjs,
            "typescript" => project.language == Language::Typescript,
            _ => true,
        })
        .collect()
}

/// `npm ci` (with a lock) or `npm install` when the project has dependencies and no
/// `node_modules` yet, so `skill build` works right after `skill init` or a fresh clone.
fn install_dependencies(project: &Project, stage: &dyn Stage) -> Result<()> {
    let package_json = project.root.join("package.json");
    if !package_json.is_file() || project.root.join("node_modules").is_dir() {
        return Ok(());
    }
    let text =
        std::fs::read_to_string(&package_json).map_err(|e| Error::io("read", &package_json, e))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::invalid(format!("package.json is not valid JSON: {e}"))
            .with_hint("fix package.json (line and column above)")
    })?;
    let has_deps = ["dependencies", "devDependencies"].iter().any(|k| {
        json.get(k)
            .and_then(|d| d.as_object())
            .is_some_and(|d| !d.is_empty())
    });
    if !has_deps {
        return Ok(());
    }
    let ci = project.root.join("package-lock.json").is_file();
    stage.set_detail(if ci { "npm ci" } else { "npm install" });
    let mut npm = Command::new(crate::tools::npm());
    // No lifecycle scripts: installing dependencies must not run code from the registry
    // (the SDK and esbuild need none).
    npm.arg(if ci { "ci" } else { "install" })
        .args([
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(&project.root);
    run_tool(&mut npm, "npm", || {
        format!(
            "could not install the npm dependencies of {}",
            project.name()
        )
    })
}

fn run_tool_with_stdin(
    command: &mut Command,
    what: &str,
    stdin: &[u8],
    summary: impl FnOnce() -> String,
) -> Result<()> {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::io("run", Path::new(what), e))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(stdin)
        .map_err(|e| Error::io("write to", Path::new(what), e))?;
    let output = child
        .wait_with_output()
        .map_err(|e| Error::io("wait for", Path::new(what), e))?;
    super::report_tool_output(&output, summary)
}
