use std::path::{Path, PathBuf};
use std::process::ExitCode;

use skill_engine::package::Package;
use skill_engine::{Error, ErrorKind, Runtime};
use skill_manifest::manifest::SKILL_YAML;
use skill_source::artifact::{Artifact, Assembled, Provenance};
use skill_source::{Pick, Registry, Request};

use super::Context;
use crate::ui::human_size;
use skill_build::project::Project;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
The version is published as REGISTRY/NAME:VERSION, an OCI artifact in the CNCF Wasm layout
(the component, plus skill.yaml, manifest.json and SKILL.md in layers of their own). An
existing version is never overwritten: bump the version to publish again.

Examples:
  skill publish --dry-run                     What would be pushed, pushing nothing
  skill publish --registry localhost:5000/me  Publish to another registry than the default")]
pub struct Args {
    /// The skill project, built (default: the current project)
    path: Option<PathBuf>,

    /// Print exactly what would be pushed (reference, layers, sizes, annotations); push nothing
    #[arg(long)]
    dry_run: bool,

    /// The registry and namespace (HOST[:PORT][/NAMESPACE]) to publish to, over the settings
    #[arg(long, value_name = "REGISTRY")]
    registry: Option<String>,

    /// Sign the published version with this key: a name from `skill key generate`, or a
    /// PKCS#8 PEM file (cosign-compatible signature, stored as `sha256-<digest>.sig`)
    #[arg(long, value_name = "KEY")]
    sign: Option<String>,

    /// Print the result as JSON on stdout
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let json = args.json || ctx.output_json;
    let printer = ctx.printer.unless_json(json);
    let home = ctx.home()?;
    let root = match &args.path {
        Some(path) => Project::find_root(path)?,
        None => Project::find_root(Path::new("."))?,
    };
    let project = Project::open(&root)?;
    if !project.component_path().is_file() || project.needs_build() {
        return Err(Error::new(
            ErrorKind::NotConfigured,
            format!(
                "`{}` is not built, or its sources changed since the last build",
                project.name()
            ),
        )
        .with_hint("run `skill build` first: publish ships what was built and validated")
        .into());
    }
    // The same checks as `skill validate` and `skill install`, on what is about to ship.
    let runtime = Runtime::new(&home)?;
    let package = Package::from_files(
        &runtime,
        &project.component_path(),
        &project.output_dir().join(SKILL_YAML),
    )?;
    for warning in &package.warnings {
        printer.warn(warning);
    }
    let manifest = &package.manifest;
    let config = ctx.registry_config(args.registry.as_deref());
    let request = Request::parse(&manifest.name, &config)?;
    debug_assert!(matches!(request.pick, Pick::Newest(_)));
    let repository = request.repository;
    let artifact = Artifact {
        manifest_json: Some(manifest.to_json()),
        skill_yaml: Some(package.skill_yaml_text.clone()),
        skill_md: skill_manifest::skill_md::read_from(&project.root)?,
        component: package.component.clone(),
    };
    let assembled = artifact.assemble(manifest, &provenance(&project.root))?;
    let reference = format!("oci://{repository}:{}", manifest.version);

    if args.dry_run {
        print_plan(&reference, &assembled, json)?;
        return Ok(ExitCode::SUCCESS);
    }
    // The key is read before anything is pushed: a wrong key must not leave an unsigned version.
    let signing_key = match &args.sign {
        Some(key) => Some(signing_key(&home, key)?),
        None => None,
    };
    let registry = Registry::new(home, config)?;
    if let Some(existing) = registry.existing(&repository, &manifest.version)? {
        return Err(Error::new(
            ErrorKind::Conflict,
            format!(
                "{}@{} is already published at {repository} ({existing})",
                manifest.name, manifest.version
            ),
        )
        .with_hint("a published version never changes: bump `version` in skill.yaml (and the project), rebuild, publish again")
        .into());
    }
    let total = assembled.config.data.len() as u64
        + assembled
            .layers
            .iter()
            .map(|l| l.data.len() as u64)
            .sum::<u64>();
    let transfer = printer.transfer(
        "Publishing",
        &format!("{repository}:{}", manifest.version),
        total,
    );
    let pushed = registry.push(&repository, &manifest.version, &assembled, &|n| {
        transfer.advance(n)
    });
    transfer.finish(pushed.is_ok());
    let digest = pushed?;
    if let Some(key) = &signing_key {
        let payload = skill_source::sign::payload(&repository.to_string(), &digest);
        let signature = skill_source::sign::sign(key, &payload);
        registry.push_signature(&repository, &digest, &payload, &signature)?;
        printer.status(
            "Signed",
            format!("{digest} with {}", args.sign.as_deref().unwrap_or("")),
        );
    }
    if json {
        let out = serde_json::json!({
            "name": manifest.name,
            "version": manifest.version,
            "reference": reference,
            "digest": digest,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        printer.status(
            "Published",
            format!("{}@{} to {reference}", manifest.name, manifest.version),
        );
        println!("{}@{} {digest}", manifest.name, manifest.version);
    }
    Ok(ExitCode::SUCCESS)
}

/// A key by name (`skill key generate`) or a PEM file, which must look like a path (contain
/// a `/` or end in `.pem`): a file in the working directory never stands in for a named key.
fn signing_key(
    home: &skill_store::SkillHome,
    key: &str,
) -> anyhow::Result<skill_source::sign::SigningKey> {
    let path = Path::new(key);
    let pem = if key.contains('/') || key.ends_with(".pem") {
        skill_manifest::manifest::read_text(path, 64 << 10)?
    } else {
        skill_store::trust::SigningKeys::new(home.clone()).private_pem(key)?
    };
    Ok(skill_source::sign::parse_private(&pem, key)?)
}

/// When (SOURCE_DATE_EPOCH, for reproducible artifacts; else now) and from which commit.
fn provenance(root: &Path) -> Provenance {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    let created = chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let revision = std::process::Command::new("git")
        .args(["rev-parse", "--verify", "-q", "HEAD"])
        .current_dir(root)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|r| r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit()));
    Provenance { created, revision }
}

fn print_plan(reference: &str, assembled: &Assembled, json: bool) -> anyhow::Result<()> {
    let manifest = &assembled.manifest;
    if json {
        let out = serde_json::json!({
            "reference": reference,
            "digest": assembled.digest,
            "manifest": serde_json::from_slice::<serde_json::Value>(&assembled.manifest_bytes)?,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("Would publish {reference}");
    println!(
        "  manifest  {}  {}",
        assembled.digest,
        human_size(assembled.manifest_bytes.len() as u64)
    );
    println!(
        "  config    {}  {}  {}",
        manifest.config.digest,
        human_size(manifest.config.size as u64),
        manifest.config.media_type
    );
    for layer in &manifest.layers {
        let title = layer
            .annotations
            .as_ref()
            .and_then(|a| a.get("org.opencontainers.image.title"))
            .map_or("", String::as_str);
        println!(
            "  layer     {}  {}  {}  {title}",
            layer.digest,
            human_size(layer.size as u64),
            layer.media_type
        );
    }
    println!("  annotations:");
    for (key, value) in manifest.annotations.iter().flatten() {
        println!("    {key} = {}", crate::ui::shown(value));
    }
    println!("Nothing was pushed (--dry-run).");
    Ok(())
}
