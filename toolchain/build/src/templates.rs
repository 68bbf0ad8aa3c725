//! Project templates (`templates/<name>/`), compiled into the binary and rendered with
//! handlebars. See `templates/README.md` for the layout and the values a template can use.

use std::path::{Path, PathBuf};

use handlebars::{Handlebars, handlebars_helper};
use include_dir::{Dir, include_dir};
use serde::Deserialize;
use skill_engine::{Error, Result};
use skill_store::fsutil::write_atomic;

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../templates");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateMeta {
    pub description: String,
    pub language: String,
}

#[derive(Debug)]
pub struct Template {
    pub name: String,
    pub meta: TemplateMeta,
    content: &'static Dir<'static>,
}

/// All templates, sorted by name.
pub fn all() -> Vec<Template> {
    let mut templates: Vec<Template> = TEMPLATES
        .dirs()
        .filter_map(|dir| {
            let name = dir.path().file_name()?.to_str()?.to_string();
            let meta_file = dir.get_file(dir.path().join("template.yaml"))?;
            let meta: TemplateMeta = serde_norway::from_slice(meta_file.contents())
                .unwrap_or_else(|e| panic!("templates/{name}/template.yaml is invalid: {e}"));
            let content = dir.get_dir(dir.path().join("content"))?;
            Some(Template {
                name,
                meta,
                content,
            })
        })
        .collect();
    templates.sort_by(|a, b| a.name.cmp(&b.name));
    templates
}

pub fn find(name: &str) -> Result<Template> {
    let templates = all();
    let names: Vec<String> = templates.iter().map(|t| t.name.clone()).collect();
    templates
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| {
            Error::not_found(format!("unknown template `{name}`"))
                .with_hint(format!("available templates: {}", names.join(", ")))
        })
}

/// The tools `--tool` adds beside `greet`: `name` (a tool name) and `fn_name` (the same as an
/// identifier, `-` → `_`) and `type_name` (CamelCase, for Go), for the templates to loop over.
pub fn extra_tools(names: &[String]) -> Result<Vec<serde_json::Value>> {
    let mut seen = vec!["greet".to_string()];
    let mut tools = Vec::new();
    for name in names {
        let ok = name.len() <= 64
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            return Err(Error::invalid(format!("`{name}` is not a tool name"))
                .with_hint("use lowercase letters, digits and `-`, starting with a letter (e.g. list-issues)"));
        }
        if seen.contains(name) {
            return Err(Error::invalid(format!("the tool `{name}` is listed twice"))
                .with_hint("every template already has `greet`"));
        }
        seen.push(name.clone());
        let type_name: String = name
            .split(['-', '_'])
            .map(|part| {
                let mut chars = part.chars();
                chars.next().map_or(String::new(), |first| {
                    first.to_ascii_uppercase().to_string() + chars.as_str()
                })
            })
            .collect();
        tools.push(serde_json::json!({
            "name": name,
            "fn_name": name.replace('-', "_"),
            "type_name": type_name,
        }));
    }
    Ok(tools)
}

handlebars_helper!(quote: |value: str| serde_json::to_string(value).expect("a string serializes"));

impl Template {
    /// Renders the template into `dest` (which must not exist yet) and returns the files
    /// written, relative to `dest`.
    pub fn render(&self, dest: &Path, values: &serde_json::Value) -> Result<Vec<PathBuf>> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(handlebars::no_escape);
        hb.register_helper("quote", Box::new(quote));
        let mut written = Vec::new();
        render_dir(
            &hb,
            self.content,
            self.content.path(),
            dest,
            values,
            &mut written,
        )?;
        written.sort();
        Ok(written)
    }
}

fn render_dir(
    hb: &Handlebars,
    dir: &Dir,
    base: &Path,
    dest: &Path,
    values: &serde_json::Value,
    written: &mut Vec<PathBuf>,
) -> Result<()> {
    for file in dir.files() {
        let relative = file.path().strip_prefix(base).expect("inside the template");
        let relative = output_name(relative);
        let text = file.contents_utf8().ok_or_else(|| {
            Error::internal(format!(
                "template file {} is not UTF-8",
                file.path().display()
            ))
        })?;
        let rendered = hb.render_template(text, values).map_err(|e| {
            Error::internal(format!(
                "template file {} failed to render: {e}",
                file.path().display()
            ))
        })?;
        write_atomic(&dest.join(&relative), rendered.as_bytes())?;
        written.push(relative);
    }
    for sub in dir.dirs() {
        render_dir(hb, sub, base, dest, values, written)?;
    }
    Ok(())
}

/// `Cargo.toml.tmpl` → `Cargo.toml`; a leading `_` in any component → `.`
/// (`_gitignore` → `.gitignore`, `_github/workflows` → `.github/workflows`).
fn output_name(relative: &Path) -> PathBuf {
    let file_name = relative
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let relative = relative.with_file_name(file_name.strip_suffix(".tmpl").unwrap_or(file_name));
    relative
        .components()
        .map(|c| {
            let part = c.as_os_str().to_string_lossy();
            match part.strip_prefix('_') {
                Some(rest) => format!(".{rest}"),
                None => part.into_owned(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_load_and_render() {
        let rust = find("rust").unwrap();
        assert_eq!(rust.meta.language, "rust");
        let dir = tempfile::tempdir().unwrap();
        let values = serde_json::json!({
            "name": "hello", "crate_name": "hello", "description": "Says \"hi\"",
            "sdk_rust_path": "/sdk/sdk-rust",
            "sdk_js_dependency": "file:/sdk/sdk-js",
            "extra_tools": extra_tools(&["list-issues".to_string()]).unwrap(),
            "config": true,
        });
        let files = rust.render(&dir.path().join("hello"), &values).unwrap();
        assert!(files.contains(&PathBuf::from(".gitignore")), "{files:?}");
        assert!(files.contains(&PathBuf::from("Cargo.toml")), "{files:?}");
        let cargo = std::fs::read_to_string(dir.path().join("hello/Cargo.toml")).unwrap();
        assert!(cargo.contains(r#"description = "Says \"hi\"""#), "{cargo}");
        assert!(
            cargo.contains(r#"skill-sdk = { path = "/sdk/sdk-rust" }"#),
            "{cargo}"
        );
        assert!(find("cobol").unwrap_err().hint().unwrap().contains("rust"));

        // Every template renders a skill.yaml that loads and names the template's language.
        for template in all() {
            let dest = dir.path().join(format!("t-{}", template.name));
            template.render(&dest, &values).unwrap();
            let yaml = skill_manifest::manifest::SkillYaml::read(&dest.join("skill.yaml")).unwrap();
            let build = yaml.build.expect("templates write a build section");
            assert_eq!(build.language.as_str(), template.meta.language);
            assert!(dest.join(".gitignore").is_file(), "{}", template.name);
            // A CI workflow that builds with the locked tools; it must be valid YAML.
            let workflow = std::fs::read_to_string(dest.join(".github/workflows/skill.yml"))
                .unwrap_or_else(|e| panic!("{}: {e}", template.name));
            assert!(
                workflow.contains("skill build --locked"),
                "{}",
                template.name
            );
            let parsed: serde_norway::Value = serde_norway::from_str(&workflow)
                .unwrap_or_else(|e| panic!("{}: workflow is not YAML: {e}", template.name));
            assert!(
                parsed["jobs"]["build"]["steps"].is_sequence(),
                "{}",
                template.name
            );
            assert!(dest.join("README.md").is_file(), "{}", template.name);
            // Test cases for `skill test` that load.
            let cases = crate::testing::load_cases(&dest).unwrap();
            assert!(
                cases.iter().map(|(_, c)| c.len()).sum::<usize>() >= 2,
                "{}",
                template.name
            );
        }
    }
}
