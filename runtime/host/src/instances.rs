//! The work behind `install -i`, `instances`, `config`, `grant`/`revoke` and the instance part
//! of `run`: naming instances, reviewing capabilities, changing config with audit entries, and
//! turning an instance into a call's sandbox.

use std::collections::BTreeMap;

use serde_json::json;
use skill_engine::{CallOptions, Error, ErrorKind, Remedy, Result, SkillHome};
use skill_manifest::capabilities::Capabilities;
use skill_manifest::config::{ConfigSchema, missing_required};
use skill_manifest::manifest::{SKILL_YAML, SkillYaml};
use skill_store::audit;
use skill_store::dirs::Binding;
use skill_store::instance::{
    DEFAULT_INSTANCE, InstanceState, Instances, validate_existing_instance_name,
};
use skill_store::store::InstalledSkill;

/// `skill@instance`, from `NAME[@INSTANCE]` and an optional `-i INSTANCE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRef {
    pub skill: String,
    pub instance: String,
}

impl InstanceRef {
    /// `SKILL@INSTANCE` → (`SKILL`, `Some(INSTANCE)`); `SKILL` → (`SKILL`, `None`). The one
    /// place that knows the syntax.
    pub fn split(target: &str) -> (&str, Option<&str>) {
        match target.split_once('@') {
            Some((s, i)) => (s, Some(i)),
            None => (target, None),
        }
    }

    pub fn parse(target: &str, flag: Option<&str>) -> Result<Self> {
        let (skill, inline) = Self::split(target);
        let instance = match (inline, flag) {
            (Some(a), Some(b)) if a != b => {
                return Err(Error::invalid(format!(
                    "two instances given: `{a}` (in `{target}`) and `{b}` (--instance)"
                ))
                .with_hint("give the instance once"));
            }
            (a, b) => a.or(b).unwrap_or(DEFAULT_INSTANCE),
        };
        // Names made before `_` was refused still name their instances; new instances are
        // checked where they are created.
        validate_existing_instance_name(instance)?;
        Ok(InstanceRef {
            skill: skill.to_string(),
            instance: instance.to_string(),
        })
    }
}

impl std::fmt::Display for InstanceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.skill, self.instance)
    }
}

/// The installed skill.yaml (config schema and requested capabilities), as the store
/// verified it.
pub fn installed_yaml(skill: &InstalledSkill) -> Result<SkillYaml> {
    SkillYaml::parse(&skill.skill_yaml).map_err(|e| {
        let hint = e.hint().map(str::to_string);
        let err = Error::invalid(format!(
            "{}: {}",
            skill.dir.join(SKILL_YAML).display(),
            e.message()
        ));
        match hint {
            Some(h) => err.with_hint(h),
            None => err,
        }
    })
}

/// An existing instance, or an error listing the ones there are.
pub fn require_instance(home: &SkillHome, r: &InstanceRef) -> Result<()> {
    let instances = Instances::new(home.clone());
    if instances.exists(&r.skill, &r.instance) {
        return Ok(());
    }
    let names = instances.list(&r.skill);
    let err = Error::not_found(format!(
        "skill `{}` has no instance `{}`",
        r.skill, r.instance
    ))
    .with_remedy(Remedy::CreateInstance {
        instance: r.to_string(),
    });
    if names.is_empty() {
        return Err(err);
    }
    Err(err.with_hint(format!(
        "{}instances of {}: {}",
        skill_manifest::error::suggestion(&r.instance, names.iter().map(String::as_str)),
        r.skill,
        names.join(", "),
    )))
}

/// What an install must ask about.
pub struct Review {
    /// Everything requested for a new instance, only the increase for an existing one.
    pub more: Capabilities,
    /// The directories in `more`, resolved and checked as they would be approved.
    pub dirs: Vec<Binding>,
    pub existing: bool,
}

/// What an install must ask about, or `None` when nothing needs approval. Directories that
/// could never be granted (inside the skill home, containing it, nested in a writable grant)
/// are refused here, before anyone is asked.
pub fn needs_approval(
    home: &SkillHome,
    r: &InstanceRef,
    requested: &Capabilities,
) -> Result<Option<Review>> {
    let instances = Instances::new(home.clone());
    let existing = instances.exists(&r.skill, &r.instance);
    let granted = if existing {
        instances.load(&r.skill, &r.instance)?.grants.approved
    } else {
        Capabilities::default()
    };
    // Checked as a whole (nesting is a property of the set), shown for what is new.
    let all = skill_store::dirs::approve(home, &requested.filesystem, &[])?;
    let more = requested.beyond(&granted);
    let dirs = all
        .into_iter()
        .filter(|b| more.filesystem.iter().any(|g| g.path == b.requested()))
        .collect();
    Ok((!more.is_empty()).then_some(Review {
        more,
        dirs,
        existing,
    }))
}

/// The review shown before approval, one request per line; directories as the real
/// directories they are.
pub fn review_text(r: &InstanceRef, version: &str, review: &Review) -> String {
    let mut text = if review.existing {
        format!(
            "{} {version} asks for more than {r} was granted:\n",
            r.skill
        )
    } else {
        format!(
            "{} {version} asks for these permissions for {r}:\n",
            r.skill
        )
    };
    let others = Capabilities {
        filesystem: Vec::new(),
        ..review.more.clone()
    };
    let lines = review
        .dirs
        .iter()
        .map(Binding::describe)
        .chain(others.describe());
    for line in lines {
        text.push_str(&format!("  + {line}\n"));
    }
    text
}

/// Sets per-instance limit overrides (`timeout=5s`), audited.
pub fn set_limits(home: &SkillHome, r: &InstanceRef, limits: &[(String, String)]) -> Result<()> {
    Instances::new(home.clone()).update(&r.skill, &r.instance, |state| {
        for (key, value) in limits {
            state.grants.limits.set(key, value)?;
        }
        Ok(())
    })?;
    audit::record(
        home,
        "limits",
        &r.skill,
        &r.instance,
        json!({ "limits": limits.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>() }),
    )
}

/// Records the approval: the instance gets exactly what the skill now requests. Runs before
/// the skill is written to the store, so a crash in between leaves an instance ready for the
/// retry rather than an installed skill without one.
///
/// Directories are never resolved again here: a newly approved one is pinned as the review
/// showed it (`review`), one approved before keeps its pin, and one that did not exist stays
/// closed. (Resolving again would let whoever controls a path — the skill itself, through a
/// writable grant — move a grant between the review and the approval, or on any reinstall.)
pub fn approve(
    home: &SkillHome,
    r: &InstanceRef,
    requested: &Capabilities,
    review: Option<&Review>,
) -> Result<()> {
    let instances = Instances::new(home.clone());
    let before = instances
        .exists(&r.skill, &r.instance)
        .then(|| instances.load(&r.skill, &r.instance))
        .transpose()?
        .map(|s| s.grants);
    let reviewed = review.map(|r| r.dirs.as_slice()).unwrap_or_default();
    let kept = before
        .as_ref()
        .map(|g| g.dirs.as_slice())
        .unwrap_or_default();
    let dirs = requested
        .filesystem
        .iter()
        .filter_map(|grant| {
            let fresh = reviewed.iter().find_map(|b| match b {
                Binding::Bound(dir) if dir.requested == grant.path => Some(dir.clone()),
                _ => None,
            });
            fresh.or_else(|| {
                // Approved before: the same directory, with what is asked now (never more:
                // more would have been in the review).
                kept.iter().find(|d| d.requested == grant.path).map(|d| {
                    skill_store::dirs::ApprovedDir {
                        access: grant.access.min(d.access),
                        ..d.clone()
                    }
                })
            })
        })
        .collect();
    instances.create_or_grant(&r.skill, &r.instance, requested, dirs)?;
    let before = before.map(|g| g.approved);
    if before.as_ref() != Some(requested) && !(before.is_none() && requested.is_empty()) {
        audit::record(
            home,
            "grant",
            &r.skill,
            &r.instance,
            json!({ "capabilities": requested, "by": "install" }),
        )?;
    }
    Ok(())
}

/// One `KEY=VALUE` (or `KEY` whose value comes from elsewhere).
pub fn split_assignment(text: &str) -> (&str, Option<&str>) {
    match text.split_once('=') {
        Some((k, v)) => (k.trim(), Some(v)),
        None => (text.trim(), None),
    }
}

/// Checks a complete config with the skill's own `validate-config` (a partial one is not
/// checked: required keys may be set one by one).
pub type Validator<'a> = &'a dyn Fn(&BTreeMap<String, String>) -> Result<()>;

fn check_complete(state: &InstanceState, schema: &ConfigSchema, validate: Validator) -> Result<()> {
    if missing_required(schema, |k| state.value(k).is_some()).is_empty() {
        validate(&state.effective_config(schema))?;
    }
    Ok(())
}

/// Sets values under the instance lock, checks them against the schema and the skill, and
/// audits the keys that changed. Nothing is written when a check fails.
pub fn set_values(
    home: &SkillHome,
    r: &InstanceRef,
    schema: &ConfigSchema,
    values: &[(String, String)],
    unset: &[String],
    validate: Validator,
) -> Result<Vec<String>> {
    let instances = Instances::new(home.clone());
    let changed = instances.update(&r.skill, &r.instance, |state| {
        for key in unset {
            if !state.unset(key) && !schema.contains_key(key) && !schema.is_empty() {
                return Err(skill_store::instance::unknown_key(schema, key));
            }
        }
        for (key, value) in values {
            state.set(schema, key, value)?;
        }
        check_complete(state, schema, validate)?;
        let mut keys: Vec<String> = values.iter().map(|(k, _)| k.clone()).collect();
        keys.extend(unset.iter().cloned());
        Ok(keys)
    })?;
    if !changed.is_empty() {
        audit::record(
            home,
            "config",
            &r.skill,
            &r.instance,
            json!({ "keys": changed }),
        )?;
    }
    Ok(changed)
}

/// Replaces the whole config (import, edit) in one locked write.
pub fn replace_values(
    home: &SkillHome,
    r: &InstanceRef,
    schema: &ConfigSchema,
    values: &BTreeMap<String, String>,
    keep_secrets: bool,
    how: &str,
    validate: Validator,
) -> Result<()> {
    let instances = Instances::new(home.clone());
    instances.update(&r.skill, &r.instance, |state| {
        let mut fresh = InstanceState {
            grants: state.grants.clone(),
            ..Default::default()
        };
        if keep_secrets {
            fresh.secrets = state.secrets.clone();
        }
        for (key, value) in values {
            fresh.set(schema, key, value)?;
        }
        check_complete(&fresh, schema, validate)?;
        *state = fresh;
        Ok(())
    })?;
    audit::record(
        home,
        "config",
        &r.skill,
        &r.instance,
        json!({ "keys": values.keys().collect::<Vec<_>>(), "by": how }),
    )
}

/// A TOML document of the instance's values. Secret values appear only with `reveal`;
/// otherwise as a comment naming the key.
pub fn export_toml(
    state: &InstanceState,
    schema: &ConfigSchema,
    r: &InstanceRef,
    reveal: bool,
) -> String {
    let mut doc = toml_edit::DocumentMut::new();
    let mut out = format!("# config of {r}\n");
    for (key, value) in &state.config {
        doc[key.as_str()] = toml_edit::value(value.as_str());
    }
    if reveal {
        for (key, value) in &state.secrets {
            doc[key.as_str()] = toml_edit::value(value.as_str());
        }
    }
    out.push_str(&doc.to_string());
    if !reveal {
        for key in state.secrets.keys() {
            out.push_str(&format!("# {key} = (secret, not exported; use --reveal)\n"));
        }
    }
    for (key, field) in schema {
        if state.value(key).is_none() {
            let about = match field.default_text() {
                Some(d) => format!("default {d}"),
                None if field.required => "required, not set".to_string(),
                None => "not set".to_string(),
            };
            out.push_str(&format!("# {key}: {} ({about})\n", field.kind.as_str()));
        }
    }
    out
}

/// Values from a TOML document (strings, numbers and booleans; nothing nested).
pub fn parse_toml(text: &str, origin: &str) -> Result<BTreeMap<String, String>> {
    // The error names the place only: the line may hold a secret, and is never echoed.
    let doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        let at = e
            .span()
            .map(|span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!(" at line {line}, column {column}")
            })
            .unwrap_or_default();
        Error::invalid(format!(
            "{origin} is not valid TOML{at}: {}",
            e.message().lines().next().unwrap_or("syntax error")
        ))
        .with_hint("fix that line (it is not shown here: it may hold a secret)")
    })?;
    let mut values = BTreeMap::new();
    for (key, item) in doc.iter() {
        let value = item.as_value().ok_or_else(|| {
            Error::invalid(format!(
                "`{key}` in {origin} is a table; config values are flat"
            ))
        })?;
        let text = match value {
            toml_edit::Value::String(s) => s.value().clone(),
            toml_edit::Value::Integer(i) => i.value().to_string(),
            toml_edit::Value::Float(f) => f.value().to_string(),
            toml_edit::Value::Boolean(b) => b.value().to_string(),
            _ => {
                return Err(Error::invalid(format!(
                    "`{key}` in {origin} must be a string, number or boolean"
                )));
            }
        };
        values.insert(key.to_string(), text);
    }
    Ok(values)
}

/// Everything a call of this instance runs with: config (secrets decrypted), sandbox, limits.
/// Fails when a required key is not set, naming it and the command that sets it.
pub fn call_options(
    home: &SkillHome,
    skill: &InstalledSkill,
    r: &InstanceRef,
) -> Result<(CallOptions, Vec<String>)> {
    let yaml = installed_yaml(skill)?;
    let instances = Instances::new(home.clone());
    let state = instances.load(&r.skill, &r.instance)?;
    let missing = missing_required(&yaml.config, |k| state.value(k).is_some());
    if !missing.is_empty() {
        return Err(Error::new(
            ErrorKind::NotConfigured,
            format!(
                "{r} is not configured: {} not set",
                missing
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .with_remedy(Remedy::SetConfig {
            instance: r.to_string(),
            keys: missing.iter().map(|k| k.to_string()).collect(),
        }));
    }
    let (sandbox, limits) = instances.sandbox(&r.skill, &r.instance, &state, &yaml.config)?;
    // A newer version asking for more than this instance was granted runs with the old grants.
    let ungranted = yaml.capabilities.beyond(&state.grants.approved).describe();
    let options = CallOptions {
        limits,
        sandbox,
        config: state.effective_config(&yaml.config),
        events: None,
        router: None,
    };
    Ok((options, ungranted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_refs() {
        let r = InstanceRef::parse("aws@prod", None).unwrap();
        assert_eq!(r.to_string(), "aws@prod");
        assert_eq!(InstanceRef::parse("aws", None).unwrap().instance, "default");
        assert_eq!(
            InstanceRef::parse("aws", Some("dev")).unwrap().instance,
            "dev"
        );
        assert!(InstanceRef::parse("aws@prod", Some("dev")).is_err());
        assert!(InstanceRef::parse("aws@Pro d", None).is_err());
    }

    #[test]
    fn toml_round_trip_hides_secrets_unless_revealed() {
        let schema: ConfigSchema = serde_norway::from_str(
            "token: { secret: true }\nregion: { default: eu }\nretries: { type: integer }\n",
        )
        .unwrap();
        let mut state = InstanceState::default();
        state.set(&schema, "token", "hunter2").unwrap();
        state.set(&schema, "retries", "3").unwrap();
        let r = InstanceRef::parse("x@y", None).unwrap();
        let hidden = export_toml(&state, &schema, &r, false);
        assert!(!hidden.contains("hunter2"), "{hidden}");
        assert!(hidden.contains("# token = (secret"), "{hidden}");
        let shown = export_toml(&state, &schema, &r, true);
        let back = parse_toml(&shown, "f.toml").unwrap();
        assert_eq!(back.get("token").map(String::as_str), Some("hunter2"));
        assert_eq!(back.get("retries").map(String::as_str), Some("3"));
    }
}
