//! A skill package: a component plus its `skill.yaml`, checked against the contract and
//! described by the manifest the host derives from the component itself.

use std::path::Path;

use crate::contract::ContractReport;
use crate::runtime::Runtime;
use skill_manifest::error::{Error, Result};
use skill_manifest::manifest::{ComponentDigest, MANIFEST_FORMAT, PackageManifest, SkillYaml};
use skill_manifest::skill_md::{self, Diagnostic};

pub struct Package {
    pub component: Vec<u8>,
    /// `skill.yaml` exactly as the author wrote it (stored verbatim).
    pub skill_yaml_text: String,
    pub skill_yaml: SkillYaml,
    pub manifest: PackageManifest,
    /// The contract check of the component (imports, exports, differences).
    pub report: Option<ContractReport>,
    pub warnings: Vec<String>,
    /// `SKILL.md`, when the skill has one that follows the specification.
    pub skill_md: Option<String>,
}

impl Package {
    /// Reads a component and its `skill.yaml` from disk and prepares them.
    pub fn from_files(
        runtime: &Runtime,
        component_path: &Path,
        skill_yaml_path: &Path,
    ) -> Result<Package> {
        let size = std::fs::metadata(component_path)
            .map_err(|e| Error::io("read", component_path, e))?
            .len();
        if size > skill_manifest::manifest::MAX_COMPONENT {
            return Err(Error::invalid(format!(
                "{} is larger than {} MiB",
                component_path.display(),
                skill_manifest::manifest::MAX_COMPONENT >> 20
            )));
        }
        let component =
            std::fs::read(component_path).map_err(|e| Error::io("read", component_path, e))?;
        let skill_yaml_text = skill_manifest::manifest::read_text(
            skill_yaml_path,
            skill_manifest::manifest::MAX_SKILL_YAML,
        )?;
        let skill_yaml = SkillYaml::parse_at(&skill_yaml_text, skill_yaml_path)?;
        let skill_md = match skill_yaml_path.parent() {
            Some(dir) => skill_md::read_from(dir)?,
            None => None,
        };
        let mut package =
            Self::prepare(runtime, component, skill_yaml_text, skill_yaml).map_err(|e| {
                // Name the file when the component itself is at fault.
                let hint = e.hint().map(str::to_string);
                let err = Error::new(
                    e.kind(),
                    format!("{}: {}", component_path.display(), e.message()),
                );
                match hint {
                    Some(h) => err.with_hint(h),
                    None => err,
                }
            })?;
        if let Some(text) = skill_md {
            package.attach_foreign_skill_md(text);
        }
        Ok(package)
    }

    /// A component that came without a skill.yaml (a plain Wasm artifact): described by
    /// itself, asking for no capabilities and no config.
    pub fn from_component(runtime: &Runtime, component: Vec<u8>) -> Result<Package> {
        let (info, _) = runtime.load_bytes(&component)?.describe()?;
        skill_manifest::manifest::validate_skill_name(&info.name)?;
        let (skill_yaml, text) = SkillYaml::minimal(&info.name, &info.version, &info.description);
        // Its own rules (a semver version, sizes), as if it had been written by hand.
        SkillYaml::parse(&text)?;
        Self::prepare(runtime, component, text, skill_yaml)
    }

    /// Checks the component against the contract, asks it for its metadata and tools, and
    /// checks that it agrees with `skill.yaml`.
    pub fn prepare(
        runtime: &Runtime,
        component: Vec<u8>,
        skill_yaml_text: String,
        skill_yaml: SkillYaml,
    ) -> Result<Package> {
        let loaded = runtime.load_bytes(&component)?;
        let (info, tools) = loaded.describe()?;
        if info.name != skill_yaml.name || info.version != skill_yaml.version {
            return Err(Error::invalid(format!(
                "the component says it is `{} {}`, but skill.yaml says `{} {}`",
                info.name, info.version, skill_yaml.name, skill_yaml.version
            ))
            .with_hint("keep the name and version in skill.yaml and in the project (e.g. Cargo.toml) in step, then rebuild"));
        }
        let warnings = loaded
            .report
            .as_ref()
            .map(|r| r.warnings())
            .unwrap_or_default();
        let description = if info.description.is_empty() {
            skill_yaml.description.clone().unwrap_or_default()
        } else {
            info.description
        };
        let manifest = PackageManifest {
            format: MANIFEST_FORMAT,
            name: info.name,
            version: info.version,
            description,
            author: info.author,
            license: info.license,
            repository: info.repository,
            contract: loaded.contract().package(),
            component: ComponentDigest {
                sha256: loaded.sha256.clone(),
                size: component.len() as u64,
            },
            tools,
        };
        let size = manifest.to_json().len();
        if size > skill_manifest::manifest::MAX_MANIFEST {
            return Err(Error::contract(format!(
                "the skill's manifest would be {} KiB; at most {} KiB are allowed",
                size >> 10,
                skill_manifest::manifest::MAX_MANIFEST >> 10
            ))
            .with_hint("shorten tool and parameter descriptions, or split the skill"));
        }
        Ok(Package {
            component,
            skill_yaml_text,
            skill_yaml,
            manifest,
            report: loaded.report.clone(),
            warnings,
            skill_md: None,
        })
    }

    /// Checks `text` as this skill's SKILL.md and keeps it when it has no error. Returns every
    /// finding (`SKILL.md:LINE: …`), errors and advice alike.
    pub fn attach_skill_md(&mut self, text: String) -> Vec<Diagnostic> {
        let (md, findings) = skill_md::review(&text, &self.manifest.name, &self.manifest.tools);
        self.skill_md = md.map(|_| text);
        findings
    }

    /// Like [`Package::attach_skill_md`] for a package someone else made: a SKILL.md with an
    /// error is left out (the skill still works), and said so in the warnings.
    pub fn attach_foreign_skill_md(&mut self, text: String) {
        let findings = self.attach_skill_md(text);
        if self.skill_md.is_none() {
            let first = findings
                .iter()
                .find(|d| d.is_error())
                .map(ToString::to_string);
            self.warnings.push(format!(
                "its SKILL.md was left out: {}",
                first.unwrap_or_default()
            ));
        }
    }
}
