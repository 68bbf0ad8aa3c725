use std::path::Path;
use std::process::ExitCode;

use skill_manifest::manifest::{PackageManifest, SkillYaml};
use skill_source::reference::looks_like_reference;
use skill_source::{Registry, Request};
use skill_store::instance::Instances;
use skill_store::store::Store;

use super::Context;
use super::list::print_tools;
use crate::ui::{human_size, shown};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
An installed skill is described from the store; anything else (or --remote) from its registry,
reading only its small layers: no component is downloaded and nothing is run.

Examples:
  skill info hello                  Installed: version, tools, permissions, where it came from
  skill info hello --remote         The registry's versions and the newest one's details
  skill info oci://localhost:5000/hello:1.0.0")]
pub struct Args {
    /// NAME, NAME@VERSION-REQ or oci://HOST/PATH[:TAG|@sha256:…]
    #[arg(value_name = "SKILL")]
    skill: String,

    /// Ask the registry even when the skill is installed
    #[arg(long)]
    remote: bool,

    /// The registry (HOST[:PORT][/NAMESPACE]) bare names resolve under, for this command
    #[arg(long, value_name = "REGISTRY")]
    registry: Option<String>,

    /// Print JSON on stdout
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let json = args.json || ctx.output_json;
    let home = ctx.home()?;
    let store = Store::new(home.clone());
    if !args.remote && !args.skill.contains(['@', '/']) {
        let installed = store.get(&args.skill);
        match installed {
            // Installed but damaged: said, never papered over with what a registry holds.
            Err(e) if e.kind() != skill_engine::ErrorKind::NotFound => return Err(e.into()),
            Ok(skill) => {
                let yaml = SkillYaml::parse(&skill.skill_yaml)?;
                let instances = Instances::new(home).list(&skill.manifest.name);
                let origin = skill.origin.as_ref();
                if json {
                    let out = serde_json::json!({
                        "installed": true,
                        "manifest": skill.manifest,
                        "capabilities": yaml.capabilities,
                        "skill_dependencies": yaml.skill_dependencies,
                        "instances": instances,
                        "origin": origin,
                    });
                    println!("{}", serde_json::to_string_pretty(&out)?);
                    return Ok(ExitCode::SUCCESS);
                }
                describe(&skill.manifest, &yaml);
                println!("  installed  {}", instances.join(", "));
                if let Some(origin) = origin {
                    println!("  source     {}", shown(&origin.source));
                    if origin.requested != origin.source {
                        println!("  requested  {}", shown(&origin.requested));
                    }
                }
                return Ok(ExitCode::SUCCESS);
            }
            Err(e) if !looks_like_reference(&args.skill) || Path::new(&args.skill).exists() => {
                return Err(e.into());
            }
            Err(_) => {}
        }
    }
    let config = ctx.registry_config(args.registry.as_deref());
    let request = Request::parse(&args.skill, &config)?;
    let registry = Registry::new(home, config)?;
    let listing = registry.listing(&request.repository)?;
    let versions = &listing.versions;
    let resolved = registry.resolve(&request)?;
    let metadata = registry.pull_metadata(&resolved)?;
    let manifest = metadata
        .manifest_json
        .as_deref()
        .map(|json| PackageManifest::parse(json, Path::new("manifest.json")))
        .transpose()?;
    let yaml = metadata
        .skill_yaml
        .as_deref()
        .map(SkillYaml::parse)
        .transpose()?;
    if json {
        let out = serde_json::json!({
            "installed": false,
            "reference": resolved.pinned(),
            "tag": resolved.tag,
            "digest": resolved.digest,
            "versions": versions.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
            "yanked": listing.yanked.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
            "manifest": manifest,
            "capabilities": yaml.as_ref().map(|y| &y.capabilities),
            "annotations": resolved.image.annotations,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    match (&manifest, &yaml) {
        (Some(manifest), Some(yaml)) => describe(manifest, yaml),
        _ => {
            // A plain Wasm artifact: only what its annotations say.
            let title = resolved
                .annotation("org.opencontainers.image.title")
                .unwrap_or(request.repository.name());
            let version = resolved
                .annotation("org.opencontainers.image.version")
                .unwrap_or("");
            println!("{} {}", shown(title), shown(version));
            println!(
                "  (published without skill metadata: tools and permissions are known after install)"
            );
        }
    }
    let size: i64 = resolved.image.layers.iter().map(|l| l.size.max(0)).sum();
    println!(
        "  digest     {} ({})",
        resolved.digest,
        human_size(size as u64)
    );
    println!("  reference  {}", resolved.pinned());
    if let Some(source) = resolved.annotation("org.opencontainers.image.source") {
        println!("  source     {}", shown(source));
    }
    let shown_versions: Vec<String> = versions
        .iter()
        .take(20)
        .map(|v| {
            if listing.yanked.contains(v) {
                format!("{v} (yanked)")
            } else {
                v.to_string()
            }
        })
        .collect();
    println!(
        "  versions   {}{}",
        shown_versions.join(", "),
        if versions.len() > 20 { ", …" } else { "" }
    );
    Ok(ExitCode::SUCCESS)
}

fn describe(manifest: &PackageManifest, yaml: &SkillYaml) {
    println!("{} {}", manifest.name, manifest.version);
    if !manifest.description.is_empty() {
        println!("  {}", shown(&manifest.description));
    }
    if let Some(license) = &manifest.license {
        println!("  license    {}", shown(license));
    }
    let asks = yaml.capabilities.describe();
    if asks.is_empty() {
        println!("  asks for   nothing beyond its own data directory");
    } else {
        println!("  asks for   {}", shown(&asks.join("; ")));
    }
    if !yaml.config.is_empty() {
        let keys: Vec<&str> = yaml.config.keys().map(String::as_str).collect();
        println!("  config     {}", keys.join(", "));
    }
    if !yaml.skill_dependencies.is_empty() {
        let deps: Vec<String> = yaml
            .skill_dependencies
            .iter()
            .map(|d| {
                let mut text = format!("{} {}", d.name, d.version);
                if let Some(registry) = &d.registry {
                    text.push_str(&format!(" from {}", shown(registry)));
                }
                if d.optional {
                    text.push_str(" (optional)");
                }
                text
            })
            .collect();
        println!("  depends on {}", deps.join(", "));
    }
    println!("  contract   {}", shown(&manifest.contract));
    println!(
        "  component  sha256:{} ({})",
        manifest.component.sha256,
        human_size(manifest.component.size)
    );
    print_tools(manifest);
}
