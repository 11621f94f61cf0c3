"""Signed documents, TUF-style: Ed25519 signatures over canonical JSON of what is signed (the
kind, a monotonic `version`, an `expires` instant, and the document's length and SHA-256),
a threshold of trusted keys; and retry states sealed with the host's secret when they must
travel through a device. The keys are securesystemslib's key dicts, the envelope TUF's
`{"signed": …, "signatures": [{"keyid", "sig"}]}` plus `document`, the exact text signed.

>>> from fleetpath import trust, examples
>>> key = trust.SigningKey.from_seed(bytes(range(32)))
>>> trusted = trust.trusted_keys([key.public_key()], threshold=1)
>>> envelope = trust.sign("manifest", 7, "2027-01-01T00:00:00Z", examples.SEED_MANIFEST, [key])
>>> verified = trust.verify(envelope, "manifest", trusted, now="2026-12-01T00:00:00Z", last_accepted=6)
>>> verified.version, UpgradeGraph.load(verified.document).name
(7, 'ip-alarm-module')
>>> trust.verify(envelope, "manifest", trusted, now="2027-01-01T00:00:00Z")
Traceback (most recent call last):
fleetpath.errors.ExpiredError: signed document version 7 expired at 2027-01-01T00:00:00Z (now 2027-01-01T00:00:00Z)
"""

from __future__ import annotations

import secrets
from typing import Any, Dict, List, Optional, Sequence

from . import _native
from ._records import Field, Record
from .graph import UpgradeGraph  # noqa: F401  (the module docstring's example)
from .rollout import When


class SigningKey:
    """A private Ed25519 key (keep it secret): its file form is securesystemslib's key dict
    (`keytype`, `scheme`, `keyval.public`, `keyval.private`, hex).

    >>> key = SigningKey.from_seed(bytes(32))
    >>> key.keyid[:12], key.public_key()["keytype"]
    ('4cc3f338069d', 'ed25519')
    """

    __slots__ = ("_file",)

    def __init__(self, key_file: Any) -> None:
        _native.public_key(key_file)  # checks it
        self._file = dict(key_file)

    @classmethod
    def generate(cls) -> "SigningKey":
        """A new key from the system's random source (`secrets`).

        >>> len(SigningKey.generate().keyid)
        64
        """
        return cls.from_seed(secrets.token_bytes(32))

    @classmethod
    def from_seed(cls, seed: bytes) -> "SigningKey":
        """The key of a 32-byte seed.

        >>> SigningKey.from_seed(bytes(32)).public_key()["keyval"]["public"][:8]
        '3b6a27bc'
        """
        return cls(_native.key_from_seed(seed))

    @property
    def keyid(self) -> str:
        """The key's id: the SHA-256 of its public key's canonical JSON (as TUF computes it).

        >>> len(SigningKey.from_seed(bytes(32)).keyid)
        64
        """
        return _native.public_key(self._file)[0]

    def public_key(self) -> Dict[str, Any]:
        """The public key dict (`keytype`, `scheme`, `keyval.public`), for `trusted_keys`.

        >>> sorted(SigningKey.from_seed(bytes(32)).public_key())
        ['keytype', 'keyval', 'scheme']
        """
        return dict(_native.public_key(self._file)[1])

    def to_dict(self) -> Dict[str, Any]:
        """The key file (secret).

        >>> sorted(SigningKey.from_seed(bytes(32)).to_dict()["keyval"])
        ['private', 'public']
        """
        return dict(self._file)

    def __repr__(self) -> str:
        return f"SigningKey(keyid={self.keyid[:12]!r})"


class Verified(Record):
    """A verified envelope: `kind`, `version` (persist it, pass it as `last_accepted` next
    time), `expires`, `document` (the JSON text signed; load it:
    `UpgradeGraph.load(verified.document)`) and `signed_by` (the trusted key ids whose
    signatures verified).

    >>> Verified({"kind": "fleetpath/manifest", "version": 3}).version
    3
    """

    __slots__ = ()
    kind: "Field[str]" = Field("kind")
    version: "Field[int]" = Field("version")
    expires: "Field[str]" = Field("expires")
    document: "Field[str]" = Field("document")
    signed_by: "Field[tuple[str, ...]]" = Field("signed_by")


def trusted_keys(keys: Sequence[Any], threshold: int = 1) -> Dict[str, Any]:
    """The key set a host trusts: public keys by id, and how many must sign.

    >>> ks = trusted_keys([SigningKey.from_seed(bytes(32)).public_key()])
    >>> ks["threshold"], len(ks["keys"])
    (1, 1)
    """
    return dict(_native.trusted_keys(keys, threshold))


def sign(kind: str, version: int, expires: When, document: Any, keys: Sequence[SigningKey]) -> Dict[str, Any]:
    """The envelope of `document` (`kind`: `manifest`, `fleet` or `calendar`) as `version`,
    expiring at `expires`, signed by each key. Text (a `str`, `bytes` or a path) is signed
    exactly as given; Python objects are written as compact JSON first.

    >>> env = sign("fleet", 1, "2027-01-01T00:00:00Z", {"devices": []}, [SigningKey.from_seed(bytes(32))])
    >>> env["signed"]["_type"], env["signed"]["length"], env["document"], len(env["signatures"])
    ('fleetpath/fleet', 14, '{"devices":[]}', 1)
    """
    return dict(_native.sign(kind, version, expires, document, keys))


def verify(envelope: Any, kind: str, trusted: Any, *, now: When, last_accepted: Optional[int] = None) -> Verified:
    """Verifies an envelope (a dict, JSON text, bytes or a path) holding a `kind`: enough
    trusted keys signed it, it has not expired at `now`, and its version is not below
    `last_accepted`, and the document it carries is the one signed (length and SHA-256).
    `BadSignatureError`, `UnknownKeyError`, `ThresholdNotMetError`, `ExpiredError`,
    `RolledBackError`, `WrongDocumentError`, `DocumentMismatchError`, `MalformedEnvelopeError`
    say why not.

    >>> key = SigningKey.from_seed(bytes(32))
    >>> env = sign("fleet", 1, "2027-01-01T00:00:00Z", {"devices": []}, [key])
    >>> verify(env, "manifest", trusted_keys([key.public_key()]), now="2026-12-01T00:00:00Z")
    Traceback (most recent call last):
    fleetpath.errors.WrongDocumentError: signed envelope holds a fleetpath/fleet, not a fleetpath/manifest
    """
    return Verified(_native.verify(envelope, kind, trusted, now, last_accepted))


def verify_signatures(envelope: Any, trusted: Any) -> List[str]:
    """Checks only the signatures of an envelope (TUF's check, whatever it holds: TUF
    metadata signed by TUF tools verifies too): the ids of the trusted keys that signed.

    >>> key = SigningKey.from_seed(bytes(32))
    >>> env = sign("fleet", 1, "2027-01-01T00:00:00Z", {"devices": []}, [key])
    >>> verify_signatures(env, trusted_keys([key.public_key()])) == [key.keyid]
    True
    """
    return list(_native.verify_signatures(envelope, trusted))


def seal_retry(state: Any, device: str, key: bytes) -> Dict[str, Any]:
    """A retry state sealed with the host's secret `key` for `device` (`{"state", "mac"}`),
    for hosts that hand it to the device between requests.

    >>> state = {"attempts": 2, "first_failure_at": "2026-11-23T08:00:00Z", "last_delay_ms": 30000}
    >>> sealed = seal_retry(state, "press-1-01", b"host secret")
    >>> open_retry(sealed, "press-1-01", b"host secret")["attempts"]
    2
    """
    return dict(_native.seal_retry(state, device, key))


def open_retry(sealed: Any, device: str, key: bytes) -> Dict[str, Any]:
    """The state a sealed retry state carries; `BadRetryMacError` if it was altered or is
    another device's.

    >>> state = {"attempts": 2, "first_failure_at": "2026-11-23T08:00:00Z", "last_delay_ms": 30000}
    >>> sealed = seal_retry(state, "press-1-01", b"host secret")
    >>> reset = {**sealed, "state": {**state, "attempts": 0}}
    >>> open_retry(reset, "press-1-01", b"host secret")
    Traceback (most recent call last):
    fleetpath.errors.BadRetryMacError: retry state of device "press-1-01" does not carry the host's MAC (altered or forged)
    """
    return dict(_native.open_retry(sealed, device, key))


__all__ = ["SigningKey", "Verified", "trusted_keys", "sign", "verify", "verify_signatures", "seal_retry", "open_retry"]
