//! A skill project on disk: where it is, how it builds, where its outputs go, and what a path
//! given to `skill install` refers to.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use skill_runtime::manifest::{Language, SKILL_YAML, SkillYaml};
use skill_runtime::store::COMPONENT_WASM;
use skill_runtime::{Error, Result};

/// Outputs go to `<project>/target/skill/`, whatever cargo's target directory is.
pub const OUTPUT_DIR: &str = "target/skill";

#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    pub skill_yaml: SkillYaml,
    pub language: Language,
}

impl Project {
    /// The project containing `start`: the nearest directory upwards with a `skill.yaml`.
    pub fn discover(start: &Path) -> Result<Project> {
        let start = start
            .canonicalize()
            .map_err(|e| Error::io("open", start, e))?;
        let root = start
            .ancestors()
            .find(|dir| dir.join(SKILL_YAML).is_file())
            .ok_or_else(|| {
                Error::not_found(format!(
                    "no skill.yaml in {} or any parent directory",
                    start.display()
                ))
                .with_hint(
                    "run this inside a skill project, or create one with `skill init <name>`",
                )
            })?;
        Self::open(root)
    }

    /// The project at exactly `root`.
    pub fn open(root: &Path) -> Result<Project> {
        // Absolute, so paths compare equal to the ones cargo reports.
        let root = &root
            .canonicalize()
            .map_err(|e| Error::io("open", root, e))?;
        let skill_yaml = SkillYaml::read(&root.join(SKILL_YAML))?;
        let language = match &skill_yaml.build {
            Some(build) => build.language,
            None => detect_language(root)?,
        };
        Ok(Project {
            root: root.to_path_buf(),
            skill_yaml,
            language,
        })
    }

    pub fn name(&self) -> &str {
        &self.skill_yaml.name
    }

    pub fn output_dir(&self) -> PathBuf {
        self.root.join(OUTPUT_DIR)
    }

    pub fn component_path(&self) -> PathBuf {
        self.output_dir().join(format!("{}.wasm", self.name()))
    }

    pub fn cwasm_path(&self) -> PathBuf {
        self.output_dir().join(format!("{}.cwasm", self.name()))
    }

    /// True when there is no built component, or a source file is newer than it.
    pub fn needs_build(&self) -> bool {
        let Some(built) = modified(&self.component_path()) else {
            return true;
        };
        newest_source(&self.root).is_some_and(|newest| newest > built)
    }
}

/// Without a `build:` section in skill.yaml, the project files decide.
fn detect_language(root: &Path) -> Result<Language> {
    if root.join("Cargo.toml").is_file() {
        return Ok(Language::Rust);
    }
    Err(Error::invalid(format!("cannot tell how to build {}", root.display()))
        .with_hint("skill.yaml has no `build:` section and there is no Cargo.toml; add `build: {language: rust}`"))
}

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}

/// The newest modification time among the project's sources (skipping outputs and VCS).
fn newest_source(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == "target" || name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let time = if path.is_dir() {
            newest_source(&path)
        } else {
            modified(&path)
        };
        newest = newest.max(time);
    }
    newest
}

/// What `skill install <path>` was pointed at.
pub enum InstallSource {
    /// A skill project: build it if needed, then install its outputs.
    Project(Project),
    /// A built component plus its skill.yaml.
    Built {
        component: PathBuf,
        skill_yaml: PathBuf,
    },
}

impl InstallSource {
    pub fn resolve(path: &Path) -> Result<InstallSource> {
        if !path.exists() {
            return Err(
                Error::not_found(format!("{} does not exist", path.display())).with_hint(
                    "pass a skill project directory, a built skill directory, or a component .wasm",
                ),
            );
        }
        if path.is_file() {
            let dir = path.parent().unwrap_or(Path::new("."));
            let skill_yaml = dir.join(SKILL_YAML);
            if !skill_yaml.is_file() {
                return Err(Error::invalid(format!("no skill.yaml next to {}", path.display()))
                    .with_hint("a component is installed together with the skill.yaml it was built from; put them in one directory"));
            }
            return Ok(InstallSource::Built {
                component: path.to_path_buf(),
                skill_yaml,
            });
        }
        let skill_yaml = path.join(SKILL_YAML);
        if skill_yaml.is_file() {
            let yaml = SkillYaml::read(&skill_yaml)?;
            // A built skill directory (target/skill/, or an installed version directory).
            for candidate in [format!("{}.wasm", yaml.name), COMPONENT_WASM.to_string()] {
                let component = path.join(candidate);
                if component.is_file() && !path.join("Cargo.toml").exists() {
                    return Ok(InstallSource::Built {
                        component,
                        skill_yaml,
                    });
                }
            }
            if yaml.build.is_some() || path.join("Cargo.toml").is_file() {
                return Ok(InstallSource::Project(Project::open(path)?));
            }
        }
        Err(Error::invalid(format!(
            "{} is neither a skill project nor a built skill",
            path.display()
        ))
        .with_hint(
            "a skill project has skill.yaml and Cargo.toml (create one with `skill init`); \
             a built skill has skill.yaml and a component .wasm",
        ))
    }
}
