//! Turns what a caller typed into the typed arguments a tool declared, before the call:
//! `key=value`, `--key value`, `--key=value`, bare `--flag` / `--no-flag` for booleans, and
//! bare positional values that fill the parameters in declared order. Defaults are filled in
//! here, so guests always receive every parameter that has one.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::manifest::{ParamDef, ParamKind, ToolDef};

/// A checked argument value; mirrors the contract's `value` variant.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum ArgValue {
    Text(String),
    Integer(i64),
    Number(f64),
    Boolean(bool),
    /// Serialized JSON.
    Json(String),
}

/// Arguments in the tool's declared parameter order.
pub type Args = Vec<(String, ArgValue)>;

/// Parses command-line style arguments for `tool`. `qualified` (e.g. `hello:greet`) is used
/// in the usage hint.
pub fn parse_cli(tool: &ToolDef, qualified: &str, raw: &[String]) -> Result<Args> {
    let usage = || format!("usage: skill run {qualified} {}", usage_line(tool));
    let with_usage = |e: Error| {
        let hint = usage();
        e.with_hint(hint)
    };
    let mut named: Vec<(&ParamDef, String)> = Vec::new();
    let mut positional: Vec<String> = Vec::new();
    let mut tokens = raw.iter();
    let mut only_positional = false;

    while let Some(token) = tokens.next() {
        if only_positional {
            positional.push(token.clone());
        } else if token == "--" {
            only_positional = true;
        } else if let Some(flag) = token.strip_prefix("--") {
            let (key, inline) = match flag.split_once('=') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (flag, None),
            };
            if let Some(param) = find_param(tool, key) {
                let value = match inline {
                    Some(v) => v,
                    None if param.kind == ParamKind::Boolean => "true".to_string(),
                    None => tokens.next().cloned().ok_or_else(|| {
                        with_usage(Error::invalid(format!(
                            "`--{key}` needs a value ({})",
                            param.kind.as_str()
                        )))
                    })?,
                };
                named.push((param, value));
            } else if let Some(param) = key
                .strip_prefix("no-")
                .and_then(|k| find_param(tool, k))
                .filter(|p| p.kind == ParamKind::Boolean && inline.is_none())
            {
                named.push((param, "false".to_string()));
            } else {
                return Err(with_usage(unknown_param(tool, key)));
            }
        } else if let Some((key, value)) = token.split_once('=')
            && let Some(param) = find_param(tool, key)
        {
            named.push((param, value.to_string()));
        } else {
            positional.push(token.clone());
        }
    }

    // Positional values fill the parameters not given by name, in declared order.
    let free: Vec<&ParamDef> = tool
        .params
        .iter()
        .filter(|p| !named.iter().any(|(n, _)| n.name == p.name))
        .collect();
    let mut free = free.into_iter();
    for value in positional {
        let Some(param) = free.next() else {
            return Err(with_usage(Error::invalid(format!(
                "unexpected argument `{value}`: tool `{}` takes {} parameter(s)",
                tool.name,
                tool.params.len()
            ))));
        };
        named.push((param, value));
    }

    let mut args = Args::with_capacity(tool.params.len());
    for param in &tool.params {
        let mut given = named.iter().filter(|(p, _)| p.name == param.name);
        let value = match (given.next(), given.next()) {
            (Some(_), Some(_)) => {
                return Err(with_usage(Error::invalid(format!(
                    "argument `{}` is given twice",
                    param.name
                ))));
            }
            (Some((_, raw)), None) => convert_text(param, raw).map_err(with_usage)?,
            (None, _) => match &param.default {
                Some(default) => convert_json(param, default).map_err(with_usage)?,
                None if param.required => return Err(with_usage(missing(param))),
                None => continue,
            },
        };
        args.push((param.name.clone(), value));
    }
    Ok(args)
}

/// Checks named JSON arguments (a test case, an MCP or HTTP call) against `tool`: unknown
/// names and missing required ones are errors, defaults fill the rest.
pub fn parse_json_object(tool: &ToolDef, given: &serde_json::Map<String, Value>) -> Result<Args> {
    for key in given.keys() {
        if find_param(tool, key).is_none() {
            return Err(unknown_param(tool, key));
        }
    }
    let mut args = Args::with_capacity(tool.params.len());
    for param in &tool.params {
        let value = given
            .get(&param.name)
            .or_else(|| given.get(&param.name.replace('_', "-")))
            .filter(|v| !v.is_null());
        let value = match (value, &param.default) {
            (Some(v), _) => convert_json(param, v)?,
            (None, Some(default)) => convert_json(param, default)?,
            (None, None) if param.required => return Err(missing(param)),
            (None, None) => continue,
        };
        args.push((param.name.clone(), value));
    }
    Ok(args)
}

/// `name=<string> [times=<integer>]`
pub fn usage_line(tool: &ToolDef) -> String {
    tool.params
        .iter()
        .map(|p| {
            let one = format!("{}=<{}>", p.name, p.kind.as_str());
            if p.required { one } else { format!("[{one}]") }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Exact name first, then with `-` read as `_` (so `--dry-run` finds `dry_run`).
fn find_param<'a>(tool: &'a ToolDef, key: &str) -> Option<&'a ParamDef> {
    tool.params
        .iter()
        .find(|p| p.name == key)
        .or_else(|| tool.params.iter().find(|p| p.name == key.replace('-', "_")))
}

fn unknown_param(tool: &ToolDef, key: &str) -> Error {
    let names: Vec<&str> = tool.params.iter().map(|p| p.name.as_str()).collect();
    Error::invalid(format!(
        "unknown argument `{key}` for tool `{}` (parameters: {})",
        tool.name,
        crate::error::list_or_none(names)
    ))
}

fn missing(param: &ParamDef) -> Error {
    let about = if param.description.is_empty() {
        String::new()
    } else {
        format!(": {}", param.description)
    };
    Error::invalid(format!(
        "missing required argument `{}` ({}){about}",
        param.name,
        param.kind.as_str()
    ))
}

fn ill_typed(param: &ParamDef, expected: &str, got: &str) -> Error {
    Error::invalid(format!(
        "argument `{}` expects {expected}, got `{got}`",
        param.name
    ))
}

/// Converts typed-in text by the parameter's kind.
pub fn convert_text(param: &ParamDef, raw: &str) -> Result<ArgValue> {
    let value = match param.kind {
        ParamKind::String | ParamKind::File => ArgValue::Text(raw.to_string()),
        ParamKind::Integer => ArgValue::Integer(
            raw.trim()
                .parse()
                .map_err(|_| ill_typed(param, "an integer", raw))?,
        ),
        ParamKind::Number => {
            let n: f64 = raw
                .trim()
                .parse()
                .map_err(|_| ill_typed(param, "a number", raw))?;
            if !n.is_finite() {
                return Err(ill_typed(param, "a finite number", raw));
            }
            ArgValue::Number(n)
        }
        ParamKind::Boolean => ArgValue::Boolean(match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "on" => true,
            "false" | "no" | "n" | "0" | "off" => false,
            _ => return Err(ill_typed(param, "true or false", raw)),
        }),
        ParamKind::Json => {
            let parsed: Value =
                serde_json::from_str(raw).map_err(|_| ill_typed(param, "JSON", raw))?;
            ArgValue::Json(parsed.to_string())
        }
    };
    check_choices(param, &value)?;
    Ok(value)
}

/// Converts a JSON value (a default, or later an MCP/HTTP argument) by the parameter's kind.
pub fn convert_json(param: &ParamDef, value: &Value) -> Result<ArgValue> {
    check_json_kind(param.kind, value)
        .map_err(|why| Error::invalid(format!("argument `{}` {why}", param.name)))?;
    let converted = match (param.kind, value) {
        (ParamKind::String | ParamKind::File, Value::String(s)) => ArgValue::Text(s.clone()),
        (ParamKind::Integer, v) => ArgValue::Integer(v.as_i64().expect("checked integer")),
        (ParamKind::Number, v) => ArgValue::Number(v.as_f64().expect("checked number")),
        (ParamKind::Boolean, Value::Bool(b)) => ArgValue::Boolean(*b),
        (_, v) => ArgValue::Json(v.to_string()),
    };
    check_choices(param, &converted)?;
    Ok(converted)
}

/// Whether a JSON value fits a parameter kind; the error says what was expected.
pub fn check_json_kind(kind: ParamKind, value: &Value) -> std::result::Result<(), String> {
    let ok = match kind {
        ParamKind::String | ParamKind::File => value.is_string(),
        ParamKind::Integer => value.is_i64(),
        ParamKind::Number => value.is_number(),
        ParamKind::Boolean => value.is_boolean(),
        ParamKind::Json => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expects {}, got {value}", kind.as_str()))
    }
}

fn check_choices(param: &ParamDef, value: &ArgValue) -> Result<()> {
    if param.choices.is_empty() {
        return Ok(());
    }
    let text = match value {
        ArgValue::Text(s) => s.clone(),
        ArgValue::Integer(i) => i.to_string(),
        ArgValue::Number(n) => n.to_string(),
        ArgValue::Boolean(b) => b.to_string(),
        ArgValue::Json(j) => j.clone(),
    };
    if param.choices.contains(&text) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "argument `{}` must be one of {}, got `{text}`",
            param.name,
            param.choices.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn param(name: &str, kind: ParamKind, required: bool) -> ParamDef {
        ParamDef {
            name: name.into(),
            description: format!("the {name}"),
            kind,
            required,
            default: None,
            choices: vec![],
        }
    }

    fn tool() -> ToolDef {
        let mut region = param("region", ParamKind::String, false);
        region.default = Some(json!("eu-west-1"));
        region.choices = vec!["eu-west-1".into(), "us-east-1".into()];
        ToolDef {
            name: "s3-list".into(),
            description: String::new(),
            params: vec![
                param("bucket", ParamKind::String, true),
                param("limit", ParamKind::Integer, false),
                param("dry_run", ParamKind::Boolean, false),
                region,
                param("filter", ParamKind::Json, false),
            ],
            ..ToolDef::default()
        }
    }

    fn parse(raw: &[&str]) -> Result<Args> {
        let raw: Vec<String> = raw.iter().map(|s| s.to_string()).collect();
        parse_cli(&tool(), "aws:s3-list", &raw)
    }

    fn get(args: &Args, name: &str) -> Option<ArgValue> {
        args.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn all_argument_styles_agree() {
        for raw in [
            &["bucket=b", "limit=5"][..],
            &["--bucket", "b", "--limit", "5"],
            &["--bucket=b", "--limit=5"],
            &["b", "5"],
            &["--limit", "5", "b"],
        ] {
            let args = parse(raw).unwrap();
            assert_eq!(
                get(&args, "bucket"),
                Some(ArgValue::Text("b".into())),
                "{raw:?}"
            );
            assert_eq!(get(&args, "limit"), Some(ArgValue::Integer(5)), "{raw:?}");
            assert_eq!(
                get(&args, "region"),
                Some(ArgValue::Text("eu-west-1".into())),
                "default filled"
            );
            assert_eq!(get(&args, "dry_run"), None);
        }
    }

    #[test]
    fn booleans_and_json() {
        let args = parse(&["b", "--dry-run", "filter={\"a\": [1]}"]).unwrap();
        assert_eq!(get(&args, "dry_run"), Some(ArgValue::Boolean(true)));
        assert_eq!(
            get(&args, "filter"),
            Some(ArgValue::Json("{\"a\":[1]}".into()))
        );
        let args = parse(&["b", "--no-dry-run"]).unwrap();
        assert_eq!(get(&args, "dry_run"), Some(ArgValue::Boolean(false)));
        let args = parse(&["b", "--dry_run=no"]).unwrap();
        assert_eq!(get(&args, "dry_run"), Some(ArgValue::Boolean(false)));
    }

    #[test]
    fn bad_input_names_the_parameter() {
        let e = parse(&[]).unwrap_err();
        assert_eq!(
            e.message(),
            "missing required argument `bucket` (string): the bucket"
        );
        assert!(
            e.hint()
                .unwrap()
                .contains("skill run aws:s3-list bucket=<string> [limit=<integer>]")
        );
        let e = parse(&["b", "limit=ten"]).unwrap_err();
        assert_eq!(
            e.message(),
            "argument `limit` expects an integer, got `ten`"
        );
        let e = parse(&["b", "--colour", "red"]).unwrap_err();
        assert!(e.message().starts_with("unknown argument `colour`"), "{e}");
        let e = parse(&["b", "region=mars"]).unwrap_err();
        assert!(
            e.message().contains("must be one of eu-west-1, us-east-1"),
            "{e}"
        );
        let e = parse(&["bucket=b", "--bucket", "c"]).unwrap_err();
        assert!(e.message().contains("given twice"), "{e}");
        let e = parse(&["b", "1", "false", "eu-west-1", "{}", "extra"]).unwrap_err();
        assert!(e.message().contains("unexpected argument `extra`"), "{e}");
        let e = parse(&["b", "--limit"]).unwrap_err();
        assert!(e.message().contains("`--limit` needs a value"), "{e}");
    }

    #[test]
    fn values_with_equals_signs_stay_positional() {
        let args = parse(&["a=b"]).unwrap();
        assert_eq!(get(&args, "bucket"), Some(ArgValue::Text("a=b".into())));
    }
}
