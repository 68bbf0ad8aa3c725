//! One installed tool as a search document: what is scored, and what a hit shows.

use serde::{Deserialize, Serialize};
use skill_manifest::manifest::{PackageManifest, ParamDef};
use skill_manifest::skill_md::SkillMd;

/// Lines of SKILL.md a hit shows.
const EXCERPT_LINES: usize = 5;

/// An indexed tool, with what a search result shows about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolEntry {
    pub skill: String,
    pub version: String,
    pub tool: String,
    pub description: String,
    pub params: Vec<ParamDef>,
    /// The skill's description (SKILL.md's when it has one, else the component's).
    pub skill_description: String,
    /// Up to five lines of the tool's SKILL.md section (or of the skill's summary).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excerpt: Vec<String>,
    /// A `skill run …` line from the tool's section, when the author wrote one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

/// The most of a SKILL.md section, and of the skill's summary, a tool's document takes: the
/// summary is in every tool's document, and a skill with 256 tools and a 1 MiB summary would
/// otherwise make an index of hundreds of MB that every query rebuilds.
const MAX_FIELD: usize = 4096;

fn capped(text: &str) -> &str {
    match text.char_indices().nth(MAX_FIELD) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// Field weights: a word in the tool's name says more than one in a long SKILL.md section.
const NAME: f32 = 3.0;
const DESCRIPTION: f32 = 2.0;
const PARAMS: f32 = 1.0;
const SKILL: f32 = 1.0;
const SECTION: f32 = 1.0;

/// Each tool of a skill with the weighted text fields it is found by.
pub fn entries(
    manifest: &PackageManifest,
    skill_md: Option<&str>,
) -> Vec<(ToolEntry, Vec<(f32, String)>)> {
    let md = skill_md.and_then(|text| SkillMd::parse(text).ok());
    let skill_description = md
        .as_ref()
        .map(|m| m.description.clone())
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| manifest.description.clone());
    let summary = capped(md.as_ref().and_then(|m| m.summary()).unwrap_or_default());
    manifest
        .tools
        .iter()
        .map(|tool| {
            let section = md.as_ref().and_then(|m| m.tool_section(&tool.name));
            let section_text = section
                .map(|s| skill_manifest::skill_md::authored(&s.text))
                .unwrap_or_default();
            let section_text = capped(&section_text);
            let mut excerpt = excerpt(if section_text.is_empty() {
                summary
            } else {
                section_text
            });
            // `skill docs` starts a section with the description, which a hit shows anyway.
            let same =
                |a: &str, b: &str| a.trim().trim_end_matches('.') == b.trim().trim_end_matches('.');
            if excerpt.first().is_some_and(|l| same(l, &tool.description)) {
                excerpt.remove(0);
            }
            let example = section_text
                .lines()
                .map(|l| l.trim().trim_start_matches("$ "))
                .find(|l| is_example_of(l, &manifest.name))
                .map(str::to_string);
            let params: String = tool
                .params
                .iter()
                .map(|p| format!("{} {} {} ", p.name, p.description, p.choices.join(" ")))
                .collect();
            let fields = vec![
                (NAME, tool.name.clone()),
                (DESCRIPTION, tool.description.clone()),
                (PARAMS, params),
                (
                    SKILL,
                    format!(
                        "{} {} {}",
                        manifest.name, skill_description, manifest.description
                    ),
                ),
                (SECTION, format!("{section_text} {summary}")),
            ];
            let entry = ToolEntry {
                skill: manifest.name.clone(),
                version: manifest.version.clone(),
                tool: tool.name.clone(),
                description: tool.description.clone(),
                params: tool.params.clone(),
                skill_description: skill_description.clone(),
                excerpt,
                example,
            };
            (entry, fields)
        })
        .collect()
}

/// A line SKILL.md may offer as an example: `skill run` of this skill's own tools, concrete (no
/// `<placeholders>`), and nothing a shell would read as a second command.
fn is_example_of(line: &str, skill: &str) -> bool {
    let own = line.strip_prefix("skill run ").is_some_and(|rest| {
        rest.starts_with(&format!("{skill}:")) || rest.starts_with(&format!("{skill}@"))
    });
    own && !line.contains("=<") && !line.contains([';', '|', '&', '`', '$', '>', '<', '\n', '\\'])
}

/// The first few lines of prose or code worth showing (no blank lines, headings, fences).
fn excerpt(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim_end)
        .filter(|l| {
            !l.trim().is_empty() && !l.starts_with(['#', '|']) && !l.trim_start().starts_with("```")
        })
        .take(EXCERPT_LINES)
        .map(|l| l.chars().take(200).collect())
        .collect()
}

/// How many texts describe one tool to the embedding model ([`ToolEntry::embedding_texts`]).
pub const VIEWS: usize = 3;

impl ToolEntry {
    /// What the embedding model reads about the tool, three ways: the tool itself, what
    /// SKILL.md says about it, and its skill. A query is compared with each and the
    /// similarities averaged: on the labelled set (`eval/`) that beat any single text, with or
    /// without the parameters and the SKILL.md excerpt folded in.
    pub fn embedding_texts(&self) -> [String; VIEWS] {
        let tool = format!(
            "{}: {}",
            self.tool.replace(['-', '_'], " "),
            self.description
        );
        let documented = if self.excerpt.is_empty() {
            tool.clone()
        } else {
            format!(
                "{} {}: {}",
                self.skill,
                self.tool.replace(['-', '_'], " "),
                self.excerpt.join(" ")
            )
        };
        let skill = format!("{}: {}", self.skill, self.skill_description);
        [tool, documented, skill]
    }
}
