use std::path::PathBuf;
use std::process::ExitCode;

use skill_engine::Error;
use skill_store::trust::{SigningKeys, Trust, TrustedKey};

use super::Context;

#[derive(Debug, clap::Args)]
pub struct KeyArgs {
    #[command(subcommand)]
    command: KeyCommand,
}

#[derive(Debug, clap::Subcommand)]
enum KeyCommand {
    /// Make a signing key pair: the private key stays in $SKILL_HOME (encrypted), the public
    /// key (PEM) is written for others to trust (`skill trust add`, or `cosign verify --key`)
    Generate {
        /// The key's name (`skill publish --sign NAME`)
        name: String,
        /// Also write the public key to this directory as NAME.pub
        #[arg(short, long, value_name = "DIR")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
#[command(after_help = "\
A scope is a registry (HOST[:PORT]) or a namespace in one (HOST[:PORT]/PATH); the longest scope
containing a repository governs it. Installs from a governed repository must carry a valid
cosign signature by one of the scope's keys (`skill install --allow-unsigned` overrides).

Examples:
  skill trust add ghcr.io/acme acme.pub     Require acme's signature for ghcr.io/acme/*
  skill trust list
  skill trust remove ghcr.io/acme           Drop the policy (or --name KEY for one key)")]
pub struct TrustArgs {
    #[command(subcommand)]
    command: TrustCommand,
}

#[derive(Debug, clap::Subcommand)]
enum TrustCommand {
    /// Trust a public key (PEM) for a registry or namespace
    Add {
        scope: String,
        /// The public key file (from `skill key generate`, or a cosign.pub)
        key: PathBuf,
        /// The name it is shown by (default: the file name without extension)
        #[arg(long)]
        name: Option<String>,
    },
    /// Show every scope and its keys
    List {
        /// Print JSON on stdout
        #[arg(long)]
        json: bool,
    },
    /// Stop trusting a scope's keys (all of them, or --name KEY)
    Remove {
        scope: String,
        #[arg(long)]
        name: Option<String>,
    },
}

pub fn key(ctx: &Context, args: KeyArgs) -> anyhow::Result<ExitCode> {
    let home = ctx.home()?;
    match args.command {
        KeyCommand::Generate { name, output } => {
            let (private, public) = skill_source::sign::generate()?;
            let stored = SigningKeys::new(home).create(&name, &private, &public)?;
            let written = match output {
                Some(dir) => {
                    let path = dir.join(format!("{name}.pub"));
                    std::fs::write(&path, &public).map_err(|e| Error::io("write", &path, e))?;
                    path
                }
                None => stored,
            };
            ctx.printer.status(
                "Generated",
                format!("signing key `{name}`; sign with `skill publish --sign {name}`"),
            );
            println!("{}", written.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn trust(ctx: &Context, args: TrustArgs) -> anyhow::Result<ExitCode> {
    let trust = Trust::new(ctx.home()?);
    match args.command {
        TrustCommand::Add { scope, key, name } => {
            let scope = check_scope(&scope)?;
            let pem = skill_manifest::manifest::read_text(&key, 64 << 10)?;
            skill_source::sign::parse_public(&pem, &key.display().to_string())?;
            let name = match name {
                Some(name) => name,
                None => key
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "key".into()),
            };
            trust.add(
                &scope,
                TrustedKey {
                    name: name.clone(),
                    public_key: pem,
                },
            )?;
            ctx.printer.status(
                "Trusted",
                format!("`{name}` for {scope}: installs from there must be signed"),
            );
        }
        TrustCommand::List { json } => {
            let scopes = trust.list()?;
            if json || ctx.output_json {
                println!("{}", serde_json::to_string_pretty(&scopes)?);
            } else if scopes.is_empty() {
                ctx.printer
                    .note("No trust policy: signatures are not required anywhere.");
            } else {
                for scope in scopes {
                    let names: Vec<&str> = scope.keys.iter().map(|k| k.name.as_str()).collect();
                    println!("{}  {}", scope.scope, names.join(", "));
                }
            }
        }
        TrustCommand::Remove { scope, name } => {
            let scope = check_scope(&scope)?;
            match trust.remove(&scope, name.as_deref())? {
                0 => {
                    return Err(
                        Error::not_found(format!("no trusted key for {scope} matches"))
                            .with_hint("see `skill trust list`")
                            .into(),
                    );
                }
                n => ctx.printer.status(
                    "Removed",
                    format!("{n} key{} for {scope}", if n == 1 { "" } else { "s" }),
                ),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `HOST[:PORT][/PATH]`, checked like a reference (an `oci://` prefix is accepted).
fn check_scope(scope: &str) -> anyhow::Result<String> {
    let scope = scope
        .strip_prefix("oci://")
        .unwrap_or(scope)
        .trim_end_matches('/');
    let probe = if scope.contains('/') {
        format!("oci://{scope}")
    } else {
        format!("oci://{scope}/x")
    };
    skill_source::Request::parse(&probe, &Default::default())?;
    Ok(scope.to_string())
}
