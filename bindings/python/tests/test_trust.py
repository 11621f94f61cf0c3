"""Signed documents: the shared vectors (testdata/trust.json), and interop with a real TUF
implementation (python-tuf and securesystemslib, from PyPI): their signatures verify in
fleetpath and fleetpath's in theirs."""

import datetime as dt
import json
from pathlib import Path

import pytest

import fleetpath
from fleetpath import trust

ROOT = Path(__file__).resolve().parents[3]
DATA = json.loads((ROOT / "testdata" / "trust.json").read_text())


def _key(name: str) -> trust.SigningKey:
    return trust.SigningKey.from_seed(bytes.fromhex(DATA["keys"][name]["seed"]))


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["name"] for c in DATA["cases"]])
def test_vectors(case):
    envelope = case.get("envelope_json") or DATA["envelopes"][case["envelope"]]
    trusted = DATA["trusted"][case["trusted"]]
    call = lambda: trust.verify(envelope, case["kind"], trusted, now=case["now"], last_accepted=case.get("last_accepted"))  # noqa: E731
    if "ok" in case:
        verified = call()
        assert (verified.version, list(verified.signed_by)) == (case["ok"]["version"], case["ok"]["signed_by"])
        fleetpath.UpgradeGraph.load(verified.document)
    else:
        with pytest.raises(fleetpath.FleetpathError) as excinfo:
            call()
        assert (excinfo.value.code, str(excinfo.value)) == (case["code"], case["message"])
        for k, v in case.get("fields", {}).items():
            assert excinfo.value.fields[k] == v


def test_keys_and_sealed_retry_vectors():
    for name, key in DATA["keys"].items():
        assert (_key(name).public_key(), _key(name).keyid) == (key["public"], key["keyid"])
    retry = DATA["retry"]
    secret = bytes.fromhex(retry["key_hex"])
    assert trust.seal_retry(retry["state"], retry["device"], secret) == retry["sealed"]
    assert trust.open_retry(retry["sealed"], retry["device"], secret) == retry["state"]
    with pytest.raises(fleetpath.BadRetryMacError):
        trust.open_retry(retry["sealed"], retry["other_device"]["device"], secret)


def test_fleetpath_signatures_verify_in_securesystemslib():
    from securesystemslib.formats import encode_canonical
    from securesystemslib.signer import Signature, SSlibKey

    key = _key("a")
    envelope = trust.sign("manifest", 3, "2027-01-01T00:00:00Z", {"format_version": 1, "releases": []}, [key])
    public = SSlibKey.from_dict(key.keyid, key.public_key())
    data = encode_canonical(envelope["signed"]).encode()
    sig = envelope["signatures"][0]
    public.verify_signature(Signature(sig["keyid"], sig["sig"]), data)  # raises when it does not verify
    from securesystemslib.exceptions import UnverifiedSignatureError

    tampered = encode_canonical({**envelope["signed"], "version": 4}).encode()
    with pytest.raises(UnverifiedSignatureError):
        public.verify_signature(Signature(sig["keyid"], sig["sig"]), tampered)


def test_tuf_metadata_signatures_verify_in_fleetpath():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from securesystemslib.signer import CryptoSigner, SSlibKey
    from tuf.api.metadata import Metadata, Targets

    seed = bytes.fromhex(DATA["keys"]["b"]["seed"])
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = SSlibKey.from_crypto(private.public_key())
    # TUF and fleetpath compute the same key id for the same key.
    assert public.keyid == _key("b").keyid
    metadata = Metadata(Targets(version=5, expires=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)))
    metadata.sign(CryptoSigner(private, public))
    signed_by_tuf = metadata.to_dict()
    trusted = trust.trusted_keys([_key("b").public_key()])
    assert trust.verify_signatures(signed_by_tuf, trusted) == [public.keyid]
    # Changed after signing: refused.
    signed_by_tuf["signed"]["version"] = 6
    with pytest.raises(fleetpath.BadSignatureError):
        trust.verify_signatures(signed_by_tuf, trusted)


def test_claims_are_checked_against_the_record():
    graph = fleetpath.examples.seed_graph()
    decider = fleetpath.Decider(graph)
    at = "2026-11-23T08:00:00Z"
    record = {"model": "IPM-1", "version": "5.6.14"}
    liar = {"device": "press-1-01", "model": "IPM-1", "version": "5.6.30", "at": at}
    # On 5.6.14 it must take the bridge; claiming the bridge would get it 6.15.008.
    assert decider.decide(liar).step.to == "6.15.008"
    refused = decider.decide(liar, record=record)
    assert (refused.kind, refused.reason) == ("refused", "claim_mismatch")
    # Once the host issued the bridge, the bridge is a truthful claim.
    issued = {**record, "issued": {"from": "5.6.14", "to": "5.6.30"}}
    assert decider.decide(liar, record=issued).step.to == "6.15.008"
    other_model = {**liar, "model": "IPM-2", "version": "5.6.14"}
    assert decider.decide(other_model, record=record).reason == "model_mismatch"
