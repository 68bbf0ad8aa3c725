//! The config schema a skill declares in `skill.yaml` and the checks every value goes through
//! before it is stored for an instance.
//!
//! ```yaml
//! config:
//!   token: { type: string, required: true, secret: true, description: API token, env: API_TOKEN }
//!   region: { type: string, default: us-east-1 }
//!   retries: { type: integer, default: 3 }
//! ```
//! Values reach the guest as strings (`config-get`); a key with `env:` is also set as that
//! environment variable in the guest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub type ConfigSchema = BTreeMap<String, ConfigField>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigField {
    #[serde(default, rename = "type")]
    pub kind: ConfigKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
    /// Used when the instance sets no value. Written as YAML (a string, number or boolean).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_norway::Value>,
    /// Stored encrypted, never printed.
    #[serde(default)]
    pub secret: bool,
    /// Also exposed to the guest as this environment variable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigKind {
    #[default]
    String,
    Integer,
    Number,
    Boolean,
}

impl ConfigKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigKind::String => "string",
            ConfigKind::Integer => "integer",
            ConfigKind::Number => "number",
            ConfigKind::Boolean => "boolean",
        }
    }
}

impl ConfigField {
    /// The default as the string the guest would see.
    pub fn default_text(&self) -> Option<String> {
        self.default.as_ref().map(|v| match v {
            serde_norway::Value::String(s) => s.clone(),
            serde_norway::Value::Bool(b) => b.to_string(),
            serde_norway::Value::Number(n) => n.to_string(),
            other => serde_norway::to_string(other)
                .unwrap_or_default()
                .trim()
                .to_string(),
        })
    }

    /// Checks `raw` against the field's type and returns its canonical text. The error never
    /// repeats the value: it may be a secret.
    pub fn check(&self, key: &str, raw: &str) -> Result<String> {
        let bad = |expected: &str| {
            Error::invalid(format!("config `{key}` must be {expected}")).with_hint(format!(
                "set it with `--set {key}=<{}>`",
                self.kind.as_str()
            ))
        };
        match self.kind {
            ConfigKind::String => Ok(raw.to_string()),
            ConfigKind::Integer => raw
                .trim()
                .parse::<i64>()
                .map(|n| n.to_string())
                .map_err(|_| bad("an integer")),
            ConfigKind::Number => raw
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(|n| n.to_string())
                .ok_or_else(|| bad("a number")),
            ConfigKind::Boolean => match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => Ok("true".to_string()),
                "false" | "no" | "off" | "0" => Ok("false".to_string()),
                _ => Err(bad("true or false")),
            },
        }
    }
}

/// Rejects a schema whose defaults do not fit their types, or whose `env` names are bad.
pub fn validate_schema(schema: &ConfigSchema) -> Result<()> {
    for (key, field) in schema {
        if key.is_empty()
            || key.len() > 128
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(Error::invalid(format!(
                "config key `{}` in skill.yaml is not valid",
                crate::text::escape(key, false)
            ))
            .with_hint("use letters, digits, `-`, `_` and `.`"));
        }
        if let Some(default) = field.default_text() {
            field.check(key, &default).map_err(|_| {
                Error::invalid(format!(
                    "the default of config `{key}` in skill.yaml is not a {}",
                    field.kind.as_str()
                ))
            })?;
        }
        if field.secret && field.default.is_some() {
            return Err(Error::invalid(format!(
                "config `{key}` is secret and has a default in skill.yaml"
            ))
            .with_hint("a secret's value comes from each user; remove the default"));
        }
        if let Some(env) = &field.env
            && crate::capabilities::validate_env_name(env).is_err()
        {
            return Err(Error::invalid(format!(
                "config `{key}`: `{}` is not an environment variable name",
                crate::text::escape(env, false)
            ))
            .with_hint(
                "environment variable names are letters, digits and `_`, not starting with a digit",
            ));
        }
        if let Some(description) = &field.description {
            crate::text::check_text(
                &format!("the description of config `{key}`"),
                description,
                crate::manifest::MAX_PARAM_DESCRIPTION,
                true,
            )?;
        }
        if let Some(default) = field.default_text() {
            crate::text::check_text(
                &format!("the default of config `{key}`"),
                &default,
                crate::manifest::MAX_DEFAULT,
                false,
            )?;
        }
    }
    if schema.len() > 256 {
        return Err(Error::invalid(
            "skill.yaml declares more than 256 config keys",
        ));
    }
    Ok(())
}

/// The environment variables the schema's `env:` mappings give the guest for `config`.
pub fn env_mappings(
    schema: &ConfigSchema,
    config: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    schema
        .iter()
        .filter_map(|(key, field)| Some((field.env.clone()?, config.get(key)?.clone())))
        .collect()
}

/// Keys the schema requires that have neither a value nor a default.
pub fn missing_required(schema: &ConfigSchema, has_value: impl Fn(&str) -> bool) -> Vec<String> {
    schema
        .iter()
        .filter(|(key, field)| field.required && field.default.is_none() && !has_value(key))
        .map(|(key, _)| key.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_and_canonical() {
        let int = ConfigField {
            kind: ConfigKind::Integer,
            ..Default::default()
        };
        assert_eq!(int.check("n", " 42 ").unwrap(), "42");
        let err = int.check("n", "s3cr3t").unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        let b = ConfigField {
            kind: ConfigKind::Boolean,
            ..Default::default()
        };
        assert_eq!(b.check("b", "Yes").unwrap(), "true");
        assert!(b.check("b", "maybe").is_err());
    }

    #[test]
    fn schemas_with_bad_defaults_are_rejected() {
        let schema: ConfigSchema =
            serde_norway::from_str("retries: { type: integer, default: lots }\n").unwrap();
        assert!(validate_schema(&schema).is_err());
        let ok: ConfigSchema = serde_norway::from_str(
            "retries: { type: integer, default: 3 }\ntoken: { secret: true, required: true }\n",
        )
        .unwrap();
        validate_schema(&ok).unwrap();
        assert_eq!(missing_required(&ok, |_| false), vec!["token".to_string()]);
        assert!(missing_required(&ok, |k| k == "token").is_empty());
    }
}
