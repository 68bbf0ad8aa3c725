//! Which files of a project are its sources: one rule set for everything that asks — the
//! source digest stamped into a component, the "is the build stale" check of `skill install`,
//! the files `skill watch` reacts to, and where `skill test` looks for unit tests.
//!
//! Not sources: outputs and fetched dependencies (`target/`, `dist/`, `node_modules/`,
//! `__pycache__/`, and the project's own `build.output` wherever it points), anything whose
//! name starts with `.` (VCS metadata, editor state), editors' swap and backup files, and
//! `skill.lock`, which the build writes, and `SKILL.md` (checked, never compiled).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::project::Project;

/// Directories that hold outputs or fetched dependencies, never the author's sources.
pub const IGNORED_DIRS: &[&str] = &["target", "node_modules", "dist", "__pycache__"];

/// Files the build itself writes, and SKILL.md, which is not compiled into the component:
/// install and validate read it from the project as it is, so editing it (or `skill docs`
/// writing it) needs no rebuild.
const BUILD_WRITTEN: &[&str] = &["skill.lock", "SKILL.md"];

/// A project's sources: everything under `root` except what the rules above leave out.
#[derive(Debug, Clone)]
pub struct Sources {
    root: PathBuf,
    output_dir: PathBuf,
}

impl Sources {
    pub fn of(project: &Project) -> Self {
        Sources::new(&project.root, &project.output_dir())
    }

    pub fn new(root: &Path, output_dir: &Path) -> Self {
        Sources {
            root: root.to_path_buf(),
            output_dir: output_dir.to_path_buf(),
        }
    }

    /// Whether `path` (absolute) is a source: inside the project, and neither it nor a
    /// directory on the way to it is left out.
    pub fn is_source(&self, path: &Path) -> bool {
        let Ok(relative) = path.strip_prefix(&self.root) else {
            return false;
        };
        !path.starts_with(&self.output_dir)
            && relative
                .components()
                .all(|part| !left_out(&part.as_os_str().to_string_lossy()))
    }

    /// Every source file, relative to the root, sorted.
    pub fn files(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        self.collect(&self.root, &mut files);
        files.sort();
        files
    }

    /// The newest modification time among the sources.
    pub fn newest(&self) -> Option<SystemTime> {
        self.files()
            .iter()
            .filter_map(|f| self.root.join(f).metadata().and_then(|m| m.modified()).ok())
            .max()
    }

    fn collect(&self, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if left_out(&entry.file_name().to_string_lossy()) || path.starts_with(&self.output_dir)
            {
                continue;
            }
            // Symlinks are not followed: a link out of the project is not its source.
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                self.collect(&path, out);
            } else if kind.is_file()
                && let Ok(relative) = path.strip_prefix(&self.root)
            {
                out.push(relative.to_path_buf());
            }
        }
    }
}

fn left_out(name: &str) -> bool {
    IGNORED_DIRS.contains(&name)
        || BUILD_WRITTEN.contains(&name)
        || name.starts_with('.')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_walking_and_for_events() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // A custom build.output outside target/ and dist/: its files are not sources.
        let out = root.join("out/skill");
        for file in [
            "skill.yaml",
            "src/lib.rs",
            "src/tools/a.rs",
            "package-lock.json",
            "out/skill/x.wasm",
            "target/debug/x",
            "node_modules/a/index.js",
            "dist/bundle.js",
            ".git/index",
            "src/.#lib.rs",
            "src/lib.rs~",
            "src/.lib.rs.swp",
            "skill.lock",
            "py/__pycache__/m.pyc",
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "x").unwrap();
        }
        let sources = Sources::new(root, &out);
        let files: Vec<String> = sources
            .files()
            .iter()
            .map(|f| f.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            files,
            [
                "package-lock.json",
                "skill.yaml",
                "src/lib.rs",
                "src/tools/a.rs"
            ]
        );
        for file in walk_all(root) {
            let relative = file.strip_prefix(root).unwrap().to_path_buf();
            assert_eq!(
                sources.is_source(&file),
                sources.files().contains(&relative),
                "{}",
                relative.display()
            );
        }
        assert!(!sources.is_source(Path::new("/elsewhere/lib.rs")));
    }

    fn walk_all(dir: &Path) -> Vec<PathBuf> {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                all.extend(walk_all(&path));
            } else {
                all.push(path);
            }
        }
        all
    }
}
