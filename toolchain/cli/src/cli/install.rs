use std::path::Path;
use std::process::ExitCode;

use skill_engine::package::Package;
use skill_engine::{Error, Runtime};
use skill_manifest::manifest::SKILL_YAML;
use skill_store::audit;
use skill_store::instance::Instances;
use skill_store::store::{Origin, Store};

use super::Context;
use crate::ui::{Printer, confirm, shown};
use skill_build::pipeline;
use skill_build::project::InstallSource;
use skill_host::instances::{InstanceRef, approve, needs_approval, review_text};
use skill_manifest::manifest::SkillYaml;
use skill_source::deps::{self, RegistryCatalog};
use skill_source::git::{self, GitCache, GitSource};
use skill_source::reference::looks_like_reference;
use skill_source::{Registry, Request};

/// Where the package comes from.
enum Source {
    Local(InstallSource),
    /// Pulled from a registry and verified: prepared already.
    Pulled(Box<Package>),
}
use Source::{Local, Pulled};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Sources:
  ./hello, /path/to/project      a skill project (built first if needed), a built skill
                                 directory (target/skill), or a component .wasm with its
                                 skill.yaml beside it; an existing path always wins
  hello, hello@^1.2, hello@1.2.0 the newest version matching the requirement (a bare version
                                 pins it) from the default registry ([registry] default in
                                 $SKILL_HOME/config.toml, SKILL_REGISTRY or --registry)
  team/hello                     a namespace ([registry.namespaces] may point it elsewhere)
  oci://HOST/PATH/hello:1.2.0    a full reference, by tag or @sha256:DIGEST
  https://host/repo.git, github:user/repo, gitlab:user/repo, git@host:user/repo.git,
  ssh://…, git://…, file://…     a git repository, fetched with your git (its credentials,
                                 SSH config and proxies), then built here: add //SUBDIR for
                                 a skill inside the repository, #REF for a branch, tag or
                                 commit (github:acme/skills//weather#v1.2.0)")]
pub struct Args {
    /// What to install: a path, NAME[@VERSION-REQ], oci://HOST/PATH[:TAG|@sha256:…] or a git
    /// repository URL[//SUBDIR][#REF]
    #[arg(value_name = "SOURCE")]
    source: String,

    /// The instance to create or update (default: `default`); one skill can have many, each
    /// with its own config, secrets, grants and data
    #[arg(short, long, value_name = "ALIAS")]
    instance: Option<String>,

    /// Approve the permissions the skill asks for without asking (for scripts)
    #[arg(short, long)]
    yes: bool,

    /// Print the installed manifest as JSON on stdout
    #[arg(long)]
    json: bool,

    /// The registry (HOST[:PORT][/NAMESPACE]) bare names resolve under, for this command
    #[arg(long, value_name = "REGISTRY")]
    registry: Option<String>,

    /// Install even though the skill is installed from another registry repository (its
    /// instances keep their config, secrets and grants, and will run the new code)
    #[arg(long)]
    replace: bool,

    /// Install even when the registry's trust policy (`skill trust`) requires a signature
    /// and there is no valid one: you run code no key you trust vouched for
    #[arg(long)]
    allow_unsigned: bool,

    /// Install only this skill, not the skills its skill.yaml lists in skill_dependencies
    #[arg(long)]
    no_deps: bool,

    /// Also put the skill's command on PATH as $SKILL_HOME/bin/NAME (default: the skill's
    /// name), like `skill shim`
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "")]
    shim: Option<String>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let json = args.json || ctx.output_json;
    let printer = ctx.printer.unless_json(json);
    let home = ctx.home()?;
    let runtime = Runtime::new(&home)?;
    let path = Path::new(&args.source);
    let mut origin = Origin {
        source: std::path::absolute(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .display()
            .to_string(),
        requested: args.source.clone(),
        digest: None,
        commit: None,
    };
    // `oci://…` is always a registry and `https://…`, `github:…` always git (a directory
    // `oci:` or `https:` in the working directory must not stand in for them); a bare name or
    // `user@host:path` only when no such path exists.
    let from_git =
        git::is_url(&args.source) || (!path.exists() && git::looks_like_git(&args.source));
    let source = if from_git {
        let (checkout, fetched) = fetched(&printer, &home, &args.source)?;
        origin = fetched;
        Local(InstallSource::resolve(&checkout.project)?)
    } else if args.source.starts_with("oci://")
        || (!path.exists() && looks_like_reference(&args.source))
    {
        let (package, pulled) = pulled(ctx, &printer, &runtime, &home, &args)?;
        origin = pulled;
        Pulled(Box::new(package))
    } else {
        Local(InstallSource::resolve(path)?)
    };
    // A project that must be built is reviewed from its skill.yaml *before* the build:
    // building runs the project's own code. Anything else is prepared (in the sandbox) first.
    let (to_build, prepared_package) = match source {
        Pulled(package) => (None, Some(*package)),
        Local(InstallSource::Project(project)) if project.needs_build() => (Some(project), None),
        Local(InstallSource::Project(project)) => {
            let mut package = prepared(
                &printer,
                &runtime,
                &project.component_path(),
                &project.output_dir().join(SKILL_YAML),
            )?;
            // SKILL.md as it is now (editing it needs no rebuild), checked as a build would.
            package.warnings.clear();
            pipeline::check_skill_md(&project, &mut package)?;
            for warning in package.warnings.iter().filter(|w| w.contains("SKILL.md")) {
                printer.warn(warning);
            }
            (None, Some(package))
        }
        Local(InstallSource::Built {
            component,
            skill_yaml,
        }) => (
            None,
            Some(prepared(&printer, &runtime, &component, &skill_yaml)?),
        ),
    };
    let yaml = match (&to_build, &prepared_package) {
        (Some(project), _) => project.skill_yaml.clone(),
        (None, Some(package)) => package.skill_yaml.clone(),
        (None, None) => unreachable!("one of the two is set"),
    };
    let target = InstanceRef::parse(&yaml.name, args.instance.as_deref())?;
    let installed = Store::new(home.clone()).get(&yaml.name).ok();
    if let Some(installed) = &installed {
        check_same_source(installed, &origin, args.replace)?;
    }
    if !Instances::new(home.clone()).exists(&target.skill, &target.instance) {
        // A new instance gets today's naming rules before anyone is asked anything.
        skill_store::instance::validate_instance_name(&target.instance)?;
    }
    let requested = yaml.capabilities.clone();
    if let Some(project) = &to_build
        && !printer.is_quiet()
    {
        eprintln!(
            "{}",
            shown(&format!(
                "Building {} from source runs its build scripts (build.rs, code the toolchain runs at build time) on this machine, outside the sandbox.",
                project.name()
            ))
        );
    }
    let review = needs_approval(&home, &target, &requested)?;
    // Building someone else's repository runs their code: asked even when the skill itself
    // asks for nothing.
    if from_git && to_build.is_some() && review.is_none() && !args.yes && !confirm("Build it?") {
        return Err(
            Error::denied(format!("not installed: {} was not built", yaml.name))
                .with_hint("answer `y` to build it, or pass --yes in scripts")
                .into(),
        );
    }
    if let Some(review) = &review {
        // Shown whenever it is asked, and with --yes unless -q.
        if !args.yes || !printer.is_quiet() {
            eprint!("{}", shown(&review_text(&target, &yaml.version, review)));
        }
        if !args.yes && !confirm("Allow?") {
            return Err(Error::denied(format!(
                "not installed: the permissions for {target} were not approved"
            ))
            .with_hint("answer `y` to approve, or pass --yes in scripts")
            .into());
        }
    }
    if !yaml.skill_dependencies.is_empty() && !args.no_deps {
        install_dependencies(ctx, &printer, &home, &yaml, &args)?;
    }
    let package = match (to_build, prepared_package) {
        (Some(mut project), _) => {
            project.record_detected_build()?;
            // A fresh build already validated, described and warned; install what it made.
            let package =
                pipeline::build(&project, &home, &runtime, &printer, Default::default())?.1;
            if package.skill_yaml.capabilities != requested || package.manifest.name != yaml.name {
                return Err(Error::invalid(format!(
                    "not installed: {}'s skill.yaml changed while it was being built",
                    project.name()
                ))
                .with_hint("a build script rewrote it; review the project, then install again")
                .into());
            }
            package
        }
        (None, Some(package)) => package,
        (None, None) => unreachable!("one of the two is set"),
    };
    let requested = &requested;
    approve(&home, &target, requested, review.as_ref())?;
    let outcome = Store::new(home.clone()).install(
        &package.manifest,
        &package.component,
        &package.skill_yaml_text,
        package.skill_md.as_deref(),
        Some(&origin),
    )?;
    audit::record(
        &home,
        "install",
        &target.skill,
        &target.instance,
        serde_json::json!({ "version": package.manifest.version, "source": origin.source }),
    )?;
    let others: Vec<String> = Instances::new(home.clone())
        .list(&target.skill)
        .into_iter()
        .filter(|i| *i != target.instance)
        .filter(|i| {
            needs_approval(
                &home,
                &InstanceRef::parse(&target.skill, Some(i)).unwrap(),
                requested,
            )
            .ok()
            .flatten()
            .is_some()
        })
        .collect();
    for other in others {
        printer.warn(format!(
            "{}@{other} keeps its old permissions; approve the new ones with `skill install <path> -i {other}`",
            target.skill
        ));
    }
    let manifest = &outcome.skill.manifest;
    let tools: Vec<&str> = manifest.tools.iter().map(|t| t.name.as_str()).collect();
    let what = match &outcome.previous {
        Some(previous) if previous != &manifest.version => {
            format!("{} {previous} → {}", manifest.name, manifest.version)
        }
        Some(_)
            if installed
                .as_ref()
                .is_some_and(|i| i.manifest.component.sha256 != manifest.component.sha256) =>
        {
            format!(
                "{} {} (replaced: a different component with the same version)",
                manifest.name, manifest.version
            )
        }
        Some(_) => format!("{} {} (reinstalled)", manifest.name, manifest.version),
        None => format!("{} {}", manifest.name, manifest.version),
    };
    printer.status(
        "Installed",
        format!(
            "{what} as {target}: {} tool{} ({})",
            tools.len(),
            if tools.len() == 1 { "" } else { "s" },
            tools.join(", ")
        ),
    );
    if let Some(name) = &args.shim {
        let name = if name.is_empty() { &target.skill } else { name };
        let link = super::shim::create(&home, &target, name, false)?;
        printer.status(
            "Created",
            format!("{} → skill exec {target}", link.display()),
        );
    }
    if json {
        println!("{}", serde_json::to_string_pretty(manifest)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Resolves the skill's `skill_dependencies` (newest compatible, shared, installed versions
/// kept) and installs what is missing, dependencies first, each reviewed like any install.
fn install_dependencies(
    ctx: &Context,
    printer: &Printer,
    home: &skill_store::SkillHome,
    yaml: &SkillYaml,
    args: &Args,
) -> anyhow::Result<()> {
    let registry = Registry::new(home.clone(), ctx.registry_config(args.registry.as_deref()))?;
    let mut installed = std::collections::BTreeMap::new();
    let mut versions = std::collections::BTreeMap::new();
    for skill in Store::new(home.clone()).list()? {
        let Ok(version) = skill_source::semver::Version::parse(&skill.manifest.version) else {
            continue;
        };
        let dependencies = skill_host::instances::installed_yaml(&skill)
            .map(|y| y.skill_dependencies)
            .unwrap_or_default();
        versions.insert(skill.manifest.name.clone(), version.clone());
        installed.insert(skill.manifest.name, (version, dependencies));
    }
    let mut catalog = RegistryCatalog {
        registry: &registry,
        installed,
    };
    let stage = printer.stage("Resolving", format!("the dependencies of {}", yaml.name));
    let resolution = deps::resolve(
        &yaml.name,
        &yaml.skill_dependencies,
        &versions,
        &mut catalog,
    );
    match &resolution {
        Ok(_) => {
            stage.done();
        }
        Err(_) => stage.fail(),
    }
    let resolution = resolution?;
    for warning in &resolution.warnings {
        printer.warn(warning);
    }
    for chosen in &resolution.skills {
        let name = &chosen.dependency.name;
        if chosen.installed {
            printer.detail(format!("{name} {} is installed", chosen.version));
            continue;
        }
        let source = format!(
            "oci://{}:{}",
            catalog.repository(&chosen.dependency)?,
            chosen.version
        );
        let mut dependency = Args::update(source, None, args.yes);
        dependency.no_deps = true;
        dependency.allow_unsigned = args.allow_unsigned;
        if let Err(e) = run(ctx, dependency) {
            if !chosen.dependency.optional {
                return Err(e);
            }
            printer.warn(format!("optional dependency {name} skipped: {e}"));
        }
    }
    Ok(())
}

/// Prepares an already built package, showing its warnings.
fn prepared(
    printer: &Printer,
    runtime: &Runtime,
    component: &Path,
    skill_yaml: &Path,
) -> anyhow::Result<Package> {
    let package = Package::from_files(runtime, component, skill_yaml)?;
    for warning in &package.warnings {
        printer.warn(warning);
    }
    Ok(package)
}

impl Args {
    /// What `skill sync` installs: exactly `source` (pinned), into `instance`, from wherever
    /// the skill came before (the lock file decides).
    pub fn sync(source: String, instance: String, yes: bool) -> Args {
        Args {
            replace: true,
            ..Args::update(source, Some(instance), yes)
        }
    }

    /// What `skill update` installs: `source` into an existing instance (else `default`).
    pub fn update(source: String, instance: Option<String>, yes: bool) -> Args {
        Args {
            source,
            instance,
            yes,
            json: false,
            registry: None,
            allow_unsigned: false,
            replace: false,
            no_deps: false,
            shim: None,
        }
    }
}

/// Fetches a git source and checks its commit out (in the git cache); the origin records the
/// commit. Building it is the caller's: after the review, like any project.
fn fetched(
    printer: &Printer,
    home: &skill_store::SkillHome,
    source: &str,
) -> anyhow::Result<(git::Checkout, Origin)> {
    let parsed = GitSource::parse(source)?;
    let stage = printer.stage("Fetching", parsed.to_string());
    let checkout = match GitCache::new(home).fetch(&parsed) {
        Ok(checkout) => {
            stage.done();
            checkout
        }
        Err(e) => {
            stage.fail();
            return Err(e.into());
        }
    };
    git::check_project(&checkout, &parsed)?;
    printer.detail(format!(
        "commit {} checked out in {}",
        checkout.commit,
        checkout.root.display()
    ));
    let pinned = GitSource {
        reference: Some(checkout.commit.clone()),
        ..parsed
    };
    let origin = Origin {
        source: pinned.to_string(),
        requested: source.to_string(),
        digest: None,
        commit: Some(checkout.commit.clone()),
    };
    Ok((checkout, origin))
}

/// Resolves and pulls `args.source` from its registry, every blob verified before use, and
/// prepares it like a built local package (contract check, its own description).
fn pulled(
    ctx: &Context,
    printer: &Printer,
    runtime: &Runtime,
    home: &skill_store::SkillHome,
    args: &Args,
) -> anyhow::Result<(Package, Origin)> {
    let found = resolve(
        ctx,
        printer,
        home,
        &args.source,
        args.registry.as_deref(),
        args.allow_unsigned,
    )?;
    fetch(printer, runtime, &found, &args.source)
}

/// A registry version found and, where a trust policy asks, its signature verified.
pub(super) struct Found {
    pub registry: Registry,
    pub request: Request,
    pub resolved: skill_source::Resolved,
}

/// Resolves `source` (NAME[@REQ] or oci://…) to one manifest and checks its signature when
/// a trust policy covers it; nothing is downloaded but the manifest (and signatures).
pub(super) fn resolve(
    ctx: &Context,
    printer: &Printer,
    home: &skill_store::SkillHome,
    source: &str,
    registry_flag: Option<&str>,
    allow_unsigned: bool,
) -> anyhow::Result<Found> {
    let config = ctx.registry_config(registry_flag);
    let request = Request::parse(source, &config)?;
    let registry = Registry::new(home.clone(), config)?;
    let stage = printer.stage("Resolving", request.to_string());
    let resolved = match registry.resolve(&request) {
        Ok(resolved) => {
            stage.done();
            resolved
        }
        Err(e) => {
            stage.fail();
            return Err(e.into());
        }
    };
    verify_signature(printer, home, &registry, &resolved, allow_unsigned)?;
    Ok(Found {
        registry,
        request,
        resolved,
    })
}

/// Downloads a found version (verified blob by blob) and prepares it: the component checked
/// against the contract and describing itself, and agreeing with what its listing says.
pub(super) fn fetch(
    printer: &Printer,
    runtime: &Runtime,
    found: &Found,
    source: &str,
) -> anyhow::Result<(Package, Origin)> {
    let Found {
        registry,
        request,
        resolved,
    } = found;
    let total = resolved
        .image
        .layers
        .iter()
        .map(|l| l.size.max(0) as u64)
        .sum();
    let shown_as = match &resolved.tag {
        Some(tag) => format!("{}:{tag}", resolved.repository),
        None => format!("{}@{}", resolved.repository, resolved.digest),
    };
    let transfer = printer.transfer("Pulling", &shown_as, total);
    let artifact = registry.pull(resolved, &|n| transfer.advance(n));
    transfer.finish(artifact.is_ok());
    let artifact = artifact?;
    let mut package = match artifact.skill_yaml {
        Some(text) => {
            let yaml = SkillYaml::parse(&text)?;
            Package::prepare(runtime, artifact.component, text, yaml)?
        }
        None => {
            printer.warn(format!(
                "{shown_as} has no skill.yaml (published by another tool): it is installed from the component alone, asking for no permissions and no config"
            ));
            Package::from_component(runtime, artifact.component)?
        }
    };
    if let Some(text) = artifact.skill_md {
        package.attach_foreign_skill_md(text);
        for warning in package.warnings.iter().filter(|w| w.contains("SKILL.md")) {
            printer.warn(warning);
        }
    }
    let manifest = &package.manifest;
    // What a registry listing shows (manifest.json, the tag) must be what the component is.
    if let Some(published) = &artifact.manifest_json {
        let published = skill_manifest::manifest::PackageManifest::parse(
            published,
            Path::new("manifest.json"),
        )?;
        if published.tools != manifest.tools
            || published.name != manifest.name
            || published.version != manifest.version
        {
            return Err(Error::contract(format!(
                "{shown_as}: its manifest.json does not describe its component (the tools or version differ)"
            ))
            .with_hint("the artifact was assembled wrongly or changed after publishing; nothing was installed")
            .into());
        }
    }
    // A semver tag names its version, whether chosen by a requirement or given.
    if let Some(tag) = &resolved.tag
        && (matches!(request.pick, skill_source::Pick::Newest(_))
            || skill_source::semver::Version::parse(tag).is_ok())
        && *tag != manifest.version
    {
        return Err(Error::contract(format!(
            "{shown_as} holds {} {}, not version {tag}",
            manifest.name, manifest.version
        ))
        .with_hint("the tag was pushed by hand over another version; nothing was installed")
        .into());
    }
    if !source.starts_with("oci://") && manifest.name != request.repository.name() {
        return Err(Error::contract(format!(
            "{} holds a skill named `{}`, not `{}`",
            request.repository,
            manifest.name,
            request.repository.name()
        ))
        .with_hint("nothing was installed; install it by its full oci:// reference if that is what you want")
        .into());
    }
    for warning in &package.warnings {
        printer.warn(warning);
    }
    let origin = Origin {
        source: resolved.pinned(),
        requested: source.to_string(),
        digest: Some(resolved.digest.clone()),
        commit: None,
    };
    Ok((package, origin))
}

/// Where a trust policy covers the repository, a valid signature by one of its keys is
/// required before anything is downloaded (`--allow-unsigned` overrides, loudly).
fn verify_signature(
    printer: &Printer,
    home: &skill_store::SkillHome,
    registry: &Registry,
    resolved: &skill_source::Resolved,
    allow_unsigned: bool,
) -> anyhow::Result<()> {
    let repository = resolved.repository.to_string();
    let Some(policy) = skill_store::trust::Trust::new(home.clone()).policy_for(&repository)? else {
        return Ok(());
    };
    let signatures = registry.signatures(resolved)?;
    match skill_source::sign::first_valid(&policy.keys, &signatures, &resolved.digest) {
        Some(key) => {
            printer.status(
                "Verified",
                format!("{repository}@{} is signed by `{key}`", resolved.digest),
            );
            Ok(())
        }
        None => {
            let what = if signatures.is_empty() {
                "is not signed"
            } else {
                "has no valid signature by a trusted key"
            };
            let keys: Vec<&str> = policy.keys.iter().map(|k| k.name.as_str()).collect();
            if allow_unsigned {
                printer.warn(format!(
                    "{repository}@{} {what}; installing anyway (--allow-unsigned): nobody you trust vouched for this code",
                    resolved.digest
                ));
                return Ok(());
            }
            Err(Error::denied(format!(
                "{repository}@{} {what}, and {} requires a signature by {}",
                resolved.digest,
                policy.scope,
                keys.join(" or ")
            ))
            .with_hint("nothing was downloaded; ask the publisher to sign it (`skill publish --sign KEY`), or pass --allow-unsigned if you accept the risk")
            .into())
        }
    }
}

/// `oci://REGISTRY/PATH@sha256:…` → `REGISTRY/PATH`.
/// The repository a recorded source came from: `REGISTRY/PATH` of `oci://…@sha256:…`, or
/// `URL[//SUBDIR]` of a git source pinned to its commit; `None` for a path.
pub(super) fn repository_of(source: &str) -> Option<&str> {
    if git::is_url(source) {
        return Some(
            source
                .rsplit_once('#')
                .map_or(source, |(repository, _)| repository),
        );
    }
    let pinned = source.strip_prefix("oci://")?;
    Some(
        pinned
            .split_once('@')
            .map_or(pinned, |(repository, _)| repository),
    )
}

/// A skill installed from a registry repository is replaced only from that repository,
/// unless `--replace` says otherwise: anything else could put unsigned code (another
/// registry, another namespace, a local directory) behind instances that trusted the first.
fn check_same_source(
    installed: &skill_store::store::InstalledSkill,
    origin: &Origin,
    replace: bool,
) -> anyhow::Result<()> {
    let Some(old) = installed
        .origin
        .as_ref()
        .and_then(|o| repository_of(&o.source))
    else {
        return Ok(());
    };
    if replace || repository_of(&origin.source) == Some(old) {
        return Ok(());
    }
    let name = &installed.manifest.name;
    Err(Error::new(
        skill_engine::ErrorKind::Conflict,
        format!(
            "{name} is installed from {old}; {} is another source",
            crate::ui::shown(&origin.source)
        ),
    )
    .with_hint(format!(
        "pass --replace to install it from there instead (its instances keep their config, secrets and grants and will run the new code), or `skill remove {name}` first"
    ))
    .into())
}
