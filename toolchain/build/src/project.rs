//! A skill project on disk: where it is, how it builds, where its outputs go, and what a path
//! given to `skill install` refers to.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use skill_engine::{Error, Result, SkillHome};
use skill_manifest::manifest::{BuildSection, JsEngine, Language, SKILL_YAML, SkillYaml};
use skill_store::fsutil::write_atomic;
use skill_store::store::COMPONENT_WASM;

/// Outputs go to `<project>/target/skill/`, whatever cargo's target directory is.
pub const OUTPUT_DIR: &str = "target/skill";

#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    pub skill_yaml: SkillYaml,
    pub language: Language,
    /// The build section in effect: skill.yaml's, or what detection found.
    pub build: BuildSection,
    /// True when skill.yaml had no build section and `build` was detected.
    pub detected: bool,
}

impl Project {
    /// The project containing `start`: the nearest directory upwards with a `skill.yaml`.
    pub fn discover(start: &Path) -> Result<Project> {
        Self::discover_as(start, None)
    }

    /// Like `discover`, with the language forced (`--lang`).
    pub fn discover_as(start: &Path, language: Option<Language>) -> Result<Project> {
        Self::open_as(&Self::find_root(start)?, language)
    }

    /// The nearest directory from `start` upwards that has a `skill.yaml`.
    pub fn find_root(start: &Path) -> Result<PathBuf> {
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
        Ok(root.to_path_buf())
    }

    /// The project at exactly `root`.
    pub fn open(root: &Path) -> Result<Project> {
        Self::open_as(root, None)
    }

    /// The project at exactly `root`; `language` overrides skill.yaml and detection.
    pub fn open_as(root: &Path, language: Option<Language>) -> Result<Project> {
        // Absolute, so paths compare equal to the ones cargo reports.
        let root = &root
            .canonicalize()
            .map_err(|e| Error::io("open", root, e))?;
        let skill_yaml = SkillYaml::read(&root.join(SKILL_YAML))?;
        let (mut build, detected) = match (&skill_yaml.build, language) {
            (Some(build), None) => (build.clone(), false),
            (Some(build), Some(lang)) if build.language == lang => (build.clone(), false),
            (_, Some(lang)) => (detect_build(root, Some(lang))?, skill_yaml.build.is_none()),
            (None, None) => (detect_build(root, None)?, true),
        };
        if build.entry.is_none() {
            build.entry = default_entry(root, build.language);
        }
        if build.language.is_js() && build.engine.is_none() {
            build.engine = Some(JsEngine::default());
        }
        Ok(Project {
            root: root.to_path_buf(),
            language: build.language,
            skill_yaml,
            build,
            detected,
        })
    }

    /// Writes a detected build section into skill.yaml (appended, so the author's comments
    /// and layout stay), so later builds trust it instead of detecting again.
    pub fn record_detected_build(&mut self) -> Result<Option<String>> {
        if !self.detected {
            return Ok(None);
        }
        let path = self.root.join(SKILL_YAML);
        let mut text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        let mut section = format!("build:\n  language: {}\n", self.build.language);
        if let Some(entry) = &self.build.entry {
            section.push_str(&format!("  entry: {entry}\n"));
        }
        text.push_str(&section);
        // Parse before writing: never leave a skill.yaml behind that does not load.
        let parsed = SkillYaml::parse(&text)?;
        write_atomic(&path, text.as_bytes())?;
        self.skill_yaml = parsed;
        self.detected = false;
        Ok(Some(section))
    }

    pub fn name(&self) -> &str {
        &self.skill_yaml.name
    }

    /// Checks where the build reads and writes, following symlinks: the project is not inside
    /// the skill home, and its output directory and entry (skill.yaml already refuses absolute
    /// paths and `..`) lead to places inside the project, not through a link elsewhere.
    /// Returns the output directory, created.
    pub fn check_places(&self, home: &SkillHome) -> Result<PathBuf> {
        let home_real = home
            .root()
            .canonicalize()
            .unwrap_or_else(|_| home.root().to_path_buf());
        // A git checkout is the one project inside the home the build may use.
        let checkout = self
            .root
            .starts_with(SkillHome::at(&home_real).git_checkouts_dir());
        if self.root.starts_with(&home_real) && !checkout {
            return Err(Error::invalid(format!(
                "{} is inside the skill home; projects are built elsewhere",
                self.root.display()
            ))
            .with_hint("copy the project out of the skill home to build it"));
        }
        // Where each path leads (as far as it exists), before anything is created through it
        // and again after.
        let leads_to = |what: &str, path: &Path| -> Result<()> {
            let real = skill_store::dirs::resolve_existing_prefix(path)?;
            if real.starts_with(&self.root) && (checkout || !real.starts_with(&home_real)) {
                Ok(())
            } else {
                Err(Error::invalid(format!(
                    "`{what}` must stay inside the project, but {} leads to {}",
                    path.display(),
                    real.display()
                ))
                .with_hint(
                    "remove the symlink, or point skill.yaml at a directory inside the project",
                ))
            }
        };
        let out = self.output_dir();
        // Outputs are left out of the sources (digest, staleness, watch): an output directory
        // that holds the sources would make every build look current.
        let real_out = skill_store::dirs::resolve_existing_prefix(&out)?;
        let holds_sources = real_out == self.root
            || self.root.join("src").starts_with(&real_out)
            || self.entry_path().is_some_and(|e| e.starts_with(&real_out));
        if holds_sources {
            return Err(Error::invalid(format!(
                "`build.output` ({}) would hold the project's sources",
                out.display()
            ))
            .with_hint(
                "use a directory of its own, e.g. `build.output: target/skill` (the default)",
            ));
        }
        let work = self.work_dir();
        for (what, dir) in [("build.output", &out), ("target/skill-build", &work)] {
            leads_to(what, dir)?;
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
            leads_to(what, dir)?;
        }
        if let Some(entry) = self.entry_path() {
            leads_to("build.entry", &entry)?;
        }
        Ok(out)
    }

    pub fn output_dir(&self) -> PathBuf {
        self.root
            .join(self.build.output.as_deref().unwrap_or(OUTPUT_DIR))
    }

    /// Intermediate build files (bundles, generated entry modules, dependency installs).
    pub fn work_dir(&self) -> PathBuf {
        self.root.join("target").join("skill-build")
    }

    /// The entry file, for languages that have one.
    pub fn entry_path(&self) -> Option<PathBuf> {
        self.build.entry.as_ref().map(|e| self.root.join(e))
    }

    pub fn js_engine(&self) -> JsEngine {
        self.build.engine.unwrap_or_default()
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
        crate::sources::Sources::of(self)
            .newest()
            .is_some_and(|newest| newest > built)
    }
}

/// The files that say which toolchain builds a project.
const MARKERS: &[(&str, Language)] = &[
    ("Cargo.toml", Language::Rust),
    ("package.json", Language::Javascript),
    ("pyproject.toml", Language::Python),
    ("componentize-py.toml", Language::Python),
    ("go.mod", Language::Go),
];

/// The languages whose marker files are present in `root`, each with the marker that says so.
pub fn markers(root: &Path) -> Vec<(&'static str, Language)> {
    let mut found: Vec<(&'static str, Language)> = Vec::new();
    for (file, lang) in MARKERS {
        if root.join(file).is_file() && !found.iter().any(|(_, l)| l == lang) {
            found.push((file, *lang));
        }
    }
    found
}

/// Without a `build:` section in skill.yaml (or with `--lang`), the project files decide.
fn detect_build(root: &Path, forced: Option<Language>) -> Result<BuildSection> {
    let found = markers(root);
    let language = match (forced, found.as_slice()) {
        (Some(lang), _) => lang,
        (None, [(_, lang)]) => *lang,
        (None, []) => {
            return Err(Error::invalid(format!("cannot tell how to build {}", root.display()))
                .with_hint(
                    "there is no Cargo.toml, package.json, pyproject.toml or go.mod; add one, \
                     or a `build: {language: rust|javascript|typescript|python|go}` section to skill.yaml",
                ));
        }
        (None, several) => {
            let names: Vec<String> = several
                .iter()
                .map(|(file, lang)| format!("{file} ({lang})"))
                .collect();
            let langs: Vec<&str> = several.iter().map(|(_, l)| l.as_str()).collect();
            return Err(Error::invalid(format!(
                "{} has more than one kind of project: {}",
                root.display(),
                names.join(" and ")
            ))
            .with_hint(format!(
                "pick one with `skill build --lang {}`; the choice is saved in skill.yaml",
                langs.join("|")
            )));
        }
    };
    // package.json alone does not say JavaScript or TypeScript: a tsconfig or a .ts entry does.
    let language = if language == Language::Javascript
        && (root.join("tsconfig.json").is_file()
            || default_entry(root, Language::Typescript).is_some_and(|e| root.join(e).is_file()))
    {
        Language::Typescript
    } else {
        language
    };
    Ok(BuildSection {
        language,
        entry: default_entry(root, language),
        output: None,
        engine: None,
    })
}

/// Where a project's code starts when skill.yaml does not say: the first that exists of the
/// usual places (package.json's `main` first for JS/TS), else the template's.
fn default_entry(root: &Path, language: Language) -> Option<String> {
    let candidates: &[&str] = match language {
        Language::Rust | Language::Go => return None,
        Language::Javascript => &["src/index.js", "src/index.mjs", "index.js", "index.mjs"],
        Language::Typescript => &["src/index.ts", "src/index.mts", "index.ts", "index.mts"],
        Language::Python => &["app.py", "main.py", "src/app.py"],
    };
    if language.is_js()
        && let Some(main) = package_json_main(root)
        && root.join(&main).is_file()
    {
        return Some(main);
    }
    candidates
        .iter()
        .find(|c| root.join(c).is_file())
        .or(candidates.first())
        .map(|c| c.to_string())
}

fn package_json_main(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join("package.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let main = json.get("main")?.as_str()?;
    Some(main.trim_start_matches("./").to_string())
}

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}

/// What `skill install <path>` was pointed at.
pub enum InstallSource {
    /// A skill project: build it if needed, then install its outputs.
    Project(Box<Project>),
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
                if component.is_file() && markers(path).is_empty() {
                    return Ok(InstallSource::Built {
                        component,
                        skill_yaml,
                    });
                }
            }
            if yaml.build.is_some() || !markers(path).is_empty() {
                return Ok(InstallSource::Project(Box::new(Project::open(path)?)));
            }
        }
        Err(Error::invalid(format!(
            "{} is neither a skill project nor a built skill",
            path.display()
        ))
        .with_hint(
            "a skill project has skill.yaml and Cargo.toml, package.json or pyproject.toml \
             (create one with `skill init`); \
             a built skill has skill.yaml and a component .wasm",
        ))
    }
}
