//! Signed documents (TUF-form envelopes, Ed25519) and sealed retry states.

use fleetpath::trust::{self, DocumentKind, Envelope, PrivateKeyFile, PublicKey, SealedRetry, SigningKey, TrustedKeys};
use napi::Either;
use napi::bindgen_prelude::Uint8Array;
use napi_derive::napi;
use serde_json::Value;

use crate::convert::{Doc, Json, choice, document, instant, int, int32, invalid, to_js};
use crate::{Result, core, guard};

/// A signing key file (`{keytype, scheme, keyval: {public, private}}`) from a 32-byte seed.
#[napi(ts_return_type = "KeyFile")]
pub fn key_from_seed(seed: Uint8Array) -> Result<Json> {
    guard(|| {
        let seed: [u8; 32] =
            seed[..].try_into().map_err(|_| invalid("seed", "32 bytes", format!("{} bytes", seed.len())))?;
        to_js(&SigningKey::from_seed(&seed).to_file())
    })
}

/// The public half of a key file: `{keyid, key}`.
#[napi(object, object_from_js = false)]
pub struct PublicKeyOf {
    /// The key id (SHA-256 of the public key's canonical JSON, as TUF computes it).
    pub keyid: String,
    /// The public key, as TUF metadata lists it.
    #[napi(ts_type = "object")]
    pub key: Json,
}

/// The key id and public key of a key file.
#[napi(ts_args_type = "key: KeyFile | string")]
pub fn public_key(key: Doc) -> Result<PublicKeyOf> {
    guard(|| {
        let key = SigningKey::from_file(&document::<PrivateKeyFile>(key)?).map_err(core)?;
        let public = key.public_key();
        Ok(PublicKeyOf { keyid: public.keyid(), key: to_js(&public)? })
    })
}

/// A trusted key set: public keys and how many must sign.
#[napi(ts_args_type = "keys: object[], threshold: number", ts_return_type = "TrustedKeys")]
pub fn trusted_keys(keys: Vec<Doc>, threshold: f64) -> Result<Json> {
    guard(|| {
        let keys = keys.into_iter().map(document::<PublicKey>).collect::<Result<Vec<_>>>()?;
        let threshold = int32(threshold, "threshold")?;
        to_js(&TrustedKeys::new(keys, threshold).map_err(core)?)
    })
}

/// Signs `document` (its exact text; an object is written as compact JSON) as `kind`
/// (`manifest`, `fleet`, `calendar`), numbered `version`, valid until `expires`.
#[napi(
    ts_args_type = "kind: string, version: number, expires: Date | string | number, document: string | object, keys: Array<KeyFile | string>",
    ts_return_type = "Envelope"
)]
pub fn sign(kind: String, version: f64, expires: Either<String, f64>, document_: Doc, keys: Vec<Doc>) -> Result<Json> {
    guard(|| {
        let kind: DocumentKind = choice(kind)?;
        let version = int(version, "version", u64::MAX)?;
        let text = match document_.into_value("document")? {
            Value::String(text) => text,
            value => value.to_string(),
        };
        let keys = keys
            .into_iter()
            .map(|k| SigningKey::from_file(&document::<PrivateKeyFile>(k)?).map_err(core))
            .collect::<Result<Vec<_>>>()?;
        let keys: Vec<&SigningKey> = keys.iter().collect();
        to_js(&trust::sign(kind, version, instant(expires, "expires")?, &text, &keys))
    })
}

/// Verifies an envelope: signatures by the trusted keys (threshold), kind, expiry at `now`,
/// no older than `lastAccepted`, the document's length and SHA-256. Returns what was verified.
#[napi(
    ts_args_type = "envelope: Envelope | string, kind: string, trusted: TrustedKeys | string, now: Date | string | number, lastAccepted?: number | null",
    ts_return_type = "Verified"
)]
pub fn verify(
    envelope: Doc,
    kind: String,
    trusted: Doc,
    now: Either<String, f64>,
    last_accepted: Option<f64>,
) -> Result<Json> {
    guard(|| {
        let envelope: Envelope = document(envelope)?;
        let trusted: TrustedKeys = document(trusted)?;
        let last = last_accepted.map(|l| int(l, "last_accepted", u64::MAX)).transpose()?;
        let verified = trust::verify_envelope(envelope, choice(kind)?, &trusted, instant(now, "now")?, last);
        to_js(&verified.map_err(core)?)
    })
}

/// The key ids whose signatures verify (at least the threshold), else the error.
#[napi(ts_args_type = "envelope: Envelope | string, trusted: TrustedKeys | string")]
pub fn verify_signatures(envelope: Doc, trusted: Doc) -> Result<Vec<String>> {
    guard(|| {
        let envelope: Envelope = document(envelope)?;
        let trusted: TrustedKeys = document(trusted)?;
        trust::verify_signatures(&envelope, &trusted).map_err(core)
    })
}

/// A retry state sealed (HMAC-SHA256 under `key`, bound to `device`) to travel through it.
#[napi(ts_args_type = "state: RetryState | string, device: string, key: Uint8Array", ts_return_type = "SealedRetry")]
pub fn seal_retry(state: Doc, device: String, key: Uint8Array) -> Result<Json> {
    guard(|| to_js(&SealedRetry::seal(document(state)?, &device, &key)))
}

/// The retry state of a sealed one, if its seal holds for `device` and `key`.
#[napi(ts_args_type = "sealed: SealedRetry | string, device: string, key: Uint8Array", ts_return_type = "RetryState")]
pub fn open_retry(sealed: Doc, device: String, key: Uint8Array) -> Result<Json> {
    guard(|| {
        let sealed: SealedRetry = document(sealed)?;
        to_js(&sealed.open(&device, &key).map_err(core)?)
    })
}
