//! Arrays of tables whose `type` says which fields they take (`[[source]]`, `[[route]]`).
//!
//! They are taken out of the parsed document and each table deserialized on its own, into its
//! type's struct, rather than as a serde `tag = "type"` enum: serde buffers an internally
//! tagged enum's fields, which loses the spans (lines) that every config error names.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeValue, ValueDeserializer};

use super::ConfigError;

type Invalid<'a> = &'a dyn Fn(Range<usize>, String) -> ConfigError;

/// One table of an array of tables, with its `type`.
pub(super) struct Typed<'i> {
    /// The table (its `[[…]]` header): where an error about the whole table points.
    pub span: Range<usize>,
    /// Its `type` as written (`None`: not a string).
    pub kind: Option<String>,
    /// Where `type` is.
    at: Range<usize>,
    what: &'static str,
    table: Spanned<DeValue<'i>>,
}

/// The tables of `value` (the document's `source` or `route`; `what` names it), each with its
/// `type`. Not an array of tables, a table that is not one, or one without `type` is an error.
pub(super) fn typed_tables<'i>(
    value: Option<Spanned<DeValue<'i>>>,
    what: &'static str,
    invalid: Invalid,
) -> Result<Vec<Typed<'i>>, ConfigError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let span = value.span();
    let DeValue::Array(tables) = value.into_inner() else {
        return Err(invalid(
            span,
            format!("`{what}` must be an array of tables ([[{what}]])"),
        ));
    };
    let mut out = Vec::new();
    for table in tables {
        let span = table.span();
        let kind = match table.get_ref() {
            DeValue::Table(t) => t.get("type").map(|k| (k.span(), k.get_ref().as_str())),
            _ => return Err(invalid(span, format!("a [[{what}]] must be a table"))),
        };
        let Some((at, kind)) = kind else {
            return Err(invalid(span, format!("a [[{what}]] needs `type`")));
        };
        out.push(Typed {
            span,
            kind: kind.map(str::to_owned),
            at,
            what,
            table,
        });
    }
    Ok(out)
}

impl<'i> Typed<'i> {
    /// The table as `T`, its type's fields; an error names the field's line and the type.
    pub fn read<T: Deserialize<'i>>(self, invalid: Invalid) -> Result<T, ConfigError> {
        let Typed {
            span,
            kind,
            what,
            table,
            ..
        } = self;
        T::deserialize(ValueDeserializer::from(table)).map_err(|e| {
            invalid(
                e.span().unwrap_or(span),
                format!(
                    "a {what} of type \"{}\": {}",
                    kind.unwrap_or_default(),
                    e.message().trim()
                ),
            )
        })
    }

    /// The error for a `type` that is none of `expected`, at its line.
    pub fn unknown(&self, expected: &str, invalid: Invalid) -> ConfigError {
        let kind = self
            .kind
            .as_deref()
            .map_or("(not a string)".to_owned(), |k| format!("\"{k}\""));
        invalid(
            self.at.clone(),
            format!("unknown {} type {kind} (expected {expected})", self.what),
        )
    }
}
