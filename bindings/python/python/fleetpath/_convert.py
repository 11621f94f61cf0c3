"""Output conversions shared by the wrappers (inputs are converted by the native module)."""

from __future__ import annotations

import contextlib
import datetime as _dt
import gc
from typing import Iterator


def parse_timestamp(text: str) -> _dt.datetime:
    """RFC 3339 text from the core (UTC, `Z`) as an aware UTC datetime (microseconds)."""
    head, _, frac = text.rstrip("Z").partition(".")
    micro = (frac + "000000")[:6] if frac else "0"
    return _dt.datetime.fromisoformat(head).replace(microsecond=int(micro), tzinfo=_dt.timezone.utc)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pauses the cyclic garbage collector while a batch of acyclic results is built (it
    would otherwise run many times over objects it cannot free)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
