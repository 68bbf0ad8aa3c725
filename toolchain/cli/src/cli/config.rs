use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use skill_engine::{CallOptions, Error, Runtime, SkillHome};
use skill_manifest::config::{ConfigField, ConfigSchema};
use skill_store::instance::Instances;
use skill_store::store::{InstalledSkill, Store};

use super::Context;
use skill_host::instances::{
    InstanceRef, Validator, export_toml, installed_yaml, parse_toml, replace_values,
    require_instance, set_limits, set_values, split_assignment,
};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
With no flags in a terminal, asks for each value the skill declares (a wizard); otherwise
prints the config (--show). Secret values are stored encrypted and never printed: give them
as `--set KEY` and type them (or pipe them on stdin), not on the command line.

Examples:
  skill config aws@prod --set region=eu-west-1 --set token
  skill config aws@prod --export > prod.toml
  skill config aws@staging --import prod.toml
  skill config aws@prod --limit timeout=60s --limit memory=512MiB")]
pub struct Args {
    /// The instance to configure
    #[arg(value_name = "SKILL[@INSTANCE]")]
    target: String,

    /// The instance (same as SKILL@INSTANCE)
    #[arg(short, long)]
    instance: Option<String>,

    /// Set KEY to VALUE; `--set KEY` alone reads the value (hidden in a terminal, else one line of stdin)
    #[arg(long, value_name = "KEY[=VALUE]")]
    set: Vec<String>,

    /// Remove KEY's value (its default applies again)
    #[arg(long, value_name = "KEY")]
    unset: Vec<String>,

    /// Print one value (secrets only with --reveal)
    #[arg(long, value_name = "KEY", conflicts_with_all = ["set", "unset", "show", "export", "import", "edit"])]
    get: Option<String>,

    /// Print every value, secrets redacted
    #[arg(long)]
    show: bool,

    /// Print the config as TOML (secrets left out unless --reveal)
    #[arg(long, conflicts_with_all = ["set", "unset", "show", "import", "edit"])]
    export: bool,

    /// Replace the config with the values in a TOML file (`-` for stdin); secrets not in the
    /// file are kept
    #[arg(long, value_name = "FILE", conflicts_with_all = ["set", "unset", "edit"])]
    import: Option<PathBuf>,

    /// Edit the config in $EDITOR; an invalid result is rejected and the old config kept
    #[arg(long, conflicts_with_all = ["set", "unset"])]
    edit: bool,

    /// Override a limit for this instance: timeout=30s, memory=512MiB, output=4MiB
    #[arg(long, value_name = "LIMIT=VALUE")]
    limit: Vec<String>,

    /// Include secret values in --get and --export
    #[arg(long)]
    reveal: bool,

    /// With --show: print JSON
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let json = args.json || ctx.output_json;
    let home = ctx.home()?;
    let r = InstanceRef::parse(&args.target, args.instance.as_deref())?;
    let skill = Store::new(home.clone()).get(&r.skill)?;
    require_instance(&home, &r)?;
    let schema = installed_yaml(&skill)?.config;
    let instances = Instances::new(home.clone());
    let validator = GuestValidator {
        home: &home,
        skill: &skill,
    };
    let validate: Validator = &|config| validator.check(config);

    if let Some(key) = &args.get {
        let state = instances.load(&r.skill, &r.instance)?;
        let config = state.effective_config(&schema);
        let value = config.get(key).ok_or_else(|| {
            if schema.is_empty() || schema.contains_key(key) {
                Error::not_found(format!("`{key}` is not set for {r}"))
                    .with_hint(format!("set it with `skill config {r} --set {key}=...`"))
            } else {
                skill_store::instance::unknown_key(&schema, key)
            }
        })?;
        if state.secrets.contains_key(key) && !args.reveal {
            return Err(Error::invalid(format!("`{key}` is a secret"))
                .with_hint("add --reveal to print it")
                .into());
        }
        println!("{value}");
        return Ok(ExitCode::SUCCESS);
    }
    if args.export {
        let state = instances.load(&r.skill, &r.instance)?;
        print!("{}", export_toml(&state, &schema, &r, args.reveal));
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(file) = &args.import {
        let (text, origin) = if file.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            (text, "stdin".to_string())
        } else {
            let text = std::fs::read_to_string(file).map_err(|e| Error::io("read", file, e))?;
            (text, file.display().to_string())
        };
        let values = parse_toml(&text, &origin)?;
        replace_values(&home, &r, &schema, &values, true, "import", validate)?;
        ctx.printer
            .status("Imported", format!("{} value(s) into {r}", values.len()));
        return Ok(ExitCode::SUCCESS);
    }
    if args.edit {
        edit(ctx, &home, &r, &schema, validate)?;
        return Ok(ExitCode::SUCCESS);
    }

    let mut changed = false;
    if !args.limit.is_empty() {
        let limits: Vec<(String, String)> = args
            .limit
            .iter()
            .map(|l| match split_assignment(l) {
                (k, Some(v)) => Ok((k.to_string(), v.to_string())),
                (k, None) => Err(Error::invalid(format!("--limit {k} needs a value"))
                    .with_hint("e.g. --limit timeout=30s")),
            })
            .collect::<Result<_, _>>()?;
        set_limits(&home, &r, &limits)?;
        ctx.printer
            .status("Limits", format!("{r}: {}", args.limit.join(", ")));
        changed = true;
    }
    if !args.set.is_empty() || !args.unset.is_empty() {
        let mut values = Vec::new();
        for item in &args.set {
            let (key, value) = split_assignment(item);
            let field = schema.get(key);
            let value = match value {
                Some(v) => {
                    if field.is_some_and(|f| f.secret) {
                        ctx.printer.warn(format!(
                            "the secret `{key}` was given on the command line, where shell history and process lists can see it; next time use `--set {key}` and type it"
                        ));
                    }
                    v.to_string()
                }
                None => read_value(key, field)?,
            };
            values.push((key.to_string(), value));
        }
        let keys = set_values(&home, &r, &schema, &values, &args.unset, validate)?;
        ctx.printer
            .status("Configured", format!("{r}: {}", keys.join(", ")));
        changed = true;
    }
    if changed && !args.show {
        return Ok(ExitCode::SUCCESS);
    }
    if !args.show && !changed && std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        wizard(ctx, &home, &r, &schema, validate)?;
        return Ok(ExitCode::SUCCESS);
    }
    show(&instances, &r, &schema, json, ctx.printer.is_quiet())?;
    Ok(ExitCode::SUCCESS)
}

/// Asks the skill itself whether a complete config is acceptable.
struct GuestValidator<'a> {
    home: &'a SkillHome,
    skill: &'a InstalledSkill,
}

impl GuestValidator<'_> {
    fn check(&self, config: &BTreeMap<String, String>) -> skill_engine::Result<()> {
        let runtime = Runtime::new(self.home)?;
        let loaded = runtime.load_installed(
            &self.skill.component_path(),
            &self.skill.manifest.component.sha256,
        )?;
        loaded
            .validate_config(config, &CallOptions::default())?
            .map_err(|why| {
                Error::invalid(format!(
                    "{} rejected the config: {why}",
                    self.skill.manifest.name
                ))
                .with_hint("nothing was changed")
            })
    }
}

fn show(
    instances: &Instances,
    r: &InstanceRef,
    schema: &ConfigSchema,
    json: bool,
    terse: bool,
) -> anyhow::Result<()> {
    let state = instances.load(&r.skill, &r.instance)?;
    let mut keys: Vec<&String> = schema.keys().collect();
    for key in state.config.keys().chain(state.secrets.keys()) {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let rows: Vec<serde_json::Value> = keys
        .iter()
        .map(|key| {
            let field = schema.get(*key);
            let secret = state.secrets.contains_key(*key) || field.is_some_and(|f| f.secret);
            let (value, source) = match state.value(key) {
                Some(_) if secret => (Some("********".to_string()), "set"),
                Some(v) => (Some(v.clone()), "set"),
                None => match field.and_then(ConfigField::default_text) {
                    Some(d) => (Some(d), "default"),
                    None if field.is_some_and(|f| f.required) => (None, "missing"),
                    None => (None, "unset"),
                },
            };
            serde_json::json!({ "key": key, "value": value, "source": source, "secret": secret })
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if rows.is_empty() {
        if !terse {
            eprintln!("{r} has no config (the skill declares none).");
        }
        return Ok(());
    }
    if terse {
        for row in &rows {
            let value = row["value"].as_str().unwrap_or("");
            println!("{}={value}", row["key"].as_str().unwrap_or(""));
        }
        return Ok(());
    }
    let width = keys.iter().map(|k| k.len()).max().unwrap_or(0);
    for row in rows {
        let value = row["value"].as_str().unwrap_or("");
        let source = row["source"].as_str().unwrap_or("");
        let note = match source {
            "set" => String::new(),
            "missing" => "(required, not set)".to_string(),
            other => format!("({other})"),
        };
        println!(
            "{:<width$}  {}",
            row["key"].as_str().unwrap_or(""),
            format!("{value} {note}").trim()
        );
    }
    Ok(())
}

/// One value that was not given on the command line: typed (hidden for secrets) or piped.
fn read_value(key: &str, field: Option<&ConfigField>) -> skill_engine::Result<String> {
    let term = console::Term::stderr();
    if std::io::stdin().is_terminal() && term.is_term() {
        eprint!("{key}: ");
        let line = if field.is_some_and(|f| f.secret) {
            term.read_secure_line()
        } else {
            term.read_line()
        };
        return line.map_err(|e| Error::invalid(format!("could not read `{key}`: {e}")));
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Error::invalid(format!("could not read `{key}` from stdin: {e}")))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Asks for every declared value; Enter keeps the current one (or the default).
fn wizard(
    ctx: &Context,
    home: &SkillHome,
    r: &InstanceRef,
    schema: &ConfigSchema,
    validate: Validator,
) -> anyhow::Result<()> {
    if schema.is_empty() {
        eprintln!(
            "{} declares no config; set free-form values with `skill config {r} --set KEY=VALUE`.",
            r.skill
        );
        return Ok(());
    }
    let state = Instances::new(home.clone()).load(&r.skill, &r.instance)?;
    let term = console::Term::stderr();
    eprintln!("Configuring {r} (Enter keeps the value in brackets).");
    let mut values = Vec::new();
    for (key, field) in schema {
        let current = match (state.value(key), field.secret) {
            (Some(_), true) => Some("keep secret".to_string()),
            (Some(v), false) => Some(v.clone()),
            (None, _) => field.default_text(),
        };
        loop {
            let about = field.description.clone().unwrap_or_default();
            eprint!(
                "{key}{}{} ({}{}){}: ",
                if about.is_empty() { "" } else { " — " },
                about,
                field.kind.as_str(),
                if field.required { ", required" } else { "" },
                current
                    .as_ref()
                    .map(|c| format!(" [{c}]"))
                    .unwrap_or_default()
            );
            let answer = if field.secret {
                term.read_secure_line()?
            } else {
                term.read_line()?
            };
            if answer.is_empty() {
                if current.is_none() && field.required {
                    eprintln!("  {key} is required");
                    continue;
                }
                break;
            }
            match field.check(key, &answer) {
                Ok(_) => {
                    values.push((key.clone(), answer));
                    break;
                }
                Err(e) => eprintln!("  {e}"),
            }
        }
    }
    let keys = set_values(home, r, schema, &values, &[], validate)?;
    ctx.printer.status(
        "Configured",
        if keys.is_empty() {
            format!("{r}: nothing changed")
        } else {
            format!("{r}: {}", keys.join(", "))
        },
    );
    Ok(())
}

/// Opens the non-secret values in $EDITOR as TOML; applies them only if they check out.
fn edit(
    ctx: &Context,
    home: &SkillHome,
    r: &InstanceRef,
    schema: &ConfigSchema,
    validate: Validator,
) -> anyhow::Result<()> {
    let state = Instances::new(home.clone()).load(&r.skill, &r.instance)?;
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .map_err(|_| {
            Error::invalid("neither $VISUAL nor $EDITOR is set")
                .with_hint("set EDITOR (e.g. `export EDITOR=nano`), or use --set / --import")
        })?;
    let file = tempfile::Builder::new()
        .prefix("skill-config-")
        .suffix(".toml")
        .tempfile()?;
    std::fs::write(file.path(), export_toml(&state, schema, r, false))?;
    // EDITOR may carry arguments (`code --wait`).
    let mut words = editor.split_whitespace();
    let program = words.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(words)
        .arg(file.path())
        .status()
        .map_err(|e| Error::invalid(format!("could not start the editor `{editor}`: {e}")))?;
    if !status.success() {
        return Err(
            Error::invalid(format!("the editor exited with {status}; nothing changed")).into(),
        );
    }
    let text = std::fs::read_to_string(file.path())?;
    let values = parse_toml(&text, "the edited config")
        .map_err(|e| Error::invalid(format!("{}; the old config is kept", e.message())))?;
    replace_values(home, r, schema, &values, true, "edit", validate).map_err(|e| {
        let hint = e.hint().map(str::to_string);
        let err = Error::invalid(format!("{}; the old config is kept", e.message()));
        match hint {
            Some(h) => err.with_hint(h),
            None => err,
        }
    })?;
    ctx.printer.status("Configured", format!("{r} (edited)"));
    Ok(())
}
