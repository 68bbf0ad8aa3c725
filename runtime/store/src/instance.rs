//! Instances: one installed skill configured several times (`aws@prod`, `aws@staging`), each
//! with its own config, encrypted secrets, approved capabilities and data directory.
//!
//! ```text
//! $SKILL_HOME/instances/<skill>/<instance>/
//!   config.json    plain values (keys the schema does not mark secret)
//!   secrets.enc    the secret values, sealed (see secrets.rs), bound to `<skill>@<instance>`
//!   grants.json    what the user approved, plus their limit overrides
//!   data/          the guest's own directory, preopened as /data
//!   .lock          serializes read-modify-write of the files above
//! ```
//! Every file is replaced atomically, and every change happens under the instance's lock:
//! concurrent `skill config --set` calls all land, and a crash leaves the old file or the new.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dirs::ApprovedDir;
use crate::dirs::Sandbox;
use crate::fsutil::{FileLock, create_private_dir, write_atomic, write_private};
use crate::home::SkillHome;
use crate::secrets::SecretBox;
use skill_manifest::capabilities::{Capabilities, LimitSpec};
use skill_manifest::config::{ConfigSchema, env_mappings};
use skill_manifest::error::{Error, Result, suggestion};
use skill_manifest::limits::Limits;

pub const DEFAULT_INSTANCE: &str = "default";
const CONFIG_FILE: &str = "config.json";
const SECRETS_FILE: &str = "secrets.enc";
const GRANTS_FILE: &str = "grants.json";
const DATA_DIR: &str = "data";
/// Where the instance's data directory appears inside the guest.
pub const GUEST_DATA_DIR: &str = "/data";

/// What the user approved for one instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    pub approved: Capabilities,
    /// The user's own limit overrides (`skill config --limit`), laid over the approved ones.
    #[serde(default, skip_serializing_if = "LimitSpec::is_empty")]
    pub limits: LimitSpec,
    /// The approved directories, pinned when they were approved (see `dirs.rs`). A requested
    /// path without an entry here did not exist then, and stays closed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dirs: Vec<ApprovedDir>,
}

impl Grants {
    /// One line per grant; directories as the real directories that were approved.
    pub fn describe(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .approved
            .filesystem
            .iter()
            .map(|g| match self.dirs.iter().find(|d| d.requested == g.path) {
                Some(dir) => dir.describe(),
                None => format!(
                    "{} files in {} (did not exist when approved: closed)",
                    skill_manifest::capabilities::capitalize(&g.access.to_string()),
                    skill_manifest::text::escape(&g.path, false)
                ),
            })
            .collect();
        let others = Capabilities {
            filesystem: Vec::new(),
            ..self.approved.clone()
        };
        lines.extend(others.describe());
        lines
    }
}

/// An instance's stored state.
#[derive(Debug, Clone, Default)]
pub struct InstanceState {
    pub config: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
    pub grants: Grants,
}

impl InstanceState {
    pub fn value(&self, key: &str) -> Option<&String> {
        self.config.get(key).or_else(|| self.secrets.get(key))
    }

    /// What the guest sees through `config-get`: defaults, then stored values.
    pub fn effective_config(&self, schema: &ConfigSchema) -> BTreeMap<String, String> {
        let mut all: BTreeMap<String, String> = schema
            .iter()
            .filter_map(|(k, f)| f.default_text().map(|d| (k.clone(), d)))
            .collect();
        all.extend(self.config.clone());
        all.extend(self.secrets.clone());
        all
    }

    /// Stores a checked value in the right place for its schema.
    pub fn set(&mut self, schema: &ConfigSchema, key: &str, raw: &str) -> Result<()> {
        let value = match schema.get(key) {
            Some(field) => field.check(key, raw)?,
            None if schema.is_empty() => raw.to_string(),
            None => return Err(unknown_key(schema, key)),
        };
        let secret = schema.get(key).is_some_and(|f| f.secret);
        self.config.remove(key);
        self.secrets.remove(key);
        if secret {
            self.secrets.insert(key.to_string(), value);
        } else {
            self.config.insert(key.to_string(), value);
        }
        Ok(())
    }

    pub fn unset(&mut self, key: &str) -> bool {
        self.config.remove(key).is_some() | self.secrets.remove(key).is_some()
    }
}

pub fn unknown_key(schema: &ConfigSchema, key: &str) -> Error {
    Error::invalid(format!("the skill has no config key `{key}`")).with_hint(format!(
        "{}config keys: {}",
        suggestion(key, schema.keys().map(String::as_str)),
        schema.keys().cloned().collect::<Vec<_>>().join(", ")
    ))
}

/// Instance names follow the same rules as skill names (no `_`: see `validate_skill_name`).
pub fn validate_instance_name(name: &str) -> Result<()> {
    skill_manifest::manifest::validate_skill_name(name).map_err(|_| {
        Error::invalid(format!(
            "invalid instance name `{}`",
            skill_manifest::text::escape(name, false)
        ))
        .with_hint("use 1-64 lowercase letters, digits and `-`, e.g. prod or staging")
    })
}

/// Names of instances made before `_` was refused are still accepted when they exist.
pub fn validate_existing_instance_name(name: &str) -> Result<()> {
    if skill_manifest::manifest::is_legacy_name(name) {
        Ok(())
    } else {
        validate_instance_name(name)
    }
}

pub struct Instances {
    home: SkillHome,
}

impl Instances {
    pub fn new(home: SkillHome) -> Self {
        Instances { home }
    }

    pub fn dir(&self, skill: &str, instance: &str) -> PathBuf {
        self.home.instances_dir().join(skill).join(instance)
    }

    pub fn data_dir(&self, skill: &str, instance: &str) -> PathBuf {
        self.dir(skill, instance).join(DATA_DIR)
    }

    pub fn exists(&self, skill: &str, instance: &str) -> bool {
        self.dir(skill, instance).join(GRANTS_FILE).exists()
    }

    /// Instance names of `skill`, sorted.
    pub fn list(&self, skill: &str) -> Vec<String> {
        let dir = self.home.instances_dir().join(skill);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join(GRANTS_FILE).exists())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Creates the instance (or updates its grants) with what the user approved, and the
    /// directories that approval pinned.
    pub fn create_or_grant(
        &self,
        skill: &str,
        instance: &str,
        approved: &Capabilities,
        dirs: Vec<ApprovedDir>,
    ) -> Result<()> {
        if self.exists(skill, instance) {
            validate_existing_instance_name(instance)?;
        } else {
            validate_instance_name(instance)?;
        }
        self.update(skill, instance, |state| {
            state.grants.approved = approved.clone();
            state.grants.dirs = dirs;
            Ok(())
        })?;
        let data = self.data_dir(skill, instance);
        std::fs::create_dir_all(&data).map_err(|e| Error::io("create directory", &data, e))
    }

    /// What the user approved for the instance (no secrets are read).
    pub fn grants(&self, skill: &str, instance: &str) -> Result<Grants> {
        Ok(read_json(&self.dir(skill, instance).join(GRANTS_FILE))?.unwrap_or_default())
    }

    pub fn load(&self, skill: &str, instance: &str) -> Result<InstanceState> {
        let dir = self.dir(skill, instance);
        let grants = read_json(&dir.join(GRANTS_FILE))?.unwrap_or_default();
        let config = read_json(&dir.join(CONFIG_FILE))?.unwrap_or_default();
        let secrets_path = dir.join(SECRETS_FILE);
        let secrets = match std::fs::read(&secrets_path) {
            Ok(sealed) => {
                let plain = SecretBox::open(&self.home)?.unseal(
                    &sealed,
                    &context(skill, instance),
                    &secrets_path,
                )?;
                serde_json::from_slice(&plain).map_err(|_| {
                    Error::invalid(format!("{} holds malformed data", secrets_path.display()))
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(Error::io("read", &secrets_path, e)),
        };
        Ok(InstanceState {
            config,
            secrets,
            grants,
        })
    }

    /// Read-modify-write under the instance's lock. Files that did not change are not written.
    pub fn update<T>(
        &self,
        skill: &str,
        instance: &str,
        change: impl FnOnce(&mut InstanceState) -> Result<T>,
    ) -> Result<T> {
        let dir = self.dir(skill, instance);
        // Config values may be sensitive even when not marked secret: owner only.
        create_private_dir(&dir)?;
        let _lock = FileLock::exclusive(&dir.join(".lock"))?;
        let before = self.load(skill, instance)?;
        let mut state = before.clone();
        let out = change(&mut state)?;
        if state.config != before.config {
            write_atomic(&dir.join(CONFIG_FILE), &to_json(&state.config))?;
        }
        if state.secrets != before.secrets {
            let sealed = SecretBox::open(&self.home)?
                .seal(&to_json(&state.secrets), &context(skill, instance))?;
            write_private(&dir.join(SECRETS_FILE), &sealed)?;
        }
        if state.grants != before.grants || !dir.join(GRANTS_FILE).exists() {
            write_atomic(&dir.join(GRANTS_FILE), &to_json(&state.grants))?;
        }
        Ok(out)
    }

    /// Removes one instance, its secrets and its data.
    pub fn remove(&self, skill: &str, instance: &str) -> Result<()> {
        let dir = self.dir(skill, instance);
        let trash = dir.with_file_name(format!(".removed-{instance}-{}", std::process::id()));
        std::fs::rename(&dir, &trash).map_err(|e| Error::io("remove", &dir, e))?;
        let _ = std::fs::remove_dir_all(&trash);
        Ok(())
    }

    /// Removes every instance of a skill.
    pub fn remove_all(&self, skill: &str) {
        let dir = self.home.instances_dir().join(skill);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// The sandbox and limits one call of this instance runs with.
    pub fn sandbox(
        &self,
        skill: &str,
        instance: &str,
        state: &InstanceState,
        schema: &ConfigSchema,
    ) -> Result<(Sandbox, Limits)> {
        let data = self.data_dir(skill, instance);
        std::fs::create_dir_all(&data).map_err(|e| Error::io("create directory", &data, e))?;
        sandbox_with_data(skill, instance, &data, state, schema)
    }
}

/// The sandbox and limits of one call of an instance whose data directory is `data` (which
/// must exist): [`Instances::sandbox`], or a throwaway instance's scratch directory.
pub fn sandbox_with_data(
    skill: &str,
    instance: &str,
    data: &Path,
    state: &InstanceState,
    schema: &ConfigSchema,
) -> Result<(Sandbox, Limits)> {
    let approved = &state.grants.approved;
    let mut sandbox = crate::dirs::sandbox(approved, data, &state.grants.dirs)?;
    for grant in &approved.filesystem {
        if !state.grants.dirs.iter().any(|d| d.requested == grant.path) {
            sandbox.closed.push(format!(
                "{} did not exist when it was approved; once it exists, it must be granted again",
                skill_manifest::text::escape(&grant.path, false),
            ));
        }
    }
    sandbox
        .env
        .extend(env_mappings(schema, &state.effective_config(schema)));
    sandbox.instance = format!("{skill}@{instance}");
    let limits = approved
        .limits
        .overlay(&state.grants.limits)
        .apply(&Limits::default())?;
    Ok((sandbox, limits))
}

fn context(skill: &str, instance: &str) -> String {
    format!("skill-secrets:{skill}@{instance}")
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("instance files serialize");
    bytes.push(b'\n');
    bytes
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Error::invalid(format!("{} is malformed: {e}", path.display()))
                .with_hint("fix or delete the file")
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}
