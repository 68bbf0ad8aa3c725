//! `skill build`: compile → validate and describe → precompile → write outputs, each stage
//! timed and shown with a spinner. Outputs go to `<project>/target/skill/`:
//! `<name>.wasm` (the component), `<name>.cwasm` (AOT-compiled for this machine, for
//! inspection or other hosts — the runtime itself only loads its own cache), `skill.yaml`
//! and `manifest.json`.

mod cargo;

use std::time::Duration;

use serde::Serialize;
use skill_runtime::fsutil::{sha256_hex, write_atomic};
use skill_runtime::manifest::{Language, MANIFEST_JSON, SKILL_YAML};
use skill_runtime::package::Package;
use skill_runtime::{Error, Result, Runtime};

use crate::project::Project;
use crate::ui::{Printer, human_size};

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
    runtime: &Runtime,
    printer: &Printer,
) -> Result<(BuildReport, Package)> {
    let mut stages = Vec::new();
    let mut record = |name, duration: Duration| {
        stages.push(StageReport {
            name,
            millis: duration.as_millis(),
        })
    };

    let stage = printer.stage(
        "Compiling",
        format!(
            "{} {} ({})",
            project.name(),
            project.skill_yaml.version,
            language_label(project.language)
        ),
    );
    let compiled = match project.language {
        Language::Rust => cargo::compile(project, &stage),
    };
    let compiled = match compiled {
        Ok(path) => path,
        Err(e) => {
            stage.fail();
            return Err(e);
        }
    };
    record("compile", stage.done());

    let stage = printer.stage(
        "Validating",
        format!("against {}", skill_runtime::bindings::CONTRACT),
    );
    let component = std::fs::read(&compiled).map_err(|e| Error::io("read", &compiled, e))?;
    let yaml_text = std::fs::read_to_string(project.root.join(SKILL_YAML))
        .map_err(|e| Error::io("read", &project.root.join(SKILL_YAML), e))?;
    let package = match Package::prepare(runtime, component, yaml_text, project.skill_yaml.clone())
    {
        Ok(p) => p,
        Err(e) => {
            stage.fail();
            return Err(e);
        }
    };
    record("validate", stage.done());
    for warning in &package.warnings {
        printer.warn(warning);
    }

    // Package::prepare compiled the component into the AOT cache; reuse those bytes.
    let stage = printer.stage("Precompiling", format!("{}.cwasm", project.name()));
    let cwasm = runtime
        .cache()
        .read_verified(&package.manifest.component.sha256)?;
    record("precompile", stage.done());

    let out = project.output_dir();
    write_atomic(&project.component_path(), &package.component)?;
    write_atomic(&project.cwasm_path(), &cwasm)?;
    write_atomic(&out.join(SKILL_YAML), package.skill_yaml_text.as_bytes())?;
    write_atomic(&out.join(MANIFEST_JSON), &package.manifest.to_json())?;

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
        warnings: package.warnings.clone(),
    };
    let total: u128 = report.stages.iter().map(|s| s.millis).sum();
    printer.status(
        "Finished",
        format!(
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

fn language_label(language: Language) -> &'static str {
    match language {
        Language::Rust => "cargo, wasm32-wasip2",
    }
}

fn relative(path: &std::path::Path, base: &std::path::Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}
