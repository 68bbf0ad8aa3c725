//! PATH shims: `$SKILL_HOME/bin/NAME`, a symlink to the `skill` binary, runs the command of one
//! skill instance (`skill exec SKILL@INSTANCE`). The binary looks at the name it was started
//! by before it parses any argument: a name with a record in `$SKILL_HOME/shims/` is a shim.
//!
//! The record and the link are separate files so each is replaced atomically, record first:
//! a link without a record does nothing (the `skill` binary then runs as itself); a record
//! without a link is harmless and `skill shims` shows it.

use std::path::{Path, PathBuf};

use crate::fsutil::{TMP_PREFIX, sync_dir, write_atomic};
use crate::home::SkillHome;
use skill_manifest::error::{Error, Result};

/// One shim: its command name and the instance it runs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Shim {
    pub name: String,
    /// `SKILL@INSTANCE`.
    pub target: String,
    /// Where the link is, and whether it leads to a `skill` binary.
    pub path: PathBuf,
    pub linked: bool,
}

/// Longest shim name.
const MAX_NAME: usize = 64;

/// A shim name: a command name a shell runs as is (`[a-z0-9][a-z0-9._-]*`), not one of
/// skill's own binaries (`skill…`), which must never be taken for a shim.
pub fn check_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if !valid {
        return Err(Error::invalid(format!(
            "`{}` cannot name a shim",
            skill_manifest::text::escape(name, false)
        ))
        .with_hint(format!(
            "a shim name is 1-{MAX_NAME} characters: lowercase letters, digits, `.`, `_`, `-`, starting with a letter or digit"
        )));
    }
    if name.starts_with("skill") {
        return Err(Error::invalid(format!(
            "`{name}` cannot name a shim: names starting with `skill` are skill's own"
        ))
        .with_hint("choose another name with --as"));
    }
    Ok(())
}

pub struct Shims {
    home: SkillHome,
}

impl Shims {
    pub fn new(home: SkillHome) -> Self {
        Shims { home }
    }

    /// What the shim `name` runs, if there is one. Called on every start of `skill` under a
    /// name other than its own, so it reads one small file and nothing else.
    pub fn target_of(&self, name: &str) -> Option<String> {
        check_name(name).ok()?;
        let text = std::fs::read_to_string(self.home.shims_dir().join(name)).ok()?;
        let target = text.trim();
        (!target.is_empty() && target.len() <= 256).then(|| target.to_string())
    }

    /// Makes (or replaces) the shim `name` for `target` (`SKILL@INSTANCE`), a symlink to
    /// `skill_binary`.
    pub fn create(&self, name: &str, target: &str, skill_binary: &Path) -> Result<PathBuf> {
        check_name(name)?;
        let bin = self.home.bin_dir();
        std::fs::create_dir_all(&bin).map_err(|e| Error::io("create directory", &bin, e))?;
        write_atomic(
            &self.home.shims_dir().join(name),
            format!("{target}\n").as_bytes(),
        )?;
        let link = bin.join(name);
        // A new link beside the old one, renamed over it: never a moment without one.
        let staged = bin.join(format!("{TMP_PREFIX}{name}-{}", std::process::id()));
        let _ = std::fs::remove_file(&staged);
        std::os::unix::fs::symlink(skill_binary, &staged)
            .map_err(|e| Error::io("create the link", &staged, e))?;
        std::fs::rename(&staged, &link).map_err(|e| {
            let _ = std::fs::remove_file(&staged);
            Error::io("replace", &link, e)
        })?;
        sync_dir(&bin);
        Ok(link)
    }

    /// Removes the shim `name`; false when there was none.
    pub fn remove(&self, name: &str) -> Result<bool> {
        check_name(name)?;
        let link = self.home.bin_dir().join(name);
        let record = self.home.shims_dir().join(name);
        let mut found = false;
        // The link first: without it nothing runs the record any more.
        for path in [&link, &record] {
            match std::fs::remove_file(path) {
                Ok(()) => found = true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove", path, e)),
            }
        }
        Ok(found)
    }

    /// Every shim, by name.
    pub fn list(&self) -> Result<Vec<Shim>> {
        let dir = self.home.shims_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("read", &dir, e)),
        };
        let mut shims = Vec::new();
        for entry in entries.flatten() {
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let Some(target) = self.target_of(&name) else {
                continue;
            };
            let path = self.home.bin_dir().join(&name);
            let linked = std::fs::read_link(&path).is_ok_and(|to| {
                to.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("skill"))
                    && to.is_file()
            });
            shims.push(Shim {
                name,
                target,
                path,
                linked,
            });
        }
        shims.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(shims)
    }

    /// The shims that run an instance of `skill`.
    pub fn of_skill(&self, skill: &str) -> Result<Vec<Shim>> {
        Ok(self
            .list()?
            .into_iter()
            .filter(|s| s.target.split('@').next() == Some(skill))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_command_names_and_never_skills_own() {
        for good in ["greet", "aws-prod", "x1", "a.b_c"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Greet",
            "-x",
            ".hidden",
            "a/b",
            "..",
            "a b",
            "skill",
            "skill-serve",
            "é",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(check_name(&"a".repeat(65)).is_err());
    }

    #[test]
    fn a_shim_is_a_record_and_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let home = SkillHome::at(dir.path());
        let binary = dir.path().join("skill");
        std::fs::write(&binary, b"").unwrap();
        let shims = Shims::new(home.clone());
        let link = shims.create("greet", "hello@prod", &binary).unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), binary);
        assert_eq!(shims.target_of("greet").as_deref(), Some("hello@prod"));
        shims.create("greet", "hello@dev", &binary).unwrap();
        let listed = shims.list().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].target, "hello@dev");
        assert!(listed[0].linked);
        assert_eq!(shims.of_skill("hello").unwrap().len(), 1);
        assert!(shims.of_skill("hell").unwrap().is_empty());
        assert!(shims.remove("greet").unwrap());
        assert!(!shims.remove("greet").unwrap());
        assert!(shims.target_of("greet").is_none() && !link.exists());
        assert!(shims.target_of("../shims/greet").is_none());
    }
}
