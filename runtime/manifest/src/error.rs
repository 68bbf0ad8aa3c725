//! One error type at the runtime's boundary: a kind (for exit codes and HTTP status later), a
//! one-line message, and an optional hint that tells the user what to do next.

use std::fmt;

/// What went wrong, for callers that branch on it: the CLI's exit code, REST's status, MCP's
/// error text. Every kind has a stable name ([`ErrorKind::as_str`]) that REST and `--json`
/// report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Unknown skill, instance or tool.
    NotFound,
    /// Bad input from the user: a file that is not wasm, an ill-typed argument, a bad manifest.
    InvalidInput,
    /// An instance that lacks required configuration (a key not set).
    NotConfigured,
    /// Refused by policy: a grant that can never be given, an origin or token not allowed.
    PermissionDenied,
    /// Something already there stands in the way (an existing name, a concurrent change).
    Conflict,
    /// A component that does not implement the skill contract.
    Contract,
    /// The tool ran and reported an error (`tool-error`).
    Tool,
    /// The guest trapped (crashed) or held too many host resources.
    Trap,
    /// The call did not finish within its time limit.
    Timeout,
    /// The guest tried to grow its memory beyond its limit.
    MemoryLimit,
    /// The guest wrote more output than its limit.
    OutputLimit,
    /// Filesystem trouble in the store or the cache.
    Io,
    /// Anything else (a bug in us, most likely).
    Internal,
}

impl ErrorKind {
    /// The kind's stable name: `not-found`, `invalid-input`, `timeout`...
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not-found",
            ErrorKind::InvalidInput => "invalid-input",
            ErrorKind::NotConfigured => "not-configured",
            ErrorKind::PermissionDenied => "permission-denied",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Contract => "contract",
            ErrorKind::Tool => "tool",
            ErrorKind::Trap => "trap",
            ErrorKind::Timeout => "timeout",
            ErrorKind::MemoryLimit => "memory-limit",
            ErrorKind::OutputLimit => "output-limit",
            ErrorKind::Io => "io",
            ErrorKind::Internal => "internal",
        }
    }
}

/// What the person can do about an error, as data: each edge says it in its own words. The
/// CLI names a command (`skill config aws@prod --limit timeout=60s`); a server tells its
/// client what the instance's owner can change. Hints that need no command stay plain text
/// ([`Error::hint`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// A call hit one of its instance's limits. `instance` (`skill@instance`) is empty when
    /// the call did not come from an instance (a build's test run); `suggested` is a value to
    /// raise it to (`60s`, `256MiB`).
    RaiseLimit {
        instance: String,
        limit: &'static str,
        suggested: String,
    },
    /// An instance lacks required configuration keys.
    SetConfig { instance: String, keys: Vec<String> },
    /// An instance does not exist; it is made by installing the skill again under its name.
    CreateInstance { instance: String },
    /// Nothing is installed yet.
    Install,
    /// The store's files of a skill changed behind its back: reinstall or remove it.
    Reinstall { skill: String },
    /// An instance's secrets cannot be decrypted; they must be set again.
    SetSecretsAgain,
}

#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    hint: Option<String>,
    remedy: Option<Box<Remedy>>,
    /// What a tool the host ran said about the failure (a compiler's diagnostics), shown
    /// as it is, before the message.
    details: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            remedy: None,
            details: None,
            source: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// Refused by policy, whatever the input: a grant that can never be given.
    pub fn denied(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::PermissionDenied, message)
    }

    pub fn contract(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Contract, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// An I/O failure on `path`, with the OS error kept as the source. A path that does not
    /// exist is [`ErrorKind::NotFound`]; anything else [`ErrorKind::Io`].
    pub fn io(action: &str, path: &std::path::Path, err: std::io::Error) -> Self {
        Error {
            kind: match err.kind() {
                std::io::ErrorKind::NotFound => ErrorKind::NotFound,
                _ => ErrorKind::Io,
            },
            message: format!("failed to {action} {}: {err}", path.display()),
            hint: None,
            remedy: None,
            details: None,
            source: Some(Box::new(err)),
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Attaches what the person can do, for the edge (CLI, server) to put in words.
    pub fn with_remedy(mut self, remedy: Remedy) -> Self {
        self.remedy = Some(Box::new(remedy));
        self
    }

    pub fn remedy(&self) -> Option<&Remedy> {
        self.remedy.as_deref()
    }

    /// Attaches a tool's own output about the failure (empty text attaches nothing).
    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        let details = details.into();
        if !details.trim().is_empty() {
            self.details = Some(details);
        }
        self
    }

    pub fn details(&self) -> Option<&str> {
        self.details.as_deref()
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Lists names for a "did you mean / what exists" hint: `a, b, c` or `(none)`.
pub fn list_or_none<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> String {
    let names: Vec<String> = names.into_iter().map(|s| s.as_ref().to_string()).collect();
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names.join(", ")
    }
}

/// The candidate closest to a mistyped `name`, if one is close enough to suggest.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `did you mean `x`? ` or nothing: a prefix for a hint.
pub fn suggestion<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(name, candidates)
        .map(|c| format!("did you mean `{c}`? "))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn close_names_are_suggested() {
        assert_eq!(super::did_you_mean("gret", ["greet", "add"]), Some("greet"));
        assert_eq!(super::did_you_mean("zzz", ["greet", "add"]), None);
        assert_eq!(
            super::suggestion("helo", ["hello"]),
            "did you mean `hello`? "
        );
    }
}
