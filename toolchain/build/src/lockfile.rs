//! `skill.lock`: the exact versions of every tool that shaped a build (the skill toolchain,
//! the contract, compilers and componentizers) and a digest of the project's own dependency
//! lock (Cargo.lock, package-lock.json, pyproject dependencies). `skill build` writes it;
//! `skill build --locked` refuses to build when anything differs and shows what.

use std::collections::BTreeMap;
use std::path::Path;

use skill_engine::{Error, Result};
use skill_store::fsutil::write_atomic;

pub const LOCK_FILE: &str = "skill.lock";
const FORMAT: i64 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LockFile {
    pub language: String,
    /// Tool name → exact version.
    pub tools: BTreeMap<String, String>,
    /// Dependency lock name → `sha256:<hex>`.
    pub dependencies: BTreeMap<String, String>,
}

impl LockFile {
    pub fn read(path: &Path) -> Result<Option<LockFile>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", path, e)),
        };
        Self::parse(&text).map(Some).map_err(|e| {
            Error::invalid(format!("{}: {e}", path.display())).with_hint(
                "delete it and run `skill build` (without --locked) to write a fresh one",
            )
        })
    }

    fn parse(text: &str) -> std::result::Result<LockFile, String> {
        let doc: toml_edit::DocumentMut = text
            .parse()
            .map_err(|e: toml_edit::TomlError| e.to_string())?;
        if doc.get("version").and_then(|v| v.as_integer()) != Some(FORMAT) {
            return Err(format!(
                "unsupported lock format (expected version = {FORMAT})"
            ));
        }
        let table = |name: &str| -> BTreeMap<String, String> {
            doc.get(name)
                .and_then(|t| t.as_table())
                .map(|t| {
                    t.iter()
                        .filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(LockFile {
            language: doc
                .get("language")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string(),
            tools: table("tools"),
            dependencies: table("dependencies"),
        })
    }

    pub fn to_toml(&self) -> String {
        let mut doc = toml_edit::DocumentMut::new();
        doc["version"] = toml_edit::value(FORMAT);
        doc["language"] = toml_edit::value(self.language.as_str());
        for (name, map) in [("tools", &self.tools), ("dependencies", &self.dependencies)] {
            let mut table = toml_edit::Table::new();
            for (k, v) in map {
                table[k.as_str()] = toml_edit::value(v.as_str());
            }
            doc[name] = toml_edit::Item::Table(table);
        }
        format!(
            "# Written by `skill build`: the exact tools this skill was built with.\n\
             # Commit it; `skill build --locked` fails when anything here differs.\n{doc}"
        )
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        write_atomic(path, self.to_toml().as_bytes())
    }

    /// One line per difference, `locked` being the file and `self` this machine.
    pub fn diff(&self, locked: &LockFile) -> Vec<String> {
        let mut lines = Vec::new();
        if self.language != locked.language {
            lines.push(format!(
                "language: {} in skill.lock, {} here",
                locked.language, self.language
            ));
        }
        for (section, here, there) in [
            ("tools", &self.tools, &locked.tools),
            ("dependencies", &self.dependencies, &locked.dependencies),
        ] {
            let keys: std::collections::BTreeSet<&String> =
                here.keys().chain(there.keys()).collect();
            for key in keys {
                match (there.get(key), here.get(key)) {
                    (Some(a), Some(b)) if a == b => {}
                    (Some(a), Some(b)) => {
                        lines.push(format!("{section}.{key}: {a} in skill.lock, {b} here"))
                    }
                    (Some(a), None) => {
                        lines.push(format!("{section}.{key}: {a} in skill.lock, not used here"))
                    }
                    (None, Some(b)) => {
                        lines.push(format!("{section}.{key}: not in skill.lock, {b} here"))
                    }
                    (None, None) => {}
                }
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_diffs() {
        let mut lock = LockFile {
            language: "typescript".into(),
            ..Default::default()
        };
        lock.tools.insert("esbuild".into(), "0.28.2".into());
        lock.tools.insert("@scope/x".into(), "1.0.0".into());
        lock.dependencies
            .insert("package-lock.json".into(), "sha256:ab".into());
        let parsed = LockFile::parse(&lock.to_toml()).unwrap();
        assert_eq!(parsed, lock);

        let mut here = lock.clone();
        here.tools.insert("esbuild".into(), "0.29.0".into());
        here.dependencies.clear();
        assert_eq!(
            here.diff(&lock),
            vec![
                "tools.esbuild: 0.28.2 in skill.lock, 0.29.0 here".to_string(),
                "dependencies.package-lock.json: sha256:ab in skill.lock, not used here"
                    .to_string(),
            ]
        );
    }
}
