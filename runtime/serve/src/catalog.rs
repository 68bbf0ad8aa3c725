//! What a server offers: every installed skill's instances and their tools, read from the
//! installed manifests (no guest is instantiated to list tools).
//!
//! MCP tool names follow `<skill>_<instance>__<tool>` (docs/serving.md). Skill and instance
//! names hold no `_`, so the mapping is one-to-one: the first `_` ends the skill, the next
//! `__` the instance. Skills or instances named before `_` was refused are not served (a
//! warning says so), and should two routes still map to one name, neither is served: a name
//! a client approved never moves to another skill.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};
use skill_engine::{Error, Result, SkillHome};
use skill_manifest::manifest::{ToolAnnotations, ToolDef};
use skill_store::fsutil::sha256_hex;
use skill_store::instance::Instances;
use skill_store::store::{InstalledSkill, Store};

/// MCP allows 1-128 characters from `[A-Za-z0-9_.-]` in a tool name.
const MAX_TOOL_NAME: usize = 128;

/// Which installed skills a server exposes: all, one skill, or one instance of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub skill: Option<String>,
    pub instance: Option<String>,
}

impl Selection {
    /// `NAME` or `NAME@INSTANCE`.
    pub fn parse(text: &str) -> Self {
        let (skill, instance) = skill_host::InstanceRef::split(text);
        Selection {
            skill: Some(skill.to_string()),
            instance: instance.map(str::to_string),
        }
    }
}

/// One tool of one instance, as a client sees it.
#[derive(Debug, Clone)]
pub struct Route {
    pub mcp_name: String,
    pub skill: Arc<InstalledSkill>,
    pub instance: String,
    pub tool: ToolDef,
    pub input_schema: Arc<serde_json::Map<String, Value>>,
}

impl Route {
    pub fn qualified(&self) -> String {
        format!(
            "{}@{}:{}",
            self.skill.manifest.name, self.instance, self.tool.name
        )
    }

    /// The description a client shows: which instance this is, then the tool's own words.
    pub fn description(&self) -> String {
        let own = match self.tool.description.trim() {
            "" => self.skill.manifest.description.trim(),
            own => own,
        };
        format!("[{}@{}] {own}", self.skill.manifest.name, self.instance)
    }
}

/// A snapshot of what is installed. Rebuilt whenever `$SKILL_HOME` changes.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub skills: Vec<Arc<InstalledSkill>>,
    /// Instance names per skill.
    pub instances: BTreeMap<String, Vec<String>>,
    routes: BTreeMap<String, Route>,
    /// Names two routes mapped to: neither is served.
    collisions: Vec<String>,
}

impl Catalog {
    /// `strict`: a selected skill or instance that is not installed is an error (at start);
    /// otherwise (on reload, after a remove) it simply offers nothing.
    pub fn load(home: &SkillHome, selection: &Selection, strict: bool) -> Result<Catalog> {
        let store = Store::new(home.clone());
        let instances = Instances::new(home.clone());
        let installed = match &selection.skill {
            Some(name) => match store.get(name) {
                Ok(skill) => vec![skill],
                Err(e) if strict => return Err(e),
                Err(_) => Vec::new(),
            },
            None => store.list()?,
        };
        let mut catalog = Catalog::default();
        for skill in installed {
            let skill = Arc::new(skill);
            let name = skill.manifest.name.clone();
            let mut names = instances.list(&name);
            if let Some(only) = &selection.instance {
                if strict && !names.contains(only) {
                    return Err(Error::not_found(format!(
                        "skill `{name}` has no instance `{only}`"
                    ))
                    .with_hint(format!("instances of {name}: {}", names.join(", "))));
                }
                names.retain(|n| n == only);
            }
            if name.contains('_') {
                tracing::warn!(
                    "not serving skill `{name}` over MCP or HTTP: names with `_` make tool names ambiguous; reinstall it under a name with `-`"
                );
                continue;
            }
            names.retain(|instance| {
                let ok = !instance.contains('_');
                if !ok {
                    tracing::warn!(
                        "not serving {name}@{instance}: instance names with `_` make tool names ambiguous; recreate it under a name with `-`"
                    );
                }
                ok
            });
            for instance in &names {
                for tool in &served_tools(&skill, &instances, instance) {
                    let mcp_name = mcp_tool_name(&name, instance, &tool.name);
                    if let Some(other) = catalog.routes.get(&mcp_name) {
                        tracing::warn!(
                            "not serving {} or {}: both would be the tool `{mcp_name}`",
                            other.qualified(),
                            format_args!("{name}@{instance}:{}", tool.name)
                        );
                        catalog.collisions.push(mcp_name);
                        continue;
                    }
                    let schema = match tool.input_schema() {
                        Value::Object(map) => map,
                        _ => serde_json::Map::new(),
                    };
                    catalog.routes.insert(
                        mcp_name.clone(),
                        Route {
                            mcp_name,
                            skill: skill.clone(),
                            instance: instance.clone(),
                            tool: tool.clone(),
                            input_schema: Arc::new(schema),
                        },
                    );
                }
            }
            catalog.instances.insert(name, names);
            catalog.skills.push(skill);
        }
        for name in std::mem::take(&mut catalog.collisions) {
            catalog.routes.remove(&name);
        }
        Ok(catalog)
    }

    pub fn route(&self, mcp_name: &str) -> Option<&Route> {
        self.routes.get(mcp_name)
    }

    /// The route for `skill[@instance]` and a tool name (REST and WebSocket callers).
    pub fn find(&self, skill: &str, instance: &str, tool: &str) -> Option<&Route> {
        self.routes.values().find(|r| {
            r.skill.manifest.name == skill && r.instance == instance && r.tool.name == tool
        })
    }

    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.values()
    }

    /// Routes in name order, starting after `name` (a `tools/list` cursor).
    pub fn routes_after(&self, name: Option<&str>) -> impl Iterator<Item = &Route> {
        use std::ops::Bound;
        let start = match name {
            Some(name) => Bound::Excluded(name.to_string()),
            None => Bound::Unbounded,
        };
        self.routes
            .range::<String, _>((start, Bound::Unbounded))
            .map(|(_, route)| route)
    }

    pub fn skill(&self, name: &str) -> Option<&Arc<InstalledSkill>> {
        self.skills.iter().find(|s| s.manifest.name == name)
    }

    /// Changes when the tools a client sees change (names, schemas, descriptions, components).
    pub fn fingerprint(&self) -> String {
        let mut text = String::new();
        for r in self.routes.values() {
            text.push_str(&r.mcp_name);
            text.push('\0');
            text.push_str(&r.skill.manifest.component.sha256);
            text.push('\0');
            text.push_str(&r.description());
            text.push('\0');
            text.push_str(&Value::Object((*r.input_schema).clone()).to_string());
            text.push('\0');
            text.push_str(&serde_json::to_string(&r.tool.annotations).unwrap_or_default());
            text.push_str(r.tool.title.as_deref().unwrap_or_default());
            text.push_str(
                &r.tool
                    .output_schema
                    .as_ref()
                    .map(Value::to_string)
                    .unwrap_or_default(),
            );
            text.push('\n');
        }
        sha256_hex(text.as_bytes())
    }

    /// `GET /api/v1/skills/{name}` and one entry of `GET /api/v1/skills`.
    pub fn skill_json(&self, skill: &InstalledSkill) -> Value {
        let m = &skill.manifest;
        let instances = self.instances.get(&m.name).cloned().unwrap_or_default();
        json!({
            "name": m.name,
            "version": m.version,
            "description": m.description,
            "instances": instances,
            "tools": m.tools.iter().map(|t| {
                // Hints differ per instance (grants): only those every served instance keeps.
                let served: Vec<ToolAnnotations> = instances
                    .iter()
                    .filter_map(|i| self.find(&m.name, i, &t.name))
                    .map(|r| r.tool.annotations)
                    .collect();
                let t = &ToolDef {
                    annotations: agreed(&served),
                    ..t.clone()
                };
                let mut tool = json!({
                    "name": t.name,
                    "description": t.description,
                    "input_schema": t.input_schema(),
                });
                if let Some(title) = &t.title {
                    tool["title"] = json!(title);
                }
                if !t.annotations.is_empty() {
                    tool["annotations"] = json!(t.annotations);
                }
                if let Some(schema) = &t.output_schema {
                    tool["output_schema"] = schema.clone();
                }
                tool
            }).collect::<Vec<_>>(),
        })
    }
}

/// The hints all of `each` give alike; none when `each` is empty.
fn agreed(each: &[ToolAnnotations]) -> ToolAnnotations {
    let Some((first, rest)) = each.split_first() else {
        return ToolAnnotations::default();
    };
    let same = |get: fn(&ToolAnnotations) -> Option<bool>| {
        get(first).filter(|v| rest.iter().all(|a| get(a) == Some(*v)))
    };
    ToolAnnotations {
        read_only: same(|a| a.read_only),
        destructive: same(|a| a.destructive),
        idempotent: same(|a| a.idempotent),
        open_world: same(|a| a.open_world),
    }
}

/// The skill's tools as `instance` serves them: annotations the permissions contradict (what
/// the skill declared and what the instance was granted since) are dropped
/// ([`ToolAnnotations::within`]); an unreadable skill.yaml or grants file backs none.
///
/// [`ToolAnnotations::within`]: skill_manifest::manifest::ToolAnnotations::within
fn served_tools(skill: &InstalledSkill, instances: &Instances, instance: &str) -> Vec<ToolDef> {
    let declared = skill_host::instances::installed_yaml(skill).map(|y| y.capabilities);
    let granted = instances.grants(&skill.manifest.name, instance);
    let permissions = match (declared, granted) {
        (Ok(mut all), Ok(grants)) => {
            let approved = grants.approved;
            all.filesystem.extend(approved.filesystem);
            all.network.extend(approved.network);
            all.calls.extend(approved.calls);
            Some(all)
        }
        _ => None,
    };
    skill
        .manifest
        .tools
        .iter()
        .map(|tool| ToolDef {
            annotations: match &permissions {
                Some(permissions) => tool.annotations.within(permissions),
                None => Default::default(),
            },
            ..tool.clone()
        })
        .collect()
}

/// `<skill>_<instance>__<tool>`, with any character MCP does not allow replaced by `_` and
/// names over 128 characters shortened with a 64-bit digest of the whole name.
pub fn mcp_tool_name(skill: &str, instance: &str, tool: &str) -> String {
    fit_name(&format!("{skill}_{instance}__{tool}"))
}

fn fit_name(raw: &str) -> String {
    let clean: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.len() <= MAX_TOOL_NAME {
        return clean;
    }
    let digest = &sha256_hex(raw.as_bytes())[..16];
    format!("{}-{digest}", &clean[..MAX_TOOL_NAME - 17])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_follow_the_convention_and_fit_mcp() {
        assert_eq!(mcp_tool_name("aws", "prod", "s3-list"), "aws_prod__s3-list");
        assert_eq!(mcp_tool_name("a", "b", "c d/e"), "a_b__c_d_e");
        let long = mcp_tool_name(&"s".repeat(64), &"i".repeat(64), &"t".repeat(64));
        assert_eq!(long.len(), 128);
        assert_ne!(
            long,
            mcp_tool_name(&"s".repeat(64), &"i".repeat(64), &"u".repeat(64))
        );
    }

    #[test]
    fn selections() {
        assert_eq!(Selection::parse("aws").skill.as_deref(), Some("aws"));
        let s = Selection::parse("aws@prod");
        assert_eq!(s.instance.as_deref(), Some("prod"));
    }
}
