//! Conversions shared by every wrapper, and the one place core errors become JavaScript errors.
//!
//! A core error leaves as a JavaScript `Error` whose `code` is `FLEETPATH` and whose message is
//! the JSON `{"code", "message", "fields"}`; `index.js` rebuilds it as the class of its code
//! (the Node addon throws the same).

use fleetpath::{Document, InputError, Version};
use jiff::Timestamp;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};

/// What every wrapper returns; the error is the thrown JavaScript value.
pub type Result<T> = std::result::Result<T, JsValue>;

/// The `code` of the errors `index.js` rebuilds from their JSON message.
const STATUS: &str = "FLEETPATH";

/// An error's payload: `{"code", "message", "fields"}` as JSON text.
pub(crate) fn payload(err: &fleetpath::Error) -> String {
    serde_json::json!({ "code": err.code(), "message": err.to_string(), "fields": err.fields() }).to_string()
}

fn raise(payload: &str) -> JsValue {
    let err = js_sys::Error::new(payload);
    // Setting a property of a fresh `Error` cannot fail.
    let _ = js_sys::Reflect::set(&err, &"code".into(), &STATUS.into());
    err.into()
}

/// A core error, with its code and fields.
pub(crate) fn core(err: impl Into<fleetpath::Error>) -> JsValue {
    raise(&payload(&err.into()))
}

/// An error of `fleetpath-aws`'s pure half (HEAD parsing, restore requests).
pub(crate) fn s3(err: &fleetpath_aws::S3Error) -> JsValue {
    let json = serde_json::json!({ "code": err.code(), "message": err.to_string(), "fields": err.fields() });
    raise(&json.to_string())
}

/// `invalid_input`: an argument of the wrong kind.
pub(crate) fn invalid(what: &str, expected: &str, found: impl Into<String>) -> JsValue {
    core(InputError::InvalidInput { what: what.to_owned(), expected: expected.to_owned(), found: found.into() })
}

/// What a JavaScript value is, for error messages.
pub(crate) fn kind(value: &JsValue) -> String {
    if value.is_null() {
        return "null".to_owned();
    }
    if js_sys::Array::is_array(value) {
        return "an array".to_owned();
    }
    value.js_typeof().as_string().unwrap_or_default()
}

/// Whether an optional argument was left out (`undefined` or `null`).
pub(crate) fn absent(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

/// A string argument.
pub(crate) fn text(value: &JsValue, what: &str) -> Result<String> {
    value.as_string().ok_or_else(|| invalid(what, "a string", kind(value)))
}

/// An optional string argument.
pub(crate) fn opt_text(value: &JsValue, what: &str) -> Result<Option<String>> {
    if absent(value) { Ok(None) } else { text(value, what).map(Some) }
}

/// A number argument.
pub(crate) fn number(value: &JsValue, what: &str) -> Result<f64> {
    value.as_f64().ok_or_else(|| invalid(what, "a number", kind(value)))
}

/// A list of strings.
pub(crate) fn texts(value: &JsValue, what: &str) -> Result<Vec<String>> {
    let array: &js_sys::Array = value.dyn_ref().ok_or_else(|| invalid(what, "an array of strings", kind(value)))?;
    array.iter().enumerate().map(|(i, v)| text(&v, &format!("{what}[{i}]"))).collect()
}

/// A JSON document as an argument, as the Node package reads one: a string is its text, and
/// any other value is read as `JSON.stringify` writes it (a `Date` inside becomes its text),
/// through the core's [`Document::from_value_text`]: the document, or the error the value
/// gives, without a value tree built in between.
pub(crate) enum Doc {
    /// `undefined` or `null`.
    Null,
    /// A string: the document's text.
    Text(String),
    /// Any other value, as `JSON.stringify` wrote it.
    Written(String),
}

/// Any JavaScript value as a [`Doc`].
pub(crate) fn doc(value: &JsValue, what: &str) -> Result<Doc> {
    if let Some(text) = value.as_string() {
        return Ok(Doc::Text(text));
    }
    if absent(value) {
        return Ok(Doc::Null);
    }
    let refused = |found: String| invalid(what, "a JSON value", found);
    let text = js_sys::JSON::stringify(value).map_err(|e| refused(describe(&e)))?;
    text.as_string().map(Doc::Written).ok_or_else(|| refused(kind(value)))
}

/// Any JavaScript value as JSON: a string stays text (the caller parses it as a document),
/// anything else is the value `JSON.stringify` writes, read by the core (its error names
/// `what`).
pub(crate) fn json(value: &JsValue, what: &'static str) -> Result<Value> {
    match doc(value, what)? {
        Doc::Null => Ok(Value::Null),
        Doc::Text(text) => Ok(Value::String(text)),
        Doc::Written(text) => fleetpath::document::value_of(what, &text).map_err(core),
    }
}

/// The message of a thrown JavaScript value.
fn describe(thrown: &JsValue) -> String {
    thrown.dyn_ref::<js_sys::Error>().map_or_else(|| kind(thrown), |e| String::from(e.message()))
}

/// A document: its JSON text (a string) or its value (anything else).
pub(crate) fn document<T: Document>(source: &JsValue, what: &str) -> Result<T> {
    read(doc(source, what)?)
}

/// The document a [`Doc`] holds.
pub(crate) fn read<T: Document>(source: Doc) -> Result<T> {
    match source {
        Doc::Null => T::from_value(Value::Null),
        Doc::Text(text) => T::from_json(&text),
        Doc::Written(text) => T::from_value_text(&text),
    }
    .map_err(core)
}

/// An optional document; absent (`undefined` or `null`) gives the default.
pub(crate) fn opt_document<T: Document + Default>(source: &JsValue, what: &str) -> Result<T> {
    if absent(source) { Ok(T::default()) } else { document(source, what) }
}

/// A result as the plain object of its serde JSON (`JSON.parse` of the core's text).
pub(crate) fn to_js<T: serde::Serialize + ?Sized>(value: &T) -> Result<JsValue> {
    let text = serde_json::to_string(value)
        .map_err(|e| core(fleetpath::Error::Internal { message: format!("conversion to JavaScript: {e}") }))?;
    js_sys::JSON::parse(&text)
}

/// An optional result: `null` when absent.
pub(crate) fn opt_js<T: serde::Serialize>(value: Option<&T>) -> Result<JsValue> {
    value.map_or(Ok(JsValue::NULL), to_js)
}

/// A version given as text.
pub(crate) fn version(value: &JsValue, what: &str) -> Result<Version> {
    Version::parse(&text(value, what)?).map_err(core)
}

/// A time: RFC 3339 text or unix seconds (`index.js` gives a `Date` as text).
pub(crate) fn instant(value: &JsValue, what: &str) -> Result<Timestamp> {
    if let Some(text) = value.as_string() {
        return fleetpath::document::timestamp(what, &text).map_err(core);
    }
    let seconds =
        value.as_f64().ok_or_else(|| invalid(what, "a time (Date, RFC 3339 text or unix seconds)", kind(value)))?;
    fleetpath::document::unix_seconds(what, seconds).map_err(core)
}

/// A whole number in `0..=max` given as a JavaScript number.
pub(crate) fn int(value: &JsValue, what: &str, max: u64) -> Result<u64> {
    let number = number(value, what)?;
    // Numbers above 2^53 are not exact in JavaScript; `max` as f64 rounds up at most.
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    if number.fract() == 0.0 && number >= 0.0 && number <= max as f64 && number <= 9_007_199_254_740_991.0 {
        return Ok(number as u64);
    }
    Err(invalid(what, &format!("a whole number from 0 to {}", max.min(9_007_199_254_740_991)), format!("{number}")))
}

/// [`int`] for a count the core takes as a `u32` (an attempt, a threshold, days).
pub(crate) fn int32(value: &JsValue, what: &str) -> Result<u32> {
    int(value, what, u64::from(u32::MAX)).map(count)
}

/// A choice of a documented set (`"standard"`, `"manifest"`…) given as text.
pub(crate) fn choice<T: Document>(value: &JsValue, what: &str) -> Result<T> {
    T::from_value(Value::String(text(value, what)?)).map_err(core)
}

/// Bytes (`Uint8Array`, which a `Buffer` is).
pub(crate) fn bytes(value: &JsValue, what: &str) -> Result<Vec<u8>> {
    value
        .dyn_ref::<js_sys::Uint8Array>()
        .map(js_sys::Uint8Array::to_vec)
        .ok_or_else(|| invalid(what, "a Uint8Array", kind(value)))
}

/// A property of an object argument (`undefined` when `object` is not an object).
pub(crate) fn property(object: &JsValue, key: &str) -> JsValue {
    if object.is_object() {
        js_sys::Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// A plain object built from `(key, value)` pairs.
pub(crate) fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let out = js_sys::Object::new();
    for (key, value) in entries {
        // Defining a property of a fresh plain object cannot fail.
        let _ = js_sys::Reflect::set(&out, &(*key).into(), value);
    }
    out.into()
}

/// A count for JavaScript, saturating at `u32::MAX` (the core keeps its counts far below it).
pub(crate) fn count(n: impl TryInto<u32>) -> u32 {
    n.try_into().unwrap_or(u32::MAX)
}
