//! `skill docs`: SKILL.md (and a README usage section) written from the tool definitions,
//! keeping everything the author wrote.
//!
//! What it writes sits between markers, `<!-- skill docs -->` and `<!-- /skill docs -->`: a
//! `skill run` line and a parameter table under each tool's `## tool` section. Running it
//! again replaces only what is between the markers; prose, other sections, the frontmatter's
//! other fields and sections for tools that no longer exist are left as they are.

use skill_manifest::manifest::{PackageManifest, ToolDef};
use skill_manifest::skill_md::{SKILL_MD, SkillMd};
use skill_manifest::{Error, Result};

const BEGIN: &str = "<!-- skill docs -->";
const END: &str = "<!-- /skill docs -->";
const USAGE_BEGIN: &str = "<!-- skill docs: usage -->";

/// What [`skill_md`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub text: String,
    /// Tools that got a new section.
    pub added: Vec<String>,
    /// Sections written like a tool name for tools that do not exist (kept).
    pub orphaned: Vec<String>,
}

/// SKILL.md for `manifest`'s tools, from `existing` (the file as it is, if any).
/// `description` is used when the file has none yet.
pub fn skill_md(
    existing: Option<&str>,
    manifest: &PackageManifest,
    description: &str,
) -> Result<Written> {
    let existing = existing.filter(|t| !t.trim().is_empty());
    let (frontmatter, body) = match existing {
        None => (new_frontmatter(manifest, description), String::new()),
        Some(text) => {
            let parsed = SkillMd::parse(text).map_err(|problems| {
                let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
                Error::invalid(format!(
                    "{SKILL_MD} cannot be refreshed without losing what it says:\n  {}",
                    list.join("\n  ")
                ))
                .with_hint("fix the frontmatter (or move the file away to start a new one), then run `skill docs` again")
            })?;
            let (front, body) = split(text);
            let mut front = front.to_string();
            if parsed.name != manifest.name {
                front = replace_key(&front, "name", &manifest.name);
            }
            if parsed.description.trim().is_empty() {
                front = replace_key(&front, "description", &yaml_string(description));
            }
            (front, body.to_string())
        }
    };

    let mut written = Written::default();
    let mut body = if body.trim().is_empty() {
        format!("\n# {}\n\n{}\n", manifest.name, description.trim())
    } else {
        body
    };
    let parsed_body = SkillMd::parse(&format!("{frontmatter}{body}")).ok();
    for section in parsed_body.iter().flat_map(|m| &m.sections) {
        if section.is_tool && manifest.tool(&section.title).is_none() {
            written.orphaned.push(section.title.clone());
        }
    }
    for tool in &manifest.tools {
        let block = generated_block(&manifest.name, tool);
        body = match tool_section_range(&body, &tool.name) {
            Some((start, end)) => match block_range(&body[start..end])? {
                Some((b, e)) => format!("{}{block}{}", &body[..start + b], &body[start + e..]),
                None => {
                    let head = body[..end].trim_end();
                    format!("{head}\n\n{block}\n{}", tail_after(&body, end))
                }
            },
            None => {
                written.added.push(tool.name.clone());
                let description = if tool.description.is_empty() {
                    String::new()
                } else {
                    format!("{}\n\n", tool.description.trim())
                };
                format!(
                    "{}\n\n## {}\n\n{description}{block}\n",
                    body.trim_end(),
                    tool.name
                )
            }
        };
    }
    written.text = format!("{frontmatter}{}", body);
    if !written.text.ends_with('\n') {
        written.text.push('\n');
    }
    Ok(written)
}

/// The usage section of a README: replaced between its markers, or appended under
/// `## Usage` when the README has none.
pub fn readme(existing: &str, manifest: &PackageManifest) -> Result<String> {
    let mut block = format!("{USAGE_BEGIN}\n```sh\nskill install {}\n", manifest.name);
    for tool in &manifest.tools {
        block.push_str(&run_line(&manifest.name, tool));
        block.push('\n');
    }
    block.push_str("```\n");
    block.push_str(END);
    Ok(match marker_line(existing, USAGE_BEGIN, 0) {
        Some(begin) => match marker_line(existing, END, begin) {
            Some(end) => format!(
                "{}{block}{}",
                &existing[..begin],
                &existing[end + END.len()..]
            ),
            None => return Err(unclosed("README.md", USAGE_BEGIN)),
        },
        None => format!("{}\n\n## Usage\n\n{block}\n", existing.trim_end()),
    })
}

fn run_line(skill: &str, tool: &ToolDef) -> String {
    let usage = skill_manifest::args::usage_line(tool);
    format!("skill run {skill}:{} {usage}", tool.name)
        .trim_end()
        .to_string()
}

fn generated_block(skill: &str, tool: &ToolDef) -> String {
    let mut out = format!("{BEGIN}\n```sh\n{}\n```\n", run_line(skill, tool));
    if !tool.params.is_empty() {
        out.push_str("\n| Parameter | Type | Required | Default | Description |\n");
        out.push_str("|---|---|---|---|---|\n");
        for p in &tool.params {
            let mut description = p.description.replace('|', "\\|").replace('\n', " ");
            if !p.choices.is_empty() {
                description.push_str(&format!(" (one of: {})", p.choices.join(", ")));
            }
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                p.name,
                p.kind.as_str(),
                if p.required { "yes" } else { "no" },
                p.default
                    .as_ref()
                    .map(|d| format!("`{d}`"))
                    .unwrap_or_default(),
                description.trim()
            ));
        }
    }
    out.push_str(END);
    out
}

fn new_frontmatter(manifest: &PackageManifest, description: &str) -> String {
    let mut out = format!(
        "---\nname: {}\ndescription: {}\n",
        manifest.name,
        yaml_string(description)
    );
    if let Some(license) = &manifest.license {
        out.push_str(&format!("license: {}\n", yaml_string(license)));
    }
    out.push_str("---\n");
    out
}

/// A YAML scalar that reads back as `text`: plain when it is simple words starting with a
/// letter and not a word YAML reads as something else (`true`, `no`, `null`...), else quoted.
fn yaml_string(text: &str) -> String {
    let text = text.trim();
    const NOT_TEXT: [&str; 11] = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "nan",
    ];
    let plain = text.starts_with(|c: char| c.is_alphabetic())
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || " .,()-/'".contains(c))
        && !NOT_TEXT.contains(&text.to_lowercase().as_str());
    if plain {
        text.to_string()
    } else {
        serde_json::to_string(text).expect("a string serializes")
    }
}

/// (frontmatter with its `---` lines, the rest).
fn split(text: &str) -> (&str, &str) {
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        offset += line.len();
        if i > 0 && line.trim_end() == "---" {
            return (&text[..offset], &text[offset..]);
        }
    }
    (text, "")
}

/// `key: value` replaced on its top-level line (or added before the closing `---`).
fn replace_key(frontmatter: &str, key: &str, value: &str) -> String {
    let mut out = String::new();
    let mut done = false;
    let lines: Vec<&str> = frontmatter.split_inclusive('\n').collect();
    let mut skipping = false;
    for (i, line) in lines.iter().enumerate() {
        let is_last = i + 1 == lines.len();
        if skipping {
            // The old value's continuation lines (a folded or indented scalar).
            if line.starts_with([' ', '\t']) {
                continue;
            }
            skipping = false;
        }
        let quoted = [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ];
        if !done && quoted.iter().any(|k| line.starts_with(k.as_str())) {
            out.push_str(&format!("{key}: {value}\n"));
            done = true;
            skipping = true;
            continue;
        }
        if !done && is_last {
            out.push_str(&format!("{key}: {value}\n"));
            done = true;
        }
        out.push_str(line);
    }
    out
}

/// Byte range of the section `## tool` in `body`: from its heading to the next level-1 or
/// level-2 heading (outside code fences).
fn tool_section_range(body: &str, tool: &str) -> Option<(usize, usize)> {
    let mut offset = 0;
    let mut fenced = false;
    let mut start = None;
    for line in body.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
        }
        let heading = !fenced && (line.starts_with("## ") || line.starts_with("# "));
        if heading {
            if start.is_some() {
                return start.map(|s| (s, offset));
            }
            let title = line
                .trim_start_matches('#')
                .trim()
                .trim_end_matches('#')
                .trim()
                .trim_matches('`');
            if line.starts_with("## ") && title == tool {
                start = Some(offset);
            }
        }
        offset += line.len();
    }
    start.map(|s| (s, body.len()))
}

/// The generated block inside `section`, markers included: the markers must stand on lines of
/// their own (a mention in prose is the author's text), and an opening marker without its
/// closing one is refused rather than taken to run to the end.
fn block_range(section: &str) -> Result<Option<(usize, usize)>> {
    let Some(begin) = marker_line(section, BEGIN, 0) else {
        return Ok(None);
    };
    match marker_line(section, END, begin) {
        Some(end) => Ok(Some((begin, end + END.len()))),
        None => Err(unclosed(SKILL_MD, BEGIN)),
    }
}

/// The offset of the first line from `from` on that is exactly `marker`.
fn marker_line(text: &str, marker: &str, from: usize) -> Option<usize> {
    let mut offset = from;
    for line in text[from..].split_inclusive('\n') {
        if line.trim_end() == marker {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

fn unclosed(file: &str, marker: &str) -> Error {
    Error::invalid(format!(
        "{file} has a `{marker}` line without its closing `{END}`"
    ))
    .with_hint(format!(
        "add the `{END}` line where the generated text ends (or remove the opening one); nothing was written"
    ))
}

fn tail_after(body: &str, end: usize) -> String {
    let tail = &body[end..];
    if tail.is_empty() {
        String::new()
    } else {
        format!("\n{tail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skill_manifest::manifest::{ComponentDigest, ParamDef, ParamKind};

    fn manifest(tools: &[&str]) -> PackageManifest {
        PackageManifest {
            format: 1,
            name: "hello".into(),
            version: "0.1.0".into(),
            description: "Says hello.".into(),
            author: None,
            license: Some("MIT".into()),
            repository: None,
            contract: "skill-engine:skill@0.3.0".into(),
            component: ComponentDigest {
                sha256: String::new(),
                size: 0,
            },
            tools: tools
                .iter()
                .map(|t| ToolDef {
                    name: t.to_string(),
                    description: format!("The {t} tool."),
                    params: vec![
                        ParamDef {
                            name: "name".into(),
                            description: "Who | what".into(),
                            kind: ParamKind::String,
                            required: true,
                            default: None,
                            choices: vec![],
                        },
                        ParamDef {
                            name: "times".into(),
                            description: "How often".into(),
                            kind: ParamKind::Integer,
                            required: false,
                            default: Some(serde_json::json!(2)),
                            choices: vec![],
                        },
                    ],
                    ..ToolDef::default()
                })
                .collect(),
        }
    }

    #[test]
    fn a_new_file_documents_every_tool_and_passes_its_own_check() {
        let m = manifest(&["greet", "wave"]);
        let written = skill_md(None, &m, "Says hello. Use it to greet people.").unwrap();
        insta::assert_snapshot!(written.text);
        assert_eq!(written.added, ["greet", "wave"]);
        let md = SkillMd::parse(&written.text).unwrap();
        assert_eq!(md.check("hello", &m.tools), []);
    }

    #[test]
    fn refreshing_keeps_the_authors_words_and_replaces_only_the_generated_block() {
        let first = skill_md(None, &manifest(&["greet"]), "Says hello.")
            .unwrap()
            .text;
        let edited = first
            .replace("license: MIT\n", "license: MIT\nmetadata:\n  team: core\n")
            .replace("## greet\n", "## greet\n\nMy own words about greeting.\n")
            + "\n## Troubleshooting\n\nAsk someone.\n\n## gone\n\nAn old tool.\n";
        let mut m = manifest(&["greet", "wave"]);
        m.tools[0].params.pop();
        let written = skill_md(Some(&edited), &m, "ignored").unwrap();
        let text = &written.text;
        for kept in [
            "team: core",
            "My own words about greeting.",
            "## Troubleshooting",
            "Ask someone.",
            "An old tool.",
        ] {
            assert!(text.contains(kept), "{kept} lost:\n{text}");
        }
        assert!(
            !text.contains("`times`") || text.matches("`times`").count() == 1,
            "{text}"
        );
        assert_eq!(written.added, ["wave"]);
        assert_eq!(written.orphaned, ["gone"]);
        assert_eq!(text.matches(BEGIN).count(), 2);
        // A second run changes nothing.
        assert_eq!(skill_md(Some(text), &m, "ignored").unwrap().text, *text);
        // A marker mentioned in the author's prose is the author's text.
        let mentioned = text.replace(
            "My own words about greeting.",
            "My own words; `<!-- skill docs -->` marks the generated part.\n\nIMPORTANT: keep this.",
        );
        let again = skill_md(Some(&mentioned), &m, "x").unwrap().text;
        assert!(again.contains("IMPORTANT: keep this."), "{again}");
        assert_eq!(skill_md(Some(&again), &m, "x").unwrap().text, again);
        assert!(
            skill_md(None, &m, "True")
                .unwrap()
                .text
                .contains("description: \"True\"")
        );
    }

    #[test]
    fn a_wrong_name_is_corrected_and_a_broken_file_is_refused() {
        let m = manifest(&["greet"]);
        let written = skill_md(
            Some("---\nname: old-name\ndescription: Mine.\n---\n\nBody.\n"),
            &m,
            "x",
        )
        .unwrap();
        assert!(
            written
                .text
                .starts_with("---\nname: hello\ndescription: Mine.\n---\n\nBody.\n"),
            "{}",
            written.text
        );
        let err = skill_md(Some("---\nname: [\n"), &m, "x").unwrap_err();
        assert!(
            err.message().contains("cannot be refreshed"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn the_readme_section_is_appended_once_then_replaced() {
        let m = manifest(&["greet"]);
        let once = readme("# hello\n\nIntro.\n", &m).unwrap();
        assert!(
            once.contains("## Usage")
                && once.contains("skill run hello:greet name=<string> [times=<integer>]"),
            "{once}"
        );
        let mut m2 = m.clone();
        m2.tools[0].name = "wave".into();
        let twice = readme(&once, &m2).unwrap();
        // A marker without its end, or one mentioned in prose, never costs the author text.
        let unclosed = format!("# hello\n\n{USAGE_BEGIN}\n\n## License\n\nMIT\n");
        assert!(
            readme(&unclosed, &m)
                .unwrap_err()
                .message()
                .contains("without its closing")
        );
        let mentioned = format!("Mention `{USAGE_BEGIN}` here.\n\n## License\n\nMIT\n");
        assert!(
            readme(&mentioned, &m)
                .unwrap()
                .contains("## License\n\nMIT")
        );
        assert_eq!(twice.matches("## Usage").count(), 1);
        assert!(
            twice.contains("hello:wave") && !twice.contains("hello:greet"),
            "{twice}"
        );
    }
}
