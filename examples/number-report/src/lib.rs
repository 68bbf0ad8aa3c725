//! An example skill that calls another skill's tools (contract 0.2.0 `call-tool`): it asks
//! python-skill for statistics and for text wrapping, and writes a report.
//!
//!     skill install examples/python-skill
//!     skill install examples/number-report
//!     skill run number-report:report 'numbers=[3, 1, 4, 1, 5]' --width 30
//!
//! python-skill runs in its own instance (this instance's name if it has one, else
//! `default`), with its own permissions and limits: calling it grants this skill nothing.

use skill_sdk::{Error, Json, call_tool, tool};

/// Writes a short report on a list of numbers: count, mean, median and spread.
#[tool]
fn report(
    #[arg("The numbers, as a JSON array")] numbers: Json,
    #[arg("Wrap the report at this many columns", default = 60)] width: u32,
) -> Result<skill_sdk::types::Output, Error> {
    let count = serde_json::from_str::<Vec<f64>>(&numbers.0)
        .map_err(|e| Error::invalid_args(format!("numbers must be a JSON array of numbers: {e}")))?
        .len();
    let stats = call_tool("python-skill", "stats", &[("numbers", numbers.into()), ("measure", "all".into())])
        .map_err(|e| Error::failed(format!("python-skill could not compute the statistics: {}", describe(e))))?;
    let data: serde_json::Value = stats
        .data
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .ok_or_else(|| Error::failed("python-skill's stats returned no data"))?;
    let measure = |name: &str| data[name].as_f64().unwrap_or(f64::NAN);
    let text = format!(
        "{count} numbers: the mean is {:.2}, the median {:.2}, and they spread by a standard deviation of {:.2}.",
        measure("mean"),
        measure("median"),
        measure("stdev"),
    );
    let wrapped = call_tool("python-skill", "wrap", &[("text", text.into()), ("width", i64::from(width).into())])
        .map_err(|e| Error::failed(format!("python-skill could not wrap the report: {}", describe(e))))?;
    Ok(skill_sdk::output_with_data(wrapped.text, data.to_string()))
}

fn describe(error: skill_sdk::types::ToolError) -> String {
    use skill_sdk::types::ToolError::*;
    match error {
        UnknownTool(m) | InvalidArgs(m) | NotConfigured(m) | Failed(m) => m,
    }
}

skill_sdk::export!(report);
