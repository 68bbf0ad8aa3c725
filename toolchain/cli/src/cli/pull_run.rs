use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use skill_engine::package::Package;
use skill_engine::{Error, Runtime};
use skill_host::instances::{InstanceRef, Review, review_text};
use skill_host::{Overrides, Throwaway};
use skill_manifest::args;
use skill_manifest::manifest::{PackageManifest, SkillYaml};
use skill_store::pull_cache::PullCache;

use super::Context;
use super::install::{fetch, resolve};
use super::run::{Report, print_event, report};
use crate::ui::{confirm, shown};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Runs one tool of a skill straight from a registry, like `docker run --rm`: the version is
resolved, verified (digest, and signature where `skill trust` asks), cached for a day by digest
(`skill prune` clears the cache), reviewed, and run in a throwaway instance whose config —
secrets included — lives only in memory. Nothing is installed and no instance is kept.

Options of pull-run may come before or after the tool; arguments after `--` all go to the tool.

Examples:
  skill pull-run hello greet name=World
  skill pull-run oci://ghcr.io/acme/gh@^2 list-issues --config token=$TOKEN --yes")]
pub struct Args {
    /// NAME[@VERSION-REQ] or oci://HOST/PATH[:TAG|@sha256:…|@REQ]
    #[arg(value_name = "REF")]
    reference: String,

    /// The tool, then its arguments (key=value, --key value, or bare values in order)
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "TOOL [ARGS]"
    )]
    words: Vec<String>,

    /// A config value for this run (repeatable); kept in memory only, never written
    #[arg(long = "config", value_name = "KEY=VALUE")]
    config: Vec<String>,

    /// Pull again even when the cache holds this version (and do not cache it)
    #[arg(long)]
    no_cache: bool,

    /// Keep the throwaway instance's data directory (its path is printed)
    #[arg(long)]
    keep: bool,

    /// Approve the permissions the skill asks for without asking
    #[arg(short, long)]
    yes: bool,

    /// Run even when a trust policy requires a signature and there is no valid one
    #[arg(long)]
    allow_unsigned: bool,

    /// The registry (HOST[:PORT][/NAMESPACE]) bare names resolve under
    #[arg(long, value_name = "REGISTRY")]
    registry: Option<String>,

    /// Stop the tool after this many seconds
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<u64>,

    /// Print the result as JSON ({"text": ..., "data": ...}) on stdout
    #[arg(long)]
    json: bool,
}

impl Args {
    /// Takes pull-run's own options out of the tool's words (up to a `--`).
    fn split_options(&mut self) -> anyhow::Result<()> {
        let mut words = std::mem::take(&mut self.words).into_iter();
        let mut kept = Vec::new();
        while let Some(word) = words.next() {
            match word.as_str() {
                "--" => {
                    kept.extend(words.by_ref());
                    break;
                }
                "--yes" | "-y" => self.yes = true,
                "--keep" => self.keep = true,
                "--no-cache" => self.no_cache = true,
                "--allow-unsigned" => self.allow_unsigned = true,
                "--json" => self.json = true,
                "--config" => match words.next() {
                    Some(value) => self.config.push(value),
                    None => {
                        return Err(Error::invalid("--config needs KEY=VALUE")
                            .with_hint("e.g. --config token=abc")
                            .into());
                    }
                },
                other => match other.strip_prefix("--config=") {
                    Some(value) => self.config.push(value.to_string()),
                    None => kept.push(word),
                },
            }
        }
        self.words = kept;
        Ok(())
    }
}

/// What the package of a pull-run is: where its component is, its manifest, its skill.yaml.
type Pulled = (std::path::PathBuf, PackageManifest, SkillYaml);

/// A pull-run in the build-side binary, which links the registry client: from the cache when
/// it can answer, else online.
pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    run_with(ctx, args, |pull| {
        online(
            pull.printer,
            ctx,
            pull.home,
            pull.args,
            pull.cache,
            pull.reference_key,
            pull.scratch,
        )
        .map(Some)
    })
    .map(|ran| ran.expect("online always answers"))
}

/// A pull-run in `skill`, which has no registry client: `None` when the cache cannot answer
/// (the caller hands the command on). A warm pull-run is then one exec, like `skill run`. The
/// cache-only path must stay free of `online` and what it links (skill-source's client):
/// `run_with` is generic over the miss so this instance never names it.
pub fn run_cached(ctx: &Context, args: Args) -> anyhow::Result<Option<ExitCode>> {
    run_with(ctx, args, |_| Ok(None))
}

/// What a cache miss gets to pull with.
struct Pull<'a> {
    printer: &'a crate::ui::Printer,
    home: &'a skill_store::SkillHome,
    args: &'a Args,
    cache: &'a PullCache,
    reference_key: &'a str,
    scratch: &'a std::path::Path,
}

fn run_with(
    ctx: &Context,
    mut args: Args,
    on_miss: impl FnOnce(Pull<'_>) -> anyhow::Result<Option<Pulled>>,
) -> anyhow::Result<Option<ExitCode>> {
    args.split_options()?;
    let json = args.json || ctx.output_json;
    let printer = ctx.printer.unless_json(json);
    let home = ctx.home()?;
    let Some(tool_name) = args.words.first().cloned() else {
        return Err(Error::invalid("which tool?")
            .with_hint("skill pull-run REF TOOL [ARGS]")
            .into());
    };
    let config: Vec<(String, String)> = args
        .config
        .iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => Err(Error::invalid(format!("--config `{kv}` is not KEY=VALUE"))
                .with_hint("e.g. --config token=abc")),
        })
        .collect::<Result<_, _>>()?;

    let cache = PullCache::new(home.clone());
    // Like `docker run` with a local image: a tag or requirement resolved in the last day is
    // not asked again (a digest never needs asking) — unless a trust policy covers the
    // repository (its signatures are checked online each time) or --no-cache.
    let registries = ctx.registry_config(args.registry.as_deref());
    let request = skill_source::Request::parse(&args.reference, &registries)?;
    let reference_key = format!("{request:?}");
    let governed = skill_store::trust::Trust::new(home.clone())
        .policy_for(&request.repository.to_string())?
        .is_some();
    let offline = (!args.no_cache && !governed)
        .then(|| cache.resolved(&reference_key))
        .flatten()
        .and_then(|digest| cache.get(&digest).ok().flatten());
    let scratch = tempfile::Builder::new()
        .prefix("skill-pull-run-")
        // The tool's data directory: the user's alone.
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir()
        .map_err(|e| Error::io("create a temporary directory in", &std::env::temp_dir(), e))?;
    let (component_path, manifest, yaml) = match offline {
        Some(hit) => {
            printer.detail(format!("cached: {}", hit.dir.display()));
            cached_package(&hit)?
        }
        None => {
            let pull = Pull {
                printer: &printer,
                home: &home,
                args: &args,
                cache: &cache,
                reference_key: &reference_key,
                scratch: scratch.path(),
            };
            match on_miss(pull)? {
                Some(pulled) => pulled,
                None => return Ok(None),
            }
        }
    };

    let instance = InstanceRef::parse(&manifest.name, Some(skill_host::call::THROWAWAY_INSTANCE))?;
    let requested = &yaml.capabilities;
    let bindings = skill_store::dirs::approve(&home, &requested.filesystem, &[])?;
    if !requested.is_empty() {
        let review = Review {
            more: requested.clone(),
            dirs: bindings.clone(),
            existing: false,
        };
        if !args.yes || !printer.is_quiet() {
            eprint!(
                "{}",
                shown(&review_text(&instance, &manifest.version, &review))
            );
        }
        if !args.yes && !confirm("Allow for this run?") {
            return Err(Error::denied(format!(
                "not run: the permissions for {} were not approved",
                manifest.name
            ))
            .with_hint("answer `y` to approve, or pass --yes in scripts")
            .into());
        }
    }
    let tool = manifest.find_tool(&tool_name)?.clone();
    let qualified = format!("{}:{}", manifest.name, tool.name);
    let call_args = args::parse_cli(&tool, &qualified, &args.words[1..])?;
    let verbose = ctx.printer.is_verbose();
    let quiet = ctx.printer.is_quiet();
    let events: skill_engine::host::EventSink =
        Arc::new(move |event: &skill_engine::host::Event| print_event(event, verbose, quiet));
    let throwaway = Throwaway {
        component_path: &component_path,
        manifest: &manifest,
        yaml: &yaml,
        bindings,
        config: &config,
        scratch: scratch.path(),
    };
    let overrides = Overrides {
        timeout: args.timeout.map(Duration::from_secs),
    };
    let finished = skill_host::call_throwaway(
        &home,
        &throwaway,
        &tool,
        &call_args,
        overrides,
        Some(events),
    );
    if args.keep {
        let kept = scratch.keep();
        printer.note(format!(
            "kept the throwaway instance's data in {}",
            kept.display()
        ));
    }
    report(
        ctx,
        finished?,
        &Report {
            instance: &instance,
            qualified: &qualified,
            tool: &tool,
            sha256: &manifest.component.sha256,
            json,
            raw: false,
        },
    )
    .map(Some)
}

/// Resolves (and verifies) online; the package from the cache by digest, else pulled and
/// cached (or, with --no-cache, kept in `scratch` only).
fn online(
    printer: &crate::ui::Printer,
    ctx: &Context,
    home: &skill_store::SkillHome,
    args: &Args,
    cache: &PullCache,
    reference_key: &str,
    scratch: &std::path::Path,
) -> anyhow::Result<Pulled> {
    let found = resolve(
        ctx,
        printer,
        home,
        &args.reference,
        args.registry.as_deref(),
        args.allow_unsigned,
    )?;
    let digest = &found.resolved.digest;
    let cached = if args.no_cache {
        None
    } else {
        cache.get(digest)?
    };
    let result = match cached {
        Some(hit) => cached_package(&hit)?,
        None => {
            let runtime = Runtime::new(home)?;
            let (package, _origin): (Package, _) =
                fetch(printer, &runtime, &found, &args.reference)?;
            let manifest_json = package.manifest.to_json();
            let path = if args.no_cache {
                let path = scratch.join("component.wasm");
                std::fs::write(&path, &package.component)
                    .map_err(|e| Error::io("write", &path, e))?;
                path
            } else {
                cache
                    .put(
                        digest,
                        &package.component,
                        &package.skill_yaml_text,
                        &manifest_json,
                    )?
                    .component_path()
            };
            (path, package.manifest, package.skill_yaml)
        }
    };
    if !args.no_cache {
        cache.remember(reference_key, digest)?;
    }
    Ok(result)
}

/// A cached package as a call needs it: where its component is, its manifest, its skill.yaml.
fn cached_package(hit: &skill_store::pull_cache::Cached) -> anyhow::Result<Pulled> {
    let manifest = PackageManifest::parse(&hit.manifest_json, &hit.dir)?;
    let yaml = SkillYaml::parse(&hit.skill_yaml)?;
    Ok((hit.component_path(), manifest, yaml))
}
