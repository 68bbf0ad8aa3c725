//! Resolving `skill_dependencies`: which version of each skill a skill needs, transitively.
//!
//! Newest compatible, shared where requirements overlap, an installed version kept when it
//! satisfies everyone; a conflict names who wants what, a cycle is printed, an optional
//! dependency that cannot be had is skipped with a warning. Where versions and their own
//! dependencies come from is the caller's ([`Catalog`]): a registry, or a test's table.

use std::collections::{BTreeMap, BTreeSet};

use semver::{Version, VersionReq};
use skill_manifest::error::{Error, ErrorKind, Result};
use skill_manifest::manifest::Dependency;

/// Where the resolver learns what exists.
pub trait Catalog {
    /// The versions of `dependency` that can be had (not yanked), any order.
    fn versions(&mut self, dependency: &Dependency) -> Result<Vec<Version>>;
    /// The dependencies `name` declares at `version`.
    fn dependencies_of(
        &mut self,
        dependency: &Dependency,
        version: &Version,
    ) -> Result<Vec<Dependency>>;
}

/// One skill the graph needs, at the version chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub dependency: Dependency,
    pub version: Version,
    /// Already installed at this version: nothing to fetch.
    pub installed: bool,
}

/// The resolved graph: what to have (dependencies before their dependents), and warnings.
#[derive(Debug, Default)]
pub struct Resolution {
    pub skills: Vec<Chosen>,
    pub warnings: Vec<String>,
}

/// Limits on a hostile graph: how many distinct skills, and how many re-choices in all.
const MAX_SKILLS: usize = 256;
const MAX_STEPS: usize = 4096;

/// Resolves the dependencies of `root` (`root_name` for messages). `installed` holds the
/// versions installed now.
pub fn resolve(
    root_name: &str,
    root: &[Dependency],
    installed: &BTreeMap<String, Version>,
    catalog: &mut dyn Catalog,
) -> Result<Resolution> {
    // Every requirement in force: on which skill, from whom (`name@version`, or the root).
    let mut wanted: BTreeMap<String, Vec<(String, Dependency)>> = BTreeMap::new();
    let mut chosen: BTreeMap<String, (Version, Dependency)> = BTreeMap::new();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut skipped: BTreeSet<String> = BTreeSet::new();
    // Skills no version could be picked for (yet), with why.
    let mut unsettled: BTreeMap<String, Error> = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut queue: Vec<String> = Vec::new();
    for dep in root {
        wanted
            .entry(dep.name.clone())
            .or_default()
            .push((root_name.to_string(), dep.clone()));
        queue.push(dep.name.clone());
    }
    edges.insert(
        root_name.to_string(),
        root.iter().map(|d| d.name.clone()).collect(),
    );
    let mut steps = 0;
    while let Some(name) = queue.pop() {
        steps += 1;
        if steps > MAX_STEPS || wanted.len() > MAX_SKILLS {
            return Err(Error::invalid(format!(
                "the dependencies of {root_name} do not settle (more than {MAX_SKILLS} skills or {MAX_STEPS} steps)"
            ))
            .with_hint("check the skill_dependencies of the skills named above"));
        }
        // The skill being installed, named by one of its dependencies: a cycle, found below.
        if skipped.contains(&name) || name == root_name {
            continue;
        }
        let requirements = wanted.get(&name).cloned().unwrap_or_default();
        if requirements.is_empty() {
            continue;
        }
        let all_optional = requirements.iter().all(|(_, d)| d.optional);
        let dependency = requirements[0].1.clone();
        let reqs: Vec<VersionReq> = requirements
            .iter()
            .map(|(_, d)| d.requirement())
            .collect::<Result<_>>()?;
        let fits = |v: &Version| reqs.iter().all(|r| r.matches(v));
        if chosen.get(&name).is_some_and(|(v, _)| fits(v)) {
            continue;
        }
        let pick = match installed.get(&name).filter(|v| fits(v)) {
            Some(v) => Ok(v.clone()),
            None => catalog.versions(&dependency).and_then(|mut versions| {
                versions.sort();
                versions
                    .into_iter()
                    .rev()
                    .find(|v| fits(v))
                    .ok_or_else(|| conflict(&name, &requirements))
            }),
        };
        let version = match pick {
            Ok(v) => {
                unsettled.remove(&name);
                v
            }
            Err(e) if all_optional => {
                warnings.push(format!("optional dependency {name} skipped: {e}"));
                skipped.insert(name.clone());
                continue;
            }
            // Not yet an error: requirements still to come belong in the message.
            Err(e) => {
                unsettled.insert(name.clone(), e);
                continue;
            }
        };
        // A new choice: the old one's requirements go, the new one's come.
        if let Some((old, _)) = chosen.get(&name) {
            let from = format!("{name}@{old}");
            for reqs in wanted.values_mut() {
                reqs.retain(|(by, _)| *by != from);
            }
        }
        let own = catalog.dependencies_of(&dependency, &version)?;
        let from = format!("{name}@{version}");
        for dep in &own {
            wanted
                .entry(dep.name.clone())
                .or_default()
                .push((from.clone(), dep.clone()));
            queue.push(dep.name.clone());
        }
        edges.insert(name.clone(), own.iter().map(|d| d.name.clone()).collect());
        chosen.insert(name.clone(), (version, dependency));
        // Whoever was satisfied by the old choice is checked again.
        queue.extend(wanted.keys().cloned());
        queue.sort();
        queue.dedup();
    }
    if let Some((name, error)) = unsettled.into_iter().next() {
        let requirements = wanted.get(&name).cloned().unwrap_or_default();
        return Err(match error.kind() {
            ErrorKind::Conflict => conflict(&name, &requirements),
            _ => error,
        });
    }
    if let Some(cycle) = find_cycle(root_name, &edges, &skipped) {
        return Err(Error::invalid(format!(
            "skill dependencies form a cycle: {}",
            cycle.join(" → ")
        ))
        .with_hint(
            "a skill cannot depend on itself through others; remove one of these dependencies",
        ));
    }
    let order = dependency_order(root_name, &edges, &skipped);
    let skills = order
        .into_iter()
        .filter_map(|name| {
            let (version, dependency) = chosen.get(&name)?.clone();
            Some(Chosen {
                installed: installed.get(&name) == Some(&version),
                dependency,
                version,
            })
        })
        .collect();
    Ok(Resolution { skills, warnings })
}

fn conflict(name: &str, requirements: &[(String, Dependency)]) -> Error {
    let who: Vec<String> = requirements
        .iter()
        .map(|(by, d)| format!("{by} wants {name} {}", d.version))
        .collect();
    Error::new(
        ErrorKind::Conflict,
        format!(
            "no version of {name} satisfies every skill that needs it: {}",
            who.join(", ")
        ),
    )
    .with_hint("ask the authors to widen a requirement, or install a version by hand")
}

fn find_cycle(
    root: &str,
    edges: &BTreeMap<String, BTreeSet<String>>,
    skipped: &BTreeSet<String>,
) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        skipped: &BTreeSet<String>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if skipped.contains(node) || !done.insert(node.to_string()) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, skipped, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    visit(root, edges, skipped, &mut Vec::new(), &mut BTreeSet::new())
}

/// Dependencies before dependents (post-order from the root), the root itself left out.
fn dependency_order(
    root: &str,
    edges: &BTreeMap<String, BTreeSet<String>>,
    skipped: &BTreeSet<String>,
) -> Vec<String> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        skipped: &BTreeSet<String>,
        seen: &mut BTreeSet<String>,
        out: &mut Vec<String>,
    ) {
        if skipped.contains(node) || !seen.insert(node.to_string()) {
            return;
        }
        for next in edges.get(node).into_iter().flatten() {
            visit(next, edges, skipped, seen, out);
        }
        out.push(node.to_string());
    }
    let mut out = Vec::new();
    visit(root, edges, skipped, &mut BTreeSet::new(), &mut out);
    out.retain(|n| n != root);
    out
}

/// A [`Catalog`] over OCI registries: versions from the tag list (yanked ones left out), a
/// version's dependencies from its skill.yaml layer (the component is not downloaded).
pub struct RegistryCatalog<'a> {
    pub registry: &'a crate::Registry,
    /// Installed skills' versions and the dependencies their installed skill.yaml declares:
    /// an installed version answers for itself, without the registry.
    pub installed: BTreeMap<String, (Version, Vec<Dependency>)>,
}

impl RegistryCatalog<'_> {
    /// Where a dependency lives: its own `registry`, else the default one.
    pub fn repository(&self, dependency: &Dependency) -> Result<crate::Repository> {
        let config = dependency_config(self.registry.config(), dependency)?;
        Ok(crate::Request::parse(&dependency.name, &config)?.repository)
    }
}

/// The registry settings a dependency is looked up with. A skill.yaml from a registry is
/// hostile: its `registry` may not send this machine to a plain-HTTP address (loopback, or one
/// the user listed as insecure) other than the default registry's host — a request to
/// whatever listens on a local port.
fn dependency_config(
    config: &crate::RegistryConfig,
    dependency: &Dependency,
) -> Result<crate::RegistryConfig> {
    let Some(registry) = &dependency.registry else {
        return Ok(config.clone());
    };
    let host = registry.split('/').next().unwrap_or_default();
    let default_host = config.default.as_deref().and_then(|d| d.split('/').next());
    if config.is_plain_http(host) && default_host != Some(host) {
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "dependency {} names the plain-HTTP registry {}",
                dependency.name,
                skill_manifest::text::escape(registry, false)
            ),
        )
        .with_hint("only the default registry may be a loopback or insecure one; publish the dependency to an HTTPS registry"));
    }
    let mut config = config.clone();
    config.default = Some(registry.trim_end_matches('/').to_string());
    Ok(config)
}

impl Catalog for RegistryCatalog<'_> {
    fn versions(&mut self, dependency: &Dependency) -> Result<Vec<Version>> {
        let listing = self.registry.listing(&self.repository(dependency)?)?;
        Ok(listing
            .versions
            .into_iter()
            .filter(|v| !listing.yanked.contains(v))
            .collect())
    }

    fn dependencies_of(
        &mut self,
        dependency: &Dependency,
        version: &Version,
    ) -> Result<Vec<Dependency>> {
        if let Some((installed, dependencies)) = self.installed.get(&dependency.name)
            && installed == version
        {
            return Ok(dependencies.clone());
        }
        let request = crate::Request {
            repository: self.repository(dependency)?,
            pick: crate::Pick::Tag(version.to_string()),
        };
        let resolved = self.registry.resolve(&request)?;
        match self.registry.pull_metadata(&resolved)?.skill_yaml {
            Some(text) => Ok(skill_manifest::manifest::SkillYaml::parse(&text)?.skill_dependencies),
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// name → version → its dependencies.
    struct Table(BTreeMap<&'static str, Vec<(&'static str, Vec<Dependency>)>>);

    fn dep(name: &str, version: &str) -> Dependency {
        Dependency {
            name: name.to_string(),
            version: version.to_string(),
            optional: false,
            registry: None,
        }
    }

    impl Catalog for Table {
        fn versions(&mut self, d: &Dependency) -> Result<Vec<Version>> {
            match self.0.get(d.name.as_str()) {
                Some(vs) => Ok(vs.iter().map(|(v, _)| Version::parse(v).unwrap()).collect()),
                None => Err(Error::not_found(format!("no skill {}", d.name))),
            }
        }
        fn dependencies_of(
            &mut self,
            d: &Dependency,
            version: &Version,
        ) -> Result<Vec<Dependency>> {
            Ok(self.0[d.name.as_str()]
                .iter()
                .find(|(v, _)| Version::parse(v).unwrap() == *version)
                .unwrap()
                .1
                .clone())
        }
    }

    fn table() -> Table {
        Table(BTreeMap::from([
            (
                "c",
                vec![("1.0.0", vec![]), ("1.4.0", vec![]), ("2.0.0", vec![])],
            ),
            ("b", vec![("1.0.0", vec![dep("c", "^1")])]),
            ("x", vec![("1.0.0", vec![dep("y", "^1")])]),
            ("y", vec![("1.0.0", vec![dep("x", "^1")])]),
        ]))
    }

    fn names(r: &Resolution) -> Vec<String> {
        r.skills
            .iter()
            .map(|c| format!("{}@{}", c.dependency.name, c.version))
            .collect()
    }

    #[test]
    fn newest_compatible_and_shared() {
        let r = resolve(
            "a",
            &[dep("b", "^1"), dep("c", ">=1")],
            &BTreeMap::new(),
            &mut table(),
        )
        .unwrap();
        // c >= 1 alone would be 2.0.0; b needs ^1: both get 1.4.0, once, before b.
        assert_eq!(names(&r), ["c@1.4.0", "b@1.0.0"]);
    }

    #[test]
    fn an_installed_version_that_fits_is_kept() {
        let installed = BTreeMap::from([("c".to_string(), Version::parse("1.0.0").unwrap())]);
        let r = resolve("a", &[dep("b", "^1")], &installed, &mut table()).unwrap();
        assert_eq!(names(&r), ["c@1.0.0", "b@1.0.0"]);
        assert!(r.skills[0].installed);
    }

    #[test]
    fn conflicts_name_who_wants_what() {
        let e = resolve(
            "a",
            &[dep("b", "^1"), dep("c", "^2")],
            &BTreeMap::new(),
            &mut table(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("a wants c ^2") && e.contains("b@1.0.0 wants c ^1"),
            "{e}"
        );
    }

    #[test]
    fn cycles_are_printed() {
        let e = resolve("a", &[dep("x", "^1")], &BTreeMap::new(), &mut table())
            .unwrap_err()
            .to_string();
        assert!(e.contains("x → y → x"), "{e}");
    }

    #[test]
    fn a_dependency_cannot_point_at_a_local_port() {
        let config = crate::RegistryConfig {
            default: Some("127.0.0.1:5000/acme".into()),
            ..Default::default()
        };
        let mut hostile = dep("b", "*");
        hostile.registry = Some("127.0.0.1:6379/x".into());
        assert!(dependency_config(&config, &hostile).is_err());
        hostile.registry = Some("127.0.0.1:5000/other".into());
        assert!(dependency_config(&config, &hostile).is_ok());
        hostile.registry = Some("ghcr.io/acme".into());
        assert!(dependency_config(&config, &hostile).is_ok());
    }

    #[test]
    fn optional_dependencies_that_cannot_be_had_are_skipped() {
        let mut optional = dep("missing", "^1");
        optional.optional = true;
        let r = resolve(
            "a",
            &[optional, dep("c", "^1")],
            &BTreeMap::new(),
            &mut table(),
        )
        .unwrap();
        assert_eq!(names(&r), ["c@1.4.0"]);
        assert!(r.warnings[0].contains("missing"), "{:?}", r.warnings);
        let e = resolve("a", &[dep("missing", "^1")], &BTreeMap::new(), &mut table());
        assert!(e.is_err());
    }
}
