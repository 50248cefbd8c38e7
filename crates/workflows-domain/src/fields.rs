//! Reading a JSON request body field by field, so that every wrong field is reported at once with
//! the messages DRF clients already know.

use crate::errors::{NON_FIELD_ERRORS, ValidationErrors};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub(crate) const REQUIRED: &str = "This field is required.";
pub(crate) const NOT_NULL: &str = "This field may not be null.";
pub(crate) const BLANK: &str = "This field may not be blank.";
pub(crate) const NUL_CHARACTER: &str = "Null characters are not allowed.";

/// A field as found in the body.
pub(crate) enum Field<'a> {
    Absent,
    Null,
    Present(&'a Value),
}

/// Collects the errors of one body while its fields are read.
pub(crate) struct BodyReader<'a> {
    body: &'a Map<String, Value>,
    pub(crate) errors: ValidationErrors,
}

/// The body as an object, or the DRF answer for anything else.
pub(crate) fn expect_object(body: &Value) -> Result<&Map<String, Value>, ValidationErrors> {
    match body {
        Value::Object(map) => Ok(map),
        other => Err(ValidationErrors::single(
            NON_FIELD_ERRORS,
            format!(
                "Invalid data. Expected a dictionary, but got {}.",
                json_type_name(other)
            ),
        )),
    }
}

pub(crate) fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// White space as JSON Schema's `\s` (ECMAScript) defines it, so that what the published schema
/// calls blank is exactly what is refused as blank. (Rust's `trim` also strips U+0085, which `\s`
/// does not match, and keeps U+FEFF, which it does.)
pub(crate) fn is_schema_white_space(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}'
}

/// `s` without leading or trailing [`is_schema_white_space`] characters.
pub(crate) fn trim_white_space(s: &str) -> &str {
    s.trim_matches(is_schema_white_space)
}

/// Whether a string anywhere in the value, keys included, holds U+0000, which PostgreSQL refuses.
pub(crate) fn contains_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || contains_nul(v)),
        _ => false,
    }
}

impl<'a> BodyReader<'a> {
    pub(crate) fn new(body: &'a Map<String, Value>) -> Self {
        Self {
            body,
            errors: ValidationErrors::new(),
        }
    }

    pub(crate) fn field(&self, name: &str) -> Field<'a> {
        match self.body.get(name) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(value) => Field::Present(value),
        }
    }

    fn fail<T>(&mut self, name: &str, message: impl Into<String>) -> Option<T> {
        self.errors.add(name, message);
        None
    }

    /// A present value that holds no NUL anywhere.
    fn clean(&mut self, name: &str, value: &'a Value) -> Option<&'a Value> {
        if contains_nul(value) {
            return self.fail(name, NUL_CHARACTER);
        }
        Some(value)
    }

    /// A required, non-null field; `None` (with an error recorded) otherwise.
    pub(crate) fn required(&mut self, name: &str) -> Option<&'a Value> {
        match self.field(name) {
            Field::Absent => self.fail(name, REQUIRED),
            Field::Null => self.fail(name, NOT_NULL),
            Field::Present(value) => self.clean(name, value),
        }
    }

    /// A string trimmed of surrounding white space, which must not then be empty.
    pub(crate) fn text(&mut self, name: &str, value: &Value) -> Option<String> {
        match value {
            Value::String(s) => {
                let trimmed = trim_white_space(s);
                if trimmed.is_empty() {
                    self.fail(name, BLANK)
                } else {
                    Some(trimmed.to_owned())
                }
            }
            _ => self.fail(name, "Not a valid string."),
        }
    }

    /// A string taken as sent (no trimming; blank allowed).
    pub(crate) fn raw_text(&mut self, name: &str, value: &Value) -> Option<String> {
        match value {
            Value::String(s) => Some(s.clone()),
            _ => self.fail(name, "Not a valid string."),
        }
    }

    /// `Some(None)` for null, `Some(Some(text))` for a string, `None` when absent or wrong.
    pub(crate) fn nullable<T>(
        &mut self,
        name: &str,
        read: impl FnOnce(&mut Self, &str, &'a Value) -> Option<T>,
    ) -> Option<Option<T>> {
        match self.field(name) {
            Field::Absent => None,
            Field::Null => Some(None),
            Field::Present(value) => {
                let value = self.clean(name, value)?;
                read(self, name, value).map(Some)
            }
        }
    }

    /// An optional non-null field, read when present.
    pub(crate) fn optional<T>(
        &mut self,
        name: &str,
        read: impl FnOnce(&mut Self, &str, &'a Value) -> Option<T>,
    ) -> Option<T> {
        match self.field(name) {
            Field::Absent => None,
            Field::Null => self.fail(name, NOT_NULL),
            Field::Present(value) => {
                let value = self.clean(name, value)?;
                read(self, name, value)
            }
        }
    }

    pub(crate) fn int32(&mut self, name: &str, value: &Value) -> Option<i32> {
        let Value::Number(number) = value else {
            return self.fail(name, "A valid integer is required.");
        };
        // JSON does not tell 3 from 3.0; an integral float is the integer (as DRF reads it).
        let integral = number
            .as_f64()
            .filter(|f| f.fract() == 0.0)
            .map(|f| f as i64); // saturates, so huge values still fail the range check
        if let Some(n) = number.as_i64().or(integral) {
            return match i32::try_from(n) {
                Ok(n) => Some(n),
                Err(_) if n > 0 => self.fail(
                    name,
                    "Ensure this value is less than or equal to 2147483647.",
                ),
                Err(_) => self.fail(
                    name,
                    "Ensure this value is greater than or equal to -2147483648.",
                ),
            };
        }
        if number.is_u64() {
            return self.fail(
                name,
                "Ensure this value is less than or equal to 2147483647.",
            );
        }
        self.fail(name, "A valid integer is required.")
    }

    pub(crate) fn boolean(&mut self, name: &str, value: &Value) -> Option<bool> {
        match value {
            Value::Bool(b) => Some(*b),
            _ => self.fail(name, "Must be a valid boolean."),
        }
    }

    pub(crate) fn object(&mut self, name: &str, value: &Value) -> Option<Map<String, Value>> {
        match value {
            Value::Object(map) => Some(map.clone()),
            other => self.fail(
                name,
                format!(
                    "Expected a dictionary of items but got type \"{}\".",
                    json_type_name(other)
                ),
            ),
        }
    }

    pub(crate) fn string_list(&mut self, name: &str, value: &Value) -> Option<Vec<String>> {
        let Value::Array(items) = value else {
            return self.fail(
                name,
                format!(
                    "Expected a list of items but got type \"{}\".",
                    json_type_name(value)
                ),
            );
        };
        let mut strings = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) if !s.is_empty() => strings.push(s.clone()),
                Value::String(_) => return self.fail(name, format!("Item {i}: {BLANK}")),
                _ => return self.fail(name, format!("Item {i}: Not a valid string.")),
            }
        }
        Some(strings)
    }

    pub(crate) fn string_list_map(
        &mut self,
        name: &str,
        value: &Value,
    ) -> Option<BTreeMap<String, Vec<String>>> {
        let map = self.object(name, value)?;
        let mut result = BTreeMap::new();
        for (key, list) in &map {
            let label = format!("{name}.{key}");
            let mut inner = BodyReader::new(&map);
            match inner.string_list(&label, list) {
                Some(atoms) => {
                    result.insert(key.clone(), atoms);
                }
                None => {
                    let messages: Vec<String> = inner
                        .errors
                        .field(&label)
                        .iter()
                        .map(|m| format!("'{key}': {m}"))
                        .collect();
                    for message in messages {
                        self.errors.add(name, message);
                    }
                    return None;
                }
            }
        }
        Some(result)
    }
}
