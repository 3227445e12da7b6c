//! Small helpers for reading a template out of a `serde_json::Value` with a path in every error.
//!
//! The template is parsed by hand rather than with `#[derive(Deserialize)]` because serde's messages for an
//! internally tagged enum say neither where the bad part is nor which keys were allowed; a requester editing a
//! template in the browser needs both.

use serde_json::{Map, Value};

use super::error::TemplateError;

/// The longest name a field, question, criterion or option value may have: names become CSV columns and HTML ids.
pub(crate) const MAX_NAME_LEN: usize = 64;

pub(crate) type Obj = Map<String, Value>;

/// A short description of a JSON value's type, for messages ("got a number").
pub(crate) fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// `path.key`, or `key` at the root.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// `path[i]`.
pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// Quote a list of names for a message: `"a", "b", "c"`.
pub(crate) fn quoted_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn object<'a>(v: &'a Value, path: &str, what: &str) -> Result<&'a Obj, TemplateError> {
    v.as_object().ok_or_else(|| {
        TemplateError::new(
            path,
            format!("{what} must be a JSON object, got {}", describe(v)),
        )
    })
}

/// Rejects any key of `map` not in `allowed`, naming the bad key in the path and the allowed keys in the message.
pub(crate) fn check_keys(
    map: &Obj,
    path: &str,
    allowed: &[&str],
    what: &str,
) -> Result<(), TemplateError> {
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(TemplateError::new(
                join(path, key),
                format!(
                    "unknown key {key:?}; {what} takes only {}",
                    quoted_list(allowed.iter().copied())
                ),
            ));
        }
    }
    Ok(())
}

/// A key that is absent or `null` counts as not given.
fn get<'a>(map: &'a Obj, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|v| !v.is_null())
}

pub(crate) fn opt_str(map: &Obj, path: &str, key: &str) -> Result<Option<String>, TemplateError> {
    match get(map, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(TemplateError::new(
            join(path, key),
            format!("must be a string, got {}", describe(v)),
        )),
    }
}

pub(crate) fn req_str(
    map: &Obj,
    path: &str,
    key: &str,
    hint: &str,
) -> Result<String, TemplateError> {
    opt_str(map, path, key)?
        .ok_or_else(|| TemplateError::new(join(path, key), format!("is missing: {hint}")))
}

pub(crate) fn opt_bool(map: &Obj, path: &str, key: &str) -> Result<Option<bool>, TemplateError> {
    match get(map, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(TemplateError::new(
            join(path, key),
            format!("must be true or false, got {}", describe(v)),
        )),
    }
}

pub(crate) fn opt_int(map: &Obj, path: &str, key: &str) -> Result<Option<i64>, TemplateError> {
    match get(map, key) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| {
            TemplateError::new(
                join(path, key),
                format!("must be a whole number, got {}", show(v)),
            )
        }),
    }
}

pub(crate) fn opt_count(map: &Obj, path: &str, key: &str) -> Result<Option<usize>, TemplateError> {
    match get(map, key) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| {
                TemplateError::new(
                    join(path, key),
                    format!("must be a whole number of 0 or more, got {}", show(v)),
                )
            }),
    }
}

pub(crate) fn req_array<'a>(
    map: &'a Obj,
    path: &str,
    key: &str,
    hint: &str,
) -> Result<&'a [Value], TemplateError> {
    match get(map, key) {
        None => Err(TemplateError::new(
            join(path, key),
            format!("is missing: {hint}"),
        )),
        Some(Value::Array(a)) => Ok(a),
        Some(v) => Err(TemplateError::new(
            join(path, key),
            format!("must be a list, got {}", describe(v)),
        )),
    }
}

/// A value for a message: short values in full, long ones by type.
pub(crate) fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= 40 {
        s
    } else {
        describe(v).to_owned()
    }
}

/// Names of fields, questions, criteria: short, and safe as a CSV column or an HTML id.
pub(crate) fn check_name(name: &str, path: &str) -> Result<(), TemplateError> {
    if name.is_empty() {
        return Err(TemplateError::new(path, "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(TemplateError::new(
            path,
            format!("{name:?} is longer than {MAX_NAME_LEN} characters"),
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(TemplateError::new(
            path,
            format!("{name:?} may use only the letters a-z and A-Z, digits, '_' and '-'"),
        ));
    }
    Ok(())
}
