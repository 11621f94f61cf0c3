#!/usr/bin/env python3
"""Writes each fuzz target's seed corpus into fuzz/seeds/<target>/ from testdata/ and
examples/data/: every JSON document and sub-document of the shared vectors (the loaders'
inputs are among them), every string leaf for the version and range parsers, the CSV fleets.
Generated, not committed: the corpus follows the vectors.

    python3 fuzz/seeds.py
"""
import hashlib
import json
import pathlib
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "seeds"
MAX = 4_096  # libFuzzer's default input size; bigger documents only slow it down

DOCUMENT_TARGETS = ["manifest", "fleet", "calendar", "rollout_state", "rollout_event", "health_batch",
                    "health_state", "decision", "envelope", "s3_head", "cincinnati"]


def walk(value):
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    corpus = {t: set() for t in DOCUMENT_TARGETS + ["version", "range", "policies", "graph_build", "rollout_machine"]}
    files = sorted((ROOT / "testdata").glob("*.json")) + sorted((ROOT / "examples" / "data").glob("*.json"))
    for path in files:
        for value in walk(json.loads(path.read_text())):
            if isinstance(value, str):
                if len(value) <= 256:
                    corpus["version"].add(value.encode())
                    corpus["range"].add(value.encode())
                # Documents the vectors hold as text (manifests, fleets, calendars as strings).
                if value[:1] in "{[" or "\n" in value:
                    for t in DOCUMENT_TARGETS:
                        corpus[t].add(value.encode()[:MAX])
            elif isinstance(value, (dict, list)):
                text = json.dumps(value).encode()
                if len(text) <= MAX:
                    for t in DOCUMENT_TARGETS:
                        corpus[t].add(text)
                    if isinstance(value, dict) and len(corpus["policies"]) < 20_000:
                        for kind in range(10):
                            corpus["policies"].add(bytes([kind]) + text)
    for path in sorted((ROOT / "examples" / "data").glob("*.csv")):
        corpus["fleet"].add(path.read_bytes()[:MAX])
    for target, inputs in corpus.items():
        folder = OUT / target
        folder.mkdir(parents=True, exist_ok=True)
        for data in inputs:
            (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
    print(", ".join(f"{t} {len(i)}" for t, i in corpus.items()))


if __name__ == "__main__":
    main()
