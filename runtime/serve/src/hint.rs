//! What a remote client reads as an error's hint. A client of the server cannot run `skill`
//! commands on it, so a [`Remedy`] becomes what the server's operator or the client itself can
//! do; the CLI renders the same remedies as commands.

use skill_engine::{Error, Remedy};

/// The error's plain hint and its remedy, for a REST or MCP client.
pub fn remote_hint(e: &Error) -> Option<String> {
    let remedy = e.remedy().map(remote_remedy);
    match (e.hint(), remedy) {
        (Some(hint), Some(remedy)) => Some(format!("{hint}; {remedy}")),
        (Some(hint), None) => Some(hint.to_string()),
        (None, remedy) => remedy,
    }
}

fn remote_remedy(remedy: &Remedy) -> String {
    match remedy {
        Remedy::RaiseLimit {
            limit: "timeout", ..
        } => "a call may lower the timeout, not raise it; the server's operator can raise the \
              instance's timeout limit"
            .to_string(),
        Remedy::RaiseLimit { limit, .. } => {
            format!("the server's operator can raise the instance's {limit} limit")
        }
        Remedy::SetConfig { instance, keys } => format!(
            "the server's operator must set {} for {instance} first",
            keys.join(", ")
        ),
        Remedy::CreateInstance { .. } => {
            "the server does not serve it; tools/list (MCP) or GET /api/v1/skills (REST) shows what it serves"
                .to_string()
        }
        Remedy::Install => "the server has no skills installed".to_string(),
        Remedy::Reinstall { skill } => {
            format!("the server's operator must reinstall or remove `{skill}`")
        }
        Remedy::SetSecretsAgain => {
            "the server's operator must set the instance's secrets again".to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_hints_name_no_cli_command() {
        let remedies = [
            Remedy::RaiseLimit {
                instance: "a@b".into(),
                limit: "timeout",
                suggested: "60s".into(),
            },
            Remedy::RaiseLimit {
                instance: "a@b".into(),
                limit: "memory",
                suggested: "256MiB".into(),
            },
            Remedy::SetConfig {
                instance: "a@b".into(),
                keys: vec!["token".into()],
            },
            Remedy::CreateInstance {
                instance: "a@b".into(),
            },
            Remedy::Install,
            Remedy::Reinstall { skill: "a".into() },
            Remedy::SetSecretsAgain,
        ];
        for remedy in remedies {
            let e = Error::invalid("x")
                .with_hint("plain")
                .with_remedy(remedy.clone());
            let hint = remote_hint(&e).unwrap();
            assert!(hint.starts_with("plain; "), "{hint}");
            assert!(
                !hint.contains("skill "),
                "{remedy:?} names a command: {hint}"
            );
            assert!(!hint.contains("--"), "{remedy:?} names a flag: {hint}");
        }
    }
}
