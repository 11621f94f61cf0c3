//! `fleetpath.trust`: signed documents (sign, verify, keys) and sealed retry states.

use fleetpath::trust::{self, DocumentKind, Envelope, PrivateKeyFile, PublicKey, SealedRetry, SigningKey, TrustedKeys};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::convert::{self, choice, document, instant, int, opt, text};
use crate::errors::{core, guard, to_py};

fn bytes_of(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    Ok(obj.cast::<PyBytes>().map_err(|_| convert::invalid(what, "bytes", obj))?.as_bytes().to_vec())
}

/// The key file (securesystemslib's Ed25519 key dict) of a 32-byte seed.
#[pyfunction]
pub(crate) fn key_from_seed<'py>(py: Python<'py>, seed: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let seed = bytes_of(seed, "seed")?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|s: Vec<u8>| convert::invalid_found(py, "seed", "32 bytes", format!("{} bytes", s.len())))?;
        to_py(py, &SigningKey::from_seed(&seed).to_file())
    })
}

/// A key file's public key and its id: `(keyid, public key dict)`.
#[pyfunction]
pub(crate) fn public_key<'py>(py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<(String, Bound<'py, PyAny>)> {
    guard(py, || {
        let key = SigningKey::from_file(&document::<PrivateKeyFile>(key, "key")?).map_err(|e| core(py, e))?;
        let public = key.public_key();
        Ok((public.keyid(), to_py(py, &public)?))
    })
}

/// The trusted key set of these public keys (dicts) and threshold.
#[pyfunction]
pub(crate) fn trusted_keys<'py>(
    py: Python<'py>,
    keys: &Bound<'py, PyAny>,
    threshold: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let keys: Vec<PublicKey> = convert::list(keys, "keys", document)?;
        let set = TrustedKeys::new(keys, int(threshold, "threshold", "1 to 4294967295")?);
        to_py(py, &set.map_err(|e| core(py, e))?)
    })
}

/// The envelope signing `document` as version `version` of a `kind`, expiring at `expires`.
#[pyfunction]
pub(crate) fn sign<'py>(
    py: Python<'py>,
    kind: &Bound<'py, PyAny>,
    version: &Bound<'py, PyAny>,
    expires: &Bound<'py, PyAny>,
    document_: &Bound<'py, PyAny>,
    keys: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let kind: DocumentKind = choice(kind, "kind")?;
        let version = int(version, "version", "0 to 18446744073709551615")?;
        // The exact text is signed: objects are written as compact JSON.
        let text = match convert::source(document_, "document")? {
            convert::Source::Text(text) => text,
            convert::Source::Value(value) => value.to_string().into(),
        };
        let keys: Vec<SigningKey> = convert::list(keys, "keys", |k, what| {
            SigningKey::from_file(&document::<PrivateKeyFile>(k, what)?).map_err(|e| core(py, e))
        })?;
        let keys: Vec<&SigningKey> = keys.iter().collect();
        to_py(py, &trust::sign(kind, version, instant(expires, "expires")?, &text, &keys))
    })
}

/// Verifies an envelope holding a `kind` against `trusted` at `now`: `{kind, version,
/// expires, document, signed_by}`.
#[pyfunction]
#[pyo3(signature = (envelope, kind, trusted, now, last_accepted=None))]
pub(crate) fn verify<'py>(
    py: Python<'py>,
    envelope: &Bound<'py, PyAny>,
    kind: &Bound<'py, PyAny>,
    trusted: &Bound<'py, PyAny>,
    now: &Bound<'py, PyAny>,
    last_accepted: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let envelope: Envelope = document(envelope, "envelope")?;
        let trusted: TrustedKeys = document(trusted, "trusted")?;
        let last = opt(last_accepted, |l| int(l, "last_accepted", "0 to 18446744073709551615"))?;
        let verified = trust::verify_envelope(envelope, choice(kind, "kind")?, &trusted, instant(now, "now")?, last);
        to_py(py, &verified.map_err(|e| core(py, e))?)
    })
}

/// Checks an envelope's signatures only (TUF's check, whatever it holds, TUF metadata
/// included): the ids of the trusted keys that signed.
#[pyfunction]
pub(crate) fn verify_signatures(
    py: Python<'_>,
    envelope: &Bound<'_, PyAny>,
    trusted: &Bound<'_, PyAny>,
) -> PyResult<Vec<String>> {
    guard(py, || {
        let envelope: Envelope = document(envelope, "envelope")?;
        let trusted: TrustedKeys = document(trusted, "trusted")?;
        trust::verify_signatures(&envelope, &trusted).map_err(|e| core(py, e))
    })
}

/// Seals a retry state of `device` with the host's secret `key` (bytes).
#[pyfunction]
pub(crate) fn seal_retry<'py>(
    py: Python<'py>,
    state: &Bound<'py, PyAny>,
    device: &Bound<'py, PyAny>,
    key: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let sealed = SealedRetry::seal(document(state, "state")?, &text(device, "device")?, &bytes_of(key, "key")?);
        to_py(py, &sealed)
    })
}

/// The retry state a sealed one carries, if its MAC is the host's for `device`.
#[pyfunction]
pub(crate) fn open_retry<'py>(
    py: Python<'py>,
    sealed: &Bound<'py, PyAny>,
    device: &Bound<'py, PyAny>,
    key: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let sealed: SealedRetry = document(sealed, "sealed")?;
        let state = sealed.open(&text(device, "device")?, &bytes_of(key, "key")?);
        to_py(py, &state.map_err(|e| core(py, e))?)
    })
}
