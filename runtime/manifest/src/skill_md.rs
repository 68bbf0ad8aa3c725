//! `SKILL.md` in the Agent Skills format (agentskills.io specification): YAML frontmatter
//! (`name`, `description`, optional `license`, `compatibility`, `metadata`, `allowed-tools`)
//! and a Markdown body that agents read when they pick the skill.
//!
//! The body's level-2 headings that are written like a tool name (`## greet`, ``## `greet` ``)
//! are that tool's section: [`SkillMd::check`] reports tools without one and sections for
//! tools that do not exist. Other headings (`## Setup`, `## Examples`) are the author's own.
//!
//! Every problem carries the line it is on, so `skill build` and `skill validate` can print
//! `SKILL.md:3: …` the way compilers do.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_norway::Value;

use crate::manifest::{ToolDef, check_yaml_shape};

pub const SKILL_MD: &str = "SKILL.md";
/// The largest SKILL.md read anywhere (a project's, an installed one, a registry layer).
pub const MAX_SKILL_MD: usize = 1 << 20;
/// The specification's limits.
pub const MAX_NAME: usize = 64;
pub const MAX_DESCRIPTION: usize = 1024;
pub const MAX_COMPATIBILITY: usize = 500;
/// The specification recommends a body under ~500 lines (details go to `references/`).
pub const MAX_BODY_LINES: usize = 500;
/// Folders the specification gives meaning to; files in them are referenced one level deep.
pub const RESOURCE_DIRS: [&str; 3] = ["references", "scripts", "assets"];

/// A parsed SKILL.md.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkillMd {
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compatibility: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_tools: Vec<String>,
    /// The Markdown after the frontmatter.
    #[serde(skip)]
    pub body: String,
    /// The line the body starts on (1-based).
    #[serde(skip)]
    pub body_line: usize,
    /// Level-2 sections of the body, in order.
    #[serde(skip)]
    pub sections: Vec<Section>,
    /// Where each frontmatter key is (1-based), for messages.
    #[serde(skip)]
    key_lines: BTreeMap<String, usize>,
}

/// A `## heading` and the text under it, up to the next level-1 or level-2 heading.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// The heading without `##`, backticks and surrounding space.
    pub title: String,
    /// The heading's line (1-based).
    pub line: usize,
    /// The lines under the heading.
    pub text: String,
    /// Written like a tool name: the section documents the tool of that name.
    pub is_tool: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding, on one line of SKILL.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub line: usize,
    pub message: String,
}

impl Diagnostic {
    fn error(line: usize, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            line,
            message: message.into(),
        }
    }
    fn warning(line: usize, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            line,
            message: message.into(),
        }
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl std::fmt::Display for Diagnostic {
    /// `SKILL.md:LINE: message`, the form editors jump to.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{SKILL_MD}:{}: {}",
            self.line,
            crate::text::escape(&self.message, false)
        )
    }
}

const KNOWN_KEYS: [&str; 6] = [
    "name",
    "description",
    "license",
    "compatibility",
    "metadata",
    "allowed-tools",
];

impl SkillMd {
    /// Parses SKILL.md. Problems that leave nothing to read (no frontmatter, YAML that does
    /// not parse, a missing `name` or `description`) are errors here; the rest of the
    /// specification's rules are [`SkillMd::check`]'s.
    pub fn parse(text: &str) -> Result<SkillMd, Vec<Diagnostic>> {
        if text.len() > MAX_SKILL_MD {
            return Err(vec![Diagnostic::error(
                1,
                format!("SKILL.md is larger than {} KiB", MAX_SKILL_MD >> 10),
            )]);
        }
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.split_inclusive('\n');
        if lines.next().map(|l| l.trim_end()) != Some("---") {
            return Err(vec![Diagnostic::error(
                1,
                "SKILL.md must start with YAML frontmatter: a `---` line, `name:` and `description:`, then `---`",
            )]);
        }
        let mut frontmatter = String::new();
        let mut closing = None;
        for (i, line) in lines.by_ref().enumerate() {
            if line.trim_end() == "---" {
                closing = Some(i + 2);
                break;
            }
            frontmatter.push_str(line);
        }
        let Some(closing) = closing else {
            return Err(vec![Diagnostic::error(
                1,
                "the frontmatter is not closed: add a `---` line after it",
            )]);
        };
        let body: String = lines.collect();
        let body_line = closing + 1;

        if check_yaml_shape(&frontmatter, MAX_SKILL_MD, "SKILL.md's frontmatter").is_err() {
            return Err(vec![Diagnostic::error(
                2,
                "the frontmatter is nested too deeply",
            )]);
        }
        let value: Value = match serde_norway::from_str(&frontmatter) {
            Ok(v) => v,
            Err(e) => {
                let line = e.location().map_or(2, |l| l.line() + 1);
                return Err(vec![Diagnostic::error(
                    line,
                    format!("the frontmatter is not valid YAML: {e}"),
                )]);
            }
        };
        let Value::Mapping(map) = value else {
            return Err(vec![Diagnostic::error(
                2,
                "the frontmatter must be a mapping of `key: value` lines",
            )]);
        };
        let key_lines = key_lines(&frontmatter);
        let line_of = |key: &str| key_lines.get(key).copied().unwrap_or(1);

        let mut problems = Vec::new();
        let mut md = SkillMd {
            name: String::new(),
            description: String::new(),
            license: None,
            compatibility: None,
            metadata: BTreeMap::new(),
            allowed_tools: Vec::new(),
            sections: sections(&body, body_line),
            body,
            body_line,
            key_lines: key_lines.clone(),
        };
        let mut seen_name = false;
        let mut seen_description = false;
        for (key, value) in &map {
            let Some(key) = key.as_str() else {
                problems.push(Diagnostic::error(2, "frontmatter keys must be text"));
                continue;
            };
            let line = line_of(key);
            let text = |problems: &mut Vec<Diagnostic>| match value {
                Value::String(s) => Some(s.clone()),
                _ => {
                    problems.push(Diagnostic::error(line, format!("`{key}` must be text")));
                    None
                }
            };
            match key {
                "name" => {
                    seen_name = true;
                    md.name = text(&mut problems).unwrap_or_default();
                }
                "description" => {
                    seen_description = true;
                    md.description = text(&mut problems).unwrap_or_default();
                }
                "license" => md.license = text(&mut problems),
                "compatibility" => md.compatibility = text(&mut problems),
                "allowed-tools" => {
                    md.allowed_tools = text(&mut problems)
                        .map(|s| s.split_whitespace().map(str::to_string).collect())
                        .unwrap_or_default()
                }
                "metadata" => match value {
                    Value::Mapping(m) => {
                        for (k, v) in m {
                            match (k.as_str(), v.as_str()) {
                                (Some(k), Some(v)) => {
                                    md.metadata.insert(k.to_string(), v.to_string());
                                }
                                _ => problems.push(Diagnostic::error(
                                    line,
                                    "`metadata` maps text keys to text values (quote numbers: `version: \"1.0\"`)",
                                )),
                            }
                        }
                    }
                    _ => problems.push(Diagnostic::error(
                        line,
                        "`metadata` must be a mapping of text keys to text values",
                    )),
                },
                // Reported by `check`, with the other advice.
                _ => {}
            }
        }
        if !seen_name {
            problems.push(Diagnostic::error(
                1,
                "the frontmatter has no `name` (the skill's name)",
            ));
        }
        if !seen_description {
            problems.push(Diagnostic::error(
                1,
                "the frontmatter has no `description` (what the skill does and when to use it)",
            ));
        }
        if problems.iter().any(Diagnostic::is_error) {
            return Err(problems);
        }
        Ok(md)
    }

    fn line_of(&self, key: &str) -> usize {
        self.key_lines.get(key).copied().unwrap_or(1)
    }

    /// The specification's rules, and agreement with the skill: `name` is the skill's name,
    /// every tool has a section and every tool section names a tool.
    pub fn check(&self, skill_name: &str, tools: &[ToolDef]) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for key in self.key_lines.keys() {
            if !KNOWN_KEYS.contains(&key.as_str()) {
                out.push(Diagnostic::warning(
                    self.line_of(key),
                    format!(
                        "`{key}` is not a field of the Agent Skills specification (name, description, license, compatibility, metadata, allowed-tools); agents may ignore it"
                    ),
                ));
            }
        }
        let line = self.line_of("name");
        if let Some(problem) = name_problem(&self.name) {
            out.push(Diagnostic::error(line, problem));
        } else if self.name != skill_name {
            out.push(Diagnostic::error(
                line,
                format!(
                    "`name: {}` must be the skill's name, `{skill_name}`",
                    self.name
                ),
            ));
        }
        let line = self.line_of("description");
        let description = self.description.trim();
        if description.is_empty() {
            out.push(Diagnostic::error(
                line,
                "`description` is empty: say what the skill does and when to use it",
            ));
        } else if self.description.chars().count() > MAX_DESCRIPTION {
            out.push(Diagnostic::error(
                line,
                format!(
                    "`description` is {} characters; the limit is {MAX_DESCRIPTION}",
                    self.description.chars().count()
                ),
            ));
        }
        for (key, value) in [
            ("description", Some(&self.description)),
            ("license", self.license.as_ref()),
            ("compatibility", self.compatibility.as_ref()),
        ] {
            if let Some(value) = value
                && crate::text::check_text("", value, usize::MAX, true).is_err()
            {
                out.push(Diagnostic::error(
                    self.line_of(key),
                    format!("`{key}` contains a control character"),
                ));
            }
        }
        if let Some(compatibility) = &self.compatibility {
            let n = compatibility.chars().count();
            if n == 0 || n > MAX_COMPATIBILITY {
                out.push(Diagnostic::error(
                    self.line_of("compatibility"),
                    format!("`compatibility` must be 1-{MAX_COMPATIBILITY} characters ({n})"),
                ));
            }
        }
        // The body reaches terminals (`skill find`) and agents: no escapes or direction marks.
        if let Some((i, _)) = self.body.lines().enumerate().find(|(_, line)| {
            crate::text::check_text("", line.trim_end_matches('\r'), usize::MAX, true).is_err()
        }) {
            out.push(Diagnostic::error(
                self.body_line + i,
                "this line contains a control character (a terminal escape, a direction mark…)",
            ));
        }
        let body_lines = self.body.lines().count();
        if body_lines > MAX_BODY_LINES {
            out.push(Diagnostic::warning(
                self.body_line,
                format!(
                    "the body is {body_lines} lines; the specification recommends under {MAX_BODY_LINES} (move details to references/)"
                ),
            ));
        }
        for (line, path) in self.resource_links() {
            if path.split('/').count() > 2 {
                out.push(Diagnostic::warning(
                    line,
                    format!("`{path}` is nested more than one level below its folder; keep references one level deep"),
                ));
            }
        }

        let mut documented = std::collections::BTreeSet::new();
        for section in self.sections.iter().filter(|s| s.is_tool) {
            if tools.iter().any(|t| t.name == section.title) {
                if !documented.insert(section.title.as_str()) {
                    out.push(Diagnostic::warning(
                        section.line,
                        format!("tool `{}` has a second section", section.title),
                    ));
                }
            } else {
                out.push(Diagnostic::warning(
                    section.line,
                    format!(
                        "section `{}` names no tool of this skill (tools: {}); give a general section a capitalized title (`## Examples`)",
                        section.title,
                        tool_list(tools)
                    ),
                ));
            }
        }
        let end = (self.body_line + body_lines)
            .saturating_sub(1)
            .max(self.body_line);
        for tool in tools {
            if !documented.contains(tool.name.as_str()) {
                out.push(Diagnostic::warning(
                    end,
                    format!(
                        "tool `{}` has no section (`## {}`); `skill docs` writes one",
                        tool.name, tool.name
                    ),
                ));
            }
        }
        out.sort_by_key(|d| d.line);
        out
    }

    /// The section documenting `tool`, if any.
    pub fn tool_section(&self, tool: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.is_tool && s.title == tool)
    }

    /// The body's first paragraph that is prose (not a heading, a list or code).
    pub fn summary(&self) -> Option<&str> {
        self.body
            .split("\n\n")
            .map(str::trim)
            .find(|p| !p.is_empty() && !p.starts_with(['#', '-', '*', '|', '`', '<', '>']))
    }

    /// Relative links into `references/`, `scripts/` and `assets/`, with their lines.
    pub fn resource_links(&self) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for (i, line) in self.body.lines().enumerate() {
            for dir in RESOURCE_DIRS {
                let needle = format!("{dir}/");
                let mut rest = line;
                while let Some(at) = rest.find(&needle) {
                    let before = rest[..at].chars().last();
                    let tail = &rest[at..];
                    let end = tail
                        .find(|c: char| {
                            c.is_whitespace() || matches!(c, ')' | '`' | '"' | '\'' | ']' | '>')
                        })
                        .unwrap_or(tail.len());
                    // `./references/x` or `(references/x`, not `myreferences/x`.
                    if before.is_none_or(|c| !c.is_alphanumeric() && c != '-' && c != '_') {
                        let path = tail[..end]
                            .trim_start_matches("./")
                            .trim_end_matches(['.', ',', ':', ';']);
                        out.push((self.body_line + i, path.to_string()));
                    }
                    rest = &tail[end.max(1)..];
                }
            }
        }
        out
    }
}

/// A section's text without the block `skill docs` generates in it (its command line and
/// parameter table, which say again what the input schema says).
pub fn authored(section: &str) -> String {
    let mut out = String::new();
    let mut generated = false;
    for line in section.lines() {
        match line.trim() {
            "<!-- skill docs -->" => generated = true,
            "<!-- /skill docs -->" => generated = false,
            _ if !generated => {
                out.push_str(line);
                out.push('\n');
            }
            _ => {}
        }
    }
    out.trim_end().to_string()
}

/// Parses and checks SKILL.md: the parsed file when it has no error, and every finding.
pub fn review(
    text: &str,
    skill_name: &str,
    tools: &[ToolDef],
) -> (Option<SkillMd>, Vec<Diagnostic>) {
    match SkillMd::parse(text) {
        Err(problems) => (None, problems),
        Ok(md) => {
            let findings = md.check(skill_name, tools);
            if findings.iter().any(Diagnostic::is_error) {
                (None, findings)
            } else {
                (Some(md), findings)
            }
        }
    }
}

/// The SKILL.md in `dir`, if there is one. A symlink or anything but a regular file is
/// refused: in a project fetched from someone else's repository, `SKILL.md -> ~/.ssh/id_ed25519`
/// would otherwise be installed and handed to every agent.
pub fn read_from(dir: &std::path::Path) -> crate::Result<Option<String>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(SKILL_MD);
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(&path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(
                crate::Error::invalid(format!("{} is a symbolic link", path.display())).with_hint(
                    "make SKILL.md a regular file: its text is installed and shown to agents",
                ),
            );
        }
        Err(e) => return Err(crate::Error::io("read", &path, e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| crate::Error::io("read", &path, e))?;
    if !meta.is_file() {
        return Err(crate::Error::invalid(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    let mut text = String::new();
    file.take(MAX_SKILL_MD as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|e| crate::Error::io("read", &path, e))?;
    if text.len() > MAX_SKILL_MD {
        return Err(crate::Error::invalid(format!(
            "{} is larger than {} KiB",
            path.display(),
            MAX_SKILL_MD >> 10
        )));
    }
    Ok(Some(text))
}

/// Why `name` breaks the specification's rule, if it does: 1-64 of `a-z`, `0-9`, `-`, not
/// starting or ending with `-`, no `--`.
pub fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Some(format!("`name` must be 1-{MAX_NAME} characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Some(format!(
            "`name: {}` may hold only lowercase letters, digits and `-`",
            crate::text::escape(name, false)
        ));
    }
    if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        return Some(format!(
            "`name: {name}` must not start or end with `-` or hold `--`"
        ));
    }
    None
}

fn tool_list(tools: &[ToolDef]) -> String {
    if tools.is_empty() {
        return "none".to_string();
    }
    tools
        .iter()
        .map(|t| t.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The line (1-based, counting the opening `---`) of each top-level key of the frontmatter.
fn key_lines(frontmatter: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (i, line) in frontmatter.lines().enumerate() {
        if line.starts_with([' ', '\t', '#', '-']) {
            continue;
        }
        if let Some((key, _)) = line.split_once(':') {
            let key = key.trim().trim_matches(['"', '\'']);
            out.entry(key.to_string()).or_insert(i + 2);
        }
    }
    out
}

/// Splits the body at level-2 headings (outside fenced code).
fn sections(body: &str, first_line: usize) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    let mut fenced = false;
    let mut current: Option<Section> = None;
    for (i, line) in body.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
        }
        let heading = !fenced && (line.starts_with("## ") || line.starts_with("# "));
        if heading {
            out.extend(current.take());
            if let Some(title) = line.strip_prefix("## ") {
                let title = title.trim().trim_end_matches('#').trim();
                let bare = title.trim_matches('`');
                current = Some(Section {
                    title: bare.to_string(),
                    line: first_line + i,
                    text: String::new(),
                    is_tool: looks_like_tool_name(bare),
                });
            }
            continue;
        }
        if let Some(section) = &mut current {
            section.text.push_str(line);
            section.text.push('\n');
        }
    }
    out.extend(current);
    for section in &mut out {
        section.text = section.text.trim().to_string();
    }
    out
}

/// Tool names are lowercase words with `-` or `_`; a capital letter or a space makes a
/// heading the author's own.
fn looks_like_tool_name(title: &str) -> bool {
    !title.is_empty()
        && title.len() <= 64
        && title.starts_with(|c: char| c.is_ascii_lowercase())
        && title
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{ParamDef, ParamKind};

    fn tool(name: &str) -> ToolDef {
        ToolDef {
            name: name.to_string(),
            description: format!("the {name} tool"),
            params: vec![ParamDef {
                name: "x".into(),
                description: String::new(),
                kind: ParamKind::String,
                required: true,
                default: None,
                choices: vec![],
            }],
            ..ToolDef::default()
        }
    }

    const GOOD: &str = "---\nname: hello\ndescription: Greets people. Use it to say hello.\nlicense: MIT\ncompatibility: Needs network access to example.com\nmetadata:\n  author: someone\n  version: \"1.0\"\nallowed-tools: Bash Read\n---\n\n# hello\n\nSays hello to people.\n\n## greet\n\nGreets someone.\n\n```\n## not-a-heading\n```\n\n## Examples\n\nSee references/usage.md.\n";

    fn errors(text: &str, tools: &[ToolDef]) -> Vec<String> {
        match SkillMd::parse(text) {
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
            Ok(md) => md
                .check("hello", tools)
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }

    #[test]
    fn a_good_file_parses_with_every_field_and_no_finding() {
        let md = SkillMd::parse(GOOD).unwrap();
        assert_eq!(md.name, "hello");
        assert_eq!(md.license.as_deref(), Some("MIT"));
        assert_eq!(md.metadata["version"], "1.0");
        assert_eq!(md.allowed_tools, ["Bash", "Read"]);
        assert_eq!(md.body_line, 11);
        let titles: Vec<_> = md
            .sections
            .iter()
            .map(|s| (s.title.as_str(), s.line, s.is_tool))
            .collect();
        assert_eq!(titles, [("greet", 16, true), ("Examples", 24, false)]);
        assert_eq!(
            md.tool_section("greet").unwrap().text.lines().next(),
            Some("Greets someone.")
        );
        assert_eq!(md.summary(), Some("Says hello to people."));
        assert_eq!(
            md.resource_links(),
            [(26, "references/usage.md".to_string())]
        );
        assert!(md.check("hello", &[tool("greet")]).is_empty());
    }

    #[test]
    fn each_rule_of_the_specification_is_reported_on_its_line() {
        let cases: &[(&str, &str)] = &[
            (
                "---\nname: hello\ndescription: x\n---\n## greet\nok\nred \u{1b}[31m\n",
                "SKILL.md:7: this line contains a control character",
            ),
            (
                "no frontmatter\n",
                "SKILL.md:1: SKILL.md must start with YAML frontmatter",
            ),
            (
                "---\nname: hello\n",
                "SKILL.md:1: the frontmatter is not closed",
            ),
            (
                "---\nname: [\n---\n",
                "SKILL.md:3: the frontmatter is not valid YAML",
            ),
            (
                "---\ndescription: x\n---\n",
                "SKILL.md:1: the frontmatter has no `name`",
            ),
            (
                "---\nname: hello\n---\n",
                "SKILL.md:1: the frontmatter has no `description`",
            ),
            (
                "---\nname: Hello\ndescription: x\n---\n",
                "SKILL.md:2: `name: Hello` may hold only lowercase",
            ),
            (
                "---\nname: -hello\ndescription: x\n---\n",
                "SKILL.md:2: `name: -hello` must not start or end",
            ),
            (
                "---\nname: he--llo\ndescription: x\n---\n",
                "SKILL.md:2: `name: he--llo` must not start or end",
            ),
            (
                "---\nname: other\ndescription: x\n---\n",
                "SKILL.md:2: `name: other` must be the skill's name, `hello`",
            ),
            (
                "---\nname: hello\ndescription: \"\"\n---\n",
                "SKILL.md:3: `description` is empty",
            ),
            (
                "---\nname: hello\ndescription: x\ncompatibility: \"\"\n---\n",
                "SKILL.md:4: `compatibility` must be 1-500",
            ),
            (
                "---\nname: hello\ndescription: x\nmetadata: [a]\n---\n",
                "SKILL.md:4: `metadata` must be a mapping",
            ),
            (
                "---\nname: hello\ndescription: x\nmetadata:\n  v: 1\n---\n",
                "SKILL.md:4: `metadata` maps text keys to text values",
            ),
            (
                "---\nname: hello\ndescription: [x]\n---\n",
                "SKILL.md:3: `description` must be text",
            ),
            (
                "---\nname: hello\ndescription: x\nmodel: opus\n---\n",
                "SKILL.md:4: `model` is not a field",
            ),
            (
                "---\nname: hello\ndescription: \"a\\e[31m\"\n---\n",
                "SKILL.md:3: `description` contains a control character",
            ),
            (
                "---\nname: hello\ndescription: x\n---\n## greet\n\n## gone\n",
                "SKILL.md:7: section `gone` names no tool",
            ),
            (
                "---\nname: hello\ndescription: x\n---\n# hello\n",
                "SKILL.md:5: tool `greet` has no section",
            ),
            (
                "---\nname: hello\ndescription: x\n---\nsee [x](references/a/b.md)\n## greet\n",
                "SKILL.md:5: `references/a/b.md` is nested",
            ),
        ];
        for (text, expected) in cases {
            let found = errors(text, &[tool("greet")]);
            assert!(
                found.iter().any(|f| f.starts_with(expected)),
                "{text:?}: expected {expected:?}, found {found:?}"
            );
        }
        let long = format!(
            "---\nname: hello\ndescription: {}\n---\n## greet\n",
            "a".repeat(1025)
        );
        assert!(
            errors(&long, &[tool("greet")])[0]
                .starts_with("SKILL.md:3: `description` is 1025 characters")
        );
        let name = "a".repeat(65);
        let long = format!("---\nname: {name}\ndescription: x\n---\n");
        assert!(errors(&long, &[])[0].starts_with("SKILL.md:2: `name` must be 1-64"));
        let body = format!(
            "---\nname: hello\ndescription: x\n---\n{}",
            "line\n".repeat(501)
        );
        assert!(errors(&body, &[])[0].starts_with("SKILL.md:5: the body is 501 lines"));
    }

    #[test]
    fn severities_separate_what_fails_a_build_from_advice() {
        let md = SkillMd::parse("---\nname: hello\ndescription: x\n---\n## gone\n").unwrap();
        let found = md.check("hello", &[tool("greet")]);
        assert!(
            found.iter().all(|d| d.severity == Severity::Warning),
            "{found:?}"
        );
        let md = SkillMd::parse("---\nname: Hello\ndescription: x\n---\n").unwrap();
        assert!(md.check("hello", &[]).iter().any(Diagnostic::is_error));
    }
}
