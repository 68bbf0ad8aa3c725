//! An example skill: one tool per kind of parameter the contract offers.
//!
//!     skill run rust-skill:greet name=World
//!     skill run rust-skill:add 2 40
//!     skill run rust-skill:repeat text=ab --times 3 --separator=-
//!     skill run rust-skill:divide a=1 b=0        # a tool error: exit code 1

use skill_sdk::{Error, tool};

/// Greets someone by name.
#[tool(read_only, open_world = false)]
fn greet(#[arg("Who to greet")] name: String) -> String {
    format!("Hello, {name}!")
}

/// Adds two integers.
#[tool]
fn add(#[arg("First addend")] a: i64, #[arg("Second addend")] b: i64) -> Result<String, Error> {
    a.checked_add(b).map(|sum| sum.to_string()).ok_or_else(|| Error::invalid_args("the sum overflows"))
}

/// Repeats a text.
#[tool]
fn repeat(
    #[arg("Text to repeat")] text: String,
    #[arg("How many times", default = 2)] times: u32,
    #[arg("Put between repetitions")] separator: Option<String>,
    #[arg("Upper-case the result")] shout: Option<bool>,
) -> String {
    let repeated = vec![text; times as usize].join(&separator.unwrap_or_default());
    if shout.unwrap_or(false) { repeated.to_uppercase() } else { repeated }
}

/// Divides one number by another, with the result also as JSON data.
#[tool(
    title = "Divide two numbers",
    read_only,
    idempotent,
    open_world = false,
    output_schema = r#"{"type":"object","properties":{"quotient":{"type":"number"}},"required":["quotient"]}"#
)]
fn divide(#[arg("Dividend")] a: f64, #[arg("Divisor (not zero)")] b: f64) -> Result<skill_sdk::types::Output, String> {
    if b == 0.0 {
        return Err("cannot divide by zero".to_string());
    }
    let quotient = a / b;
    skill_sdk::log::debug(&format!("{a} / {b} = {quotient}"));
    Ok(skill_sdk::output_with_data(quotient.to_string(), format!("{{\"quotient\":{quotient}}}")))
}

skill_sdk::export!(greet, add, repeat, divide);
