//! Signed documents (TUF-form envelopes, Ed25519) and sealed retry states.

use fleetpath::trust::{self, DocumentKind, Envelope, PrivateKeyFile, PublicKey, SealedRetry, SigningKey, TrustedKeys};
use wasm_bindgen::prelude::*;

use crate::convert::{absent, bytes, choice, document, instant, int, int32, invalid, json, kind, object, text, to_js};
use crate::{Result, core};

/// Each element of an array argument.
fn each(value: &JsValue, what: &str) -> Result<Vec<JsValue>> {
    let array: &js_sys::Array = value.dyn_ref().ok_or_else(|| invalid(what, "an array", kind(value)))?;
    Ok(array.iter().collect())
}

/// A signing key file (`{keytype, scheme, keyval: {public, private}}`) from a 32-byte seed.
#[wasm_bindgen(js_name = "keyFromSeed", unchecked_return_type = "KeyFile")]
pub fn key_from_seed(#[wasm_bindgen(unchecked_param_type = "Uint8Array")] seed: JsValue) -> Result<JsValue> {
    let seed = bytes(&seed, "seed")?;
    let seed: [u8; 32] =
        seed[..].try_into().map_err(|_| invalid("seed", "32 bytes", format!("{} bytes", seed.len())))?;
    to_js(&SigningKey::from_seed(&seed).to_file())
}

#[wasm_bindgen(typescript_custom_section)]
const PUBLIC_KEY_OF: &str = r"
/** The public half of a key file: `{keyid, key}`. */
export interface PublicKeyOf {
  /** The key id (SHA-256 of the public key's canonical JSON, as TUF computes it). */
  keyid: string;
  /** The public key, as TUF metadata lists it. */
  key: object;
}
";

/// The key id and public key of a key file: `{keyid, key}`.
#[wasm_bindgen(js_name = "publicKey", unchecked_return_type = "PublicKeyOf")]
pub fn public_key(#[wasm_bindgen(unchecked_param_type = "KeyFile | string")] key: JsValue) -> Result<JsValue> {
    let key = SigningKey::from_file(&document::<PrivateKeyFile>(&key, "key")?).map_err(core)?;
    let public = key.public_key();
    Ok(object(&[("keyid", public.keyid().into()), ("key", to_js(&public)?)]))
}

/// A trusted key set: public keys and how many must sign.
#[wasm_bindgen(js_name = "trustedKeys", unchecked_return_type = "TrustedKeys")]
pub fn trusted_keys(
    #[wasm_bindgen(unchecked_param_type = "object[]")] keys: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] threshold: JsValue,
) -> Result<JsValue> {
    let keys = each(&keys, "keys")?.iter().map(|k| document::<PublicKey>(k, "keys")).collect::<Result<Vec<_>>>()?;
    let threshold = int32(&threshold, "threshold")?;
    to_js(&TrustedKeys::new(keys, threshold).map_err(core)?)
}

/// Signs `document` (its exact text; an object is written as compact JSON) as `kind`
/// (`manifest`, `fleet`, `calendar`), numbered `version`, valid until `expires`.
#[wasm_bindgen(unchecked_return_type = "Envelope")]
pub fn sign(
    #[wasm_bindgen(unchecked_param_type = "string")] kind: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] version: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Date | string | number")] expires: JsValue,
    #[wasm_bindgen(js_name = "document", unchecked_param_type = "string | object")] document_: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Array<KeyFile | string>")] keys: JsValue,
) -> Result<JsValue> {
    let kind: DocumentKind = choice(&kind, "kind")?;
    let version = int(&version, "version", u64::MAX)?;
    let text = match json(&document_, "document")? {
        serde_json::Value::String(text) => text,
        value => value.to_string(),
    };
    let keys = each(&keys, "keys")?
        .iter()
        .map(|k| SigningKey::from_file(&document::<PrivateKeyFile>(k, "keys")?).map_err(core))
        .collect::<Result<Vec<_>>>()?;
    let keys: Vec<&SigningKey> = keys.iter().collect();
    to_js(&trust::sign(kind, version, instant(&expires, "expires")?, &text, &keys))
}

/// Verifies an envelope: signatures by the trusted keys (threshold), kind, expiry at `now`,
/// no older than `lastAccepted`, the document's length and SHA-256. Returns what was verified.
#[wasm_bindgen(unchecked_return_type = "Verified")]
pub fn verify(
    #[wasm_bindgen(unchecked_param_type = "Envelope | string")] envelope: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] kind: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TrustedKeys | string")] trusted: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Date | string | number")] now: JsValue,
    #[wasm_bindgen(js_name = "lastAccepted", unchecked_optional_param_type = "number | null")] last_accepted: JsValue,
) -> Result<JsValue> {
    let envelope: Envelope = document(&envelope, "envelope")?;
    let trusted: TrustedKeys = document(&trusted, "trusted")?;
    let last = if absent(&last_accepted) { None } else { Some(int(&last_accepted, "last_accepted", u64::MAX)?) };
    let verified = trust::verify_envelope(envelope, choice(&kind, "kind")?, &trusted, instant(&now, "now")?, last);
    to_js(&verified.map_err(core)?)
}

/// The key ids whose signatures verify (at least the threshold), else the error.
#[wasm_bindgen(js_name = "verifySignatures")]
pub fn verify_signatures(
    #[wasm_bindgen(unchecked_param_type = "Envelope | string")] envelope: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TrustedKeys | string")] trusted: JsValue,
) -> Result<Vec<String>> {
    let envelope: Envelope = document(&envelope, "envelope")?;
    let trusted: TrustedKeys = document(&trusted, "trusted")?;
    trust::verify_signatures(&envelope, &trusted).map_err(core)
}

/// A retry state sealed (HMAC-SHA256 under `key`, bound to `device`) to travel through it.
#[wasm_bindgen(js_name = "sealRetry", unchecked_return_type = "SealedRetry")]
pub fn seal_retry(
    #[wasm_bindgen(unchecked_param_type = "RetryState | string")] state: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] device: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] key: JsValue,
) -> Result<JsValue> {
    let state = document(&state, "state")?;
    to_js(&SealedRetry::seal(state, &text(&device, "device")?, &bytes(&key, "key")?))
}

/// The retry state of a sealed one, if its seal holds for `device` and `key`.
#[wasm_bindgen(js_name = "openRetry", unchecked_return_type = "RetryState")]
pub fn open_retry(
    #[wasm_bindgen(unchecked_param_type = "SealedRetry | string")] sealed: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] device: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] key: JsValue,
) -> Result<JsValue> {
    let sealed: SealedRetry = document(&sealed, "sealed")?;
    to_js(&sealed.open(&text(&device, "device")?, &bytes(&key, "key")?).map_err(core)?)
}
