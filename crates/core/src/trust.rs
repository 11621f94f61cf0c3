//! Signed documents: manifests (and fleets and calendars) that whoever can write the bucket
//! cannot forge, replay or keep alive forever.
//!
//! The envelope is TUF's metadata form, so keys and tools of teams on TUF or Uptane carry over:
//! a `signed` object (its `_type`, `spec_version`, a monotonic `version`, `expires`, and, as
//! TUF's targets metadata does for files, the `length` and `hashes` of the document) and
//! `signatures`, each a `keyid` (the SHA-256 of the key's canonical JSON) and an Ed25519 `sig`
//! (hex) over the canonical JSON (OLPC, as TUF) of `signed`. The document travels beside them,
//! as its exact text: verifying it costs a hash of its bytes, not a canonical re-encoding.
//!
//! ```json
//! {"signed": {"_type": "fleetpath/manifest", "spec_version": "1.0", "version": 7,
//!             "expires": "2027-01-01T00:00:00Z", "length": 2048,
//!             "hashes": {"sha256": "e3b0c442…"}},
//!  "signatures": [{"keyid": "6b3f…", "sig": "9a1c…"}],
//!  "document": "{\"format_version\": 1, …}"}
//! ```
//!
//! A host verifies against the keys it trusts and the threshold of them that must sign
//! ([`TrustedKeys`]), at an instant it passes in, and refuses a version below the last one it
//! accepted (it persists that number): [`verify`]. [`sign`] makes envelopes.
//!
//! ```
//! use fleetpath::trust::{self, DocumentKind, SigningKey, TrustedKeys};
//!
//! let key = SigningKey::from_seed(&[7; 32]);
//! let trusted = TrustedKeys::new([key.public_key()], 1)?;
//! let manifest = r#"{"format_version": 1, "releases": [{"version": "5.6.14"}]}"#;
//! let expires = "2027-01-01T00:00:00Z".parse()?;
//! let envelope = trust::sign(DocumentKind::Manifest, 7, expires, manifest, &[&key]);
//! let text = serde_json::to_string(&envelope)?;
//!
//! let now = "2026-12-01T00:00:00Z".parse()?;
//! let verified = trust::verify(&text, DocumentKind::Manifest, &trusted, now, Some(6))?;
//! assert_eq!(verified.version, 7);
//! let graph = fleetpath::UpgradeGraph::from_json(&verified.document)?;
//! assert_eq!(graph.releases().len(), 1);
//!
//! // Replaying version 6 after 7 was accepted is refused.
//! let old = serde_json::to_string(&trust::sign(DocumentKind::Manifest, 6, expires, manifest, &[&key]))?;
//! assert_eq!(trust::verify(&old, DocumentKind::Manifest, &trusted, now, Some(7)).unwrap_err().code(), "rolled_back");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::u32_of;
use std::collections::BTreeMap;

use ed25519_dalek::{Signer, Verifier};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::Codes;

/// The `spec_version` of envelopes this library writes and reads.
pub const SPEC_VERSION: &str = "1.0";

/// What a signed envelope holds. A host names the kind it expects, so a signed fleet can never
/// stand in for a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DocumentKind {
    /// An upgrade graph manifest.
    #[serde(rename = "fleetpath/manifest", alias = "manifest")]
    Manifest,
    /// A fleet (`{"devices": […]}`).
    #[serde(rename = "fleetpath/fleet", alias = "fleet")]
    Fleet,
    /// A calendar.
    #[serde(rename = "fleetpath/calendar", alias = "calendar")]
    Calendar,
}

/// An Ed25519 public key in TUF's form: `{"keytype": "ed25519", "scheme": "ed25519",
/// "keyval": {"public": "<64 hex digits>"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicKey {
    /// `ed25519`.
    pub keytype: String,
    /// `ed25519`.
    pub scheme: String,
    /// The key material.
    pub keyval: KeyValue,
}

/// The `keyval` of a [`PublicKey`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyValue {
    /// The 32-byte public key, hex.
    pub public: String,
}

impl PublicKey {
    /// The key's id: the SHA-256 (hex) of its canonical JSON, as TUF computes it.
    pub fn keyid(&self) -> String {
        hex::encode(sha2::Sha256::digest(canonical(&serde_json::to_value(self).unwrap_or_default())))
    }

    fn verifying_key(&self) -> Result<ed25519_dalek::VerifyingKey, TrustError> {
        let invalid = |problem: &str| TrustError::InvalidKey { keyid: self.keyid(), problem: problem.to_owned() };
        if self.keytype != "ed25519" || self.scheme != "ed25519" {
            return Err(invalid("only ed25519 keys (keytype and scheme \"ed25519\") are supported"));
        }
        let bytes: [u8; 32] = hex::decode(&self.keyval.public)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| invalid("the public key is not 64 hex digits"))?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| invalid("not a valid Ed25519 point"))
    }
}

/// A private Ed25519 key. The core has no randomness: a host makes the 32-byte seed from its
/// system's random source ([`SigningKey::from_seed`]) and keeps it secret.
#[derive(Clone)]
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("keyid", &self.public_key().keyid()).finish_non_exhaustive()
    }
}

/// A private key's file form: securesystemslib's Ed25519 key dictionary (`keytype`, `scheme`,
/// `keyval.public` and `keyval.private`, hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateKeyFile {
    /// `ed25519`.
    pub keytype: String,
    /// `ed25519`.
    pub scheme: String,
    /// The key material.
    pub keyval: PrivateKeyValue,
}

/// The `keyval` of a [`PrivateKeyFile`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateKeyValue {
    /// The public key, hex.
    pub public: String,
    /// The 32-byte seed, hex.
    pub private: String,
}

impl SigningKey {
    /// The key of a 32-byte seed (from the host's random source).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self { key: ed25519_dalek::SigningKey::from_bytes(seed) }
    }

    /// Reads a key file ([`PrivateKeyFile`]).
    ///
    /// # Errors
    /// [`TrustError::InvalidKey`] for another key type, a seed that is not 64 hex digits, or a
    /// public key that does not belong to the seed.
    pub fn from_file(file: &PrivateKeyFile) -> Result<Self, TrustError> {
        let invalid = |problem: &str| TrustError::InvalidKey { keyid: String::new(), problem: problem.to_owned() };
        if file.keytype != "ed25519" || file.scheme != "ed25519" {
            return Err(invalid("only ed25519 keys are supported"));
        }
        let seed: [u8; 32] = hex::decode(&file.keyval.private)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| invalid("the private key is not 64 hex digits"))?;
        let key = Self::from_seed(&seed);
        if !key.public_key().keyval.public.eq_ignore_ascii_case(&file.keyval.public) {
            return Err(invalid("the public key does not belong to the private key"));
        }
        Ok(key)
    }

    /// The key's file form (keep it secret).
    pub fn to_file(&self) -> PrivateKeyFile {
        PrivateKeyFile {
            keytype: "ed25519".to_owned(),
            scheme: "ed25519".to_owned(),
            keyval: PrivateKeyValue {
                public: self.public_key().keyval.public,
                private: hex::encode(self.key.to_bytes()),
            },
        }
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            keytype: "ed25519".to_owned(),
            scheme: "ed25519".to_owned(),
            keyval: KeyValue { public: hex::encode(self.key.verifying_key().to_bytes()) },
        }
    }
}

/// The keys a host trusts, by key id, and how many of them must sign (TUF's role: `keys` and
/// `threshold`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedKeys {
    /// Public keys by key id.
    pub keys: BTreeMap<String, PublicKey>,
    /// How many distinct trusted keys must sign (at least 1).
    pub threshold: u32,
}

impl TrustedKeys {
    /// A key set of these keys (ids computed) with this threshold.
    ///
    /// # Errors
    /// [`TrustError::InvalidKey`] for a key that is not Ed25519, a threshold of 0 or above the
    /// number of keys.
    pub fn new(keys: impl IntoIterator<Item = PublicKey>, threshold: u32) -> Result<Self, TrustError> {
        let keys = keys.into_iter().map(|k| (k.keyid(), k)).collect();
        let set = Self { keys, threshold };
        set.check()?;
        Ok(set)
    }

    /// Checks the set: every key valid and listed under its own id, a threshold from 1 to the
    /// number of keys.
    ///
    /// # Errors
    /// [`TrustError::InvalidKey`] naming the key or the threshold.
    pub fn check(&self) -> Result<(), TrustError> {
        for (keyid, key) in &self.keys {
            key.verifying_key()?;
            if *keyid != key.keyid() {
                let problem = format!("listed under id {keyid}, but its id is {}", key.keyid());
                return Err(TrustError::InvalidKey { keyid: keyid.clone(), problem });
            }
        }
        if self.threshold == 0 || self.threshold as usize > self.keys.len() {
            let problem = format!("threshold {} with {} key(s)", self.threshold, self.keys.len());
            return Err(TrustError::InvalidKey { keyid: String::new(), problem });
        }
        Ok(())
    }
}

/// A signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// The signing key's id.
    pub keyid: String,
    /// The Ed25519 signature of the canonical `signed`, hex.
    pub sig: String,
}

/// The signed part of an envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    /// What the document is.
    #[serde(rename = "_type")]
    pub kind: DocumentKind,
    /// [`SPEC_VERSION`].
    pub spec_version: String,
    /// Increases with every release of the document; a host refuses to go back.
    pub version: u64,
    /// After this instant the envelope is refused: a host must get a fresh one.
    pub expires: Timestamp,
    /// The document's length in bytes (UTF-8).
    pub length: u64,
    /// The document's digests: `sha256` (hex).
    pub hashes: BTreeMap<String, String>,
}

/// A signed document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// What is signed ([`Signed`]; kept as read, since the signatures cover its canonical form).
    pub signed: serde_json::Value,
    /// The signatures.
    pub signatures: Vec<Signature>,
    /// The document's exact text (absent in TUF metadata, whose `signed` is the whole story).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

impl Envelope {
    /// Reads an envelope from JSON text.
    ///
    /// # Errors
    /// [`TrustError::Malformed`], with where the JSON went wrong.
    pub fn read(text: &str) -> Result<Self, TrustError> {
        crate::document::from_str("envelope", text).map_err(|e| TrustError::Malformed { problem: e.to_string() })
    }
}

impl crate::Document for Envelope {
    const NAME: &'static str = "envelope";
    fn from_json(text: &str) -> Result<Self, crate::Error> {
        Ok(Self::read(text)?)
    }
    fn from_value(value: serde_json::Value) -> Result<Self, crate::Error> {
        let read = crate::document::from_value(Self::NAME, value);
        Ok(read.map_err(|e| TrustError::Malformed { problem: e.to_string() })?)
    }
}

/// An envelope that passed [`verify`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verified {
    /// What the document is.
    pub kind: DocumentKind,
    /// Its version (persist it: pass it as `last_accepted` next time).
    pub version: u64,
    /// When it expires.
    pub expires: Timestamp,
    /// The document's text: read it with its type's `from_json` (such as
    /// [`UpgradeGraph::from_json`](crate::UpgradeGraph::from_json)).
    pub document: String,
    /// The trusted keys whose signatures verified, by id.
    pub signed_by: Vec<String>,
}

/// Why a signed document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Codes)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TrustError {
    /// Not an envelope: bad JSON, a missing or unknown field, a `signed` that is not of the
    /// form, or floats (canonical JSON has none).
    #[error("malformed signed envelope: {problem}")]
    #[code("malformed_envelope")]
    Malformed {
        /// What is wrong.
        problem: String,
    },
    /// The envelope holds another kind of document than the one expected.
    #[error("signed envelope holds a {found}, not a {expected}")]
    #[code("wrong_document")]
    WrongDocument {
        /// What was expected (`fleetpath/manifest`, …).
        expected: String,
        /// What the envelope says it holds.
        found: String,
    },
    /// A key that cannot be used (not Ed25519, bad key material, a bad threshold).
    #[error("invalid {}: {problem}", if keyid.is_empty() { "trusted key set".to_owned() } else { format!("key {keyid}") })]
    #[code("invalid_key")]
    InvalidKey {
        /// The key id (empty when it is about the key set).
        keyid: String,
        /// What is wrong.
        problem: String,
    },
    /// A signature by a trusted key does not verify: the envelope was changed after signing.
    #[error("signature by key {keyid} does not verify (the signed document was altered, or signed by another key)")]
    #[code("bad_signature")]
    BadSignature {
        /// The key id.
        keyid: String,
    },
    /// No signature is by a trusted key.
    #[error("signed by no trusted key (signatures by {keyids:?})")]
    #[code("unknown_key")]
    UnknownKey {
        /// The key ids that signed.
        keyids: Vec<String>,
    },
    /// Fewer distinct trusted keys signed than the threshold.
    #[error("signed by {valid} trusted key(s), {threshold} required")]
    #[code("threshold_not_met")]
    ThresholdNotMet {
        /// Distinct trusted keys whose signatures verified.
        valid: u32,
        /// How many are required.
        threshold: u32,
    },
    /// The document is not the one signed: its length or SHA-256 differs from the signed ones.
    #[error("the document is not the one signed: {field} is {found}, the signature covers {signed}")]
    #[code("document_mismatch")]
    DocumentMismatch {
        /// `length` or `sha256` (or `document` when the envelope carries none).
        field: String,
        /// The document's.
        found: String,
        /// The signed one.
        signed: String,
    },
    /// The envelope expired.
    #[error("signed document version {version} expired at {expires} (now {now})")]
    #[code("expired")]
    Expired {
        /// Its version.
        version: u64,
        /// When it expired.
        expires: Timestamp,
        /// The instant of the check.
        now: Timestamp,
    },
    /// The envelope is older than one the host already accepted: a replay.
    #[error("signed document version {version} is older than version {last_accepted}, already accepted")]
    #[code("rolled_back")]
    RolledBack {
        /// Its version.
        version: u64,
        /// The last version the host accepted.
        last_accepted: u64,
    },
    /// A retry state that came back through a device does not carry the host's MAC for that
    /// device: it was altered (to reset its attempt count) or made up.
    #[error("retry state of device {device:?} does not carry the host's MAC (altered or forged)")]
    #[code("bad_retry_mac")]
    BadRetryMac {
        /// The device.
        device: String,
    },
}

/// The canonical JSON (OLPC, as TUF signs) of a value.
fn canonical(value: &serde_json::Value) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, olpc_cjson::CanonicalFormatter::new());
    // Writing to memory fails only for floats, which `has_float` rules out first.
    let _ = value.serialize(&mut ser);
    out
}

fn has_float(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Number(n) => n.is_f64(),
        serde_json::Value::Array(items) => items.iter().any(has_float),
        serde_json::Value::Object(map) => map.values().any(has_float),
        _ => false,
    }
}

/// Signs `document` (its exact text) as version `version` of a `kind`, expiring at
/// `expires`, with each key.
pub fn sign(kind: DocumentKind, version: u64, expires: Timestamp, document: &str, keys: &[&SigningKey]) -> Envelope {
    let hashes = BTreeMap::from([("sha256".to_owned(), hex::encode(sha2::Sha256::digest(document.as_bytes())))]);
    let length = u64::try_from(document.len()).unwrap_or(u64::MAX);
    let signed = Signed { kind, spec_version: SPEC_VERSION.to_owned(), version, expires, length, hashes };
    // A struct of strings and integers always serializes.
    let signed = serde_json::to_value(&signed).unwrap_or_default();
    let bytes = canonical(&signed);
    let signatures = keys
        .iter()
        .map(|k| Signature { keyid: k.public_key().keyid(), sig: hex::encode(k.key.sign(&bytes).to_bytes()) })
        .collect();
    Envelope { signed, signatures, document: Some(document.to_owned()) }
}

/// Checks an envelope's signatures: at least `threshold` distinct trusted keys signed the
/// canonical `signed` (every signature by a trusted key must verify; signatures by other keys
/// are ignored). This is TUF's signature check, whatever the envelope holds: it verifies TUF
/// metadata signed by TUF tools too. Returns the ids of the trusted keys that signed.
///
/// # Errors
/// [`TrustError::Malformed`] (floats), [`TrustError::InvalidKey`], [`TrustError::BadSignature`],
/// [`TrustError::UnknownKey`], [`TrustError::ThresholdNotMet`].
pub fn verify_signatures(envelope: &Envelope, trusted: &TrustedKeys) -> Result<Vec<String>, TrustError> {
    if has_float(&envelope.signed) {
        return Err(TrustError::Malformed { problem: "canonical JSON has no floats".to_owned() });
    }
    trusted.check()?;
    let bytes = canonical(&envelope.signed);
    let mut valid: Vec<String> = Vec::new();
    let mut unknown = Vec::new();
    for signature in &envelope.signatures {
        let Some(key) = trusted.keys.get(&signature.keyid) else {
            unknown.push(signature.keyid.clone());
            continue;
        };
        let bad = || TrustError::BadSignature { keyid: signature.keyid.clone() };
        let sig: [u8; 64] = hex::decode(&signature.sig).ok().and_then(|b| b.try_into().ok()).ok_or_else(bad)?;
        key.verifying_key()?.verify(&bytes, &ed25519_dalek::Signature::from_bytes(&sig)).map_err(|_| bad())?;
        if !valid.contains(&signature.keyid) {
            valid.push(signature.keyid.clone());
        }
    }
    if valid.is_empty() && !unknown.is_empty() {
        return Err(TrustError::UnknownKey { keyids: unknown });
    }
    let count = u32_of(valid.len());
    if count < trusted.threshold {
        return Err(TrustError::ThresholdNotMet { valid: count, threshold: trusted.threshold });
    }
    Ok(valid)
}

/// Verifies an envelope (JSON text) holding a `kind`: at least `threshold` distinct trusted keys
/// signed the canonical `signed` (every signature by a trusted key must verify; signatures by
/// other keys are ignored), it has not expired at `now`, and its version is not below
/// `last_accepted`.
///
/// # Errors
/// In this order: [`TrustError::Malformed`], [`TrustError::InvalidKey`] (the trusted set),
/// [`TrustError::BadSignature`], [`TrustError::UnknownKey`], [`TrustError::ThresholdNotMet`],
/// [`TrustError::WrongDocument`], [`TrustError::Expired`], [`TrustError::RolledBack`],
/// [`TrustError::DocumentMismatch`].
pub fn verify(
    text: &str,
    kind: DocumentKind,
    trusted: &TrustedKeys,
    now: Timestamp,
    last_accepted: Option<u64>,
) -> Result<Verified, TrustError> {
    verify_envelope(Envelope::read(text)?, kind, trusted, now, last_accepted)
}

/// [`verify`] on an envelope already read.
///
/// # Errors
/// As [`verify`].
pub fn verify_envelope(
    envelope: Envelope,
    kind: DocumentKind,
    trusted: &TrustedKeys,
    now: Timestamp,
    last_accepted: Option<u64>,
) -> Result<Verified, TrustError> {
    let malformed = |problem: String| TrustError::Malformed { problem };
    let valid = verify_signatures(&envelope, trusted)?;
    let signed: Signed = serde_json::from_value(envelope.signed).map_err(|e| malformed(format!("signed: {e}")))?;
    if signed.spec_version != SPEC_VERSION {
        return Err(malformed(format!("spec_version {:?} (this library reads {SPEC_VERSION})", signed.spec_version)));
    }
    if signed.kind != kind {
        let name = |k: DocumentKind| serde_json::to_value(k).ok().and_then(|v| v.as_str().map(str::to_owned));
        let (expected, found) = (name(kind).unwrap_or_default(), name(signed.kind).unwrap_or_default());
        return Err(TrustError::WrongDocument { expected, found });
    }
    if now >= signed.expires {
        return Err(TrustError::Expired { version: signed.version, expires: signed.expires, now });
    }
    if let Some(last_accepted) = last_accepted.filter(|&last| signed.version < last) {
        return Err(TrustError::RolledBack { version: signed.version, last_accepted });
    }
    let mismatch = |field: &str, found: String, signed: String| TrustError::DocumentMismatch {
        field: field.to_owned(),
        found,
        signed,
    };
    let Some(document) = envelope.document else {
        return Err(mismatch("document", "absent".to_owned(), format!("{} bytes", signed.length)));
    };
    let length = u64::try_from(document.len()).unwrap_or(u64::MAX);
    if length != signed.length {
        return Err(mismatch("length", length.to_string(), signed.length.to_string()));
    }
    let Some(expected) = signed.hashes.get("sha256") else {
        return Err(malformed("signed: no sha256 in hashes".to_owned()));
    };
    let sha256 = hex::encode(sha2::Sha256::digest(document.as_bytes()));
    if !sha256.eq_ignore_ascii_case(expected) {
        return Err(mismatch("sha256", sha256, expected.clone()));
    }
    Ok(Verified { kind: signed.kind, version: signed.version, expires: signed.expires, document, signed_by: valid })
}

/// A device's retry state as it travels through the device (when the host cannot keep it):
/// the state and an HMAC-SHA256 (hex), keyed by a host secret, over the device id and the
/// state's canonical JSON. A device can return it, not change it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedRetry {
    /// The state.
    pub state: crate::RetryState,
    /// Its MAC, hex.
    pub mac: String,
}

fn retry_mac(state: &crate::RetryState, device: &str, key: &[u8]) -> hmac::Hmac<sha2::Sha256> {
    use hmac::Mac;
    // HMAC takes a key of any length.
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    let body = serde_json::json!({ "device": device, "retry": state });
    mac.update(&canonical(&body));
    mac
}

impl SealedRetry {
    /// Seals `state` of `device` with the host's secret `key`.
    ///
    /// ```
    /// use fleetpath::trust::SealedRetry;
    /// let sealed = SealedRetry::seal(fleetpath::RetryState::default(), "press-1-01", b"host secret");
    /// assert_eq!(sealed.open("press-1-01", b"host secret")?, fleetpath::RetryState::default());
    /// assert_eq!(sealed.open("press-1-02", b"host secret").unwrap_err().code(), "bad_retry_mac");
    /// # Ok::<(), fleetpath::trust::TrustError>(())
    /// ```
    pub fn seal(state: crate::RetryState, device: &str, key: &[u8]) -> Self {
        use hmac::Mac;
        let mac = hex::encode(retry_mac(&state, device, key).finalize().into_bytes());
        Self { state, mac }
    }

    /// The state, if it carries the MAC of `device` under `key` (compared in constant time).
    ///
    /// # Errors
    /// [`TrustError::BadRetryMac`].
    pub fn open(&self, device: &str, key: &[u8]) -> Result<crate::RetryState, TrustError> {
        use hmac::Mac;
        let bad = || TrustError::BadRetryMac { device: device.to_owned() };
        let tag = hex::decode(&self.mac).map_err(|_| bad())?;
        retry_mac(&self.state, device, key).verify_slice(&tag).map_err(|_| bad())?;
        Ok(self.state)
    }
}

crate::document::documents! {
    DocumentKind => "document kind";
    SealedRetry => "sealed retry state";
    TrustedKeys => "trusted keys", TrustedKeys::check;
    PrivateKeyFile => "private key";
    PublicKey => "public key";
}
