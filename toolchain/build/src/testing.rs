//! `skill test`: the test cases declared beside a skill (`tests/*.yaml`), run against the
//! built component inside the sandbox, and the language's own unit tests.
//!
//! ```yaml
//! # tests/greet.yaml
//! - name: greets by name           # optional; defaults to the tool's name
//!   tool: greet
//!   args: { name: World }
//!   expect: "Hello, World!"         # exact text (a trailing newline is ignored)
//! - tool: greet
//!   args: { name: World }
//!   expect_regex: "^Hello, .+!$"
//! - tool: stats
//!   args: { numbers: [1, 2] }
//!   expect_json: { mean: 1.5 }      # a subset of the result's data (or of its text as JSON)
//! - tool: greet
//!   args: {}
//!   expect_error: invalid-args      # a kind, or { kind: ..., message: <regex> }
//! - tool: whoami
//!   config: { token: test }         # the instance config this case runs with
//!   expect_regex: "…test$"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use skill_engine::SkillHome;
use skill_engine::{CallOptions, Error, Limits, LoadedSkill, Result, ToolError};
use skill_manifest::args;
use skill_manifest::config::{env_mappings, missing_required};
use skill_manifest::manifest::{PackageManifest, SkillYaml};
use skill_store::dirs::Sandbox;

use crate::project::Project;

/// The directory test cases live in, relative to the project.
pub const TESTS_DIR: &str = "tests";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    #[serde(default)]
    pub name: Option<String>,
    pub tool: String,
    #[serde(default)]
    pub args: serde_json::Map<String, Value>,
    #[serde(default)]
    pub config: BTreeMap<String, Value>,
    #[serde(default)]
    pub expect: Option<String>,
    #[serde(default)]
    pub expect_regex: Option<String>,
    #[serde(default)]
    pub expect_json: Option<Value>,
    #[serde(default)]
    pub expect_error: Option<ExpectedError>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ExpectedError {
    Kind(String),
    Detailed {
        #[serde(default)]
        kind: Option<String>,
        #[serde(default)]
        message: Option<String>,
    },
}

/// The outcome of one case or one unit-test suite.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    /// `tests/greet.yaml`, or `cargo test` / `npm test` / `pytest` for unit tests.
    pub source: String,
    pub name: String,
    pub passed: bool,
    /// Why it failed (or was skipped), in the author's terms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub millis: u128,
}

/// Every `tests/*.yaml` of the project, sorted by file name.
pub fn load_cases(project_root: &Path) -> Result<Vec<(String, Vec<TestCase>)>> {
    let dir = project_root.join(TESTS_DIR);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for file in files {
        let relative = format!(
            "{TESTS_DIR}/{}",
            file.file_name().unwrap_or_default().to_string_lossy()
        );
        // Bounded while reading: a case file may be a link to something endless.
        let text = skill_manifest::manifest::read_text(&file, 4 << 20)?;
        skill_manifest::manifest::check_yaml_shape(&text, 4 << 20, &relative)?;
        let cases: Vec<TestCase> = serde_norway::from_str(&text).map_err(|e| {
            Error::invalid(format!("{relative}: {e}")).with_hint(
                "a test file is a YAML list of cases: `- tool: NAME`, `args: {...}`, and one of \
                 expect / expect_regex / expect_json / expect_error",
            )
        })?;
        for (i, case) in cases.iter().enumerate() {
            if case.expect.is_none()
                && case.expect_regex.is_none()
                && case.expect_json.is_none()
                && case.expect_error.is_none()
            {
                return Err(Error::invalid(format!(
                    "{relative}: case {} ({}) expects nothing",
                    i + 1,
                    case.tool
                ))
                .with_hint("add expect, expect_regex, expect_json or expect_error"));
            }
        }
        all.push((relative, cases));
    }
    Ok(all)
}

/// The sandbox a case runs in: a fresh data directory, and what skill.yaml asks for (the author
/// testing their own skill grants it, with the same checks an install makes; the caller
/// says so). Limits are skill.yaml's.
pub fn sandbox_for(
    home: &SkillHome,
    yaml: &SkillYaml,
    data_dir: &Path,
) -> Result<(Sandbox, Limits)> {
    let caps = &yaml.capabilities;
    let dirs: Vec<_> = skill_store::dirs::approve(home, &caps.filesystem, &[])?
        .into_iter()
        .filter_map(|b| match b {
            skill_store::dirs::Binding::Bound(dir) => Some(dir),
            skill_store::dirs::Binding::Missing { .. } => None,
        })
        .collect();
    Ok((
        skill_store::dirs::sandbox(caps, data_dir, &dirs)?,
        caps.limits.apply(&Limits::default())?,
    ))
}

/// What the cases run with, one line each, for the notice `skill test` prints.
pub fn granted_for_tests(home: &SkillHome, yaml: &SkillYaml) -> Result<Vec<String>> {
    let caps = &yaml.capabilities;
    let dirs = skill_store::dirs::approve(home, &caps.filesystem, &[])?;
    let others = skill_manifest::capabilities::Capabilities {
        filesystem: Vec::new(),
        ..caps.clone()
    };
    Ok(dirs
        .iter()
        .map(skill_store::dirs::Binding::describe)
        .chain(others.describe())
        .collect())
}

/// Runs every case against the loaded component.
pub fn run_cases(
    home: &SkillHome,
    skill: &LoadedSkill,
    manifest: &PackageManifest,
    yaml: &SkillYaml,
    cases: &[(String, Vec<TestCase>)],
    data_dir: &Path,
) -> Result<Vec<TestResult>> {
    let (sandbox, limits) = sandbox_for(home, yaml, data_dir)?;
    let mut results = Vec::new();
    for (source, file_cases) in cases {
        for case in file_cases {
            let started = Instant::now();
            let outcome = run_case(skill, manifest, yaml, case, &sandbox, &limits);
            results.push(TestResult {
                source: source.clone(),
                name: case.name.clone().unwrap_or_else(|| case.tool.clone()),
                passed: outcome.is_ok(),
                message: outcome.err(),
                millis: started.elapsed().as_millis(),
            });
        }
    }
    Ok(results)
}

/// What a call gave: its text and data, or a tool error (kind, message).
type Called = std::result::Result<(String, Option<Value>), (String, String)>;

fn run_case(
    skill: &LoadedSkill,
    manifest: &PackageManifest,
    yaml: &SkillYaml,
    case: &TestCase,
    sandbox: &Sandbox,
    limits: &Limits,
) -> std::result::Result<(), String> {
    let called = call(skill, manifest, yaml, case, sandbox, limits)?;
    check(case, called)
}

fn call(
    skill: &LoadedSkill,
    manifest: &PackageManifest,
    yaml: &SkillYaml,
    case: &TestCase,
    sandbox: &Sandbox,
    limits: &Limits,
) -> std::result::Result<Called, String> {
    let tool = manifest
        .find_tool(&case.tool)
        .map_err(|e| format!("{} ({})", e.message(), e.hint().unwrap_or_default()))?;
    // Host-side checks count as the errors they stand for.
    let call_args = match args::parse_json_object(tool, &case.args) {
        Ok(a) => a,
        Err(e) => return Ok(Err(("invalid-args".to_string(), e.message().to_string()))),
    };
    let mut config: BTreeMap<String, String> = yaml
        .config
        .iter()
        .filter_map(|(k, f)| f.default_text().map(|d| (k.clone(), d)))
        .collect();
    for (key, value) in &case.config {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        config.insert(key.clone(), text);
    }
    let missing = missing_required(&yaml.config, |k| config.contains_key(k));
    if !missing.is_empty() {
        return Ok(Err((
            "not-configured".to_string(),
            format!("{} not set", missing.join(", ")),
        )));
    }
    let mut sandbox = sandbox.clone();
    sandbox.env.extend(env_mappings(&yaml.config, &config));
    let options = CallOptions {
        limits: limits.clone(),
        sandbox,
        config,
        events: None,
        router: None,
    };
    let outcome = skill
        .execute(&tool.name, &call_args, &options)
        .map_err(|e| format!("the call did not complete: {}", e.message()))?;
    Ok(match outcome.result {
        Ok(output) => Ok((output.text, output.data)),
        Err(e) => Err(match e {
            ToolError::UnknownTool(m) => ("unknown-tool".to_string(), m),
            ToolError::InvalidArgs(m) => ("invalid-args".to_string(), m),
            ToolError::NotConfigured(m) => ("not-configured".to_string(), m),
            ToolError::Failed(m) => ("failed".to_string(), m),
        }),
    })
}

fn check(case: &TestCase, called: Called) -> std::result::Result<(), String> {
    match (called, &case.expect_error) {
        (Err((kind, message)), None) => {
            Err(format!("expected a result, got a {kind} error: {message}"))
        }
        (Ok((text, _)), Some(_)) => Err(format!("expected an error, got: {}", shorten(&text))),
        (Err((kind, message)), Some(expected)) => {
            let (want_kind, want_message) = match expected {
                ExpectedError::Kind(k) => (Some(k.as_str()), None),
                ExpectedError::Detailed { kind, message } => (kind.as_deref(), message.as_deref()),
            };
            if let Some(k) = want_kind
                && k != kind
            {
                return Err(format!(
                    "expected a {k} error, got a {kind} error: {message}"
                ));
            }
            if let Some(pattern) = want_message {
                let re = compile(pattern)?;
                if !re.is_match(&message) {
                    return Err(format!(
                        "the error message `{message}` does not match /{pattern}/"
                    ));
                }
            }
            Ok(())
        }
        (Ok((text, data)), None) => {
            let shown = text.trim_end_matches('\n');
            if let Some(want) = &case.expect
                && shown != want.trim_end_matches('\n')
            {
                return Err(format!("expected `{want}`, got `{}`", shorten(shown)));
            }
            if let Some(pattern) = &case.expect_regex
                && !compile(pattern)?.is_match(shown)
            {
                return Err(format!("`{}` does not match /{pattern}/", shorten(shown)));
            }
            if let Some(want) = &case.expect_json {
                let got = match data {
                    Some(d) => d,
                    None => serde_json::from_str(shown)
                        .map_err(|_| format!("expected JSON, got `{}`", shorten(shown)))?,
                };
                if let Some(path) = json_subset_mismatch(want, &got, "") {
                    return Err(format!(
                        "the result differs at {}: expected {}, got {}",
                        if path.is_empty() { "the top" } else { &path },
                        lookup(want, &path),
                        lookup(&got, &path)
                    ));
                }
            }
            Ok(())
        }
    }
}

fn compile(pattern: &str) -> std::result::Result<Regex, String> {
    Regex::new(pattern).map_err(|e| format!("bad regex /{pattern}/: {e}"))
}

fn shorten(text: &str) -> String {
    const MAX: usize = 200;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}

/// The first path (`.a[2].b`) where `want` is not contained in `got`: objects may have more
/// keys, arrays and scalars must match.
fn json_subset_mismatch(want: &Value, got: &Value, path: &str) -> Option<String> {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => w.iter().find_map(|(k, v)| match g.get(k) {
            Some(gv) => json_subset_mismatch(v, gv, &format!("{path}.{k}")),
            None => Some(format!("{path}.{k}")),
        }),
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => w
            .iter()
            .zip(g)
            .enumerate()
            .find_map(|(i, (wv, gv))| json_subset_mismatch(wv, gv, &format!("{path}[{i}]"))),
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => None,
        (w, g) if w == g => None,
        _ => Some(path.to_string()),
    }
}

/// The value at a path made by `json_subset_mismatch` (`missing` when absent).
fn lookup(value: &Value, path: &str) -> String {
    let mut current = value;
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            match current.get(&after[..end]) {
                Some(v) => current = v,
                None => return "missing".to_string(),
            }
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').unwrap_or(after.len());
            let index: usize = after[..end].parse().unwrap_or(usize::MAX);
            match current.get(index) {
                Some(v) => current = v,
                None => return "missing".to_string(),
            }
            rest = after.get(end + 1..).unwrap_or("");
        } else {
            break;
        }
    }
    current.to_string()
}

/// Whether a unit-test suite exists for the project, and the command that runs it.
pub fn unit_test_command(
    project: &Project,
    home: &skill_engine::SkillHome,
) -> Option<(String, std::process::Command)> {
    use skill_manifest::manifest::Language;
    let root = &project.root;
    let sources = crate::sources::Sources::of(project).files();
    let under = |dir: &str, ext: &str| {
        sources
            .iter()
            .filter(|f| f.starts_with(dir) && f.extension().is_some_and(|e| e == ext))
            .map(|f| root.join(f))
            .collect::<Vec<PathBuf>>()
    };
    match project.language {
        Language::Rust => {
            let has_tests = under("src", "rs")
                .iter()
                .any(|f| std::fs::read_to_string(f).is_ok_and(|t| t.contains("#[test]")));
            has_tests.then(|| {
                let mut cmd = std::process::Command::new(
                    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()),
                );
                cmd.args(["test", "--quiet"]).current_dir(root);
                ("cargo test".to_string(), cmd)
            })
        }
        Language::Javascript | Language::Typescript => {
            let package: Value = std::fs::read_to_string(root.join("package.json"))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())?;
            package["scripts"]["test"].is_string().then(|| {
                let mut cmd = std::process::Command::new(crate::tools::npm());
                cmd.args(["test", "--silent"]).current_dir(root);
                ("npm test".to_string(), cmd)
            })
        }
        Language::Python => {
            let has_tests = under(TESTS_DIR, "py").iter().any(|f| {
                f.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("test_"))
            });
            has_tests.then(|| {
                let mut cmd = std::process::Command::new(crate::tools::python3());
                cmd.args(["-m", "pytest", "-q", TESTS_DIR])
                    .current_dir(root);
                ("pytest".to_string(), cmd)
            })
        }
        Language::Go => {
            let has_tests = sources.iter().any(|f| {
                f.file_name()
                    .is_some_and(|n| n.to_string_lossy().ends_with("_test.go"))
            });
            has_tests.then(|| {
                // Natively, with the SDK's stand-in host; the pinned Go (the build installs it).
                let kit = crate::tools::Kit::Go.dir(home);
                let go_root = crate::tools::go_root(&kit);
                let mut cmd = std::process::Command::new(go_root.join("bin").join("go"));
                crate::pipeline::go::go_environment(&mut cmd, &go_root, &kit);
                cmd.args(["test", "./..."]).current_dir(root);
                ("go test".to_string(), cmd)
            })
        }
    }
}

/// Runs a unit-test suite with its output shown as it comes.
pub fn run_unit(name: &str, mut cmd: std::process::Command) -> TestResult {
    let started = Instant::now();
    let status = cmd.status();
    let (passed, message) = match status {
        Ok(s) if s.success() => (true, None),
        Ok(s) => (false, Some(format!("{name} exited with {s}"))),
        Err(e) => (false, Some(format!("could not start {name}: {e}"))),
    };
    TestResult {
        source: name.to_string(),
        name: "unit tests".to_string(),
        passed,
        message,
        millis: started.elapsed().as_millis(),
    }
}

/// `3 ms`, `1.20 s`.
pub fn duration_text(millis: u128) -> String {
    let d = Duration::from_millis(millis as u64);
    if d < Duration::from_secs(1) {
        format!("{millis} ms")
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_subsets() {
        let got = json!({"mean": 1.5, "items": [1, {"a": 2, "b": 3}], "extra": true});
        assert_eq!(json_subset_mismatch(&json!({"mean": 1.5}), &got, ""), None);
        assert_eq!(
            json_subset_mismatch(&json!({"items": [1, {"a": 2}]}), &got, ""),
            None
        );
        let path = json_subset_mismatch(&json!({"items": [1, {"a": 5}]}), &got, "").unwrap();
        assert_eq!(path, ".items[1].a");
        assert_eq!(lookup(&got, &path), "2");
        assert_eq!(
            json_subset_mismatch(&json!({"missing": 1}), &got, "").as_deref(),
            Some(".missing")
        );
        assert_eq!(json_subset_mismatch(&json!(2), &json!(2.0), ""), None);
    }

    #[test]
    fn errors_and_text_are_checked() {
        let case: TestCase = serde_norway::from_str(
            "tool: t\nexpect_error: { kind: invalid-args, message: '^no' }\n",
        )
        .unwrap();
        assert!(check(&case, Err(("invalid-args".into(), "no way".into()))).is_ok());
        assert!(check(&case, Err(("failed".into(), "no way".into()))).is_err());
        assert!(check(&case, Ok(("fine".into(), None))).is_err());
        let case: TestCase = serde_norway::from_str("tool: t\nexpect: 'Hello, World!'\n").unwrap();
        assert!(check(&case, Ok(("Hello, World!\n".into(), None))).is_ok());
        let err = check(&case, Ok(("Hello!".into(), None))).unwrap_err();
        assert_eq!(err, "expected `Hello, World!`, got `Hello!`");
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_case_file_is_refused_not_read() {
        let project = tempfile::tempdir().unwrap();
        std::fs::create_dir(project.path().join(TESTS_DIR)).unwrap();
        std::os::unix::fs::symlink("/dev/zero", project.path().join("tests/x.yaml")).unwrap();
        let err = load_cases(project.path()).unwrap_err();
        assert!(err.message().contains("larger than"), "{}", err.message());
    }
}
