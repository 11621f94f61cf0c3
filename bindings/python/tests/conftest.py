"""Shared helpers: the repository root and its shared JSON vectors (testdata/)."""

import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


def vectors(name):
    return json.loads((ROOT / "testdata" / f"{name}.json").read_text())


def graph_source(ref, inline=None):
    """A vector's graph: a bundled file (relative to the root) or a named inline graph."""
    if isinstance(ref, dict):
        return ref
    if inline is not None and ref in inline:
        return inline[ref]
    return ROOT / ref


@pytest.fixture(scope="session")
def root():
    return ROOT
