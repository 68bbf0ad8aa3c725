//! Global settings: `$SKILL_HOME/config.toml`, resolved once per command with the
//! environment and the command line — flags over environment over file over defaults.
//! `skill settings` shows every value and where it came from.
//!
//! ```toml
//! [serve]
//! host = "127.0.0.1"
//! port = 3000
//! token = "auto"          # a token, `auto` or `file:PATH`
//!
//! [output]
//! format = "json"         # `text` or `json`: the default of every command's --json
//! color = "never"         # `auto`, `always` or `never`
//!
//! [build]                 # programs the build runs
//! npm = "/opt/node/bin/npm"
//!
//! [registry]              # where `skill install NAME` and `skill publish` go
//! default = "ghcr.io/acme"
//! insecure = "registry.lan:5000"   # plain HTTP (loopback always is); comma-separated
//!
//! [registry.namespaces]   # `corp/NAME` lives elsewhere
//! corp = "harbor.corp.example/skills"
//! ```

use std::fmt;

use skill_manifest::error::suggestion;

use crate::home::SkillHome;
use crate::{Error, Result};

/// The settings file inside `$SKILL_HOME`.
pub const SETTINGS_FILE: &str = "config.toml";

/// One setting: its key in config.toml, the environment variable that overrides it, its
/// default, the values it may take (empty: any), and what it is for.
pub struct Definition {
    pub key: &'static str,
    pub env: &'static str,
    pub default: &'static str,
    pub allowed: &'static [&'static str],
    pub about: &'static str,
}

pub const DEFINITIONS: &[Definition] = &[
    Definition {
        key: "serve.host",
        env: "SKILL_SERVE_HOST",
        default: "127.0.0.1",
        allowed: &[],
        about: "address `skill serve` listens on (--host)",
    },
    Definition {
        key: "serve.port",
        env: "SKILL_SERVE_PORT",
        default: "3000",
        allowed: &[],
        about: "port `skill serve` listens on (--port)",
    },
    Definition {
        key: "serve.token",
        env: "SKILL_SERVE_TOKEN",
        default: "",
        allowed: &[],
        about: "bearer token `skill serve` requires: a token, `auto` or `file:PATH` (--token)",
    },
    Definition {
        key: "output.format",
        env: "SKILL_OUTPUT",
        default: "text",
        allowed: &["text", "json"],
        about: "`json` makes --json the default of every command that has it",
    },
    Definition {
        key: "output.color",
        env: "SKILL_COLOR",
        default: "auto",
        allowed: &["auto", "always", "never"],
        about: "colour on a terminal (NO_COLOR set means never)",
    },
    Definition {
        key: "build.npm",
        env: "SKILL_NPM",
        default: "npm",
        allowed: &[],
        about: "npm the JavaScript/TypeScript builds run",
    },
    Definition {
        key: "build.node",
        env: "SKILL_NODE",
        default: "node",
        allowed: &[],
        about: "node the JavaScript/TypeScript builds run",
    },
    Definition {
        key: "build.python",
        env: "SKILL_PYTHON",
        default: "python3",
        allowed: &[],
        about: "python the Python builds run",
    },
    Definition {
        key: "build.rustc",
        env: "RUSTC",
        default: "rustc",
        allowed: &[],
        about: "rustc the Rust builds check",
    },
    Definition {
        key: "build.cargo",
        env: "CARGO",
        default: "cargo",
        allowed: &[],
        about: "cargo the Rust builds run",
    },
    Definition {
        key: "registry.default",
        env: "SKILL_REGISTRY",
        default: "",
        allowed: &[],
        about: "registry and namespace bare skill names resolve under, e.g. ghcr.io/acme (--registry)",
    },
    Definition {
        key: "search.provider",
        env: "SKILL_SEARCH_PROVIDER",
        default: "auto",
        allowed: &["auto", "local", "ollama", "openai", "none"],
        about: "what `skill find` ranks by meaning with: the local model, an Ollama or OpenAI-compatible server, or none (words only); auto is local when it is installed",
    },
    Definition {
        key: "search.url",
        env: "SKILL_SEARCH_URL",
        default: "",
        allowed: &[],
        about: "the embedding server of search.provider ollama (default http://127.0.0.1:11434) or openai (default https://api.openai.com); its key comes from SKILL_SEARCH_API_KEY (or OPENAI_API_KEY, sent to api.openai.com only)",
    },
    Definition {
        key: "search.model",
        env: "SKILL_SEARCH_MODEL",
        default: "",
        allowed: &[],
        about: "the embedding model that server runs (default all-minilm for ollama, text-embedding-3-small for openai)",
    },
    Definition {
        key: "registry.insecure",
        env: "SKILL_REGISTRY_INSECURE",
        default: "",
        allowed: &[],
        about: "registries (HOST:PORT, comma-separated) reached over plain HTTP besides loopback",
    },
];

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File,
    Env(&'static str),
    Flag,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File => f.write_str(SETTINGS_FILE),
            Source::Env(var) => write!(f, "${var}"),
            Source::Flag => f.write_str("command line"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Setting {
    pub key: &'static str,
    /// The environment variable that overrides it.
    pub env: &'static str,
    pub value: String,
    pub source: Source,
}

/// Every setting, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub items: Vec<Setting>,
    /// `[registry.namespaces]`: `NAMESPACE` → `HOST[/PATH]`, in file order.
    pub namespaces: Vec<(String, String)>,
}

impl Settings {
    /// Defaults, then `config.toml` (when there is one), then the environment.
    pub fn load(home: &SkillHome) -> Result<Settings> {
        let path = home.root().join(SETTINGS_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        let (file, namespaces) = match &text {
            Some(text) => parse(text, &path.display().to_string())?,
            None => Default::default(),
        };
        let mut settings = Self::resolve(&file, |var| std::env::var(var).ok())?;
        settings.namespaces = namespaces;
        Ok(settings)
    }

    /// `file` values over the defaults, `env` values over those.
    pub fn resolve(
        file: &[(String, String)],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings> {
        let mut items = Vec::new();
        for def in DEFINITIONS {
            let (value, source) = match (env(def.env), file.iter().find(|(k, _)| k == def.key)) {
                (Some(v), _) if !v.is_empty() => (v, Source::Env(def.env)),
                (_, Some((_, v))) => (v.clone(), Source::File),
                _ => (def.default.to_string(), Source::Default),
            };
            check(def, &value, &source)?;
            items.push(Setting {
                key: def.key,
                env: def.env,
                value,
                source,
            });
        }
        Ok(Settings {
            items,
            namespaces: Vec::new(),
        })
    }

    pub fn get(&self, key: &str) -> &str {
        self.items
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.value.as_str())
            .unwrap_or_else(|| panic!("`{key}` is not a setting"))
    }

    /// A value given on the command line, over everything else.
    pub fn set_flag(&mut self, key: &str, value: &str) {
        if let Some(setting) = self.items.iter_mut().find(|s| s.key == key) {
            setting.value = value.to_string();
            setting.source = Source::Flag;
        }
    }
}

fn check(def: &Definition, value: &str, source: &Source) -> Result<()> {
    let bad = |why: String| {
        Error::invalid(format!("setting `{}` from {source}: {why}", def.key))
            .with_hint(format!("{} ({})", def.about, def.key))
    };
    if !def.allowed.is_empty() && !def.allowed.contains(&value) {
        return Err(bad(format!(
            "`{}` is not one of {}",
            skill_manifest::text::escape(value, false),
            def.allowed.join(", ")
        )));
    }
    if def.key == "serve.port" && value.parse::<u16>().is_err() {
        return Err(bad(format!(
            "`{}` is not a port number",
            skill_manifest::text::escape(value, false)
        )));
    }
    Ok(())
}

type Pairs = Vec<(String, String)>;

/// `[table] key = value` pairs as `table.key`, checked against the known settings, and the
/// `[registry.namespaces]` table.
fn parse(text: &str, origin: &str) -> Result<(Pairs, Pairs)> {
    let doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        Error::invalid(format!(
            "{origin} is not valid TOML: {}",
            e.message().lines().next().unwrap_or("syntax error")
        ))
        .with_hint("fix the file, or remove it to use the defaults (`skill settings` shows them)")
    })?;
    let mut values = Vec::new();
    let mut namespaces = Vec::new();
    for (table, item) in doc.iter() {
        let Some(table_items) = item.as_table_like() else {
            return Err(unknown(table, origin));
        };
        for (key, value) in table_items.iter() {
            let full = format!("{table}.{key}");
            if full == "registry.namespaces" {
                namespaces = parse_namespaces(value, origin)?;
                continue;
            }
            if !DEFINITIONS.iter().any(|d| d.key == full) {
                return Err(unknown(&full, origin));
            }
            let text = match value.as_value() {
                Some(toml_edit::Value::String(s)) => s.value().clone(),
                Some(toml_edit::Value::Integer(i)) => i.value().to_string(),
                Some(toml_edit::Value::Boolean(b)) => b.value().to_string(),
                _ => {
                    return Err(Error::invalid(format!(
                        "`{full}` in {origin} must be a string or a number"
                    ))
                    .with_hint("e.g. `port = 3000` under `[serve]`"));
                }
            };
            values.push((full, text));
        }
    }
    Ok((values, namespaces))
}

fn parse_namespaces(item: &toml_edit::Item, origin: &str) -> Result<Pairs> {
    let bad = || {
        Error::invalid(format!(
            "`registry.namespaces` in {origin} must map namespaces to registries"
        ))
        .with_hint("e.g. `corp = \"harbor.corp.example/skills\"` under `[registry.namespaces]`")
    };
    let table = item.as_table_like().ok_or_else(bad)?;
    table
        .iter()
        .map(|(ns, value)| match value.as_str() {
            Some(target) => Ok((ns.to_string(), target.to_string())),
            None => Err(bad()),
        })
        .collect()
}

fn unknown(key: &str, origin: &str) -> Error {
    let known = DEFINITIONS.iter().map(|d| d.key);
    Error::invalid(format!(
        "`{}` in {origin} is not a setting",
        skill_manifest::text::escape(key, false)
    ))
    .with_hint(format!(
        "{}settings: {}",
        suggestion(key, known.clone()),
        known.collect::<Vec<_>>().join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(file: &str, env: &[(&str, &str)]) -> Result<Settings> {
        let (file, _) = parse(file, "config.toml")?;
        Settings::resolve(&file, |var| {
            env.iter()
                .find(|(k, _)| *k == var)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn flags_over_env_over_file_over_defaults() {
        let mut s = resolve(
            "[serve]\nport = 4000\nhost = \"0.0.0.0\"\n[output]\nformat = \"json\"\n",
            &[("SKILL_SERVE_HOST", "127.0.0.2")],
        )
        .unwrap();
        assert_eq!(s.get("serve.port"), "4000");
        assert_eq!(s.get("serve.host"), "127.0.0.2");
        assert_eq!(s.get("output.format"), "json");
        assert_eq!(s.get("output.color"), "auto");
        s.set_flag("serve.port", "5000");
        assert_eq!(s.get("serve.port"), "5000");
        let sources: Vec<String> = s.items.iter().map(|i| i.source.to_string()).collect();
        assert_eq!(
            &sources[..4],
            [
                "$SKILL_SERVE_HOST",
                "command line",
                "default",
                "config.toml"
            ]
        );
    }

    #[test]
    fn bad_settings_are_named() {
        let typo = resolve("[serve]\nprot = 1\n", &[]).unwrap_err();
        assert!(typo.hint().unwrap().contains("did you mean `serve.port`"));
        let format = resolve("[output]\nformat = \"yaml\"\n", &[]).unwrap_err();
        assert!(format.message().contains("not one of text, json"));
        let port = resolve("", &[("SKILL_SERVE_PORT", "http")]).unwrap_err();
        assert!(port.message().contains("from $SKILL_SERVE_PORT"));
    }
}
