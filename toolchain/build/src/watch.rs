//! `skill watch`: which file-system events mean "the sources changed". Everything the build
//! itself writes is ignored, so a build never triggers the next one.

use std::path::Path;

/// Directories whose changes never start a build: outputs, dependencies, VCS metadata.
pub const IGNORED_DIRS: &[&str] = &[
    "target",
    "node_modules",
    "dist",
    "__pycache__",
    ".git",
    ".hg",
    ".svn",
    ".jj",
    ".venv",
];

/// Files the build itself writes.
const BUILD_WRITTEN: &[&str] = &["skill.lock", "package-lock.json"];

/// Whether `path` (absolute, inside `root`) is a source the build reads.
pub fn is_source(root: &Path, output_dir: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(root) else {
        return false;
    };
    if path.starts_with(output_dir) {
        return false;
    }
    let mut parts = relative.components().peekable();
    while let Some(part) = parts.next() {
        let name = part.as_os_str().to_string_lossy();
        let last = parts.peek().is_none();
        if !last && IGNORED_DIRS.contains(&name.as_ref()) {
            return false;
        }
        if last {
            // Editors' swap and backup files, and the build's own writes.
            let temp = name.starts_with(".#")
                || name.ends_with('~')
                || name.ends_with(".swp")
                || name.ends_with(".swx")
                || name.starts_with(".tmp-");
            if temp
                || BUILD_WRITTEN.contains(&name.as_ref())
                || IGNORED_DIRS.contains(&name.as_ref())
            {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_source_changes_count() {
        let root = Path::new("/p");
        let out = Path::new("/p/out/skill");
        assert!(is_source(root, out, Path::new("/p/src/lib.rs")));
        assert!(is_source(root, out, Path::new("/p/skill.yaml")));
        assert!(!is_source(root, out, Path::new("/p/target/debug/x")));
        assert!(!is_source(
            root,
            out,
            Path::new("/p/node_modules/a/index.js")
        ));
        assert!(!is_source(root, out, Path::new("/p/out/skill/x.wasm")));
        assert!(!is_source(root, out, Path::new("/p/.git/index")));
        assert!(!is_source(root, out, Path::new("/p/skill.lock")));
        assert!(!is_source(root, out, Path::new("/p/src/.#lib.rs")));
        assert!(!is_source(root, out, Path::new("/p/src/lib.rs~")));
        assert!(!is_source(root, out, Path::new("/elsewhere/lib.rs")));
    }
}
