//! `$SKILL_HOME/audit.log`: one JSON object per line for every install, grant, revoke and
//! config change. Entries name config keys, never their values.
//!
//! Each entry is one `write` on a file opened with `O_APPEND`, so concurrent writers never
//! interleave within a line.

use std::io::Write;

use serde_json::{Value, json};

use crate::home::SkillHome;
use skill_manifest::error::{Error, Result};

/// Appends `{"time": <unix seconds>, "action": ..., "skill": ..., "instance": ..., ...details}`.
pub fn record(
    home: &SkillHome,
    action: &str,
    skill: &str,
    instance: &str,
    details: Value,
) -> Result<()> {
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut entry = json!({
        "time": time,
        "action": action,
        "skill": skill,
        "instance": instance,
        "user": std::env::var("USER").unwrap_or_default(),
    });
    if let (Some(map), Value::Object(extra)) = (entry.as_object_mut(), details) {
        map.extend(extra);
    }
    let mut line = serde_json::to_vec(&entry).expect("audit entries serialize");
    line.push(b'\n');
    let path = home.audit_log();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .map_err(|e| Error::io("open", &path, e))?;
    file.write_all(&line)
        .map_err(|e| Error::io("append to", &path, e))
}

/// Every entry, oldest first (lines that do not parse are skipped).
pub fn read(home: &SkillHome) -> Result<Vec<Value>> {
    let path = home.audit_log();
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io("read", &path, e)),
    }
}
