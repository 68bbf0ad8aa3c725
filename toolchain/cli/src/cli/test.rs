use std::path::PathBuf;
use std::process::ExitCode;

use skill_engine::package::Package;
use skill_engine::{Error, Runtime};
use skill_manifest::manifest::{Language, SKILL_YAML};

use super::Context;
use skill_build::pipeline;
use skill_build::project::Project;
use skill_build::testing::{
    TESTS_DIR, TestResult, duration_text, load_cases, run_cases, run_unit, unit_test_command,
};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Test cases are YAML lists in tests/*.yaml, run against the built component in the sandbox
(with what skill.yaml asks for granted, a fresh /data, and each case's `config:`):

  - name: greets by name
    tool: greet
    args: { name: World }
    expect: \"Hello, World!\"          # or expect_regex, expect_json (a subset), expect_error

Then the language's unit tests, when the project has them: cargo test (a #[test] in src/),
npm test (a \"test\" script), pytest (tests/test_*.py), go test (a *_test.go). Unit tests run
natively on this machine, outside the sandbox, as the project's own test runner would: run
`skill test --no-unit` on a project you do not trust.")]
pub struct Args {
    /// The skill project (default: the one containing the current directory)
    path: Option<PathBuf>,

    /// Only the cases whose name or tool contains this text (unit tests are skipped)
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,

    /// Run only the test cases, not the language's unit tests
    #[arg(long)]
    no_unit: bool,

    /// Print the results as JSON on stdout
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let json = args.json || ctx.output_json;
    let root = Project::find_root(&args.path.unwrap_or_else(|| PathBuf::from(".")))?;
    let mut project = Project::open(&root)?;
    let printer = ctx.printer.unless_json(json);
    let home = ctx.home()?;
    let runtime = Runtime::new(&home)?;

    let mut cases = load_cases(&project.root)?;
    if let Some(filter) = &args.filter {
        for (_, file_cases) in &mut cases {
            file_cases.retain(|c| {
                c.tool.contains(filter.as_str())
                    || c.name
                        .as_deref()
                        .is_some_and(|n| n.contains(filter.as_str()))
            });
        }
        cases.retain(|(_, c)| !c.is_empty());
    }
    let unit = if args.no_unit || args.filter.is_some() {
        None
    } else {
        unit_test_command(&project, &home)
    };
    if cases.is_empty() && unit.is_none() {
        return Err(Error::not_found(format!(
            "`{}` has no tests{}",
            project.name(),
            if args.filter.is_some() {
                " matching the filter"
            } else {
                ""
            }
        ))
        .with_hint(format!(
            "add a YAML list of cases to {TESTS_DIR}/ (see `skill test --help`)"
        ))
        .into());
    }

    let mut results: Vec<TestResult> = Vec::new();
    if !cases.is_empty() {
        // The cases run against what the sources build to now.
        let package = if project.needs_build() {
            project.record_detected_build()?;
            pipeline::build(&project, &home, &runtime, &printer, Default::default())?.1
        } else {
            Package::from_files(
                &runtime,
                &project.component_path(),
                &project.output_dir().join(SKILL_YAML),
            )?
        };
        let loaded = runtime.load_bytes(&package.component)?;
        let data = tempfile::tempdir()?;
        // Nobody is asked: the cases run with everything skill.yaml asks for. Say what.
        let granted = skill_build::testing::granted_for_tests(&home, &package.skill_yaml)?;
        if !granted.is_empty() {
            printer.warn(format!(
                "the test cases run with every permission skill.yaml asks for, without a review:\n  + {}",
                granted.join("\n  + ")
            ));
        }
        let count: usize = cases.iter().map(|(_, c)| c.len()).sum();
        printer.status(
            "Testing",
            format!(
                "{} ({count} case{})",
                project.name(),
                if count == 1 { "" } else { "s" }
            ),
        );
        for result in run_cases(
            &home,
            &loaded,
            &package.manifest,
            &package.skill_yaml,
            &cases,
            data.path(),
        )? {
            if !json {
                print_result(&result);
            }
            results.push(result);
        }
    }
    if let Some((name, mut cmd)) = unit {
        if project.language == Language::Python {
            // The unit tests import the SDK the build would use.
            let sdk = skill_build::sdk::ensure_sdk(&home)?;
            let path = std::env::join_paths([sdk.python(), project.root.clone()])?;
            cmd.env("PYTHONPATH", path);
        }
        printer.status("Running", name.clone());
        if json {
            // Keep stdout for the report.
            cmd.stdout(std::process::Stdio::null());
        }
        let result = run_unit(&name, cmd);
        if !json {
            print_result(&result);
        }
        results.push(result);
    }

    let passed = results.iter().filter(|r| r.passed).count();
    let failed = results.len() - passed;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "skill": project.name(),
                "passed": passed,
                "failed": failed,
                "results": results,
            }))?
        );
    } else {
        println!("\n{passed} passed, {failed} failed");
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_result(result: &TestResult) {
    let mark = if result.passed { "ok  " } else { "FAIL" };
    println!(
        "{mark} {}: {} ({})",
        result.source,
        crate::ui::shown(&result.name),
        duration_text(result.millis)
    );
    if let Some(message) = &result.message {
        // It quotes the tool's output: control characters shown, not sent.
        println!("     {}", crate::ui::shown(message));
    }
}
