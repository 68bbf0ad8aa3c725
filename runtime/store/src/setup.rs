//! A whole setup, written down (`skill lock`) to be reproduced elsewhere (`skill sync`): each
//! installed skill's source, version and digests, and each instance's config and grants.
//! Secrets are never written: only which keys are set, and the environment variable `sync`
//! takes each from. Not to be confused with a project's build lock, `skill.lock`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use skill_manifest::capabilities::{Capabilities, LimitSpec};
use skill_manifest::error::{Error, Result};

use crate::home::SkillHome;
use crate::instance::Instances;
use crate::store::Store;

/// The file name `skill lock` writes by default.
pub const SETUP_LOCK_FILE: &str = "skills-lock.json";

/// The format version this build writes and reads.
pub const SETUP_LOCK_VERSION: u32 = 1;

/// Larger lock files are refused before parsing.
pub const MAX_SETUP_LOCK: u64 = 16 << 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupLock {
    pub version: u32,
    pub skills: Vec<LockedSkill>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedSkill {
    pub name: String,
    pub version: String,
    /// Where exactly this version came from: `oci://…@sha256:…`, a git URL pinned to its
    /// commit, or a local path (which `sync` can use only where it exists).
    pub source: Option<String>,
    /// What was asked at install (`hello@^1.2`), kept for `skill update` after a sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested: Option<String>,
    /// The registry manifest digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The git commit built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// sha256 of the component.
    pub component_sha256: String,
    pub instances: Vec<LockedInstance>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedInstance {
    pub name: String,
    /// Config values that are not secret.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, String>,
    /// Secret keys that are set, each with the environment variable `sync` reads it from.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, SecretFrom>,
    /// What was approved for this instance.
    pub approved: Capabilities,
    /// The user's own limit overrides.
    #[serde(default, skip_serializing_if = "LimitSpec::is_empty")]
    pub limits: LimitSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretFrom {
    pub env: String,
}

/// `SKILL_SECRET_<SKILL>_<INSTANCE>_<KEY>`, upper-cased, anything else than A-Z0-9 as `_`.
pub fn secret_env_name(skill: &str, instance: &str, key: &str) -> String {
    format!("SKILL_SECRET_{skill}_{instance}_{key}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// What is installed in `home`, as a lock.
pub fn snapshot(home: &SkillHome) -> Result<SetupLock> {
    let store = Store::new(home.clone());
    let instances = Instances::new(home.clone());
    let mut skills = Vec::new();
    for skill in store.list()? {
        let name = skill.manifest.name.clone();
        let mut locked = Vec::new();
        for instance in instances.list(&name) {
            let state = instances.load(&name, &instance)?;
            locked.push(LockedInstance {
                secrets: state
                    .secrets
                    .keys()
                    .map(|key| {
                        let env = secret_env_name(&name, &instance, key);
                        (key.clone(), SecretFrom { env })
                    })
                    .collect(),
                config: state.config,
                approved: state.grants.approved,
                limits: state.grants.limits,
                name: instance,
            });
        }
        let origin = skill.origin.as_ref();
        skills.push(LockedSkill {
            version: skill.manifest.version.clone(),
            source: origin.map(|o| o.source.clone()),
            requested: origin.map(|o| o.requested.clone()),
            digest: origin.and_then(|o| o.digest.clone()),
            commit: origin.and_then(|o| o.commit.clone()),
            component_sha256: skill.manifest.component.sha256.clone(),
            instances: locked,
            name,
        });
    }
    skills.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(SetupLock {
        version: SETUP_LOCK_VERSION,
        skills,
    })
}

impl SetupLock {
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a lock serializes");
        text.push('\n');
        text
    }

    /// Parses a lock file's text; `what` names it in errors.
    pub fn parse(text: &str, what: &str) -> Result<SetupLock> {
        let lock: SetupLock = serde_json::from_str(text).map_err(|e| {
            Error::invalid(format!("{what} is not a skills lock file: {e}"))
                .with_hint("write one with `skill lock -o FILE`")
        })?;
        if lock.version != SETUP_LOCK_VERSION {
            return Err(Error::invalid(format!(
                "{what} is lock format {}; this skill reads format {SETUP_LOCK_VERSION}",
                lock.version
            ))
            .with_hint("use the skill release that wrote it, or write it again with this one"));
        }
        Ok(lock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_variables_are_one_shell_word() {
        assert_eq!(
            secret_env_name("aws-tools", "prod.eu", "api_key"),
            "SKILL_SECRET_AWS_TOOLS_PROD_EU_API_KEY"
        );
    }
}
