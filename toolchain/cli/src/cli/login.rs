use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use skill_engine::{Error, ErrorKind};
use skill_source::Registry;
use skill_source::auth::RegistryAuth;
use skill_store::credentials::{Credential, Credentials};

use super::Context;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
The credential is checked with the registry, then stored encrypted in $SKILL_HOME (never in
plain text). Without one, skill also reads Docker's config.json (auths and credential helpers).

Examples:
  skill login ghcr.io -u alice            Asks for the password (or a token) in a terminal
  echo \"$TOKEN\" | skill login ghcr.io -u alice --password-stdin")]
pub struct LoginArgs {
    /// The registry, HOST[:PORT] (default: the host of the default registry setting)
    registry: Option<String>,

    /// The user name
    #[arg(short, long)]
    username: Option<String>,

    /// Read the password (or token) from stdin: never pass it as an argument
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Debug, clap::Args)]
pub struct LogoutArgs {
    /// The registry, HOST[:PORT] (default: the host of the default registry setting)
    registry: Option<String>,
}

/// `HOST[:PORT]` named on the command line, else the default registry's host.
fn registry_host(ctx: &Context, given: Option<String>) -> anyhow::Result<String> {
    let host = match given {
        Some(given) => given
            .strip_prefix("oci://")
            .unwrap_or(&given)
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string(),
        None => ctx
            .registry_config(None)
            .default
            .map(|d| d.split('/').next().unwrap_or_default().to_string())
            .ok_or_else(|| {
                Error::invalid("which registry? none was named and no default is set")
                    .with_hint("`skill login HOST[:PORT]`, or set `[registry] default` in $SKILL_HOME/config.toml")
            })?,
    };
    // Checked and spelled the way everything else compares registries.
    Ok(skill_source::reference::normalize_registry(&host)?)
}

pub fn login(ctx: &Context, args: LoginArgs) -> anyhow::Result<ExitCode> {
    let home = ctx.home()?;
    let registry = registry_host(ctx, args.registry)?;
    let terminal = std::io::stdin().is_terminal() && console::Term::stderr().is_term();
    let username = match args.username {
        Some(u) => u,
        None if terminal && !args.password_stdin => {
            eprint!("Username for {registry}: ");
            console::Term::stderr().read_line()?
        }
        None => {
            return Err(Error::invalid("no user name given")
                .with_hint("pass -u USER")
                .into());
        }
    };
    let password = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin().take(64 << 10).read_to_string(&mut text)?;
        text.trim_end_matches(['\n', '\r']).to_string()
    } else if terminal {
        eprint!("Password for {username}@{registry}: ");
        console::Term::stderr().read_secure_line()?
    } else {
        return Err(
            Error::invalid("no password given, and there is no terminal to ask in")
                .with_hint("pipe it in: `… | skill login REGISTRY -u USER --password-stdin`")
                .into(),
        );
    };
    if username.is_empty() || password.is_empty() {
        return Err(
            Error::invalid("the user name and the password must not be empty")
                .with_hint("for anonymous pulls no login is needed")
                .into(),
        );
    }
    let client = Registry::new(home.clone(), ctx.registry_config(None))?;
    client
        .check_login(
            &registry,
            &RegistryAuth::Basic(username.clone(), password.clone()),
        )
        .map_err(|e| {
            if e.kind() == ErrorKind::PermissionDenied {
                Error::denied(format!(
                    "{registry} refused the credential for `{username}`"
                ))
                .with_hint("check the user name and password (or token); nothing was stored")
            } else {
                e
            }
        })?;
    Credentials::new(home).set(&registry, Credential { username, password })?;
    ctx.printer.status("Logged in", format!("to {registry}"));
    Ok(ExitCode::SUCCESS)
}

pub fn logout(ctx: &Context, args: LogoutArgs) -> anyhow::Result<ExitCode> {
    let home = ctx.home()?;
    let registry = registry_host(ctx, args.registry)?;
    if Credentials::new(home).remove(&registry)? {
        ctx.printer.status("Logged out", format!("of {registry}"));
    } else {
        ctx.printer
            .note(format!("not logged in to {registry}; nothing to forget"));
    }
    Ok(ExitCode::SUCCESS)
}
