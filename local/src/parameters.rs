//! Template parameters for the local stack, as `sam local` and `sam deploy` take them:
//! `--parameter-overrides Key=Value ...` (or `ParameterKey=K,ParameterValue=V`), and the
//! `parameter_overrides` of a `samconfig.toml`. Each value is checked as CloudFormation checks it
//! (type, allowed values and pattern, lengths, bounds) and becomes the parameter's value.

use std::{collections::BTreeMap, path::Path};

use serde_norway::Value;

use crate::template::Template;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParameterError {
    #[error("`{0}` is not Key=Value (or ParameterKey=Key,ParameterValue=Value)")]
    Malformed(String),
    #[error("parameter {0} is not in the template")]
    Unknown(String),
    #[error("parameter {name}: `{value}` {reason}")]
    Invalid {
        name: String,
        value: String,
        reason: String,
    },
    #[error("{path}: {reason}")]
    Config { path: String, reason: String },
}

/// `Key=Value` items, each of which may hold several, space-separated and shell-quoted
/// (`HoldSeconds=60 SellerName="Cine Belas Artes"`), as `sam` takes them.
pub fn parse(items: &[String]) -> Result<BTreeMap<String, String>, ParameterError> {
    let mut out = BTreeMap::new();
    for item in items {
        let words = shlex::split(item).ok_or_else(|| ParameterError::Malformed(item.clone()))?;
        for word in words {
            let (key, value) =
                pair(&word).ok_or_else(|| ParameterError::Malformed(word.clone()))?;
            out.insert(key, value);
        }
    }
    Ok(out)
}

fn pair(word: &str) -> Option<(String, String)> {
    if let Some(rest) = word.strip_prefix("ParameterKey=") {
        let (key, value) = rest.split_once(",ParameterValue=")?;
        return Some((key.to_owned(), value.to_owned()));
    }
    let (key, value) = word.split_once('=')?;
    (!key.is_empty()).then(|| (key.to_owned(), value.to_owned()))
}

/// The `parameter_overrides` of `environment` in a `samconfig.toml` at `path`: its `global`
/// section's, then its `local_start_api` section's (which win), as `sam local start-api` reads
/// them. Nothing when there is no file.
pub fn from_config(
    path: &Path,
    environment: &str,
) -> Result<BTreeMap<String, String>, ParameterError> {
    let fail = |reason: String| ParameterError::Config {
        path: path.display().to_string(),
        reason,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(fail(e.to_string())),
    };
    let config: toml::Table = toml::from_str(&text).map_err(|e| fail(e.to_string()))?;
    let mut out = BTreeMap::new();
    for command in ["global", "local_start_api"] {
        let overrides = config
            .get(environment)
            .and_then(|e| e.get(command))
            .and_then(|c| c.get("parameters"))
            .and_then(|p| p.get("parameter_overrides"));
        let items: Vec<String> = match overrides {
            None => continue,
            Some(toml::Value::String(s)) => vec![s.clone()],
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or_else(|| {
                    fail(format!(
                        "{environment}.{command}: parameter_overrides holds a non-string"
                    ))
                })?,
            Some(_) => {
                return Err(fail(format!(
                    "{environment}.{command}: parameter_overrides is not a string or a list of strings"
                )));
            }
        };
        out.extend(parse(&items)?);
    }
    Ok(out)
}

/// `template` with `overrides` as its parameters' values, each checked against its declaration.
pub fn apply(
    template: &mut Template,
    overrides: &BTreeMap<String, String>,
) -> Result<(), ParameterError> {
    for (name, value) in overrides {
        let declaration = template
            .parameters
            .get_mut(name)
            .ok_or_else(|| ParameterError::Unknown(name.clone()))?;
        check(declaration, value).map_err(|reason| ParameterError::Invalid {
            name: name.clone(),
            value: value.clone(),
            reason,
        })?;
        if let Value::Mapping(map) = declaration {
            map.insert(Value::from("Default"), Value::from(value.as_str()));
        }
    }
    Ok(())
}

/// Whether `value` is what `declaration` allows, as CloudFormation checks a parameter.
fn check(declaration: &Value, value: &str) -> Result<(), String> {
    let number = |key: &str| {
        declaration
            .get(key)
            .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))
    };
    let kind = declaration
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or("String");
    if kind == "Number" {
        let n: f64 = value.parse().map_err(|_| "is not a number".to_owned())?;
        if let Some(min) = number("MinValue").filter(|min| n < *min) {
            return Err(format!("is below MinValue {min}"));
        }
        if let Some(max) = number("MaxValue").filter(|max| n > *max) {
            return Err(format!("is above MaxValue {max}"));
        }
    }
    let length = value.chars().count() as f64;
    if let Some(min) = number("MinLength").filter(|min| length < *min) {
        return Err(format!("is shorter than MinLength {min}"));
    }
    if let Some(max) = number("MaxLength").filter(|max| length > *max) {
        return Err(format!("is longer than MaxLength {max}"));
    }
    if let Some(allowed) = declaration
        .get("AllowedValues")
        .and_then(Value::as_sequence)
    {
        let allowed: Vec<String> = allowed
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
            .collect();
        if !allowed.iter().any(|a| a == value) {
            return Err(format!(
                "is not one of AllowedValues {}",
                allowed.join(", ")
            ));
        }
    }
    if let Some(pattern) = declaration.get("AllowedPattern").and_then(Value::as_str) {
        // CloudFormation matches the whole value.
        let whole = format!("^(?:{pattern})$");
        let regex = regex::Regex::new(&whole)
            .map_err(|e| format!("cannot be checked: AllowedPattern {pattern} ({e})"))?;
        if !regex.is_match(value) {
            return Err(format!("does not match AllowedPattern {pattern}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn overrides_are_read_as_sam_takes_them() {
        let parsed = parse(&strings(&[
            "HoldSeconds=60",
            "SellerName=\"Cine Belas Artes\" Stage=dev",
            "ParameterKey=SellerTaxId,ParameterValue=12.345.678/0001-90",
        ]))
        .unwrap();
        assert_eq!(parsed["HoldSeconds"], "60");
        assert_eq!(parsed["SellerName"], "Cine Belas Artes");
        assert_eq!(parsed["Stage"], "dev");
        assert_eq!(parsed["SellerTaxId"], "12.345.678/0001-90");
        assert_eq!(
            parse(&strings(&["HoldSeconds"])),
            Err(ParameterError::Malformed("HoldSeconds".into()))
        );
        assert!(parse(&strings(&["SellerName=\"open"])).is_err());
    }

    #[test]
    fn a_value_is_checked_as_cloudformation_checks_it() {
        let mut template = Template::of_repository().unwrap();
        let set = |template: &mut Template, k: &str, v: &str| {
            apply(template, &BTreeMap::from([(k.to_owned(), v.to_owned())]))
        };
        set(&mut template, "HoldSeconds", "60").unwrap();
        assert_eq!(
            template.resolve(
                &Value::Tagged(Box::new(serde_norway::value::TaggedValue {
                    tag: serde_norway::value::Tag::new("Ref"),
                    value: Value::from("HoldSeconds"),
                })),
                &|_| None
            ),
            Some("60".into())
        );
        for (name, value, why) in [
            ("HoldSeconds", "5", "below MinValue"),
            ("HoldSeconds", "soon", "not a number"),
            ("Stage", "Prod", "AllowedPattern"),
            ("Stage", "a-stage-name-longer-than-twenty", "AllowedPattern"),
        ] {
            let err = set(&mut template, name, value).unwrap_err();
            assert!(err.to_string().contains(why), "{name}={value}: {err}");
        }
        assert_eq!(
            set(&mut template, "Nope", "1"),
            Err(ParameterError::Unknown("Nope".into()))
        );
    }

    #[test]
    fn a_samconfig_gives_its_global_then_its_local_start_api_overrides() {
        let dir = std::env::temp_dir().join(format!("samconfig-{}", ulid::Ulid::generate()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("samconfig.toml");
        assert!(
            from_config(&path, "default").unwrap().is_empty(),
            "no file, nothing"
        );
        std::fs::write(
            &path,
            r#"version = 0.1
[default.global.parameters]
parameter_overrides = "HoldSeconds=120 SellerName=\"Teatro\""
[default.local_start_api.parameters]
parameter_overrides = ["HoldSeconds=60"]
[rehearsal.global.parameters]
parameter_overrides = "Stage=rehearsal"
"#,
        )
        .unwrap();
        let read = from_config(&path, "default").unwrap();
        assert_eq!(read["HoldSeconds"], "60", "local_start_api wins");
        assert_eq!(read["SellerName"], "Teatro");
        assert_eq!(
            from_config(&path, "rehearsal").unwrap()["Stage"],
            "rehearsal"
        );
        std::fs::write(
            &path,
            "[default.global.parameters]\nparameter_overrides = 7\n",
        )
        .unwrap();
        assert!(matches!(
            from_config(&path, "default"),
            Err(ParameterError::Config { .. })
        ));
        let _ = std::fs::remove_dir_all(dir);
    }
}
