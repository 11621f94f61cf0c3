//! Reading the interchange documents: every JSON document a host hands to fleetpath (a
//! manifest, a fleet, a calendar, a policy, a rollout state, an event, a device request, …)
//! has one entry point here, [`Document::from_json`] for text and [`Document::from_value`] for
//! an already-parsed value (what a binding receives as a dict or object), with the same
//! typed errors whichever way it came.
//!
//! A document that cannot be read gives [`JsonError`] (code `invalid_json`): the line and
//! column in the text (0 for a value), the JSON path of the field that failed
//! (`releases[0].artifact.size`) and what was wrong with it. Checks beyond the document's
//! shape give the document's own error (a [`GraphError`](crate::GraphError) for a manifest,
//! [`DecisionError`](crate::decision::DecisionError) for a decision policy, …).
//!
//! ```
//! use fleetpath::decision::DecisionPolicy;
//! use fleetpath::Document;
//!
//! let err = DecisionPolicy::from_json(r#"{"url_lifetime_seconds": "900"}"#).unwrap_err();
//! assert_eq!(err.code(), "invalid_json");
//! assert_eq!(err.fields()["path"], "url_lifetime_seconds");
//! assert_eq!((err.fields()["line"].as_u64(), err.fields()["column"].as_u64()), (Some(1), Some(30)));
//! assert_eq!(
//!     err.to_string(),
//!     "invalid decision policy JSON at line 1, column 30 (url_lifetime_seconds): invalid type: string \"900\", expected u32"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt::{self, Write as _};

use jiff::Timestamp;
use serde::Deserialize;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Codes;

/// A JSON document that could not be read: malformed, an unknown or missing field, a wrong
/// type or value. Code `invalid_json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
pub struct JsonError {
    /// Which document, such as `manifest` or `decision policy`.
    pub document: &'static str,
    /// One-based line in the text (0 when the input was a value, not text).
    pub line: usize,
    /// One-based column in the text (0 when the input was a value).
    pub column: usize,
    /// The JSON path of the field that failed, such as `releases[3].artifact.size` (empty
    /// when the document as a whole is wrong, such as a syntax error or a missing field of
    /// the top-level object).
    pub path: String,
    /// What was wrong, in `serde_json`'s words (naming the field, the expected type or the
    /// variants allowed).
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} JSON", self.document)?;
        match (self.line, self.path.is_empty()) {
            (0, true) => {}
            (0, false) => write!(f, " ({})", self.path)?,
            (_, true) => write!(f, " at line {}, column {}", self.line, self.column)?,
            (_, false) => write!(f, " at line {}, column {} ({})", self.line, self.column, self.path)?,
        }
        write!(f, ": {}", self.message)
    }
}

impl JsonError {
    /// Every code [`JsonError::code`] returns.
    pub const CODES: &'static [&'static str] = &["invalid_json"];

    /// `invalid_json`.
    pub fn code(&self) -> &'static str {
        Self::CODES[0]
    }

    /// An error at a place in the text (`path` as a JSON path, empty for the document).
    pub fn at(document: &'static str, line: usize, column: usize, path: &str, message: impl Into<String>) -> Self {
        Self { document, line, column, path: path.to_owned(), message: message.into() }
    }

    fn of(document: &'static str, path: Option<&serde_path_to_error::Path>, e: &serde_json::Error) -> Self {
        let mut message = e.to_string();
        if let Some(cut) = message.rfind(" at line ") {
            message.truncate(cut);
        }
        // `.` is serde_path_to_error's root, `?` a place it could not follow (syntax errors).
        let path = path.map(ToString::to_string).filter(|p| p != "." && p != "?").unwrap_or_default();
        Self { document, line: e.line(), column: e.column(), path, message }
    }
}

/// Reads `T` from JSON text; errors name `document`.
///
/// The text is read once at full speed; only when it fails is it read again to find the
/// path of the failing field. With the `small-json` feature (the WebAssembly package's), it is
/// read once, finding paths as it goes: one text reader per document type instead of two,
/// slower to read, same results and errors.
///
/// # Errors
/// [`JsonError`] with the line, column and path of the problem.
pub fn from_str<'a, T: Deserialize<'a>>(document: &'static str, text: &'a str) -> Result<T, JsonError> {
    #[cfg(feature = "small-json")]
    let read = read_located(document, text);
    #[cfg(not(feature = "small-json"))]
    let read = read_fast(document, text);
    read.map_err(|mut error| {
        if looks_like_a_file_name(text) {
            let _ = write!(
                error.message,
                " ({:?} looks like a file name: this reads a document's text, so read the file first, \
                 or pass a path where the binding takes one, such as pathlib.Path in Python)",
                text.trim()
            );
        }
        error
    })
}

/// Reads `T` from JSON text at full speed, and again tracking paths when that fails.
#[cfg(any(test, not(feature = "small-json")))]
fn read_fast<'a, T: Deserialize<'a>>(document: &'static str, text: &'a str) -> Result<T, JsonError> {
    serde_json::from_str(text).map_err(|e| match read_located::<T>(document, text) {
        Err(located) => located,
        Ok(_) => JsonError::of(document, None, &e),
    })
}

/// Reads `T` from JSON text tracking the path of the value being read, and what follows it.
fn read_located<'a, T: Deserialize<'a>>(document: &'static str, text: &'a str) -> Result<T, JsonError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize::<_, T>(&mut deserializer)
        .map_err(|located| JsonError::of(document, Some(located.path()), located.inner()))?;
    // Only trailing characters fail after the value itself was read.
    deserializer.end().map_err(|e| JsonError::of(document, None, &e))?;
    Ok(value)
}

/// A one-line text with no JSON punctuation that ends like a document file's name
/// (`manifest.json`, `plant.csv`): given where the document's text was expected.
fn looks_like_a_file_name(text: &str) -> bool {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    [".json", ".csv", ".jsonl", ".ndjson"].iter().any(|suffix| lower.ends_with(suffix) && lower.len() > suffix.len())
        && !text.contains(['{', '[', '"', '\n'])
}

/// Reads `T` from a parsed JSON value; errors name `document` and the path (no line or
/// column). The same reader with or without `small-json`: the text reader words some errors
/// differently (a number where a variant's name belongs is "expected value" to it), and every
/// binding must answer a value alike.
///
/// # Errors
/// [`JsonError`] with the path of the problem.
pub fn from_value<T: DeserializeOwned>(document: &'static str, value: serde_json::Value) -> Result<T, JsonError> {
    // Read from the value borrowed, its path tracked only to explain an error: an owned value
    // is taken apart as it is read, each string and map freed on the way (a 10k-release
    // manifest: 16 ms borrowed, 57 owned with its path tracked). With `small-json` (the
    // WebAssembly package) one reader a type, as for text: the second took 100 KB gzipped.
    #[cfg(not(feature = "small-json"))]
    if let Ok(read) = T::deserialize(&value) {
        return Ok(read);
    }
    serde_path_to_error::deserialize(value).map_err(|e| JsonError::of(document, Some(e.path()), e.inner()))
}

/// An interchange document: read from JSON text or from a parsed value, checked, with typed
/// errors. This is the entry point bindings use for every document they pass through.
pub trait Document: Sized {
    /// The document's name in error messages, such as `decision policy`.
    const NAME: &'static str;

    /// Reads and checks the document from JSON text.
    ///
    /// # Errors
    /// [`JsonError`] (code `invalid_json`) when the text cannot be read as the document;
    /// the document's own error when a check fails.
    fn from_json(text: &str) -> Result<Self, crate::Error>;

    /// Reads and checks the document from a parsed JSON value.
    ///
    /// # Errors
    /// As [`Document::from_json`], with no line or column.
    fn from_value(value: serde_json::Value) -> Result<Self, crate::Error>;

    /// Reads and checks the document from the JSON text of a value the host wrote (a
    /// binding's `JSON.stringify` of an object): what [`Document::from_value`] reads from that
    /// value, or its error, without building the value when the document reads. A binding
    /// handing over text this way skips the value tree (a fleet of 100k devices as objects:
    /// 35–41 ms read from its text, about 160 ms from its value).
    ///
    /// ```
    /// use fleetpath::Document as _;
    /// use fleetpath::retry::RetryPolicy;
    /// let policy = RetryPolicy::from_value_text(r#"{"max_attempts": 3}"#)?;
    /// assert_eq!(policy.max_attempts, 3);
    /// // Errors are the value's: a path, no line or column.
    /// let err = RetryPolicy::from_value_text(r#"{"max_attempts": -1}"#).unwrap_err();
    /// assert_eq!(err.fields()["line"], 0);
    /// # Ok::<(), fleetpath::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Document::from_value`].
    fn from_value_text(text: &str) -> Result<Self, crate::Error> {
        Self::from_json(text).or_else(|_| Self::from_value(value_of(Self::NAME, text)?))
    }
}

/// The value JSON text writes, for text a host serialised from its own value (such as
/// `JSON.stringify`'s): the error, like [`from_value`]'s, names `document` and has no line or
/// column, since no caller wrote the text. [`Document::from_value_text`] falls back on it.
///
/// ```
/// let value = fleetpath::document::value_of("target", r#""6.15.008""#)?;
/// assert_eq!(value, "6.15.008");
/// let err = fleetpath::document::value_of("target", "[1,").unwrap_err();
/// assert_eq!((err.document, err.line, err.column), ("target", 0, 0));
/// # Ok::<(), fleetpath::JsonError>(())
/// ```
///
/// # Errors
/// [`JsonError`] when the text is not JSON.
pub fn value_of(document: &'static str, text: &str) -> Result<serde_json::Value, JsonError> {
    serde_json::from_str(text).map_err(|e| JsonError { line: 0, column: 0, ..JsonError::of(document, None, &e) })
}

/// Implements [`Document`] for types read by serde: `Type => "name"`, or
/// `Type => "name", check` where `check(&value)` returns `Result<_, E: Into<crate::Error>>`.
macro_rules! documents {
    ($($ty:ty => $name:literal $(, $check:expr)?;)*) => {$(
        impl $crate::Document for $ty {
            const NAME: &'static str = $name;
            fn from_json(text: &str) -> Result<Self, $crate::Error> {
                let value: Self = $crate::document::from_str($name, text)?;
                $(($check)(&value)?;)?
                Ok(value)
            }
            fn from_value(value: serde_json::Value) -> Result<Self, $crate::Error> {
                let value: Self = $crate::document::from_value($name, value)?;
                $(($check)(&value)?;)?
                Ok(value)
            }
        }
    )*};
}
pub(crate) use documents;

/// Implements [`Document`] for types whose own `from_json` and `from_value` read and check
/// them (with their module's error).
macro_rules! checked_documents {
    ($($ty:ty => $name:literal;)*) => {$(
        impl $crate::Document for $ty {
            const NAME: &'static str = $name;
            fn from_json(text: &str) -> Result<Self, $crate::Error> {
                Ok(<$ty>::from_json(text)?)
            }
            fn from_value(value: serde_json::Value) -> Result<Self, $crate::Error> {
                Ok(<$ty>::from_value(value)?)
            }
        }
    )*};
}
pub(crate) use checked_documents;

/// An argument a host passed that is not of the form an operation takes, or a time that
/// cannot be read. These are what a binding reports for input that never became a
/// document: a value of the wrong type, a string that cannot cross the boundary, a time
/// without a zone, a size out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Codes)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InputError {
    /// An argument of the wrong type or shape.
    #[error("{what}: expected {expected}, got {found}")]
    #[code("invalid_input")]
    InvalidInput {
        /// Which argument, such as `fleet` or `columns["time"]`.
        what: String,
        /// What the operation takes.
        expected: String,
        /// What it got.
        found: String,
    },
    /// A time that cannot be read, or is outside the range fleetpath handles (years
    /// -9999 to 9999).
    #[error("{what}: invalid time {input:?}: {problem}")]
    #[code("invalid_time")]
    InvalidTime {
        /// Which argument.
        what: String,
        /// The time as given.
        input: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A date and time without a time zone or offset: the instant it means is unknown.
    #[error("{what}: {input:?} has no time zone (give an offset, `Z`, or an aware datetime)")]
    #[code("naive_datetime")]
    NaiveDatetime {
        /// Which argument.
        what: String,
        /// The time as given.
        input: String,
    },
}

/// Reads an instant from RFC 3339 text (`2026-11-23T08:00:00Z`, `…+01:00`), refusing a date
/// and time without an offset.
///
/// ```
/// let t = fleetpath::document::timestamp("at", "2026-11-23T09:00:00+01:00")?;
/// assert_eq!(t.to_string(), "2026-11-23T08:00:00Z");
/// let err = fleetpath::document::timestamp("at", "2026-11-23T09:00:00").unwrap_err();
/// assert_eq!(err.code(), "naive_datetime");
/// # Ok::<(), fleetpath::document::InputError>(())
/// ```
///
/// # Errors
/// [`InputError::NaiveDatetime`] without an offset, [`InputError::InvalidTime`] otherwise.
pub fn timestamp(what: &str, text: &str) -> Result<Timestamp, InputError> {
    text.parse::<Timestamp>().map_err(|e| {
        if text.parse::<jiff::civil::DateTime>().is_ok() {
            InputError::NaiveDatetime { what: what.to_owned(), input: text.to_owned() }
        } else {
            InputError::InvalidTime { what: what.to_owned(), input: text.to_owned(), problem: e.to_string() }
        }
    })
}

/// An instant from seconds since the Unix epoch (fractions kept to the nanosecond).
///
/// ```
/// let t = fleetpath::document::unix_seconds("at", 1_795_420_800.5)?;
/// assert_eq!(t.to_string(), "2026-11-23T08:00:00.5Z");
/// assert_eq!(fleetpath::document::unix_seconds("at", f64::NAN).unwrap_err().code(), "invalid_time");
/// # Ok::<(), fleetpath::document::InputError>(())
/// ```
///
/// # Errors
/// [`InputError::InvalidTime`] for a value that is not finite or out of range.
pub fn unix_seconds(what: &str, seconds: f64) -> Result<Timestamp, InputError> {
    let invalid = |problem: &str| InputError::InvalidTime {
        what: what.to_owned(),
        input: format!("{seconds:?}"),
        problem: problem.to_owned(),
    };
    if !seconds.is_finite() {
        return Err(invalid("not a finite number"));
    }
    let duration = jiff::SignedDuration::try_from_secs_f64(seconds).map_err(|_| invalid("out of range"))?;
    Timestamp::from_duration(duration).map_err(|_| invalid("out of range"))
}

/// Reads an instant in any of the forms the bindings take: RFC 3339 text with an offset, or
/// unix seconds (a whole or fractional number). For `#[serde(deserialize_with = …)]` on
/// documents a host writes (writing stays RFC 3339).
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct At { #[serde(deserialize_with = "fleetpath::document::instant")] at: jiff::Timestamp }
///
/// let a: At = serde_json::from_str(r#"{"at": 1795420800}"#).unwrap();
/// let b: At = serde_json::from_str(r#"{"at": "2026-11-23T09:00:00+01:00"}"#).unwrap();
/// assert_eq!(a.at, b.at);
/// assert!(serde_json::from_str::<At>(r#"{"at": "2026-11-23T09:00:00"}"#).is_err());
/// ```
///
/// # Errors
/// The deserializer's error, with [`timestamp`]'s or [`unix_seconds`]'s message.
pub fn instant<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
    struct Instant;
    impl serde::de::Visitor<'_> for Instant {
        type Value = Timestamp;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("RFC 3339 text with an offset, or unix seconds")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Timestamp, E> {
            timestamp("time", text).map_err(E::custom)
        }

        fn visit_i64<E: serde::de::Error>(self, seconds: i64) -> Result<Timestamp, E> {
            Timestamp::from_second(seconds).map_err(|_| {
                E::custom(InputError::InvalidTime {
                    what: "time".to_owned(),
                    input: seconds.to_string(),
                    problem: "out of range".to_owned(),
                })
            })
        }

        fn visit_u64<E: serde::de::Error>(self, seconds: u64) -> Result<Timestamp, E> {
            self.visit_i64(i64::try_from(seconds).unwrap_or(i64::MAX))
        }

        fn visit_f64<E: serde::de::Error>(self, seconds: f64) -> Result<Timestamp, E> {
            unix_seconds("time", seconds).map_err(E::custom)
        }
    }
    deserializer.deserialize_any(Instant)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::DecisionPolicy;
    use crate::graph::Manifest;
    use crate::health::HealthPolicy;
    use serde::de::DeserializeOwned;

    const SEED: &str = include_str!("../../../examples/data/seed-ip-module.json");

    /// Both text readers (the default's and `small-json`'s) agree: same value, same error.
    fn readers_agree<T: DeserializeOwned + Serialize>(text: &str) {
        let fast = read_fast::<T>("doc", text).map(|v| serde_json::to_value(v).unwrap());
        let located = read_located::<T>("doc", text).map(|v| serde_json::to_value(v).unwrap());
        assert_eq!(fast, located, "{text:?}");
    }

    #[test]
    fn both_readers_agree_on_the_seed_manifest_cut_and_altered_everywhere() {
        readers_agree::<Manifest>(SEED);
        let mut errors = 0;
        for (at, _) in SEED.char_indices().step_by(7) {
            readers_agree::<Manifest>(&SEED[..at]);
            for with in ["", "1", "\"x\"", "{", "]", "null", "-"] {
                let altered = format!("{}{with}{}", &SEED[..at], &SEED[at + 1..]);
                errors += usize::from(read_fast::<Manifest>("doc", &altered).is_err());
                readers_agree::<Manifest>(&altered);
            }
        }
        assert!(errors > 1000, "the alterations should mostly fail: {errors}");
        readers_agree::<Manifest>(&format!("{SEED} trailing"));
    }

    #[test]
    fn both_readers_agree_on_policies() {
        for text in [
            r#"{"url_lifetime_seconds": "900"}"#,
            r#"{"url_lifetime": 900}"#,
            r#"{"url_lifetime_seconds": 900, "retry": {"max_attempts": -1}}"#,
            r#"{"url_lifetime_seconds": 900, "url_lifetime_seconds": 901}"#,
            r#"{"restore_tier": "Slow"}"#,
            r#"{"url_lifetime_seconds": 1e3}"#,
            r#"{"url_lifetime_seconds": 18446744073709551616}"#,
            r#"{"restore_tier": 5}"#,
            r#"{"restore_tier": {}}"#,
            r#"{"restore_tier": {"Standard": null, "Bulk": null}}"#,
            r#"{"restore_times": [1, 2, 3, 4, 5, 6, 7, 8, 9]}"#,
            "[]",
            "",
        ] {
            readers_agree::<DecisionPolicy>(text);
            readers_agree::<HealthPolicy>(text);
        }
    }
}
