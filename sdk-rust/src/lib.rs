//! Write skills — tools for AI agents — as WebAssembly components.
//!
//! ```no_run
//! use skill_sdk::tool;
//!
//! /// Greets someone by name.
//! #[tool]
//! fn greet(#[arg("Who to greet")] name: String) -> String {
//!     format!("Hello, {name}!")
//! }
//!
//! skill_sdk::export!(greet);
//! ```
//!
//! Parameter types decide the contract's `param-kind`: `String` → string, integers →
//! integer, `f64`/`f32` → number, `bool` → boolean, [`Json`] → any JSON; `Option<T>` makes a
//! parameter optional, `#[arg("...", default = 5)]` gives it a default (filled in by the host).
//! A tool returns anything [`IntoOutput`]: a `String`, an [`Output`](types::Output), `()`, or a
//! `Result` of those whose error is any `Display` type or a typed [`Error`].
//!
//! The skill's name, version and description come from `Cargo.toml`.

use std::fmt::Display;

pub use skill_sdk_macros::tool;

/// Bindings generated from the contract in `wit/`. Not hand-written, not for direct use.
#[doc(hidden)]
pub mod bindings {
    // The contract's world plus `wizer-initialize`, which `skill build` calls once at build
    // time (Wizer) and snapshots: whatever it sets up is already there in every instance.
    wit_bindgen::generate!({
        path: "../wit",
        inline: "
            package skill-engine:sdk-rust;
            world skill-guest {
                include skill-engine:skill/skill@0.3.0;
                export wizer-initialize: func();
            }
        ",
        world: "skill-engine:sdk-rust/skill-guest",
        generate_all,
        pub_export_macro: true,
        export_macro_name: "__export_skill_world",
        default_bindings_module: "::skill_sdk::bindings",
    });
}

/// The optional command export, `wasi:cli/run`, which `skill exec` runs: generated apart
/// from the skill's world so that only skills with a `main` export it (its own component-type
/// section; wit-component merges the two worlds). The interface comes from wit/deps.
#[doc(hidden)]
pub mod command_bindings {
    wit_bindgen::generate!({
        path: "../wit",
        inline: "
            package skill-engine:sdk-rust-command;
            world command {
                export wasi:cli/run@0.2.0;
            }
        ",
        world: "skill-engine:sdk-rust-command/command",
        pub_export_macro: true,
        export_macro_name: "__export_command_world",
        default_bindings_module: "::skill_sdk::command_bindings",
    });
}

/// What a skill's `main` may return: `()`, or a `Result` whose error is printed to stderr
/// (then `skill exec` exits with 1).
pub trait MainResult {
    /// Whether the command succeeded (an error is printed first).
    fn succeeded(self) -> bool;
}

impl MainResult for () {
    fn succeeded(self) -> bool {
        true
    }
}

impl<E: Display> MainResult for Result<(), E> {
    fn succeeded(self) -> bool {
        self.map_err(|e| eprintln!("error: {e}")).is_ok()
    }
}

/// Runs a skill's `main` and flushes stdout and stderr: returning from `wasi:cli/run` is not
/// a return from Rust's own `main`, so nothing else would flush what is still buffered (a
/// last line without a newline).
#[doc(hidden)]
pub fn __run_main<R: MainResult>(main: impl FnOnce() -> R) -> bool {
    use std::io::Write;
    let succeeded = main().succeeded();
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    succeeded
}

/// The contract's types.
pub mod types {
    pub use crate::bindings::skill_engine::skill::types::{
        Arg, LogLevel, Output, Param, ParamKind, SkillInfo, Tool, ToolAnnotations, ToolDetails,
        ToolError, Value,
    };
}

use types::{Arg, Output, Param, ParamKind, ToolError, Value};

/// Implemented by `#[tool]` for the struct it generates beside each tool function.
pub trait ToolFn {
    const NAME: &'static str;
    fn definition() -> types::Tool;
    /// Title, annotations and output schema (`#[tool(title = "...", read_only, ...)]`).
    fn details() -> types::ToolDetails;
    fn call(args: Args) -> Result<Output, ToolError>;
}

/// The arguments of one call, already checked by the host against the tool's parameters.
pub struct Args(Vec<Arg>);

impl Args {
    pub fn new(args: Vec<Arg>) -> Self {
        Args(args)
    }

    /// Removes and converts the argument `name`.
    pub fn take<T: FromArg>(&mut self, name: &str) -> Result<T, ToolError> {
        let value = self
            .0
            .iter()
            .position(|a| a.name == name)
            .map(|i| self.0.swap_remove(i).value);
        T::from_arg(value)
            .map_err(|why| ToolError::InvalidArgs(format!("argument `{name}`: {why}")))
    }
}

/// A Rust type a tool parameter can have.
pub trait FromArg: Sized {
    const KIND: ParamKind;
    const REQUIRED: bool = true;
    fn from_arg(value: Option<Value>) -> Result<Self, String>;
}

fn required(value: Option<Value>) -> Result<Value, String> {
    value.ok_or_else(|| "missing required argument".to_string())
}

fn wrong(expected: &str, got: &Value) -> String {
    let got = match got {
        Value::Text(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Number(_) => "a number",
        Value::Boolean(_) => "a boolean",
        Value::Json(_) => "JSON",
    };
    format!("expected {expected}, got {got}")
}

impl FromArg for String {
    const KIND: ParamKind = ParamKind::String;
    fn from_arg(value: Option<Value>) -> Result<Self, String> {
        match required(value)? {
            Value::Text(s) => Ok(s),
            other => Err(wrong("a string", &other)),
        }
    }
}

impl FromArg for bool {
    const KIND: ParamKind = ParamKind::Boolean;
    fn from_arg(value: Option<Value>) -> Result<Self, String> {
        match required(value)? {
            Value::Boolean(b) => Ok(b),
            other => Err(wrong("a boolean", &other)),
        }
    }
}

macro_rules! integer_arg {
    ($($t:ty),*) => {$(
        impl FromArg for $t {
            const KIND: ParamKind = ParamKind::Integer;
            fn from_arg(value: Option<Value>) -> Result<Self, String> {
                match required(value)? {
                    Value::Integer(i) => <$t>::try_from(i)
                        .map_err(|_| format!("{i} does not fit in {}", stringify!($t))),
                    other => Err(wrong("an integer", &other)),
                }
            }
        }
    )*};
}
integer_arg!(i64, i32, i16, i8, u64, u32, u16, u8, usize, isize);

impl FromArg for f64 {
    const KIND: ParamKind = ParamKind::Number;
    fn from_arg(value: Option<Value>) -> Result<Self, String> {
        match required(value)? {
            Value::Number(n) => Ok(n),
            Value::Integer(i) => Ok(i as f64),
            other => Err(wrong("a number", &other)),
        }
    }
}

impl FromArg for f32 {
    const KIND: ParamKind = ParamKind::Number;
    fn from_arg(value: Option<Value>) -> Result<Self, String> {
        f64::from_arg(value).map(|n| n as f32)
    }
}

/// Any JSON value (arrays, objects), as its serialized text. Parse it with the JSON library
/// of your choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Json(pub String);

impl FromArg for Json {
    const KIND: ParamKind = ParamKind::Json;
    fn from_arg(value: Option<Value>) -> Result<Self, String> {
        Ok(Json(match required(value)? {
            Value::Json(j) => j,
            Value::Text(s) => json_string(&s),
            Value::Integer(i) => i.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Boolean(b) => b.to_string(),
        }))
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl<T: FromArg> FromArg for Option<T> {
    const KIND: ParamKind = T::KIND;
    const REQUIRED: bool = false;
    fn from_arg(value: Option<Value>) -> Result<Self, String> {
        value.map(|v| T::from_arg(Some(v))).transpose()
    }
}

/// Used by `#[tool]` to declare a parameter of type `T`.
#[doc(hidden)]
pub fn __param<T: FromArg>(
    name: &str,
    description: &str,
    default: Option<&str>,
    choices: &[&str],
) -> Param {
    Param {
        name: name.to_string(),
        description: description.to_string(),
        kind: T::KIND,
        required: T::REQUIRED && default.is_none(),
        default_value: default.map(str::to_string),
        choices: choices.iter().map(|c| c.to_string()).collect(),
    }
}

/// A typed tool error: the host shows each kind differently (e.g. `not_configured` comes with
/// a hint to configure the instance).
///
/// ```no_run
/// use skill_sdk::{Error, tool};
///
/// /// Divides two numbers.
/// #[tool]
/// fn divide(a: f64, b: f64) -> Result<String, Error> {
///     if b == 0.0 {
///         return Err(Error::invalid_args("b must not be zero"));
///     }
///     let key = skill_sdk::config("api_key").ok_or_else(|| Error::not_configured("api_key is not set"))?;
///     if key.is_empty() {
///         return Err(Error::failed("the service refused the key"));
///     }
///     Ok((a / b).to_string())
/// }
/// # skill_sdk::export!(divide);
/// ```
#[derive(Debug, Clone)]
pub struct Error(ToolError);

impl Error {
    pub fn failed(message: impl Display) -> Self {
        Error(ToolError::Failed(message.to_string()))
    }
    pub fn invalid_args(message: impl Display) -> Self {
        Error(ToolError::InvalidArgs(message.to_string()))
    }
    pub fn not_configured(message: impl Display) -> Self {
        Error(ToolError::NotConfigured(message.to_string()))
    }
}

/// What a tool's error type becomes. Any `Display` error is a `failed` error; [`Error`] keeps
/// its kind.
pub trait IntoToolError {
    fn into_tool_error(self) -> ToolError;
}

impl<E: Display> IntoToolError for E {
    fn into_tool_error(self) -> ToolError {
        ToolError::Failed(self.to_string())
    }
}

impl IntoToolError for Error {
    fn into_tool_error(self) -> ToolError {
        self.0
    }
}

/// What a tool function may return.
pub trait IntoOutput {
    fn into_output(self) -> Result<Output, ToolError>;
}

impl IntoOutput for Output {
    fn into_output(self) -> Result<Output, ToolError> {
        Ok(self)
    }
}

impl IntoOutput for String {
    fn into_output(self) -> Result<Output, ToolError> {
        Ok(Output {
            text: self,
            data: None,
        })
    }
}

impl IntoOutput for &str {
    fn into_output(self) -> Result<Output, ToolError> {
        self.to_string().into_output()
    }
}

impl IntoOutput for () {
    fn into_output(self) -> Result<Output, ToolError> {
        String::new().into_output()
    }
}

impl<T: IntoOutput, E: IntoToolError> IntoOutput for Result<T, E> {
    fn into_output(self) -> Result<Output, ToolError> {
        self.map_err(IntoToolError::into_tool_error)?.into_output()
    }
}

/// An output with a machine-readable JSON result next to the text.
///
/// ```no_run
/// use skill_sdk::{tool, types::Output};
///
/// /// Counts words.
/// #[tool]
/// fn count(text: String) -> Output {
///     let n = text.split_whitespace().count();
///     skill_sdk::output_with_data(format!("{n} words"), format!("{{\"words\": {n}}}"))
/// }
/// # skill_sdk::export!(count);
/// ```
pub fn output_with_data(text: impl Into<String>, json: impl Into<String>) -> Output {
    Output {
        text: text.into(),
        data: Some(json.into()),
    }
}

/// A value of the current instance's configuration (`skill config`), if set: the instance's
/// own value, else the default from skill.yaml. Secrets are read the same way.
///
/// ```no_run
/// let region = skill_sdk::config("region").unwrap_or_else(|| "us-east-1".to_string());
/// ```
pub fn config(key: &str) -> Option<String> {
    bindings::skill_engine::skill::host::config_get(key)
}

/// Calls `tool` of another skill, one this skill lists in `skill_dependencies` (skill.yaml);
/// calls to any other skill are refused. The host runs it in that skill's own instance (the
/// one with this instance's name, else `default`) with its own config, permissions and
/// limits, and within what is left of this call's time. Arguments are checked against the
/// tool's parameters as for any call.
///
/// ```no_run
/// let counted = skill_sdk::call_tool("text-tools", "word-count", &[("text", "one two".into())])?;
/// skill_sdk::log::info(&counted.text);
/// # Ok::<(), skill_sdk::types::ToolError>(())
/// ```
pub fn call_tool(skill: &str, tool: &str, args: &[(&str, Value)]) -> Result<Output, ToolError> {
    let args: Vec<Arg> = args
        .iter()
        .map(|(name, value)| Arg {
            name: name.to_string(),
            value: value.clone(),
        })
        .collect();
    bindings::skill_engine::skill::host::call_tool(skill, tool, &args)
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Integer(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Integer(i.into())
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Boolean(b)
    }
}

impl From<Json> for Value {
    fn from(json: Json) -> Self {
        Value::Json(json.0)
    }
}

/// Reports progress (shown by the CLI, sent as MCP progress notifications).
///
/// ```no_run
/// for (i, page) in ["a", "b"].iter().enumerate() {
///     skill_sdk::progress(Some((i * 50) as u8), &format!("fetching page {page}"));
///     skill_sdk::log::debug(&format!("page {page}"));
/// }
/// ```
pub fn progress(percent: Option<u8>, message: &str) {
    bindings::skill_engine::skill::host::progress(percent, message)
}

/// Structured logging to the host (never stdout: the host captures that).
pub mod log {
    use crate::bindings::skill_engine::skill::host;
    use crate::types::LogLevel;

    pub fn trace(message: &str) {
        host::log(LogLevel::Trace, message)
    }
    pub fn debug(message: &str) {
        host::log(LogLevel::Debug, message)
    }
    pub fn info(message: &str) {
        host::log(LogLevel::Info, message)
    }
    pub fn warn(message: &str) {
        host::log(LogLevel::Warn, message)
    }
    pub fn error(message: &str) {
        host::log(LogLevel::Error, message)
    }
}

#[doc(hidden)]
#[doc(hidden)]
pub fn __info(
    name: &str,
    version: &str,
    description: &str,
    authors: &str,
    license: &str,
    repository: &str,
) -> types::SkillInfo {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    types::SkillInfo {
        name: name.to_string(),
        version: version.to_string(),
        description: description.to_string(),
        author: some(&authors.replace(':', ", ")),
        license: some(license),
        repository: some(repository),
    }
}

/// Exports the skill: its metadata (from Cargo.toml) and the listed tools.
///
/// ```no_run
/// use skill_sdk::tool;
///
/// /// Greets someone.
/// #[tool]
/// fn greet(name: String) -> String {
///     format!("Hello, {name}!")
/// }
///
/// fn check_config(config: &[(String, String)]) -> Result<(), String> {
///     match config.iter().find(|(k, _)| k == "retries") {
///         Some((_, v)) if v.parse::<u8>().is_err() => Err("retries must be 0-255".into()),
///         _ => Ok(()),
///     }
/// }
///
/// fn warm_up() {
///     // e.g. parse an embedded table into a static; runs once, at build time.
/// }
///
/// // `skill_sdk::export!(greet);` when there is nothing else. Both extras are optional and
/// // come in this order:
/// skill_sdk::export! { tools: [greet], validate_config: check_config, init: warm_up }
/// ```
/// `check_config` is `fn(&[(String, String)]) -> Result<(), String>`.
///
/// `warm_up` is `fn()`. `skill build` runs it once, at build time, and snapshots the memory it
/// leaves (Wizer): tables, parsed data and statics it fills are already there when every call
/// starts. It sees no config, files, network or environment, and a clock stopped at zero.
///
/// A skill may also be a command: `main: cli_main` last exports `wasi:cli/run`, which
/// `skill exec NAME -- ARGS` (and a PATH shim) runs with the terminal's stdin, stdout and
/// stderr, in the instance's sandbox. `cli_main` is `fn()` or `fn() -> Result<(), E>` (`E:
/// Display`, printed to stderr; the exit code is then 1); it reads its arguments with
/// `std::env::args()` (the first is the skill's name) and may `std::process::exit(code)`.
///
/// ```no_run
/// # use skill_sdk::tool;
/// # /// Greets someone.
/// # #[tool]
/// # fn greet(name: String) -> String { name }
/// fn cli_main() -> Result<(), String> {
///     let name = std::env::args().nth(1).ok_or("usage: greet NAME")?;
///     println!("Hello, {name}!");
///     Ok(())
/// }
///
/// skill_sdk::export! { tools: [greet], main: cli_main }
/// ```
#[macro_export]
macro_rules! export {
    (
        tools: [$($tool:path),+ $(,)?]
        $(, validate_config: $validate:path)?
        $(, init: $init:path)?
        , main: $main:path
        $(,)?
    ) => {
        $crate::export!(tools: [$($tool),+] $(, validate_config: $validate)? $(, init: $init)?);

        #[doc(hidden)]
        struct __SkillCommand;

        impl $crate::command_bindings::exports::wasi::cli::run::Guest for __SkillCommand {
            fn run() -> ::core::result::Result<(), ()> {
                if $crate::__run_main($main) { Ok(()) } else { Err(()) }
            }
        }

        $crate::command_bindings::__export_command_world!(
            __SkillCommand with_types_in $crate::command_bindings
        );
    };
    (
        tools: [$($tool:path),+ $(,)?]
        $(, validate_config: $validate:path)?
        $(, init: $init:path)?
        $(,)?
    ) => {
        #[doc(hidden)]
        struct __SkillGuest;

        impl $crate::bindings::Guest for __SkillGuest {
            fn wizer_initialize() {
                $( $init(); )?
            }
        }

        impl $crate::bindings::exports::skill_engine::skill::guest::Guest for __SkillGuest {
            fn info() -> $crate::types::SkillInfo {
                $crate::__info(
                    env!("CARGO_PKG_NAME"),
                    env!("CARGO_PKG_VERSION"),
                    env!("CARGO_PKG_DESCRIPTION"),
                    env!("CARGO_PKG_AUTHORS"),
                    env!("CARGO_PKG_LICENSE"),
                    env!("CARGO_PKG_REPOSITORY"),
                )
            }

            fn tools() -> ::std::vec::Vec<$crate::types::Tool> {
                ::std::vec![$(<$tool as $crate::ToolFn>::definition()),+]
            }

            fn describe_tools() -> ::std::vec::Vec<$crate::types::ToolDetails> {
                ::std::vec![$(<$tool as $crate::ToolFn>::details()),+]
            }

            fn execute(
                tool: ::std::string::String,
                args: ::std::vec::Vec<$crate::types::Arg>,
            ) -> ::core::result::Result<$crate::types::Output, $crate::types::ToolError> {
                let args = $crate::Args::new(args);
                $(
                    if tool == <$tool as $crate::ToolFn>::NAME {
                        return <$tool as $crate::ToolFn>::call(args);
                    }
                )+
                Err($crate::types::ToolError::UnknownTool(tool))
            }

            fn validate_config(
                config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
            ) -> ::core::result::Result<(), ::std::string::String> {
                let _ = &config;
                $( return $validate(&config); )?
                #[allow(unreachable_code)]
                Ok(())
            }
        }

        $crate::bindings::__export_skill_world!(__SkillGuest with_types_in $crate::bindings);
    };
    ($($tool:path),+ $(,)?) => {
        $crate::export!(tools: [$($tool),+]);
    };
}
