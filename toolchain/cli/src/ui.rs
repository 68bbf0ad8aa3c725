//! All terminal output goes through here: cargo-style status lines and spinners on stderr,
//! results on stdout, errors rendered once with their hint. Text may come from a skill (names,
//! descriptions, messages, output), so control characters are shown, never sent: see
//! [`shown`].

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use console::style;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
pub use skill_build::progress::human_size;
use skill_engine::{ErrorKind, Remedy};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    /// Only errors (`-q`, and always with `--json` so stdout stays machine-readable).
    Quiet,
    Normal,
    Verbose,
}

#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub verbosity: Verbosity,
}

impl Printer {
    pub fn new(quiet: bool, verbose: bool) -> Self {
        let verbosity = if quiet {
            Verbosity::Quiet
        } else if verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        };
        Printer { verbosity }
    }

    /// With `--json`, stdout carries the report: progress and status lines are silenced.
    pub fn unless_json(self, json: bool) -> Self {
        if json {
            Printer::new(true, false)
        } else {
            self
        }
    }

    pub fn is_quiet(&self) -> bool {
        self.verbosity == Verbosity::Quiet
    }

    pub fn is_verbose(&self) -> bool {
        self.verbosity == Verbosity::Verbose
    }

    /// `   Compiling hello 0.1.0` — a right-aligned green verb, like cargo.
    pub fn status(&self, verb: &str, message: impl AsRef<str>) {
        if self.verbosity != Verbosity::Quiet {
            eprintln!(
                "{} {}",
                style(format!("{verb:>12}")).green().bold(),
                shown(message.as_ref())
            );
        }
    }

    pub fn warn(&self, message: impl AsRef<str>) {
        if self.verbosity != Verbosity::Quiet {
            eprintln!(
                "{} {}",
                style("warning:").yellow().bold(),
                shown(message.as_ref())
            );
        }
    }

    /// A remark that is not the result (e.g. "nothing installed"), silenced by `-q`.
    pub fn note(&self, message: impl AsRef<str>) {
        if self.verbosity != Verbosity::Quiet {
            eprintln!("{}", shown(message.as_ref()));
        }
    }

    pub fn detail(&self, message: impl AsRef<str>) {
        if self.verbosity == Verbosity::Verbose {
            eprintln!("{}", style(shown(message.as_ref())).dim());
        }
    }

    /// Starts a spinner for a long stage; it is hidden when stderr is not a terminal or in
    /// quiet mode. Finish it with [`Stage::done`].
    pub fn stage(&self, verb: &str, message: impl Into<String>) -> Stage {
        let message = message.into();
        let bar = if self.verbosity == Verbosity::Quiet || !std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
        } else {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner:.green} {prefix:>10.green.bold} {msg} {elapsed:.dim}",
                )
                .expect("valid template"),
            );
            bar.set_prefix(verb.to_string());
            bar.set_message(shown(&message).into_owned());
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        };
        Stage {
            bar,
            printer: *self,
            verb: verb.to_string(),
            message,
            started: Instant::now(),
        }
    }
}

/// A byte progress bar for a transfer (hidden when quiet or not on a terminal).
pub struct Transfer {
    bar: ProgressBar,
    printer: Printer,
    verb: String,
    message: String,
    started: Instant,
}

impl Transfer {
    /// Counts `bytes` more as moved.
    pub fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    /// Clears the bar; on success prints a status line with the size and time.
    pub fn finish(self, ok: bool) {
        self.bar.finish_and_clear();
        if ok && self.printer.verbosity != Verbosity::Quiet {
            eprintln!(
                "{} {} {}",
                style(format!("{:>12}", self.verb)).green().bold(),
                shown(&self.message),
                style(format!(
                    "{} in {:.2}s",
                    human_size(self.bar.position()),
                    self.started.elapsed().as_secs_f64()
                ))
                .dim()
            );
        }
    }
}

impl Printer {
    /// Starts a byte progress bar of `total` bytes.
    pub fn transfer(&self, verb: &str, message: &str, total: u64) -> Transfer {
        let bar = if self.verbosity == Verbosity::Quiet || !std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden())
        } else {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>12.green.bold} {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(verb.to_string());
            bar.set_message(shown(message).into_owned());
            bar
        };
        Transfer {
            bar,
            printer: *self,
            verb: verb.to_string(),
            message: message.to_string(),
            started: Instant::now(),
        }
    }
}

pub struct Stage {
    bar: ProgressBar,
    printer: Printer,
    verb: String,
    message: String,
    started: Instant,
}

impl Stage {
    /// A handle another thread can use to show what the stage is doing right now (e.g. the
    /// crate cargo is compiling).
    pub fn progress_handle(&self) -> impl Fn(&str) + Send + 'static {
        let bar = self.bar.clone();
        let message = self.message.clone();
        move |detail| bar.set_message(shown(&format!("{message} ({detail})")).into_owned())
    }

    /// Shows what the stage is doing right now; in verbose mode also prints it.
    pub fn set_detail(&self, detail: &str) {
        self.bar
            .set_message(shown(&format!("{} ({detail})", self.message)).into_owned());
        self.printer.detail(format!("  {detail}"));
    }

    /// Clears the spinner and prints a status line with the elapsed time.
    pub fn done(self) -> Duration {
        let elapsed = self.started.elapsed();
        self.bar.finish_and_clear();
        if self.printer.verbosity != Verbosity::Quiet {
            eprintln!(
                "{} {} {}",
                style(format!("{:>12}", self.verb)).green().bold(),
                shown(&self.message),
                style(format!("{:.2}s", elapsed.as_secs_f64())).dim()
            );
        }
        elapsed
    }

    /// Clears the spinner without a status line (the error says what happened).
    pub fn fail(self) {
        self.bar.finish_and_clear();
    }
}

/// Build work reports through the printer: spinners and status lines on stderr.
impl skill_build::progress::Progress for Printer {
    fn stage(&self, verb: &str, message: &str) -> Box<dyn skill_build::progress::Stage> {
        Box::new(Printer::stage(self, verb, message))
    }
    fn status(&self, verb: &str, message: &str) {
        Printer::status(self, verb, message)
    }
    fn warn(&self, message: &str) {
        Printer::warn(self, message)
    }
    fn detail(&self, message: &str) {
        Printer::detail(self, message)
    }
}

impl skill_build::progress::Stage for Stage {
    fn set_detail(&self, detail: &str) {
        Stage::set_detail(self, detail)
    }
    fn detail_handle(&self) -> Box<dyn Fn(&str) + Send + 'static> {
        Box::new(self.progress_handle())
    }
    fn done(self: Box<Self>) -> Duration {
        Stage::done(*self)
    }
    fn fail(self: Box<Self>) {
        Stage::fail(*self)
    }
}

/// Prints an error chain once: a tool's own diagnostics (as it wrote them, made safe for a
/// terminal), the message, its causes, and the first hint and remedy found.
pub fn render_error(err: &anyhow::Error) {
    let mut hint = None;
    let mut lines = Vec::new();
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<skill_engine::Error>() {
            hint = hint.or_else(|| hint_text(e));
            if let Some(details) = e.details() {
                eprintln!("{}", shown(details));
            }
        }
        let text = cause.to_string();
        // Contexts often repeat their cause; print each distinct piece once.
        if !lines.iter().any(|l: &String| l.contains(&text)) {
            lines.push(text);
        }
    }
    let mut lines = lines.into_iter();
    eprintln!(
        "{} {}",
        style("error:").red().bold(),
        shown(&lines.next().unwrap_or_default())
    );
    for cause in lines {
        eprintln!("  {} {}", style("caused by:").dim(), shown(&cause));
    }
    if let Some(hint) = hint {
        eprintln!("  {} {}", style("hint:").cyan().bold(), shown(&hint));
    }
}

/// An error's hint and its remedy said as commands of this CLI.
fn hint_text(e: &skill_engine::Error) -> Option<String> {
    let remedy = e.remedy().and_then(remedy_text);
    match (e.hint(), remedy) {
        (Some(hint), Some(remedy)) => Some(format!("{hint}; {remedy}")),
        (Some(hint), None) => Some(hint.to_string()),
        (None, remedy) => remedy,
    }
}

/// What to do about an error, as `skill` commands (a server says it otherwise: see
/// skill-serve's `hint` module).
fn remedy_text(remedy: &Remedy) -> Option<String> {
    Some(match remedy {
        Remedy::RaiseLimit {
            instance, limit, ..
        } if instance.is_empty() => match *limit {
            "timeout" => "raise it with --timeout if the tool needs longer".to_string(),
            _ => return None,
        },
        Remedy::RaiseLimit {
            instance,
            limit,
            suggested,
        } => format!(
            "{}raise it with `skill config {instance} --limit {limit}={suggested}`",
            if *limit == "timeout" {
                "pass --timeout for one call; "
            } else {
                ""
            }
        ),
        Remedy::SetConfig { instance, keys } => format!(
            "set {} with `skill config {instance} --set {}`",
            if keys.len() == 1 { "it" } else { "them" },
            keys.join(" --set ")
        ),
        Remedy::CreateInstance { instance } => {
            let name = instance
                .rsplit_once('@')
                .map_or(instance.as_str(), |(_, i)| i);
            format!("create it with `skill install <path> -i {name}`")
        }
        Remedy::Install => "install one with `skill install <path>`".to_string(),
        Remedy::Reinstall { skill } => format!(
            "reinstall the skill (`skill install <path>`) or remove it (`skill remove {skill}`)"
        ),
        Remedy::SetSecretsAgain => "set the secrets again with `skill config --set`".to_string(),
    })
}

/// The exit code for a failed command, by what went wrong (README, "Exit codes"): scripts
/// branch on it without parsing messages.
pub fn exit_code(err: &anyhow::Error) -> ExitCode {
    let kind = err
        .chain()
        .find_map(|c| c.downcast_ref::<skill_engine::Error>())
        .map(skill_engine::Error::kind);
    ExitCode::from(match kind {
        Some(ErrorKind::InvalidInput) => 2,
        Some(ErrorKind::NotFound) => 3,
        Some(ErrorKind::NotConfigured) => 4,
        Some(ErrorKind::PermissionDenied) => 5,
        Some(ErrorKind::Timeout | ErrorKind::MemoryLimit | ErrorKind::OutputLimit) => 6,
        Some(ErrorKind::Conflict) => 7,
        _ => 1,
    })
}

/// Text for a terminal: control characters (escape sequences, carriage returns, bidi
/// overrides) shown as `\e`, `\r`, `\u{202e}`... instead of acting on it. Newlines and tabs
/// stay. Everything that may hold a skill's words goes through this before it is printed.
pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    skill_manifest::text::escape(text, true)
}

/// Asks a yes/no question on stderr and reads the answer from stdin. End of input means no.
pub fn confirm(question: &str) -> bool {
    eprint!("{} [y/N] ", shown(question));
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).unwrap_or(0) == 0 {
        eprintln!();
        return false;
    }
    // A terminal echoed the answer and its newline; piped input did not: end the line.
    if !std::io::stdin().is_terminal() {
        eprintln!();
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}
