"""Input conversions shared by the wrappers: documents from paths, text, bytes or dicts, and
aware datetimes to RFC 3339 text. Parsing and validation stay in the core."""

from __future__ import annotations

import contextlib
import datetime as _dt
import gc
import json
import os
from typing import Any, Iterator, Mapping, Sequence, Union

from .errors import InvalidInputError, NaiveDatetimeError

Document = Union[str, bytes, "os.PathLike[str]", Mapping[str, Any], Sequence[Any]]


def document_text(source: Any, what: str) -> str:
    """JSON or CSV text from a path (`pathlib.Path` or `os.PathLike`), text, bytes, or a
    dict / list (dumped as JSON). A plain `str` is the document itself, not a file name."""
    if isinstance(source, os.PathLike):
        with open(os.fspath(source), encoding="utf-8") as f:
            return f.read()
    if isinstance(source, str):
        return source
    if isinstance(source, (bytes, bytearray, memoryview)):
        try:
            return bytes(source).decode("utf-8")
        except UnicodeDecodeError as e:
            raise InvalidInputError(f"{what}: not UTF-8 ({e})") from None
    if isinstance(source, (Mapping, list, tuple)):
        return json.dumps(source)
    raise InvalidInputError(f"{what}: expected a path, str, bytes, dict or list, not {type(source).__name__}")


def json_text(value: Any, what: str) -> str:
    """A dict / list / record as JSON text (see `plain`), or text as it is."""
    if value is None or isinstance(value, str):
        return value  # type: ignore[return-value]
    return json.dumps(plain(value, what))


def plain(value: Any, what: str) -> Any:
    """`value` as the plain Python objects of its JSON form: aware datetimes as RFC 3339 text,
    versions and paths as strings, records as their `to_dict()`; anything else that JSON
    cannot hold is refused with `InvalidInputError` naming where it was."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, _dt.datetime):
        return timestamp(value, what)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, Mapping):
        return {k: plain(v, f"{what}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, f"{what}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, os.PathLike) or type(value).__name__ == "Version":
        return str(value)
    raise InvalidInputError(f"{what}: {type(value).__name__} is not part of a JSON document")


def timestamp(value: Any, what: str = "datetime") -> str:
    """An aware `datetime` (or RFC 3339 text) as RFC 3339 UTC text. Naive datetimes are refused:
    a plant's local time is ambiguous across DST, and fleetpath never guesses a zone."""
    if isinstance(value, str):
        return value
    if not isinstance(value, _dt.datetime):
        raise InvalidInputError(f"{what}: expected an aware datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise NaiveDatetimeError(
            f"{what} {value.isoformat()} has no time zone: pass an aware datetime "
            "(datetime(..., tzinfo=ZoneInfo('Europe/Berlin')) or timezone.utc)"
        )
    return value.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")


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
