"""Fleets from Arrow tabular data (`Fleet.from_arrow`, `Fleet.load`): pyarrow tables, batches
and streams, polars and pandas frames; the shared vectors' tables (testdata/fleets.json) read
as the Rust tests read them; Arrow's types read as text or refused by name."""

import pytest

import fleetpath
from conftest import ROOT, vectors
from test_vectors import assert_error

pa = pytest.importorskip("pyarrow")
pl = pytest.importorskip("polars")

TABLES = vectors("fleets")["tables"]


def arrow_table(case):
    """A vector's table as pyarrow record batches cut at its `batches` rows."""
    names = [name for name, _ in case["columns"]]
    whole = pa.table([pa.array(cells, type=pa.string()) for _, cells in case["columns"]], names=names)
    cuts = [0, *case.get("batches", []), whole.num_rows]
    batches = [b for start, end in zip(cuts, cuts[1:]) for b in whole.slice(start, end - start).to_batches()]
    return pa.Table.from_batches(batches, schema=whole.schema)


@pytest.mark.parametrize("case", TABLES, ids=lambda c: c["name"])
@pytest.mark.parametrize("form", ["pyarrow", "polars", "stream", "load"])
def test_the_shared_table_vectors(case, form):
    table = arrow_table(case)
    source = {
        "pyarrow": table,
        "polars": pl.DataFrame(table) if form == "polars" else None,
        "stream": pa.RecordBatchReader.from_batches(table.schema, table.to_batches()),
        "load": table,
    }[form]
    read = (lambda: fleetpath.Fleet.load(source)) if form == "load" else (lambda: fleetpath.Fleet.from_arrow(source))
    if "code" in case:
        with pytest.raises(fleetpath.FleetpathError) as excinfo:
            read()
        assert_error(excinfo, case["code"], case["message"])
        return
    fleet = read()
    assert [d.to_dict() for d in fleet.devices()] == case["devices"]
    assert [fleet.origin(d["id"]) for d in case["devices"]] == case["origins"]


def test_a_plant_export_read_by_pyarrow_is_the_fleet_its_csv_is():
    import pyarrow.csv

    path = ROOT / "examples" / "data" / "plant-340.csv"
    table = pyarrow.csv.read_csv(path, read_options=pyarrow.csv.ReadOptions(block_size=4096))
    assert table.column("id").num_chunks > 1, "several batches"
    from_csv = fleetpath.Fleet.load(path)
    for fleet in (fleetpath.Fleet.from_arrow(table), fleetpath.Fleet.load(pl.DataFrame(table))):
        assert [d.to_dict() for d in fleet.devices()] == [d.to_dict() for d in from_csv.devices()]
        assert fleet.origin(from_csv.ids()[5]) == "table row 5"
    graph = fleetpath.examples.seed_graph()
    decider = fleetpath.Decider(graph)
    at = "2026-11-23T08:00:00Z"
    by_table = pa.table(decider.decide_fleet_table(fleetpath.Fleet.from_arrow(table), at))
    assert by_table.equals(pa.table(decider.decide_fleet_table(from_csv, at)))


@pytest.mark.parametrize("kind", [pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64()])
def test_whole_numbers_are_read_as_their_decimal_text(kind):
    big = {pa.uint64(): 2**64 - 1, pa.int64(): -(2**63)}.get(kind, 7)
    table = pa.table({
        "id": pa.array([1, big], type=kind),
        "model": ["m", "m"],
        "line": pa.array([3, None], type=kind),
        "version": ["1.0", "1.0"],
    })
    with pytest.raises(fleetpath.EmptyFieldError, match=r"^table row 1: line is empty$"):
        fleetpath.Fleet.from_arrow(table)
    fleet = fleetpath.Fleet.from_arrow(table.slice(0, 1))
    assert list(fleet.ids()) == ["1"] and fleet.get("1").line == "3"
    assert fleetpath.Fleet.from_arrow(table.set_column(2, "line", pa.array([3, 4], type=kind))).ids() == ("1", str(big))


def test_every_kind_of_arrow_text_reads_the_same():
    ids, sites = ["a", "b", "c"], ["p1", None, "p1"]
    plain = pa.table({"id": ids, "model": ["m", "m", "k"], "line": ["l1", "l2", "l1"], "version": ["1", "2", "3"], "site": sites})
    expected = [d.to_dict() for d in fleetpath.Fleet.from_arrow(plain).devices()]
    assert expected[1] == {"id": "b", "model": "m", "line": "l2", "version": "2"}
    forms = {
        "large_string": plain.cast(pa.schema([(f.name, pa.large_string()) for f in plain.schema])),
        "string_view": plain.cast(pa.schema([(f.name, pa.string_view()) for f in plain.schema])),
        "dictionary": pa.table({name: plain.column(name).dictionary_encode() for name in plain.column_names}),
        "dictionary of int8 keys": pa.table({
            name: pa.DictionaryArray.from_arrays(pa.array([0, 1, 0], pa.int8()), pa.array(["x", "y"])) if name == "line" else plain.column(name)
            for name in plain.column_names
        }),
        "polars categorical": pl.DataFrame(plain).with_columns(pl.col("model").cast(pl.Categorical), pl.col("site").cast(pl.Categorical)),
        "a null column for no site": plain.set_column(4, "site", pa.nulls(3)),
    }
    for name, table in forms.items():
        got = [d.to_dict() for d in fleetpath.Fleet.from_arrow(table).devices()]
        if name == "dictionary of int8 keys":
            assert [d["line"] for d in got] == ["x", "y", "x"], name
        elif name == "a null column for no site":
            assert all("site" not in d for d in got), name
        else:
            assert got == expected, name


def test_pandas_frames_are_read_without_their_index():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({
        "id": ["a", "b", "c"],
        "model": pd.Categorical(["m", "m", "k"]),
        "line": [1, 2, 1],
        "version": ["1.0", "1.1", "v2"],
        "label:cell": ["A", None, "B"],
    })
    fleet = fleetpath.Fleet.load(frame)
    assert [d.to_dict() for d in fleet.devices()][1] == {"id": "b", "model": "m", "line": "2", "version": "1.1"}
    # Filtered, its index is no longer a range: pandas' Arrow export makes it a column
    # (`__index_level_0__`), which is left out; rows are still the table's, counted from 0.
    kept = frame[frame["id"] != "a"]
    assert list(fleetpath.Fleet.from_arrow(kept).ids()) == ["b", "c"]
    assert fleetpath.Fleet.from_arrow(kept).origin("c") == "table row 1"
    # A named index is a column like any other.
    assert list(fleetpath.Fleet.from_arrow(frame.set_index("id")).ids()) == ["a", "b", "c"]


@pytest.mark.parametrize(
    "column, found",
    [
        (pa.array([1.5]), "Float64"),
        (pa.array([True]), "Boolean"),
        (pa.array([b"x"]), "Binary"),
        (pa.array([[1]]), "List(Int64)"),
    ],
)
def test_columns_of_other_types_are_refused_by_name(column, found):
    table = pa.table({"id": ["a"], "model": ["m"], "line": column, "version": ["1"]})
    with pytest.raises(fleetpath.InvalidTableError) as excinfo:
        fleetpath.Fleet.from_arrow(table)
    assert excinfo.value.code == "invalid_table"
    assert str(excinfo.value).startswith(f'invalid fleet table: column "line" holds {found}')
    assert isinstance(excinfo.value, ValueError)


def test_a_stream_that_fails_midway_is_an_invalid_table():
    schema = pa.schema([("id", pa.string()), ("model", pa.string()), ("line", pa.string()), ("version", pa.string())])

    def batches():
        yield pa.record_batch([["a"], ["m"], ["l"], ["1"]], schema=schema)
        raise OSError("the export was cut off")

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    with pytest.raises(fleetpath.InvalidTableError, match="the Arrow data cannot be read: .*the export was cut off"):
        fleetpath.Fleet.from_arrow(reader)


def test_an_object_with_only_the_array_interface_is_read():
    batch = pa.record_batch({"id": ["a", "b"], "model": ["m", "m"], "line": ["l", "l"], "version": ["1", "2"]})
    assert list(fleetpath.Fleet.from_arrow(ArrayOnly(batch)).ids()) == ["a", "b"]
    assert list(fleetpath.Fleet.load(ArrayOnly(batch)).ids()) == ["a", "b"]


def test_what_is_not_arrow_data_is_refused_plainly():
    with pytest.raises(fleetpath.FleetpathError) as excinfo:
        fleetpath.Fleet.from_arrow({"id": ["a"]})
    assert "__arrow_c_stream__" in str(excinfo.value)

    class WrongCapsule:
        def __arrow_c_stream__(self, requested_schema=None):
            return pa.array([1]).__arrow_c_array__()[0]  # a schema's capsule, not a stream's

    class NotABatch:
        def __arrow_c_array__(self, requested_schema=None):
            return pa.array([1]).__arrow_c_array__()  # an array of numbers, not of columns

    class NullRows:
        def __arrow_c_array__(self, requested_schema=None):
            return pa.array([{"id": "a"}, None]).__arrow_c_array__()

    messages = {
        WrongCapsule: "__arrow_c_stream__ returned no \"arrow_array_stream\" capsule",
        NotABatch: "an array of Int64, not a record batch",
        NullRows: "a record batch with null rows",
    }
    for producer, message in messages.items():
        with pytest.raises(fleetpath.InvalidTableError) as excinfo:
            fleetpath.Fleet.from_arrow(producer())
        assert message in str(excinfo.value), str(excinfo.value)


def test_malformed_arrow_buffers_are_refused_before_any_cell_is_read():
    """The C data interface imports arrays unchecked: offsets past the data, text that is not
    UTF-8 and dictionary keys past the dictionary are refused, never read (a helper's review
    crashed the interpreter with the first before the check)."""
    import struct

    def text_array(offsets, data):
        return pa.Array.from_buffers(pa.string(), 2, [None, pa.py_buffer(struct.pack("<3i", *offsets)), pa.py_buffer(data)])

    bad_keys = [
        pa.DictionaryArray.from_arrays(pa.array([0, key], pa.int32()), pa.array(["x", "y"]), safe=False) for key in (5, -1)
    ]
    columns = {
        "offsets past the data": text_array((0, 1_000_000, 4), b"abcd"),
        "not UTF-8": text_array((0, 2, 4), b"\xff\xfeab"),
        "a key past the dictionary": bad_keys[0],
        "a negative key": bad_keys[1],
    }
    for name, line in columns.items():
        table = pa.table({"id": ["a", "b"], "model": ["m", "m"], "line": line, "version": ["1", "2"]})
        for source in (table, table.to_batches()[0], ArrayOnly(table.to_batches()[0])):
            with pytest.raises(fleetpath.InvalidTableError, match="the Arrow data cannot be read"):
                fleetpath.Fleet.from_arrow(source)


class ArrayOnly:
    """A producer with the array interface alone."""

    def __init__(self, batch):
        self.batch = batch

    def __arrow_c_array__(self, requested_schema=None):
        return self.batch.__arrow_c_array__(requested_schema)


def test_capsules_consumed_once_are_refused_the_second_time():
    batch = pa.record_batch({"id": ["a"], "model": ["m"], "line": ["l"], "version": ["1"]})

    class Cached:
        pair = batch.__arrow_c_array__()

        def __arrow_c_array__(self, requested_schema=None):
            return self.pair

    class CachedStream:
        capsule = pa.Table.from_batches([batch]).__arrow_c_stream__()

        def __arrow_c_stream__(self, requested_schema=None):
            return self.capsule

    for producer in (Cached, CachedStream):
        assert len(fleetpath.Fleet.from_arrow(producer())) == 1
        with pytest.raises(fleetpath.InvalidTableError, match="already"):
            fleetpath.Fleet.from_arrow(producer())


def test_empty_dictionaries_tables_without_rows_and_without_columns():
    site = pa.array([None, None], pa.dictionary(pa.int32(), pa.string()))
    table = pa.table({"id": ["a", "b"], "model": ["m", "m"], "line": ["l", "l"], "version": ["1", "2"], "site": site})
    for source in (table, table.to_batches()[0], pl.DataFrame(table)):
        assert [d.site for d in fleetpath.Fleet.from_arrow(source).devices()] == [None, None]
    # A column's type is checked from the schema, with no row to read.
    schema = pa.schema([("id", pa.string()), ("model", pa.string()), ("line", pa.float64()), ("version", pa.string())])
    with pytest.raises(fleetpath.InvalidTableError, match='column "line" holds Float64'):
        fleetpath.Fleet.from_arrow(pa.Table.from_batches([], schema))
    assert len(fleetpath.Fleet.from_arrow(pa.Table.from_batches([], schema.set(2, pa.field("line", pa.string()))))) == 0
    with pytest.raises(fleetpath.MissingColumnError, match='no "id" column'):
        fleetpath.Fleet.from_arrow(ArrayOnly(pa.record_batch([], schema=pa.schema([]))))


def test_categoricals_of_whole_numbers_are_read_as_text():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"id": ["a", "b"], "model": ["m", "m"], "line": pd.Categorical([3, 4]), "version": ["1", "2"]})
    assert [d.line for d in fleetpath.Fleet.from_arrow(frame).devices()] == ["3", "4"]
