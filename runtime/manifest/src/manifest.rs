//! The two manifests: `skill.yaml`, which the author writes, and `manifest.json`, which the host
//! writes at build/install time from the component itself (metadata, tool definitions, digest),
//! so listing and serving tools never needs to instantiate anything.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::capabilities::Capabilities;
use crate::config::{ConfigSchema, validate_schema};
use crate::error::{Error, Result};
use crate::text::check_text;

pub const SKILL_YAML: &str = "skill.yaml";

/// The skill's own description of itself (`info()`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SkillInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    pub author: Option<String>,
    pub license: Option<String>,
    pub repository: Option<String>,
}

/// What a skill may describe, at most (documented in docs/instances.md). Everything a guest
/// says about itself ends up in every `skill list`, every `tools/list` and every agent's
/// context: it is bounded here, once, where it enters.
pub const MAX_TOOLS: usize = 256;
pub const MAX_PARAMS: usize = 64;
pub const MAX_TOOL_DESCRIPTION: usize = 4096;
pub const MAX_PARAM_DESCRIPTION: usize = 1024;
pub const MAX_SKILL_DESCRIPTION: usize = 4096;
pub const MAX_CHOICES: usize = 256;
/// Choices, defaults, author, license, repository, version.
pub const MAX_SHORT_TEXT: usize = 256;
pub const MAX_DEFAULT: usize = 4096;
/// A tool's declared output schema, as JSON text (contract 0.3.0).
pub const MAX_OUTPUT_SCHEMA: usize = 8 << 10;
/// skill.yaml itself, and its deepest nesting, checked before it is parsed (a YAML parser's
/// time grows with the square of the nesting depth).
pub const MAX_SKILL_YAML: usize = 256 << 10;
pub const MAX_YAML_DEPTH: usize = 32;
/// The whole manifest.json (tools, parameters, descriptions).
pub const MAX_MANIFEST: usize = 2 << 20;
/// A component file (JavaScript and Python components are 10-20 MB).
pub const MAX_COMPONENT: u64 = 512 << 20;
pub const MANIFEST_JSON: &str = "manifest.json";
/// Bumped when `manifest.json` changes incompatibly.
pub const MANIFEST_FORMAT: u32 = 1;

/// `skill.yaml`: the author's description of a skill project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SkillYaml {
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildSection>,
    /// Per-instance settings the skill reads with `config-get` (see `config.rs`).
    #[serde(default, skip_serializing_if = "ConfigSchema::is_empty")]
    pub config: ConfigSchema,
    /// What the sandbox must grant beyond the instance's own data directory.
    #[serde(default, skip_serializing_if = "Capabilities::is_empty")]
    pub capabilities: Capabilities,
    /// Skills this one needs installed beside it, resolved and installed with it.
    #[serde(
        default,
        rename = "skill_dependencies",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub skill_dependencies: Vec<Dependency>,
}

/// The most `skill_dependencies` one skill.yaml may list.
pub const MAX_DEPENDENCIES: usize = 64;

/// One entry of `skill_dependencies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    pub name: String,
    /// A semver requirement (`^1.2`, `>=1, <2`, `*`); default `*`.
    #[serde(default = "any_version")]
    pub version: String,
    /// Installed when it can be; skipped with a warning when it cannot.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// The registry (`HOST[:PORT][/NAMESPACE]`) it comes from, when not the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
}

fn any_version() -> String {
    "*".to_string()
}

impl Dependency {
    pub fn requirement(&self) -> Result<semver::VersionReq> {
        semver::VersionReq::parse(&self.version).map_err(|e| {
            Error::invalid(format!(
                "skill_dependencies: `{}` for {} is not a version requirement: {e}",
                crate::text::escape(&self.version, false),
                self.name
            ))
            .with_hint("e.g. ^1.2, ~1.2.3, >=1, <2, or *")
        })
    }
}

/// How `skill build` builds the project. `skill init` writes it; when it is missing,
/// `skill build` detects the language from the project files and records the result here, so
/// later builds trust the manifest instead of guessing again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BuildSection {
    pub language: Language,
    /// The source the build starts from: the module a JS/TS bundle starts at, or the Python
    /// module that defines the tools. Rust builds start from Cargo.toml and ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// Where build outputs go, relative to the project (default `target/skill`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// The JavaScript engine embedded in a JS/TS component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<JsEngine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Rust,
    Javascript,
    Typescript,
    Python,
    Go,
}

impl Language {
    pub const ALL: [Language; 5] = [
        Language::Rust,
        Language::Javascript,
        Language::Typescript,
        Language::Python,
        Language::Go,
    ];

    /// The spelling used in skill.yaml and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Javascript => "javascript",
            Language::Typescript => "typescript",
            Language::Python => "python",
            Language::Go => "go",
        }
    }

    pub fn is_js(self) -> bool {
        matches!(self, Language::Javascript | Language::Typescript)
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Language {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "rust" | "rs" => Ok(Language::Rust),
            "javascript" | "js" => Ok(Language::Javascript),
            "typescript" | "ts" => Ok(Language::Typescript),
            "python" | "py" => Ok(Language::Python),
            "go" | "golang" => Ok(Language::Go),
            other => Err(Error::invalid(format!("unknown language `{other}`"))
                .with_hint("use one of: rust, javascript, typescript, python, go")),
        }
    }
}

/// componentize-js embeds StarlingMonkey (SpiderMonkey, with the web APIs: fetch, URL,
/// TextEncoder, crypto...); componentize-qjs embeds QuickJS (a smaller engine, far smaller and
/// faster-loading components, fewer web APIs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JsEngine {
    #[default]
    Starlingmonkey,
    Quickjs,
}

impl JsEngine {
    pub fn as_str(self) -> &'static str {
        match self {
            JsEngine::Starlingmonkey => "starlingmonkey",
            JsEngine::Quickjs => "quickjs",
        }
    }
}

impl SkillYaml {
    /// The skill.yaml of a component that came without one (a plain Wasm artifact another
    /// tool published): its name, version and description, and no capabilities.
    pub fn minimal(name: &str, version: &str, description: &str) -> (SkillYaml, String) {
        let yaml = SkillYaml {
            name: name.to_string(),
            version: version.to_string(),
            description: (!description.is_empty()).then(|| description.to_string()),
            build: None,
            config: ConfigSchema::default(),
            capabilities: Capabilities::default(),
            skill_dependencies: Vec::new(),
        };
        let text = serde_norway::to_string(&yaml).expect("skill.yaml serializes");
        (yaml, text)
    }

    pub fn read(path: &Path) -> Result<Self> {
        let text = read_text(path, MAX_SKILL_YAML)?;
        Self::parse_at(&text, path)
    }

    /// [`SkillYaml::parse`], with errors naming `path`.
    pub fn parse_at(text: &str, path: &Path) -> Result<Self> {
        Self::parse(text).map_err(|e| {
            let hint = e.hint().map(str::to_string);
            let err = Error::invalid(format!("{}: {}", path.display(), e.message()));
            match hint {
                Some(h) => err.with_hint(h),
                None => err,
            }
        })
    }

    pub fn parse(text: &str) -> Result<Self> {
        check_yaml_shape(text, MAX_SKILL_YAML, "skill.yaml")?;
        let mut yaml: SkillYaml = serde_norway::from_str(text).map_err(|e| {
            Error::invalid(format!("invalid skill.yaml: {e}")).with_hint(
                "skill.yaml needs at least `name:` and `version:`; see `skill init` for an example",
            )
        })?;
        validate_skill_name(&yaml.name)?;
        semver::Version::parse(&yaml.version).map_err(|e| {
            Error::invalid(format!(
                "invalid version `{}` in skill.yaml: {e}",
                yaml.version
            ))
            .with_hint("use a semantic version such as 0.1.0")
        })?;
        if let Some(description) = &yaml.description {
            check_text(
                "the description in skill.yaml",
                description,
                MAX_SKILL_DESCRIPTION,
                true,
            )?;
        }
        if let Some(build) = &yaml.build {
            for (what, path) in [
                ("build.entry", &build.entry),
                ("build.output", &build.output),
            ] {
                if let Some(path) = path {
                    check_project_path(what, path)?;
                }
            }
        }
        validate_schema(&yaml.config)?;
        yaml.capabilities.validate()?;
        if yaml.skill_dependencies.len() > MAX_DEPENDENCIES {
            return Err(Error::invalid(format!(
                "skill.yaml lists more than {MAX_DEPENDENCIES} skill_dependencies"
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        for dep in &yaml.skill_dependencies {
            validate_skill_name(&dep.name)?;
            dep.requirement()?;
            if dep.name == yaml.name {
                return Err(Error::invalid(format!(
                    "{} lists itself in skill_dependencies",
                    yaml.name
                ))
                .with_hint("remove that entry"));
            }
            if !seen.insert(dep.name.as_str()) {
                return Err(
                    Error::invalid(format!("skill_dependencies lists {} twice", dep.name))
                        .with_hint("one entry per skill, with one requirement"),
                );
            }
        }
        // Calling a dependency's tools is a permission, reviewed and approved per instance.
        if !yaml.capabilities.calls.is_empty() {
            return Err(Error::invalid(
                "skill.yaml lists `calls` under capabilities",
            )
            .with_hint("list the skills this one calls in skill_dependencies; calling them is then asked for at install"));
        }
        yaml.capabilities.calls = yaml
            .skill_dependencies
            .iter()
            .map(|d| d.name.clone())
            .collect();
        Ok(yaml)
    }
}

/// A text file of at most `max` bytes (a larger one is refused without being read).
pub fn read_text(path: &Path, max: usize) -> Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut text = String::new();
    file.take(max as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::io("read", path, e))?;
    if text.len() > max {
        return Err(Error::invalid(format!(
            "{} is larger than {} KiB",
            path.display(),
            max >> 10
        )));
    }
    Ok(text)
}

/// `build.entry` and `build.output` name places inside the project: relative, without `..`.
/// (The build also checks where they lead once symlinks are followed.)
pub fn check_project_path(what: &str, path: &str) -> Result<()> {
    check_text(&format!("`{what}` in skill.yaml"), path, 1024, false)?;
    let p = Path::new(path);
    let inside = !path.is_empty()
        && p.is_relative()
        && p.components().all(|c| {
            matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        });
    if inside {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "`{what}: {path}` in skill.yaml must stay inside the project"
        ))
        .with_hint("write a path relative to the project, without `..`, e.g. target/skill"))
    }
}

/// Refuses YAML larger than `max_bytes` or nested deeper than [`MAX_YAML_DEPTH`] (flow
/// brackets, or block indentation levels), before any parser sees it.
pub fn check_yaml_shape(text: &str, max_bytes: usize, what: &str) -> Result<()> {
    if text.len() > max_bytes {
        return Err(Error::invalid(format!(
            "{what} is larger than {} KiB",
            max_bytes >> 10
        )));
    }
    let too_deep = || {
        Err(Error::invalid(format!(
            "{what} is nested more than {MAX_YAML_DEPTH} levels deep"
        ))
        .with_hint("flatten it; nothing in a skill needs that much nesting"))
    };
    // Every bracket counts, quoted or not: telling quotes apart needs a YAML tokenizer (a `"`
    // inside a plain scalar opens nothing), and a skill has no reason for 32 open brackets.
    let mut depth = 0usize;
    for line in text.lines() {
        let indent = line.len() - line.trim_start_matches([' ', '-']).len();
        if indent / 2 > MAX_YAML_DEPTH * 2 {
            return too_deep();
        }
        for c in line.chars() {
            match c {
                '[' | '{' => {
                    depth += 1;
                    if depth > MAX_YAML_DEPTH {
                        return too_deep();
                    }
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Skill names appear in `name@instance:tool`, in paths and in MCP tool names
/// (`<skill>_<instance>__<tool>`, which stays unambiguous only because neither name holds a
/// `_`), so they are kept to lowercase letters, digits and `-`, as Agent Skills names are.
pub fn validate_skill_name(name: &str) -> Result<()> {
    if is_name(name) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "invalid skill name `{}`",
            crate::text::escape(name, false)
        ))
        .with_hint(if is_legacy_name(name) {
            "use `-` instead of `_`: names are 1-64 lowercase letters, digits and `-`"
        } else {
            "use 1-64 lowercase letters, digits and `-`, starting with a letter or digit"
        }))
    }
}

/// 1-64 of `a-z`, `0-9` and `-`, starting with a letter or digit.
pub fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// What names could be before `_` was refused: still readable (to run or remove what was
/// installed then), never created anew, never served over MCP.
pub fn is_legacy_name(name: &str) -> bool {
    is_name(&name.replace('_', "-"))
}

/// `manifest.json`: everything the host needs to know about an installed skill without
/// running it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageManifest {
    pub format: u32,
    pub name: String,
    pub version: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The contract package the component implements.
    pub contract: String,
    pub component: ComponentDigest,
    pub tools: Vec<ToolDef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentDigest {
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolDef {
    pub name: String,
    pub description: String,
    pub params: Vec<ParamDef>,
    /// A short name people read (contract 0.3.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// How the tool behaves, as its author declared it (contract 0.3.0). Only hints: the
    /// sandbox, not these, is what limits a call.
    #[serde(default, skip_serializing_if = "ToolAnnotations::is_empty")]
    pub annotations: ToolAnnotations,
    /// JSON Schema of the object the tool returns as `data` (contract 0.3.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
}

/// MCP's tool annotations. `None` is "not declared", which MCP hosts read as its defaults:
/// not read-only, destructive, not idempotent, open world.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolAnnotations {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_world: Option<bool>,
}

impl ToolAnnotations {
    pub fn is_empty(&self) -> bool {
        *self == ToolAnnotations::default()
    }

    /// The hints as a host passes them on: a reassuring claim the permissions contradict is
    /// dropped, so MCP's cautious default applies. `read_only: true` and `destructive: false`
    /// go when the skill may write files, reach network hosts (a request can change what is
    /// there) or call other skills; `open_world: false` when it may reach network hosts or
    /// call other skills. `permissions` are what the skill declared and what the instance
    /// was granted. (The sandbox limits every call either way.)
    pub fn within(self, permissions: &Capabilities) -> ToolAnnotations {
        let writes = permissions
            .filesystem
            .iter()
            .any(|g| g.access == crate::capabilities::Access::ReadWrite);
        let reaches = !permissions.network.is_empty() || !permissions.calls.is_empty();
        let effects = writes || reaches;
        ToolAnnotations {
            read_only: self.read_only.filter(|&claim| !claim || !effects),
            destructive: self.destructive.filter(|&claim| claim || !effects),
            open_world: self.open_world.filter(|&claim| claim || !reaches),
            ..self
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamDef {
    pub name: String,
    pub description: String,
    pub kind: ParamKind,
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamKind {
    String,
    Integer,
    Number,
    Boolean,
    Json,
    File,
}

impl ParamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamKind::String => "string",
            ParamKind::Integer => "integer",
            ParamKind::Number => "number",
            ParamKind::Boolean => "boolean",
            ParamKind::Json => "json",
            ParamKind::File => "file",
        }
    }
}

/// A tool as a guest's `tools()` described it, before [`ToolDef::from_guest`] checks it.
#[derive(Debug, Clone)]
pub struct GuestTool {
    pub name: String,
    pub description: String,
    pub params: Vec<GuestParam>,
}

/// What a guest's `describe-tools()` (contract 0.3.0) said about the tool named `tool`.
#[derive(Debug, Clone, Default)]
pub struct GuestToolDetails {
    pub tool: String,
    pub title: Option<String>,
    pub annotations: ToolAnnotations,
    /// JSON text, unchecked.
    pub output_schema: Option<String>,
}

/// A parameter as a guest described it; `default_value` is a JSON literal, unchecked.
#[derive(Debug, Clone)]
pub struct GuestParam {
    pub name: String,
    pub description: String,
    pub kind: ParamKind,
    pub required: bool,
    pub default_value: Option<String>,
    pub choices: Vec<String>,
}

impl ToolDef {
    /// Converts and checks what a guest's `tools()` and `describe-tools()` returned: names
    /// unique and usable on a command line, defaults valid JSON of the right kind, details
    /// only for declared tools, output schemas JSON Schema objects.
    pub fn from_guest(
        tools: Vec<GuestTool>,
        details: Vec<GuestToolDetails>,
    ) -> Result<Vec<ToolDef>> {
        if tools.len() > MAX_TOOLS {
            return Err(Error::contract(format!(
                "the skill declares {} tools; at most {MAX_TOOLS} are allowed",
                tools.len()
            ))
            .with_hint("split it into several skills"));
        }
        let mut seen = BTreeSet::new();
        let mut defs = Vec::with_capacity(tools.len());
        for tool in tools {
            let bad = |what: String| {
                Error::contract(format!("tool `{}` {what}", tool.name))
                    .with_hint("fix the tool declaration in the skill's source")
            };
            if !is_identifier(&tool.name) {
                return Err(bad(
                    "has an invalid name (use letters, digits, `-` and `_`)".into(),
                ));
            }
            if !seen.insert(tool.name.clone()) {
                return Err(bad("is declared twice".into()));
            }
            let name = &tool.name;
            check_text(
                &format!("tool `{name}`'s description"),
                &tool.description,
                MAX_TOOL_DESCRIPTION,
                true,
            )
            .map_err(as_contract)?;
            if tool.params.len() > MAX_PARAMS {
                return Err(bad(format!(
                    "has {} parameters; at most {MAX_PARAMS} are allowed",
                    tool.params.len()
                )));
            }
            let mut param_names = BTreeSet::new();
            let mut params = Vec::with_capacity(tool.params.len());
            for p in &tool.params {
                if !is_identifier(&p.name) {
                    return Err(bad(format!(
                        "has a parameter with an invalid name `{}`",
                        p.name
                    )));
                }
                if !param_names.insert(p.name.clone()) {
                    return Err(bad(format!("declares parameter `{}` twice", p.name)));
                }
                let param = format!("tool `{name}`, parameter `{}`", p.name);
                check_text(
                    &format!("{param}: its description"),
                    &p.description,
                    MAX_PARAM_DESCRIPTION,
                    true,
                )
                .map_err(as_contract)?;
                if p.choices.len() > MAX_CHOICES {
                    return Err(bad(format!(
                        "parameter `{}` has more than {MAX_CHOICES} choices",
                        p.name
                    )));
                }
                for choice in &p.choices {
                    check_text(&format!("{param}: a choice"), choice, MAX_SHORT_TEXT, false)
                        .map_err(as_contract)?;
                }
                if let Some(default) = &p.default_value {
                    check_text(
                        &format!("{param}: its default"),
                        default,
                        MAX_DEFAULT,
                        false,
                    )
                    .map_err(as_contract)?;
                }
                let kind = p.kind;
                let default = match &p.default_value {
                    None => None,
                    Some(literal) => {
                        let value: Value = serde_json::from_str(literal).map_err(|_| {
                            bad(format!("parameter `{}` has a default that is not a JSON literal: {literal}", p.name))
                        })?;
                        crate::args::check_json_kind(kind, &value).map_err(|why| {
                            bad(format!(
                                "parameter `{}` has a default of the wrong type: {why}",
                                p.name
                            ))
                        })?;
                        Some(value)
                    }
                };
                params.push(ParamDef {
                    name: p.name.clone(),
                    description: p.description.clone(),
                    kind,
                    required: p.required,
                    default,
                    choices: p.choices.clone(),
                });
            }
            defs.push(ToolDef {
                name: tool.name,
                description: tool.description,
                params,
                ..ToolDef::default()
            });
        }
        if details.len() > defs.len() {
            return Err(Error::contract(format!(
                "describe-tools() describes {} tools; tools() declares {}",
                details.len(),
                defs.len()
            ))
            .with_hint("fix the tool declarations in the skill's source"));
        }
        let mut detailed = BTreeSet::new();
        for detail in details {
            let bad = |what: String| {
                Error::contract(format!("describe-tools() {what}"))
                    .with_hint("fix the tool declarations in the skill's source")
            };
            let Some(def) = defs.iter_mut().find(|d| d.name == detail.tool) else {
                let name: String = detail.tool.chars().take(64).collect();
                let name = crate::text::escape(&name, false);
                return Err(bad(format!(
                    "describes `{name}`, a tool that tools() does not declare"
                )));
            };
            if !detailed.insert(detail.tool.clone()) {
                return Err(bad(format!("describes `{}` twice", detail.tool)));
            }
            if let Some(title) = &detail.title {
                check_text(
                    &format!("tool `{}`'s title", def.name),
                    title,
                    MAX_SHORT_TEXT,
                    false,
                )
                .map_err(as_contract)?;
            }
            let output_schema = match &detail.output_schema {
                None => None,
                Some(text) => Some(
                    parse_output_schema(text)
                        .map_err(|why| bad(format!("gives tool `{}` {why}", def.name)))?,
                ),
            };
            def.title = detail.title;
            def.annotations = detail.annotations;
            def.output_schema = output_schema;
        }
        Ok(defs)
    }

    /// JSON Schema for the tool's arguments (MCP `inputSchema`, HTTP validation).
    pub fn input_schema(&self) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for p in &self.params {
            let mut schema = match p.kind {
                ParamKind::String => json!({ "type": "string" }),
                ParamKind::Integer => json!({ "type": "integer" }),
                ParamKind::Number => json!({ "type": "number" }),
                ParamKind::Boolean => json!({ "type": "boolean" }),
                ParamKind::Json => json!({}),
                ParamKind::File => json!({ "type": "string", "format": "path" }),
            };
            let obj = schema.as_object_mut().expect("schema is an object");
            if !p.description.is_empty() {
                obj.insert("description".into(), Value::String(p.description.clone()));
            }
            if let Some(default) = &p.default {
                obj.insert("default".into(), default.clone());
            }
            if !p.choices.is_empty() {
                obj.insert("enum".into(), json!(p.choices));
            }
            properties.insert(p.name.clone(), schema);
            if p.required {
                required.push(Value::String(p.name.clone()));
            }
        }
        json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        })
    }
}

/// A declared output schema: a JSON object of bounded size whose `type` is `object` (MCP's
/// rule: `structuredContent` is always an object).
fn parse_output_schema(text: &str) -> std::result::Result<Value, String> {
    if text.len() > MAX_OUTPUT_SCHEMA {
        return Err(format!(
            "an output schema of {} bytes; at most {MAX_OUTPUT_SCHEMA} are allowed",
            text.len()
        ));
    }
    let schema: Value = serde_json::from_str(text)
        .map_err(|e| format!("an output schema that is not JSON ({e})"))?;
    match schema.get("type") {
        Some(Value::String(t)) if t == "object" => {}
        _ => return Err("an output schema whose \"type\" is not \"object\"".to_string()),
    }
    check_schema_keywords(&schema, 0)?;
    Ok(schema)
}

/// What a client does with a schema must stay cheap and local: it is checked against every
/// result. So no references at all (a validator may fetch one, loop on `{"$ref": "#"}`, or
/// expand a chain of them exponentially) and no ids that would move where one points; no
/// meta-schema but the standard ones; no regular expressions (`pattern`,
/// `patternProperties`: a backtracking one hangs the client on a crafted result); at most 32
/// levels.
fn check_schema_keywords(value: &Value, depth: usize) -> std::result::Result<(), String> {
    if depth > 32 {
        return Err("an output schema nested more than 32 levels deep".to_string());
    }
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    (
                        "$ref" | "$dynamicRef" | "$recursiveRef" | "$id" | "$anchor"
                        | "$dynamicAnchor" | "$recursiveAnchor",
                        _,
                    )
                    | ("id", Value::String(_)) => {
                        return Err(format!(
                            "an output schema with `{key}` (references are not allowed: write the schema out)"
                        ));
                    }
                    ("$schema", Value::String(uri))
                        if !uri.starts_with("https://json-schema.org/")
                            && !uri.starts_with("http://json-schema.org/") =>
                    {
                        return Err(format!(
                            "an output schema with a `$schema` that is not a json-schema.org draft ({})",
                            crate::text::escape(&uri.chars().take(80).collect::<String>(), false)
                        ));
                    }
                    ("pattern", Value::String(_)) | ("patternProperties", Value::Object(_)) => {
                        return Err(format!(
                            "an output schema with `{key}` (regular expressions are not allowed: clients run them on every result)"
                        ));
                    }
                    _ => check_schema_keywords(inner, depth + 1)?,
                }
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .try_for_each(|item| check_schema_keywords(item, depth + 1)),
        _ => Ok(()),
    }
}

/// Checks what `info()` returned: text fields bounded and free of control characters.
pub fn check_info(info: &SkillInfo) -> Result<()> {
    check_text("the skill's name", &info.name, 64, false).map_err(as_contract)?;
    check_text("the skill's version", &info.version, MAX_SHORT_TEXT, false).map_err(as_contract)?;
    check_text(
        "the skill's description",
        &info.description,
        MAX_SKILL_DESCRIPTION,
        true,
    )
    .map_err(as_contract)?;
    for (what, value) in [
        ("author", &info.author),
        ("license", &info.license),
        ("repository", &info.repository),
    ] {
        if let Some(value) = value {
            check_text(&format!("the skill's {what}"), value, MAX_SHORT_TEXT, false)
                .map_err(as_contract)?;
        }
    }
    Ok(())
}

fn as_contract(e: Error) -> Error {
    let hint = e
        .hint()
        .unwrap_or("fix the tool declaration in the skill's source")
        .to_string();
    Error::contract(e.message().to_string()).with_hint(hint)
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl PackageManifest {
    pub fn tool(&self, name: &str) -> Option<&ToolDef> {
        self.tools.iter().find(|t| t.name == name)
    }

    /// The tool `name`, or the one not-found error every caller reports: it suggests the
    /// nearest name and lists the tools.
    pub fn find_tool(&self, name: &str) -> Result<&ToolDef> {
        self.tool(name).ok_or_else(|| {
            let names: Vec<&str> = self.tools.iter().map(|t| t.name.as_str()).collect();
            Error::not_found(format!("skill `{}` has no tool `{name}`", self.name)).with_hint(
                format!(
                    "{}tools of {}: {}",
                    crate::error::suggestion(name, names.iter().copied()),
                    self.name,
                    names.join(", ")
                ),
            )
        })
    }

    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
        Self::parse(&bytes, path)
    }

    /// A manifest from its bytes; `path` only names it in errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self> {
        let manifest: PackageManifest = serde_json::from_slice(bytes).map_err(|e| {
            Error::invalid(format!(
                "{} is not a valid skill manifest: {e}",
                path.display()
            ))
        })?;
        if manifest.format != MANIFEST_FORMAT {
            return Err(Error::invalid(format!(
                "{} has manifest format {}, this skill understands {MANIFEST_FORMAT}",
                path.display(),
                manifest.format
            ))
            .with_hint("reinstall the skill with this version of skill"));
        }
        Ok(manifest)
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("manifest serializes");
        bytes.push(b'\n');
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skill_yaml_is_checked() {
        let ok =
            SkillYaml::parse("name: hello\nversion: 0.1.0\nbuild:\n  language: rust\n").unwrap();
        assert_eq!(ok.name, "hello");
        assert_eq!(ok.build.unwrap().language, Language::Rust);
        let e = SkillYaml::parse("name: Hello World\nversion: 0.1.0\n").unwrap_err();
        assert!(e.message().contains("invalid skill name"), "{e}");
        let e = SkillYaml::parse("name: hello\nversion: one\n").unwrap_err();
        assert!(e.message().contains("invalid version"), "{e}");
        let e = SkillYaml::parse("name: hello\nversion: 0.1.0\nvesion: 2\n").unwrap_err();
        assert!(e.message().contains("unknown field `vesion`"), "{e}");
    }

    #[test]
    fn yaml_is_bounded_before_it_is_parsed() {
        let deep = format!("x: {}{}\n", "[".repeat(40), "]".repeat(40));
        let e = check_yaml_shape(&deep, 1 << 20, "skill.yaml").unwrap_err();
        assert!(e.message().contains("nested more than 32 levels"), "{e}");
        // A stray quote hides nothing.
        let quoted = format!(
            "d: the evil\"skill\nx: {}{}\n",
            "[".repeat(40),
            "]".repeat(40)
        );
        assert!(check_yaml_shape(&quoted, 1 << 20, "skill.yaml").is_err());
        assert!(check_yaml_shape("x: [1, [2, {a: 3}]]\n", 1 << 20, "skill.yaml").is_ok());
        let e = check_yaml_shape(&"x".repeat(300), 256, "skill.yaml").unwrap_err();
        assert!(e.message().contains("larger than"), "{e}");
        for bad in ["/abs", "../up", "a/../../b", ""] {
            assert!(check_project_path("build.output", bad).is_err(), "{bad}");
        }
        assert!(check_project_path("build.output", "target/skill").is_ok());
    }

    #[test]
    fn schema_follows_params() {
        let tool = ToolDef {
            name: "greet".into(),
            description: "Greets".into(),
            params: vec![
                ParamDef {
                    name: "name".into(),
                    description: "Who".into(),
                    kind: ParamKind::String,
                    required: true,
                    default: None,
                    choices: vec![],
                },
                ParamDef {
                    name: "times".into(),
                    description: String::new(),
                    kind: ParamKind::Integer,
                    required: false,
                    default: Some(json!(1)),
                    choices: vec![],
                },
            ],
            ..ToolDef::default()
        };
        assert_eq!(
            tool.input_schema(),
            json!({
                "type": "object",
                "properties": {
                    "name": { "type": "string", "description": "Who" },
                    "times": { "type": "integer", "default": 1 },
                },
                "required": ["name"],
                "additionalProperties": false,
            })
        );
    }

    #[test]
    fn details_attach_to_declared_tools_and_are_checked() {
        let tools = || {
            ["greet", "wave"]
                .map(|name| GuestTool {
                    name: name.into(),
                    description: format!("{name}s"),
                    params: vec![],
                })
                .to_vec()
        };
        let detail = |tool: &str| GuestToolDetails {
            tool: tool.into(),
            ..GuestToolDetails::default()
        };
        let read_only = ToolAnnotations {
            read_only: Some(true),
            open_world: Some(false),
            ..ToolAnnotations::default()
        };
        let defs = ToolDef::from_guest(
            tools(),
            vec![GuestToolDetails {
                title: Some("Wave at someone".into()),
                annotations: read_only,
                output_schema: Some(
                    r#"{"type":"object","properties":{"n":{"type":"integer"}}}"#.into(),
                ),
                ..detail("wave")
            }],
        )
        .unwrap();
        // A tool without details has none: no title, no hints (never "read-only").
        assert_eq!(
            (defs[0].title.as_ref(), defs[0].annotations),
            (None, ToolAnnotations::default())
        );
        assert_eq!(defs[1].title.as_deref(), Some("Wave at someone"));
        assert_eq!(defs[1].annotations, read_only);
        assert_eq!(defs[1].output_schema.as_ref().unwrap()["type"], "object");
        // Serialized without the empty parts, and read back the same.
        let json = serde_json::to_value(&defs).unwrap();
        assert!(json[0].get("annotations").is_none() && json[0].get("title").is_none());
        assert_eq!(
            json[1]["annotations"],
            json!({ "read_only": true, "open_world": false })
        );
        assert_eq!(serde_json::from_value::<Vec<ToolDef>>(json).unwrap(), defs);

        let refused = |details: Vec<GuestToolDetails>| {
            ToolDef::from_guest(tools(), details)
                .unwrap_err()
                .to_string()
        };
        let e = refused(vec![detail("rm\u{1b}[2J")]);
        assert!(
            e.contains("a tool that tools() does not declare") && !e.contains('\u{1b}'),
            "{e}"
        );
        assert!(refused(vec![detail("wave"), detail("wave")]).contains("twice"));
        assert!(
            refused(vec![detail("greet"), detail("wave"), detail("x")])
                .contains("describes 3 tools")
        );
        let with_schema = |schema: String| GuestToolDetails {
            output_schema: Some(schema),
            ..detail("greet")
        };
        for (schema, why) in [
            ("[1]".to_string(), "\"type\" is not \"object\""),
            (
                r#"{"type":"string"}"#.to_string(),
                "\"type\" is not \"object\"",
            ),
            ("{".to_string(), "not JSON"),
            (
                r#"{"type":"object","properties":{"a":{"$ref":"http://127.0.0.1:9/x.json"}}}"#
                    .to_string(),
                "references are not allowed",
            ),
            (
                r##"{"type":"object","allOf":[{"$ref":"#"}]}"##.to_string(),
                "references are not allowed",
            ),
            (
                r#"{"type":"object","properties":{"a":{"$id":"http://127.0.0.1:9/x.json"}}}"#
                    .to_string(),
                "references are not allowed",
            ),
            (
                r#"{"type":"object","$schema":"http://127.0.0.1:9/meta.json"}"#.to_string(),
                "not a json-schema.org draft",
            ),
            (
                r#"{"type":"object","properties":{"a":{"type":"string","pattern":"^(a+)+$"}}}"#
                    .to_string(),
                "regular expressions are not allowed",
            ),
            (
                format!(
                    r#"{{"type":"object","x":{}1{}}}"#,
                    "[".repeat(40),
                    "]".repeat(40)
                ),
                "more than 32 levels",
            ),
            (
                format!(
                    r#"{{"type":"object","description":"{}"}}"#,
                    "x".repeat(9000)
                ),
                "at most",
            ),
        ] {
            let e = refused(vec![with_schema(schema)]);
            assert!(e.contains(why), "{e}");
        }
        // A property may be called `id` or `pattern`, and the standard meta-schema is fine.
        let fine = r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"id":{"type":"string"},"pattern":{"type":"string"}}}"#;
        ToolDef::from_guest(tools(), vec![with_schema(fine.to_string())]).unwrap();
        let e = refused(vec![GuestToolDetails {
            title: Some("two\nlines".into()),
            ..detail("greet")
        }]);
        assert!(e.contains("title"), "{e}");
    }

    #[test]
    fn hints_the_declared_permissions_contradict_are_dropped() {
        use crate::capabilities::{Access, PathGrant};
        let claims = ToolAnnotations {
            read_only: Some(true),
            destructive: Some(false),
            idempotent: Some(true),
            open_world: Some(false),
        };
        assert_eq!(claims.within(&Capabilities::default()), claims);
        let reads = Capabilities {
            filesystem: vec![PathGrant {
                path: "~/notes".into(),
                access: Access::Read,
            }],
            ..Capabilities::default()
        };
        assert_eq!(claims.within(&reads), claims);
        let writes = Capabilities {
            filesystem: vec![PathGrant {
                path: "~/notes".into(),
                access: Access::ReadWrite,
            }],
            ..Capabilities::default()
        };
        let unsure = ToolAnnotations {
            read_only: None,
            destructive: None,
            ..claims
        };
        assert_eq!(claims.within(&writes), unsure);
        let network = Capabilities {
            network: vec!["api.example.com".into()],
            ..Capabilities::default()
        };
        let none = ToolAnnotations {
            open_world: None,
            ..unsure
        };
        assert_eq!(claims.within(&network), none);
        let calls = Capabilities {
            calls: vec!["other".into()],
            ..Capabilities::default()
        };
        assert_eq!(claims.within(&calls), none);
        // What costs nothing to believe stays: "not read-only", "destructive", "open world".
        let modest = ToolAnnotations {
            read_only: Some(false),
            destructive: Some(true),
            open_world: Some(true),
            ..claims
        };
        assert_eq!(modest.within(&calls), modest);
    }
}
