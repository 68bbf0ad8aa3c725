//! `skill build`: (install build tools) → compile → stamp metadata → validate and describe →
//! precompile → write outputs, each stage timed and shown with a spinner. Outputs go to
//! `<project>/target/skill/` (or `build.output`): `<name>.wasm` (the component),
//! `<name>.cwasm` (AOT-compiled for this machine, for inspection or other hosts — the runtime
//! itself only loads its own cache), `skill.yaml` and `manifest.json`. Intermediate files go
//! to `<project>/target/skill-build/`. `skill.lock` records the tools that were used.

mod cargo;
pub use cargo::{TARGET, target_libdir};
pub mod go;
pub mod js;
mod metadata;
mod optimize;
mod python;
pub mod wizer;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde::Serialize;
use skill_engine::package::Package;
use skill_engine::{Error, Result, Runtime, SkillHome};
use skill_manifest::manifest::{Language, MANIFEST_JSON, SKILL_YAML};
use skill_manifest::skill_md::SKILL_MD;
use skill_store::fsutil::{sha256_hex, write_atomic};

use crate::lockfile::{LOCK_FILE, LockFile};
use crate::progress::{Progress, Stage, human_size};
use crate::project::Project;
use crate::sdk::{SdkDir, ensure_sdk};
use crate::sources::Sources;
use crate::tools::Kit;
use crate::versions;

/// How a build runs, beyond the project itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildOptions {
    /// Fail when skill.lock is missing or differs from the tools used here.
    pub locked: bool,
    /// Skip the slow optional stages (wasm-opt); never writes skill.lock.
    pub dev: bool,
    /// SKILL.md's errors are warnings (for `skill docs`, which is about to fix them).
    pub skill_md_advisory: bool,
}

/// What a compile stage produced.
pub struct Compiled {
    pub component: PathBuf,
    /// A Rust core module, to optimize and componentize (release builds).
    pub is_core_module: bool,
    /// The tools that shaped the output and their exact versions.
    pub tools: Vec<(String, String)>,
    /// The project's dependency lock and its digest, if it has one.
    pub dependency_lock: Option<(String, String)>,
}

/// What the compile stages may use: the SDK/WIT on disk and the private build tools.
pub struct Toolchain {
    pub sdk: SdkDir,
    js_tools: Option<PathBuf>,
    python_tools: Option<PathBuf>,
    go_tools: Option<PathBuf>,
}

impl Toolchain {
    /// Gets what `language` needs on disk, installing pinned tools once (with their own
    /// status line) before any compile spinner starts.
    pub fn prepare(home: &SkillHome, language: Language, progress: &dyn Progress) -> Result<Self> {
        let sdk = ensure_sdk(home)?;
        let mut tc = Toolchain {
            sdk,
            js_tools: None,
            python_tools: None,
            go_tools: None,
        };
        if language.is_js() {
            tc.js_tools = Some(Kit::Js.ensure(home, progress)?);
        }
        if language == Language::Python {
            tc.python_tools = Some(Kit::Python.ensure(home, progress)?);
        }
        if language == Language::Go {
            tc.go_tools = Some(Kit::Go.ensure(home, progress)?);
        }
        Ok(tc)
    }

    fn js_tools(&self) -> Result<PathBuf> {
        self.js_tools
            .clone()
            .ok_or_else(|| Error::invalid("JavaScript build tools were not prepared"))
    }

    fn go_tools(&self) -> Result<PathBuf> {
        self.go_tools
            .clone()
            .ok_or_else(|| Error::invalid("Go build tools were not prepared"))
    }

    fn python_tools(&self) -> Result<PathBuf> {
        self.python_tools
            .clone()
            .ok_or_else(|| Error::invalid("Python build tools were not prepared"))
    }
}

#[derive(Debug, Serialize)]
pub struct BuildReport {
    pub name: String,
    pub version: String,
    pub language: Language,
    pub stages: Vec<StageReport>,
    pub component: Artifact,
    pub cwasm: Artifact,
    pub manifest: String,
    pub tools: Vec<String>,
    /// The build tools used and their versions (as recorded in skill.lock).
    pub toolchain: std::collections::BTreeMap<String, String>,
    /// sha256 over the project's source files (also stamped into the component).
    pub source_digest: String,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct StageReport {
    pub name: &'static str,
    pub millis: u128,
}

#[derive(Debug, Serialize)]
pub struct Artifact {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

pub fn build(
    project: &Project,
    home: &SkillHome,
    runtime: &Runtime,
    progress: &dyn Progress,
    options: BuildOptions,
) -> Result<(BuildReport, Package)> {
    project.check_places(home)?;
    let mut stages = Vec::new();
    let mut record = |name, duration: Duration| {
        stages.push(StageReport {
            name,
            millis: duration.as_millis(),
        })
    };

    let started = std::time::Instant::now();
    let tc = Toolchain::prepare(home, project.language, progress)?;
    let lock_path = project.root.join(LOCK_FILE);
    // With --locked, the tools are checked before anything is compiled.
    if options.locked {
        let expected = expected_lock(project)?;
        check_locked(&lock_path, &expected, false)?;
    }
    record("tools", started.elapsed());

    let compiling = progress.stage(
        "Compiling",
        &format!(
            "{} {} ({})",
            project.name(),
            project.skill_yaml.version,
            language_label(project)
        ),
    );
    let (compiled, took) = run_stage(compiling, |stage| match project.language {
        Language::Rust => cargo::compile(project, stage, !options.dev),
        Language::Javascript | Language::Typescript => js::compile(project, &tc, stage),
        Language::Python => python::compile(project, &tc, stage),
        Language::Go => go::compile(project, &tc, stage),
    })?;
    record("compile", took);

    let mut lock = LockFile {
        language: project.language.to_string(),
        tools: base_tools()
            .into_iter()
            .chain(compiled.tools.iter().cloned())
            .collect(),
        dependencies: compiled.dependency_lock.iter().cloned().collect(),
    };
    if compiled.is_core_module {
        lock.tools.extend(rust_release_tools());
    }
    if options.locked {
        // The dependency lock may only exist after the compile stage (npm install).
        check_locked(&lock_path, &lock, true)?;
    }

    let raw = if compiled.is_core_module {
        let optimized = project
            .work_dir()
            .join(format!("{}.opt.wasm", project.name()));
        let ((), took) = run_stage(
            progress.stage("Optimizing", "core module (wasm-opt -Os)"),
            |_| {
                std::fs::create_dir_all(project.work_dir())
                    .map_err(|e| Error::io("create directory", &project.work_dir(), e))?;
                optimize::wasm_opt(&compiled.component, &optimized)
            },
        )?;
        record("optimize", took);
        let (component, took) =
            run_stage(progress.stage("Componentizing", "wit-component"), |_| {
                let core =
                    std::fs::read(&optimized).map_err(|e| Error::io("read", &optimized, e))?;
                optimize::componentize(&core)
            })?;
        record("componentize", took);
        if wizer::has_initializer(&component) {
            let (component, took) = run_stage(
                progress.stage(
                    "Pre-initializing",
                    &format!("{} (Wizer)", wizer::INIT_EXPORT),
                ),
                |_| wizer::preinitialize(runtime, &component),
            )?;
            record("preinitialize", took);
            component
        } else {
            component
        }
    } else {
        std::fs::read(&compiled.component).map_err(|e| Error::io("read", &compiled.component, e))?
    };

    let source_digest = source_digest(project)?;
    let (component, took) = run_stage(
        progress.stage("Stamping", "metadata (name, version, tools, source digest)"),
        |_| metadata::stamp(&raw, project, &lock.tools, &source_digest),
    )?;
    record("stamp", took);

    // Names first (fast, exact differences); types are checked when linking below.
    let (_, took) = run_stage(
        progress.stage(
            "Validating",
            &format!("against {}", skill_engine::bindings::CONTRACT),
        ),
        |_| skill_engine::contract::check_component(&component)?.into_result(),
    )?;
    record("validate", took);

    // AOT-compile into the runtime's cache, link (type check), then ask for info and tools.
    let yaml_text = std::fs::read_to_string(project.root.join(SKILL_YAML))
        .map_err(|e| Error::io("read", &project.root.join(SKILL_YAML), e))?;
    let ((package, cwasm), took) = run_stage(
        progress.stage(
            "Precompiling",
            &format!("{}.cwasm and reading its tools", project.name()),
        ),
        |_| {
            let package =
                Package::prepare(runtime, component, yaml_text, project.skill_yaml.clone())?;
            let cwasm = runtime
                .cache()
                .read_verified(&package.manifest.component.sha256)?;
            Ok((package, cwasm))
        },
    )?;
    record("precompile", took);
    let mut package = package;
    if let Err(e) = check_skill_md(project, &mut package) {
        if !options.skill_md_advisory {
            return Err(e);
        }
        package.warnings.push(e.message().to_string());
    }
    for warning in &package.warnings {
        progress.warn(warning);
    }

    // Checked again now that the build's own code has run: outputs go inside the project.
    let out = project.check_places(home)?;
    write_atomic(&project.component_path(), &package.component)?;
    write_atomic(&project.cwasm_path(), &cwasm)?;
    write_atomic(&out.join(SKILL_YAML), package.skill_yaml_text.as_bytes())?;
    write_atomic(&out.join(MANIFEST_JSON), &package.manifest.to_json())?;
    match &package.skill_md {
        Some(text) => write_atomic(&out.join(SKILL_MD), text.as_bytes())?,
        None => match std::fs::remove_file(out.join(SKILL_MD)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io("remove", &out.join(SKILL_MD), e));
            }
            _ => {}
        },
    }

    let manifest = &package.manifest;
    let report = BuildReport {
        name: manifest.name.clone(),
        version: manifest.version.clone(),
        language: project.language,
        stages,
        component: Artifact {
            path: project.component_path().display().to_string(),
            size: manifest.component.size,
            sha256: manifest.component.sha256.clone(),
        },
        cwasm: Artifact {
            path: project.cwasm_path().display().to_string(),
            size: cwasm.len() as u64,
            sha256: sha256_hex(&cwasm),
        },
        manifest: out.join(MANIFEST_JSON).display().to_string(),
        tools: manifest.tools.iter().map(|t| t.name.clone()).collect(),
        toolchain: lock.tools.clone(),
        source_digest,
        warnings: package.warnings.clone(),
    };
    if !options.locked && !options.dev && LockFile::read(&lock_path)?.as_ref() != Some(&lock) {
        lock.write(&lock_path)?;
        progress.detail(&format!("  wrote {LOCK_FILE}"));
    }
    let total: u128 = report.stages.iter().map(|s| s.millis).sum();
    progress.status(
        "Finished",
        &format!(
            "{} {} in {:.2}s: {} ({}), {} tool{}",
            report.name,
            report.version,
            total as f64 / 1000.0,
            relative(&project.component_path(), &project.root),
            human_size(report.component.size),
            report.tools.len(),
            if report.tools.len() == 1 { "" } else { "s" },
        ),
    );
    Ok((report, package))
}

fn language_label(project: &Project) -> String {
    match project.language {
        Language::Rust => "cargo, wasm32-wasip2".to_string(),
        Language::Javascript | Language::Typescript => format!(
            "{}, esbuild + {}",
            project.language,
            match project.js_engine() {
                skill_manifest::manifest::JsEngine::Starlingmonkey => "componentize-js",
                skill_manifest::manifest::JsEngine::Quickjs => "componentize-qjs",
            }
        ),
        Language::Python => "python, componentize-py".to_string(),
        Language::Go => "go, GOOS=wasip1".to_string(),
    }
}

/// Runs one stage under its spinner: a status line with its time when it succeeds, the
/// spinner cleared when it fails (the error says what happened).
fn run_stage<T>(
    stage: Box<dyn Stage>,
    work: impl FnOnce(&dyn Stage) -> Result<T>,
) -> Result<(T, Duration)> {
    match work(stage.as_ref()) {
        Ok(value) => Ok((value, stage.done())),
        Err(e) => {
            stage.fail();
            Err(e)
        }
    }
}

/// The tools a Rust release build adds after cargo.
pub fn rust_release_tools() -> Vec<(String, String)> {
    vec![
        ("wasm-opt".to_string(), versions::binaryen().to_string()),
        (
            "wit-component".to_string(),
            versions::WIT_COMPONENT.to_string(),
        ),
        ("wizer".to_string(), versions::WIZER.to_string()),
    ]
}

/// Tools every build uses, whatever the language.
fn base_tools() -> Vec<(String, String)> {
    vec![
        ("skill".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        (
            "contract".to_string(),
            skill_engine::bindings::CONTRACT.to_string(),
        ),
    ]
}

/// The lock this machine would write, known before compiling (tool pins and versions, the
/// dependency lock if it already exists).
fn expected_lock(project: &Project) -> Result<LockFile> {
    let mut tools: std::collections::BTreeMap<String, String> = base_tools().into_iter().collect();
    let mut dependencies = std::collections::BTreeMap::new();
    match project.language {
        Language::Rust => {
            tools.insert("rustc".into(), cargo::rustc_version()?);
            tools.extend(rust_release_tools());
            dependencies.extend(lock_digest(&project.root, "Cargo.lock"));
        }
        Language::Javascript | Language::Typescript => {
            tools.extend(js::tools_used(project));
            dependencies.extend(lock_digest(&project.root, "package-lock.json"));
        }
        Language::Python => {
            tools.extend(python::tools_used());
        }
        Language::Go => {
            tools.extend(go::tools_used());
            dependencies.extend(lock_digest(&project.root, "go.sum"));
        }
    }
    Ok(LockFile {
        language: project.language.to_string(),
        tools,
        dependencies,
    })
}

/// `--locked`: skill.lock must exist and match. `with_dependencies` is false for the early
/// check, when the dependency lock may not exist yet.
fn check_locked(path: &Path, here: &LockFile, with_dependencies: bool) -> Result<()> {
    let Some(locked) = LockFile::read(path)? else {
        return Err(
            Error::invalid(format!("--locked was given but there is no {LOCK_FILE}"))
                .with_hint("run `skill build` once without --locked and commit skill.lock"),
        );
    };
    let mut compared = locked.clone();
    let mut here = here.clone();
    if !with_dependencies {
        compared
            .dependencies
            .retain(|k, _| here.dependencies.contains_key(k));
        here.dependencies
            .retain(|k, _| compared.dependencies.contains_key(k));
    }
    let diff = here.diff(&compared);
    if diff.is_empty() {
        return Ok(());
    }
    let details: Vec<String> = diff.iter().map(|line| format!("  {line}")).collect();
    Err(Error::invalid(format!(
        "the build tools differ from {LOCK_FILE} ({} difference{})",
        diff.len(),
        if diff.len() == 1 { "" } else { "s" }
    ))
    .with_details(details.join("\n"))
    .with_hint(
        "install the locked versions, or run `skill build` without --locked to update skill.lock",
    ))
}

/// sha256 over the project's sources: relative paths and contents, in sorted order, without
/// outputs, fetched dependencies, VCS directories or skill.lock.
pub fn source_digest(project: &Project) -> Result<String> {
    let root = &project.root;
    let mut all = Vec::new();
    for file in Sources::of(project).files() {
        let rel = file.to_string_lossy().replace('\\', "/");
        let bytes =
            std::fs::read(root.join(&file)).map_err(|e| Error::io("read", &root.join(&file), e))?;
        all.extend_from_slice(rel.as_bytes());
        all.push(0);
        all.extend_from_slice(sha256_hex(&bytes).as_bytes());
        all.push(0);
    }
    Ok(sha256_hex(&all))
}

/// `sha256:<hex>` of a dependency lock file, when the project has one.
pub fn lock_digest(root: &Path, file: &str) -> Option<(String, String)> {
    let bytes = std::fs::read(root.join(file)).ok()?;
    Some((
        file.to_string(),
        format!("sha256:{}", skill_store::fsutil::sha256_hex(&bytes)),
    ))
}

/// A work directory that is really a directory of the project: a symlink left there (by the
/// project itself, say) is removed, never followed, before it is created.
pub fn own_dir(dir: &Path) -> Result<()> {
    if std::fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) {
        std::fs::remove_file(dir).map_err(|e| Error::io("remove", dir, e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))
}

/// Removes whatever is at `path` (a symlink itself, not what it points at) before a build
/// tool writes there: tools open their output paths and would write through a link.
pub fn clear_output(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            std::fs::remove_dir_all(path).map_err(|e| Error::io("remove", path, e))
        }
        Ok(_) => std::fs::remove_file(path).map_err(|e| Error::io("remove", path, e)),
        Err(_) => Ok(()),
    }
}

/// Runs a build tool, capturing its output; on failure the error carries what it said (the
/// compiler's own messages point at the author's files) and one summary line.
pub fn run_tool(command: &mut Command, what: &str, summary: impl FnOnce() -> String) -> Result<()> {
    let output = crate::tools::run_captured(command, what)?;
    report_tool_output(&output, summary)
}

pub fn report_tool_output(output: &Output, summary: impl FnOnce() -> String) -> Result<()> {
    if output.status.success() {
        return Ok(());
    }
    Err(Error::invalid(summary())
        .with_details(crate::tools::output_text(output))
        .with_hint("fix the errors above and run `skill build` again"))
}

fn relative(path: &std::path::Path, base: &std::path::Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The project's SKILL.md, checked against the specification and the tools just built: its
/// errors fail the build (all of them listed, with their lines), its advice becomes warnings.
pub fn check_skill_md(project: &Project, package: &mut Package) -> Result<()> {
    let Some(text) = skill_manifest::skill_md::read_from(&project.root)? else {
        package.warnings.push(format!(
            "{} has no {SKILL_MD}: agents see only the tool descriptions; `skill docs` writes one",
            project.name()
        ));
        return Ok(());
    };
    let findings = package.attach_skill_md(text);
    let (errors, advice): (Vec<_>, Vec<_>) = findings.into_iter().partition(|d| d.is_error());
    package
        .warnings
        .extend(advice.iter().map(ToString::to_string));
    if errors.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
    Err(Error::invalid(format!(
        "{SKILL_MD} does not follow the Agent Skills specification:\n  {}",
        list.join("\n  ")
    ))
    .with_hint("fix the lines above (the rules are in docs/discovery.md), or run `skill docs` to refresh it"))
}
