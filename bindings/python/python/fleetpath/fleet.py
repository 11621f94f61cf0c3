"""Fleets: devices, production lines and the firmware they run."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from . import _native
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
        """From a path (CSV when it ends in `.csv`), CSV or JSON text, bytes, a list of device
        dicts, or Arrow tabular data (as `from_arrow`). Errors name the row
        (`DuplicateDeviceError`, `MissingColumnError`, …).

        >>> Fleet.load([{"id": "d1", "model": "IPM-1", "line": "L1", "version": "5.6.14"}])
        Fleet(devices=1, lines=1)
        >>> Fleet.load("id,model,line,site,version\\nd1,IPM-1,L1,a,5.6.14\\nd1,IPM-1,L2,a,5.6.14\\n")
        Traceback (most recent call last):
        fleetpath.errors.DuplicateDeviceError: duplicate device id "d1" at row 3 (first at row 2)
        """
        return cls(_native.Fleet.load(source))

    @classmethod
    def from_csv(cls, text: str) -> "Fleet":
        """From a plant CSV export: `id,model,line,site,version`, then `label:…` columns.

        >>> Fleet.from_csv("id,model,line,site,version,label:cell\\nd1,IPM-1,L1,plant-a,5.6.14,7\\n").get("d1").labels.cell
        '7'
        """
        return cls(_native.Fleet.from_csv(text))

    @classmethod
    def from_json(cls, text: str) -> "Fleet":
        """From JSON text: `{"devices": [...]}`.

        >>> len(Fleet.from_json('{"devices": [{"id": "d1", "model": "IPM-1", "line": "L1", "version": "5.6.14"}]}'))
        1
        """
        return cls(_native.Fleet.load(text))

    @classmethod
    def from_arrow(cls, table: Any) -> "Fleet":
        """From Arrow tabular data: a pyarrow `Table`, `RecordBatch` or `RecordBatchReader`, a
        polars or pandas (2.2+) `DataFrame`, or any object with `__arrow_c_stream__` or
        `__arrow_c_array__` (the Arrow PyCapsule interface; pyarrow, polars and pandas stay
        optional). The columns are the CSV export's (`id`, `model`, `line`, `version`, optional
        `site` and `label:NAME`), each text (plain, large, view or dictionary-encoded) or whole
        numbers (read as their decimal text); a null cell is an empty one. Cells are taken as
        they are: a padded value is an error, as in JSON. Errors name the row as
        `table row 3`, counted from 0 (a pandas frame's index, once left out, is not a column).

        >>> import pyarrow
        >>> table = pyarrow.table({"id": ["d1", "d2"], "model": ["IPM-1"] * 2, "line": [1, 2], "version": ["5.6.14", None]})
        >>> Fleet.from_arrow(table)
        Traceback (most recent call last):
        fleetpath.errors.EmptyFieldError: table row 1: version is empty
        >>> Fleet.from_arrow(table.slice(0, 1)).get("d1").line
        '1'
        """
        return cls(_native.Fleet.from_arrow(table))

    @classmethod
    def from_records(cls, devices: List[Dict[str, Any]]) -> "Fleet":
        """From a list of device dicts (`id`, `model`, `line`, `site`, `version`, `labels`).

        >>> Fleet.from_records([{"id": "d1", "model": "IPM-1", "line": "L1", "version": "v5.6.14"}]).get("d1").version
        'v5.6.14'
        """
        return cls(_native.Fleet.load(devices))

    def devices(self) -> Tuple[Device, ...]:
        """Every device, in the order stated.

        >>> from fleetpath import examples
        >>> [d.id for d in examples.seed_fleet().devices()][:2]
        ['press-1-01', 'press-1-02']
        """
        return tuple(Device(d) for d in self._native.devices())

    def ids(self) -> Tuple[str, ...]:
        """The device ids, in the order stated (without a record per device).

        >>> from fleetpath import examples
        >>> examples.seed_fleet().ids()[:2]
        ('press-1-01', 'press-1-02')
        """
        return tuple(self._native.ids())

    def get(self, id: str) -> Optional[Device]:
        """The device with `id`, or `None`.

        >>> from fleetpath import examples
        >>> examples.seed_fleet().get("press-1-01")
        Device(id='press-1-01', model='IPM-1', line='line-1', site='plant-a', version='5.6.14')
        """
        found = self._native.get(id)
        return None if found is None else Device(found)

    def origin(self, id: str) -> Optional[str]:
        """Where the device was stated (`row 3`, `devices[2]`).

        >>> from fleetpath import examples
        >>> examples.seed_fleet().origin("press-1-03")
        'row 4'
        """
        return self._native.origin(id)

    def lines(self) -> List[Tuple[str, int]]:
        """Production lines and their device counts.

        >>> from fleetpath import examples
        >>> examples.seed_fleet().lines()
        [('line-1', 3), ('line-2', 3)]
        """
        return self._native.lines()

    def check_against(self, graph: UpgradeGraph) -> None:
        """Raises `UnknownVersionError` for a device on a version the graph lacks.

        >>> from fleetpath import examples
        >>> examples.seed_fleet().check_against(examples.seed_graph())  # every version is known
        >>> Fleet.load([{"id": "d9", "model": "IPM-1", "line": "L1", "version": "5.6.20"}]).check_against(
        ...     examples.seed_graph())
        Traceback (most recent call last):
        fleetpath.errors.UnknownVersionError: devices[0]: device "d9" runs "5.6.20", which is not a release of the graph
        """
        self._native.check_against(graph)

    def to_csv(self) -> str:
        """The fleet as CSV (the columns `from_csv` reads).

        >>> from fleetpath import examples
        >>> examples.seed_fleet().to_csv().splitlines()[1]
        'press-1-01,IPM-1,line-1,plant-a,5.6.14'
        """
        return self._native.to_csv()

    def to_json(self) -> str:
        """The fleet as JSON (`{"devices": [...]}`).

        >>> import json
        >>> from fleetpath import examples
        >>> len(json.loads(examples.seed_fleet().to_json())["devices"])
        6
        """
        return self._native.to_json()

    def __len__(self) -> int:
        return len(self._native)

    def __repr__(self) -> str:
        return f"Fleet(devices={len(self)}, lines={len(self.lines())})"
