//! Conversions shared by every wrapper, and the one place core errors become JavaScript errors.
//!
//! A core error leaves as a JavaScript `Error` whose `code` is `FLEETPATH` and whose message is
//! the JSON `{"code", "message", "fields"}`; `index.js` rebuilds it as the class of its code.

use std::panic::{AssertUnwindSafe, catch_unwind};

use fleetpath::{Document, InputError, Version};
use jiff::Timestamp;
use napi::Either;
use napi::bindgen_prelude::{JsValue as _, Unknown};
use serde_json::Value;

/// The error status the package's `index.js` recognises.
pub(crate) const STATUS: &str = "FLEETPATH";

/// What every wrapper returns.
pub(crate) type Result<T> = std::result::Result<T, napi::Error<&'static str>>;

fn raise(code: &str, message: &str, fields: serde_json::Map<String, Value>) -> napi::Error<&'static str> {
    let payload = serde_json::json!({ "code": code, "message": message, "fields": fields });
    napi::Error::new(STATUS, payload.to_string())
}

/// A core error, with its code and fields.
pub(crate) fn core(err: impl Into<fleetpath::Error>) -> napi::Error<&'static str> {
    let err = err.into();
    raise(err.code(), &err.to_string(), err.fields())
}

/// An error of `fleetpath-aws`'s pure half (HEAD parsing, restore requests).
pub(crate) fn s3(err: &fleetpath_aws::S3Error) -> napi::Error<&'static str> {
    raise(err.code(), &err.to_string(), err.fields())
}

/// `invalid_input`: an argument of the wrong kind.
pub(crate) fn invalid(what: &str, expected: &str, found: impl Into<String>) -> napi::Error<&'static str> {
    core(InputError::InvalidInput { what: what.to_owned(), expected: expected.to_owned(), found: found.into() })
}

/// Runs a wrapper's body; a panic becomes the `internal` error instead of aborting Node.
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        Err(core(fleetpath::Error::Internal { message: what }))
    })
}

/// A document read on libuv's thread pool, off the event loop (`loadAsync`): `read` turns the
/// argument (converted on the main thread) into the class `C` handed to JavaScript, inside
/// [`guard`]. Its error rejects the promise as the synchronous call throws it.
pub struct Load<C> {
    source: Option<Doc>,
    read: fn(Doc) -> Result<C>,
}

impl<C> Load<C> {
    pub(crate) fn new(source: Doc, read: fn(Doc) -> Result<C>) -> Self {
        Self { source: Some(source), read }
    }
}

impl<C: napi::bindgen_prelude::ToNapiValue + napi::bindgen_prelude::TypeName + Holds + Send + 'static> napi::Task
    for Load<C>
{
    type Output = Result<C>;
    type JsValue = C;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let (read, source) = (self.read, self.source.take().unwrap_or(Doc::Null));
        Ok(guard(|| read(source)))
    }

    fn resolve(&mut self, env: napi::Env, output: Self::Output) -> napi::Result<C> {
        use napi::{JsValue as _, bindgen_prelude::JsObjectValue as _};
        output.map(|loaded| loaded.told(env)).map_err(|err| {
            // The rejection is the JavaScript error a synchronous call throws (code `FLEETPATH`,
            // the payload as message), which `index.js` translates.
            match env.create_error(napi::Error::from_reason(err.reason)) {
                Ok(mut error) => match error.set_named_property("code", STATUS) {
                    Ok(()) => napi::Error::from(error.to_unknown()),
                    Err(e) => e,
                },
                Err(e) => e,
            }
        })
    }
}

/// A JSON document as an argument: a string is its text, and any other value is read as
/// `JSON.stringify` writes it, as the WebAssembly package reads it (a `Date` inside becomes
/// its text, an `undefined` property is left out, `toJSON` is honoured), through the core's
/// [`Document::from_value_text`]: the document, or the error the value gives.
///
/// N-API's own walk of an object (napi-rs's `Value` conversion: calls for each property, key
/// and value) took 2.6 µs of `Decider.decide`'s 6.1 for a request, and 304–334 ms to load a
/// 10k-release manifest given as an object (`JSON.stringify` and the text read: 40–41).
pub enum Doc {
    /// `undefined` or `null`.
    Null,
    /// A string: the document's text.
    Text(String),
    /// Any other value, as `JSON.stringify` wrote it.
    Written(String),
}

thread_local! {
    /// `JSON.stringify` of the env on this thread, looked up once.
    static STRINGIFY: std::cell::OnceCell<napi::bindgen_prelude::FunctionRef<Unknown<'static>, Unknown<'static>>> =
        const { std::cell::OnceCell::new() };
}

impl napi::bindgen_prelude::TypeName for Doc {
    fn type_name() -> &'static str {
        "unknown"
    }

    fn value_type() -> napi::ValueType {
        napi::ValueType::Unknown
    }
}

impl napi::bindgen_prelude::ValidateNapiValue for Doc {}

impl napi::bindgen_prelude::FromNapiValue for Doc {
    #[allow(unsafe_code)]
    unsafe fn from_napi_value(env: napi::sys::napi_env, value: napi::sys::napi_value) -> napi::Result<Self> {
        use napi::sys::ValueType;
        let refused =
            |found: String| napi::Error::new(napi::Status::InvalidArg, format!("expected a JSON value, got {found}"));
        let mut kind = 0;
        // SAFETY: `env` and `value` are the live handles N-API handed this argument's conversion.
        napi::check_status!(unsafe { napi::sys::napi_typeof(env, value, &raw mut kind) })?;
        match kind {
            // SAFETY: as above; `value` is a string.
            ValueType::napi_string => return unsafe { text(env, value) }.map(Self::Text),
            ValueType::napi_undefined | ValueType::napi_null => return Ok(Self::Null),
            _ => {}
        }
        let env = napi::Env::from_raw(env);
        // SAFETY: as above.
        let value = unsafe { Unknown::from_napi_value(env.raw(), value) }?;
        // What it throws (a BigInt, a cycle) is refused with its message.
        let written = call_json(&STRINGIFY, &env, "stringify", value);
        // Its message, as the WebAssembly package words it (without the `TypeError: `).
        let written = written.map_err(|e| {
            let message = e.reason.split_once(": ").filter(|(name, _)| name.ends_with("Error")).map(|(_, m)| m);
            refused(message.unwrap_or(&e.reason).to_owned())
        })?;
        // A function or a symbol has no JSON: `JSON.stringify` gives `undefined`.
        if written.get_type()? != napi::ValueType::String {
            return Err(refused(js_type(value.get_type()?).to_owned()));
        }
        // SAFETY: `written` is a string `JSON.stringify` just made in this env.
        unsafe { text(env.raw(), written.raw()) }.map(Self::Written)
    }
}

/// The name `typeof` gives a value of this type.
fn js_type(kind: napi::ValueType) -> &'static str {
    match kind {
        napi::ValueType::Function => "function",
        napi::ValueType::Symbol => "symbol",
        napi::ValueType::BigInt => "bigint",
        _ => "value",
    }
}

/// A JavaScript string as Rust text. Most documents are ASCII, one byte a character: such a
/// string is written at once into a buffer of its length, without asking V8 for its UTF-8
/// length first (a pass of its own over the string: 2.2 ms of the 3.4 the conversion took
/// for a 4.8 MB manifest). Any other string is measured, then written.
///
/// # Safety
/// `env` and `value` are live N-API handles, `value` a string.
#[allow(unsafe_code)]
unsafe fn text(env: napi::sys::napi_env, value: napi::sys::napi_value) -> napi::Result<String> {
    use napi::sys::{napi_get_value_string_latin1, napi_get_value_string_utf8};
    // At most `len` bytes of its UTF-8, whole characters (N-API adds a terminating zero).
    let write = |len: usize| -> napi::Result<Vec<u8>> {
        let (mut buffer, mut written) = (vec![0u8; len + 1], 0);
        // SAFETY: the handles are live (the caller's contract); the buffer has `len + 1` bytes.
        napi::check_status!(unsafe {
            napi_get_value_string_utf8(env, value, buffer.as_mut_ptr().cast(), len + 1, &raw mut written)
        })?;
        buffer.truncate(written);
        Ok(buffer)
    };
    // Its length in UTF-16 code units, then its UTF-8 length, each asked with a null buffer.
    let (mut chars, mut bytes) = (0, 0);
    // SAFETY: as above; nothing is written.
    napi::check_status!(unsafe { napi_get_value_string_latin1(env, value, std::ptr::null_mut(), 0, &raw mut chars) })?;
    let mut buffer = write(chars)?;
    // ASCII bytes as many as its code units: each byte was a whole character, so every
    // character was written. Otherwise a character took more than a byte.
    if buffer.len() != chars || !buffer.is_ascii() {
        // SAFETY: as above; nothing is written.
        napi::check_status!(unsafe {
            napi_get_value_string_utf8(env, value, std::ptr::null_mut(), 0, &raw mut bytes)
        })?;
        buffer = write(bytes)?;
    }
    String::from_utf8(buffer).map_err(|e| napi::Error::new(napi::Status::InvalidArg, e.to_string()))
}

/// A document as `load` takes it: UTF-8 bytes, read in place (the package's JavaScript hands
/// them over once checked), or a value (its text as a string, or the parsed document).
pub enum Source {
    /// A `Uint8Array` (a `Buffer`): UTF-8 text.
    Bytes(napi::bindgen_prelude::Uint8Array),
    /// Anything else: a string is the text, any other value the document.
    Doc(Doc),
}

impl napi::bindgen_prelude::TypeName for Source {
    fn type_name() -> &'static str {
        "string | Uint8Array | object"
    }

    fn value_type() -> napi::ValueType {
        napi::ValueType::Unknown
    }
}

impl napi::bindgen_prelude::FromNapiValue for Source {
    #[allow(unsafe_code)]
    unsafe fn from_napi_value(env: napi::sys::napi_env, value: napi::sys::napi_value) -> napi::Result<Self> {
        use napi::bindgen_prelude::{Uint8Array, ValidateNapiValue as _};
        // SAFETY: `env` and `value` are the live handles N-API handed this argument's
        // conversion; both calls only read them.
        unsafe {
            // Other typed arrays (a `Float64Array`) are values, as `loadAsync` reads them.
            if Uint8Array::validate(env, value).is_ok()
                && let Ok(bytes) = Uint8Array::from_napi_value(env, value)
            {
                return Ok(Self::Bytes(bytes));
            }
            Doc::from_napi_value(env, value).map(Self::Doc)
        }
    }
}

impl Doc {
    /// Whether it is null (or was `undefined`).
    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// As a JSON value (a string for text), for the argument `what` read as a value rather
    /// than a document; the core reads the text and names `what` in its error.
    pub(crate) fn into_value(self, what: &'static str) -> Result<Value> {
        match self {
            Self::Null => Ok(Value::Null),
            Self::Text(text) => Ok(Value::String(text)),
            Self::Written(text) => fleetpath::document::value_of(what, &text).map_err(core),
        }
    }
}

/// The text of bytes given to `what` (a function's name) as a document: checked again here
/// for a call that bypassed the package's JavaScript, with the error it throws.
pub(crate) fn text_of<'b>(bytes: &'b [u8], what: &str) -> Result<&'b str> {
    std::str::from_utf8(bytes).map_err(|_| invalid(what, "UTF-8 text", "bytes that are not UTF-8"))
}

/// A document given to `what` (a function's name) from a [`Source`].
pub(crate) fn document_from<T: Document>(source: Source, what: &str) -> Result<T> {
    match source {
        Source::Bytes(bytes) => T::from_json(text_of(&bytes, what)?).map_err(core),
        Source::Doc(doc) => document(doc),
    }
}

/// A document: its JSON text (a string) or its value (anything else).
pub(crate) fn document<T: Document>(source: Doc) -> Result<T> {
    match source {
        Doc::Null => T::from_value(Value::Null),
        Doc::Text(text) => T::from_json(&text),
        Doc::Written(text) => T::from_value_text(&text),
    }
    .map_err(core)
}

/// An optional document; absent (`undefined` or `null`) gives the default.
pub(crate) fn opt_document<T: Document + Default>(source: Option<Doc>) -> Result<T> {
    match source {
        None | Some(Doc::Null) => Ok(T::default()),
        Some(doc) => document(doc),
    }
}

/// Memory an object of the addon holds that V8 cannot see (a graph's releases and edges, a
/// fleet's columns): told to V8 when the object is made, given back when V8 collects it.
/// V8 collects as the pressure it sees grows; without this, a loop that loads graphs makes
/// little JavaScript garbage, so the graphs it drops pile up (a 10k-release graph holds about
/// 10 MB: 200 loads grew a process to 2.4 GB of resident memory).
#[derive(Debug, Default)]
pub(crate) struct Held(i64);

impl Held {
    /// Tells V8 of `bytes` more.
    fn tell(env: napi::Env, bytes: usize) -> Self {
        let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        // Only what V8 took is given back.
        env.adjust_external_memory(bytes).map_or(Self(0), |_| Self(bytes))
    }

    /// Gives it back: the object was collected.
    pub(crate) fn give_back(&self, env: napi::Env) {
        if self.0 != 0 {
            // V8 may refuse while the environment is torn down: nothing is left to pace then.
            let _ = env.adjust_external_memory(-self.0);
        }
    }
}

/// An object of the addon whose memory V8 is told of (see [`Held`]); [`holds!`] implements
/// it for a class.
pub(crate) trait Holds: Sized {
    /// About how many bytes it holds: the core's estimate from its counts, which paces V8's
    /// collections (it need not be exact).
    fn bytes(&self) -> usize;

    /// Where what V8 was told is kept.
    fn held(&mut self) -> &mut Held;

    /// The object, V8 told of it.
    fn told(mut self, env: napi::Env) -> Self {
        let held = Held::tell(env, self.bytes());
        *self.held() = held;
        self
    }
}

/// Implements [`Holds`] for a class with fields `inner` (the core's object, whose
/// `memory_estimate` V8 is told of) and `held`, and gives the memory back when V8 collects
/// the object (the class is declared `#[napi(custom_finalize)]`).
macro_rules! holds {
    ($class:ty) => {
        impl $crate::convert::Holds for $class {
            fn bytes(&self) -> usize {
                self.inner.memory_estimate()
            }

            fn held(&mut self) -> &mut $crate::convert::Held {
                &mut self.held
            }
        }

        impl napi::bindgen_prelude::ObjectFinalize for $class {
            fn finalize(self, env: napi::Env) -> napi::Result<()> {
                self.held.give_back(env);
                Ok(())
            }
        }
    };
}
pub(crate) use holds;

/// A result on its way to JavaScript: the core's serde JSON as text, turned into plain objects
/// by V8's own `JSON.parse`. Building objects property by property through N-API costs about
/// four times as much (a hop: 6.7 µs against 1.7 µs on these machines), and `JSON.parse`
/// knows no size limit (napi-rs's `Value` conversion stops at a million nodes).
pub struct Json(String);

impl Json {
    /// JavaScript's `null`.
    pub(crate) fn null() -> Self {
        Self("null".to_owned())
    }
}

impl napi::bindgen_prelude::TypeName for Json {
    fn type_name() -> &'static str {
        "unknown"
    }

    fn value_type() -> napi::ValueType {
        napi::ValueType::Object
    }
}

thread_local! {
    /// `JSON.parse` of the env on this thread (Node's main thread, or a worker's), looked up once.
    static PARSE: std::cell::OnceCell<napi::bindgen_prelude::FunctionRef<String, napi::bindgen_prelude::Unknown<'static>>> =
        const { std::cell::OnceCell::new() };
}

/// `JSON.<name>(arg)` in `env`, the function looked up once a thread and kept in `cell`.
fn call_json<'e, A: napi::bindgen_prelude::JsValuesTupleIntoVec>(
    cell: &'static std::thread::LocalKey<std::cell::OnceCell<napi::bindgen_prelude::FunctionRef<A, Unknown<'static>>>>,
    env: &'e napi::Env,
    name: &str,
    arg: A,
) -> napi::Result<Unknown<'e>> {
    use napi::bindgen_prelude::{Function, JsObjectValue as _, Object};
    cell.with(|cell| {
        if cell.get().is_none() {
            let json: Object<'_> = env.get_global()?.get_named_property("JSON")?;
            let function: Function<'_, A, Unknown<'static>> = json.get_named_property(name)?;
            let _ = cell.set(function.create_ref()?);
        }
        let function = cell.get().map(|r| r.borrow_back(env)).transpose()?;
        let missing = || Err(napi::Error::from_reason(format!("JSON.{name} is not available")));
        function.map_or_else(missing, |f| f.call(arg))
    })
}

impl napi::bindgen_prelude::ToNapiValue for Json {
    #[allow(unsafe_code)]
    unsafe fn to_napi_value(raw: napi::sys::napi_env, val: Self) -> napi::Result<napi::sys::napi_value> {
        let env = napi::Env::from_raw(raw);
        let parsed = call_json(&PARSE, &env, "parse", val.0)?;
        // SAFETY: `raw` is the env napi-rs calls this with (the trait's contract), and `parsed`
        // a value it just created in that env.
        unsafe { Unknown::to_napi_value(raw, parsed) }
    }
}

/// A result as the plain object of its serde JSON.
pub(crate) fn to_js<T: serde::Serialize + ?Sized>(value: &T) -> Result<Json> {
    serde_json::to_string(value)
        .map(Json)
        .map_err(|e| core(fleetpath::Error::Internal { message: format!("conversion to JavaScript: {e}") }))
}

/// A version given as text.
pub(crate) fn version(text: &str) -> Result<Version> {
    Version::parse(text).map_err(core)
}

/// A time: RFC 3339 text or unix seconds (`index.js` gives a `Date` as text).
pub(crate) fn instant(time: Either<String, f64>, what: &str) -> Result<Timestamp> {
    match time {
        Either::A(text) => fleetpath::document::timestamp(what, &text),
        Either::B(seconds) => fleetpath::document::unix_seconds(what, seconds),
    }
    .map_err(core)
}

/// A time as RFC 3339 text (UTC).
pub(crate) fn time_text(t: Timestamp) -> String {
    t.to_string()
}

/// A whole number in `0..=max` given as a JavaScript number.
pub(crate) fn int(value: f64, what: &str, max: u64) -> Result<u64> {
    // Numbers above 2^53 are not exact in JavaScript; `max` as f64 rounds up at most.
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    if value.fract() == 0.0 && value >= 0.0 && value <= max as f64 && value <= 9_007_199_254_740_991.0 {
        return Ok(value as u64);
    }
    Err(invalid(what, &format!("a whole number from 0 to {}", max.min(9_007_199_254_740_991)), format!("{value}")))
}

/// [`int`] for a count the core takes as a `u32` (an attempt, a threshold, days).
pub(crate) fn int32(value: f64, what: &str) -> Result<u32> {
    int(value, what, u64::from(u32::MAX)).map(count)
}

/// A count for JavaScript, saturating at `u32::MAX` (the core keeps its counts far below it).
pub(crate) fn count(n: impl TryInto<u32>) -> u32 {
    n.try_into().unwrap_or(u32::MAX)
}

/// A choice of a documented set (`"standard"`, `"manifest"`…) given as text.
pub(crate) fn choice<T: Document>(text: String) -> Result<T> {
    T::from_value(Value::String(text)).map_err(core)
}
