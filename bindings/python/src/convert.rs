//! Python values in: every argument a caller passes is converted here, with the core's typed
//! errors for anything that does not fit (never a `TypeError`, `OverflowError` or
//! `UnicodeEncodeError`). Documents go to the core's [`Document`] entry points as text or as a
//! JSON value, so bad documents give the same errors as in Rust.

use std::borrow::Cow;

use fleetpath::{Document, InputError, Version};
use jiff::Timestamp;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMemoryView, PyString, PyTuple};
use serde_json::Value;

use crate::errors::core;

/// How deep a document may nest (a hand-written document never comes close; a cycle or a
/// generated chain would exhaust the stack).
const MAX_DEPTH: usize = 128;

/// The Python type of `obj`, for messages.
pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map_or_else(|_| "object".to_owned(), |n| n.to_string())
}

/// An `invalid_input` error: `what` expected `expected`, got `obj`'s type.
pub(crate) fn invalid(what: &str, expected: &str, obj: &Bound<'_, PyAny>) -> PyErr {
    invalid_found(obj.py(), what, expected, type_name(obj))
}

/// An `invalid_input` error: `what` expected `expected`, got `found`.
pub(crate) fn invalid_found(py: Python<'_>, what: &str, expected: &str, found: String) -> PyErr {
    core(py, InputError::InvalidInput { what: what.to_owned(), expected: expected.to_owned(), found })
}

/// A `str` (refusing lone surrogates, which no document can hold).
pub(crate) fn text(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    let s = obj.cast::<PyString>().map_err(|_| invalid(what, "a str", obj))?;
    text_in_place(s, what).map(Cow::into_owned)
}

/// A `str`'s text, borrowed where the ABI allows (see [`Source`]).
fn text_in_place<'a>(s: &'a Bound<'_, PyString>, what: &str) -> PyResult<Cow<'a, str>> {
    s.to_cow().map_err(|_| invalid_found(s.py(), what, "a str", "a str with a lone surrogate".into()))
}

/// An optional argument (absent or `None`), converted by `convert` when given.
pub(crate) fn opt<'py, T>(
    obj: Option<&Bound<'py, PyAny>>,
    convert: impl FnOnce(&Bound<'py, PyAny>) -> PyResult<T>,
) -> PyResult<Option<T>> {
    obj.filter(|o| !o.is_none()).map(convert).transpose()
}

/// An optional `str` (`None` passes).
pub(crate) fn opt_text(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<String>> {
    opt(obj, |o| text(o, what))
}

/// An integer that fits `T` (refusing `bool`, floats and out-of-range values).
pub(crate) fn int<T: for<'a, 'py> FromPyObject<'a, 'py>>(
    obj: &Bound<'_, PyAny>,
    what: &str,
    range: &str,
) -> PyResult<T> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(invalid(what, range, obj));
    }
    obj.extract::<T>().map_err(|_| {
        let repr = obj.repr().map_or_else(|_| "an integer".to_owned(), |r| r.to_string());
        invalid_found(obj.py(), what, range, repr)
    })
}

/// A version: a `fleetpath.Version` or its text.
pub(crate) fn version(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Version> {
    if let Ok(v) = obj.cast::<crate::version::PyVersion>() {
        return Ok(v.get().inner.clone());
    }
    let text = text(obj, what).map_err(|_| invalid(what, "a Version or a str", obj))?;
    Version::parse(&text).map_err(|e| core(obj.py(), e))
}

/// The native object of a wrapper (`fleetpath.UpgradeGraph` keeps its native graph in
/// `_native`), or the native object itself.
pub(crate) fn native<'py, T: pyo3::PyClass>(
    obj: &Bound<'py, PyAny>,
    what: &str,
    expected: &str,
) -> PyResult<Bound<'py, T>> {
    if let Ok(native) = obj.cast::<T>() {
        return Ok(native.clone());
    }
    let inner = obj.getattr(pyo3::intern!(obj.py(), "_native")).ok();
    inner.and_then(|n| n.cast_into::<T>().ok()).ok_or_else(|| invalid(what, expected, obj))
}

/// An instant: an aware `datetime`, RFC 3339 text, or unix seconds (`int` or `float`).
pub(crate) fn instant(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Timestamp> {
    let py = obj.py();
    let result = if let Ok(s) = obj.cast::<PyString>() {
        let s = s.to_cow().map_err(|_| invalid_found(py, what, "a time", "a str with a lone surrogate".into()))?;
        fleetpath::document::timestamp(what, &s)
    } else if obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyFloat>() && !obj.is_instance_of::<PyBool>() {
        let seconds: f64 = obj.extract().map_err(|_| invalid(what, "unix seconds", obj))?;
        fleetpath::document::unix_seconds(what, seconds)
    } else if obj.is_instance(&py.import("datetime")?.getattr("datetime")?)? {
        // `isoformat` keeps the offset (naive datetimes have none: refused by the core).
        let iso = obj.call_method0("isoformat").map_err(|_| invalid(what, "an aware datetime", obj))?;
        let iso = text(&iso, what)?;
        fleetpath::document::timestamp(what, &iso)
    } else {
        return Err(invalid(what, "an aware datetime, RFC 3339 text or unix seconds", obj));
    };
    result.map_err(|e| core(py, e))
}

/// A document `T`: JSON text (`str`, `bytes`), a path (`pathlib.Path`) to a JSON file, or
/// Python objects of its JSON form (dicts, lists, numbers; datetimes and versions as their
/// text; records as their `to_dict()`).
pub(crate) fn document<T: Document + Send>(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    let py = obj.py();
    let result = match source(obj, what)? {
        // Read without the GIL: other Python threads run meanwhile (a big manifest takes tens
        // of milliseconds).
        Source::Text(text) => py.detach(|| T::from_json(&text).map_err(Box::new)).map_err(|e| *e),
        Source::Value(value) => T::from_value(value),
    };
    result.map_err(|e| core(py, e))
}

/// A list (or tuple) whose items `convert` reads (`what[i]` naming each).
pub(crate) fn list<T>(
    obj: &Bound<'_, PyAny>,
    what: &str,
    mut convert: impl FnMut(&Bound<'_, PyAny>, &str) -> PyResult<T>,
) -> PyResult<Vec<T>> {
    if !obj.is_instance_of::<PyList>() && !obj.is_instance_of::<PyTuple>() {
        return Err(invalid(what, "a list", obj));
    }
    obj.try_iter()?.enumerate().map(|(i, item)| convert(&item?, &format!("{what}[{i}]"))).collect()
}

/// One of a closed set of names (a storage class, a tier), as the core spells it.
pub(crate) fn choice<T: Document>(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    T::from_value(Value::String(text(obj, what)?)).map_err(|e| core(obj.py(), e))
}

/// An optional document (`None`: the default).
pub(crate) fn opt_document<T: Document + Default + Send>(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<T> {
    Ok(opt(obj, |o| document(o, what))?.unwrap_or_default())
}

/// A document's text or value. A `str`'s text is read in place where the ABI lets Python
/// hand out its UTF-8 (3.10+; the 3.9 ABI encodes a copy): a 5 MB manifest is not copied
/// before the core reads it.
pub(crate) enum Source<'a> {
    Text(Cow<'a, str>),
    Value(Value),
}

/// What a document argument holds: text from a `str`, `bytes` or a file, or a value.
pub(crate) fn source<'a>(obj: &'a Bound<'_, PyAny>, what: &str) -> PyResult<Source<'a>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return text_in_place(s, what).map(Source::Text);
    }
    let not_utf8 = || invalid_found(obj.py(), what, "UTF-8 text", "bytes that are not UTF-8".into());
    // `bytes` cannot change: read in place (an S3 body's `read()` is one).
    if let Ok(bytes) = obj.cast::<PyBytes>() {
        return std::str::from_utf8(bytes.as_bytes()).map(|t| Source::Text(t.into())).map_err(|_| not_utf8());
    }
    // A `bytearray` or `memoryview` can: copied first.
    if obj.is_instance_of::<PyByteArray>() || obj.is_instance_of::<PyMemoryView>() {
        let bytes = obj.py().import("builtins")?.getattr("bytes")?.call1((obj,))?;
        let bytes = bytes.cast::<PyBytes>().map_err(|_| invalid(what, "bytes", obj))?.as_bytes().to_vec();
        return String::from_utf8(bytes).map(|t| Source::Text(t.into())).map_err(|_| not_utf8());
    }
    let os = obj.py().import("os")?;
    if obj.is_instance(&os.getattr("PathLike")?)? {
        let path = os.call_method1("fspath", (obj,))?;
        let path = text(&path, what)?;
        return std::fs::read_to_string(&path)
            .map(|t| Source::Text(t.into()))
            .map_err(|e| invalid_found(obj.py(), what, "a readable UTF-8 file", format!("{path:?}: {e}")));
    }
    to_value(obj, what, 0).map(Source::Value)
}

/// Python objects as the JSON value they stand for.
fn to_value(obj: &Bound<'_, PyAny>, at: &str, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(invalid_found(obj.py(), at, "a document nested at most 128 deep", "deeper nesting".into()));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(n) = obj.extract::<i64>() {
            return Ok(n.into());
        }
        return obj.extract::<u64>().map(Into::into).map_err(|_| invalid(at, "an integer within 64 bits", obj));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return serde_json::Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| invalid_found(obj.py(), at, "a finite number", f.value().to_string()));
    }
    if obj.is_instance_of::<PyString>() {
        return text(obj, at).map(Value::String);
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (key, value) in dict.iter() {
            let key = text(&key, &format!("{at} (a key)")).map_err(|_| invalid(at, "a dict with str keys", &key))?;
            let value = to_value(&value, &format!("{at}.{key}"), depth + 1)?;
            map.insert(key, value);
        }
        return Ok(Value::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for (i, item) in obj.try_iter()?.enumerate() {
            items.push(to_value(&item?, &format!("{at}[{i}]"), depth + 1)?);
        }
        return Ok(Value::Array(items));
    }
    if obj.is_instance(&obj.py().import("datetime")?.getattr("datetime")?)? {
        return instant(obj, at).map(|t| Value::String(t.to_string()));
    }
    if let Ok(v) = obj.cast::<crate::version::PyVersion>() {
        return Ok(Value::String(v.get().inner.as_str().to_owned()));
    }
    // Records of results (`fleetpath.Path`, …) and wrappers give their JSON form.
    if let Ok(to_dict) = obj.getattr(pyo3::intern!(obj.py(), "to_dict"))
        && to_dict.is_callable()
    {
        return to_value(&to_dict.call0()?, at, depth + 1);
    }
    Err(invalid(at, "part of a JSON document (dict, list, str, number, bool, None, datetime)", obj))
}
