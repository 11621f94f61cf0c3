"""Fleets: devices, production lines and the firmware they run."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple

from . import _native
from ._convert import document_text
from ._records import Device
from .graph import UpgradeGraph


class Fleet:
    """Devices from a plant CSV export, JSON, or a list of dicts.

    >>> fleet = Fleet.load("id,model,line,site,version\\npress-1-01,IPM-1,press-1,plant-a,5.6.14\\n")
    >>> len(fleet), fleet.get("press-1-01").version
    (1, '5.6.14')
    """

    __slots__ = ("_native",)

    def __init__(self, native: _native.Fleet) -> None:
        self._native = native

    @classmethod
    def load(cls, source: Any) -> "Fleet":
        """From a path (CSV when it ends in `.csv`), CSV or JSON text, bytes, or a list of
        device dicts. Errors name the row (`DuplicateDeviceError`, `MissingColumnError`, …)."""
        if isinstance(source, os.PathLike) and os.fspath(source).lower().endswith(".csv"):
            return cls.from_csv(document_text(source, "fleet"))
        if isinstance(source, (list, tuple)):
            source = {"devices": list(source)}
        text = document_text(source, "fleet")
        if text.lstrip().startswith(("{", "[")):
            return cls.from_json(text)
        return cls.from_csv(text)

    @classmethod
    def from_csv(cls, text: str) -> "Fleet":
        return cls(_native.Fleet.from_csv(text))

    @classmethod
    def from_json(cls, text: str) -> "Fleet":
        return cls(_native.Fleet.from_json(text))

    @classmethod
    def from_records(cls, devices: List[Dict[str, Any]]) -> "Fleet":
        """From a list of device dicts (`id`, `model`, `line`, `site`, `version`, `labels`)."""
        return cls.load({"devices": list(devices)})

    def devices(self) -> Tuple[Device, ...]:
        return tuple(Device(d) for d in self._native.devices())

    def get(self, id: str) -> Optional[Device]:
        found = self._native.get(id)
        return None if found is None else Device(found)

    def origin(self, id: str) -> Optional[str]:
        """Where the device was stated (`row 3`, `devices[2]`)."""
        return self._native.origin(id)

    def lines(self) -> List[Tuple[str, int]]:
        """Production lines and their device counts."""
        return self._native.lines()

    def check_against(self, graph: UpgradeGraph) -> None:
        """Raises `UnknownVersionError` for a device on a version the graph lacks."""
        self._native.check_against(graph._native)

    def to_csv(self) -> str:
        return self._native.to_csv()

    def to_json(self) -> str:
        return self._native.to_json()

    def __len__(self) -> int:
        return len(self._native)

    def __repr__(self) -> str:
        return f"Fleet(devices={len(self)}, lines={len(self.lines())})"
