"""Tests of _polybridge_arrow: what is exported for a pandas frame (and that R's shared
buffers never change behind its back), zero-row dictionaries, NUL names, the C stream
capsule helpers and the pandas frames made from Arrow tables."""
import types

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import _polybridge_arrow as arrow


def through_c_stream(source):
    """What a consumer of the Arrow C stream interface (R, here pyarrow) receives."""
    table = pa.RecordBatchReader.from_stream(source).read_all()
    table.validate(full=True)
    return table


def test_a_pandas_frame_exports_as_pandas_own_conversion_would():
    frame = pd.DataFrame({"x": [1.5, np.nan, 3.0], "f32": np.array([1, 2, 3], np.float32), "i": [1, 2, 3],
                          "u": np.array([1, 2, 3], np.uint8), "s": ["a", None, "c"], "b": [True, False, True],
                          "t": pd.to_datetime(["2020-01-01", "2020-01-02", None])})
    table = arrow.arrow_source(frame)
    assert isinstance(table, pa.Table)
    table.validate(full=True)
    expected = pa.Table.from_pandas(frame, preserve_index=False)
    assert table.schema.remove_metadata().equals(expected.schema.remove_metadata())
    assert table.equals(expected.replace_schema_metadata(None))
    assert table.column("x").null_count == 1  # NaN becomes null, as from_pandas makes it
    assert through_c_stream(table).equals(table)


def test_shared_buffers_never_change_when_pandas_writes_to_the_frame():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "i": np.array([1, 2, 3], np.int32)})
    table = arrow.arrow_source(frame)
    frame.iloc[0, 0] = 99.0
    frame.loc[1, "i"] = 42
    frame["x"] += 1
    assert table.column("x").to_pylist() == [1.0, 2.0, 3.0]
    assert table.column("i").to_pylist() == [1, 2, 3]
    assert frame["x"].tolist() == [100.0, 3.0, 4.0]


def test_a_frame_with_an_index_or_odd_labels_goes_through_from_pandas():
    frame = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index(["r1", "r2"], name="row"))
    table = arrow.arrow_source(frame)
    table.validate(full=True)
    assert table.column_names == ["x", "row"]
    pd.testing.assert_frame_equal(table.to_pandas(), frame)
    frame.iloc[0, 0] = -1.0
    assert table.column("x").to_pylist() == [1.0, 2.0]
    numbered = arrow.arrow_source(pd.DataFrame({0: [1.0], 1: [2.0]}))
    assert numbered.column_names == ["0", "1"]


def test_a_frame_without_columns_keeps_its_row_count():
    frame = pd.DataFrame(index=range(3))
    assert arrow.arrow_source(frame).num_rows == 3


def test_objects_other_than_frames_are_exported_as_they_are():
    table = pa.table({"a": [1, 2]})
    assert arrow.arrow_source(table) is table
    batch = table.to_batches()[0]
    assert arrow.arrow_source(batch) is batch
    assert arrow.arrow_source(pa.table({})).num_columns == 0


def test_a_zero_row_table_keeps_its_dictionary_levels():
    levels = ["low", "mid", "high"]
    table = pa.table({"f": pa.DictionaryArray.from_arrays(pa.array([0, 2], pa.int32()), levels), "x": [1, 2]}).slice(0, 0)
    source = arrow.arrow_source(table)
    assert isinstance(source, pa.RecordBatchReader)
    received = through_c_stream(source)
    assert received.num_rows == 0
    assert received.column("f").num_chunks == 1
    assert received.column("f").chunk(0).dictionary.to_pylist() == levels


def test_name_with_nul():
    assert arrow.name_with_nul(pa.table({"ok": [1], "bad\0name": [2]})) == [2, "bad\0name"]
    assert arrow.name_with_nul(pa.table({"ok": [1]})) is None
    assert arrow.name_with_nul(types.SimpleNamespace(columns=["a", "b\0"])) == [2, "b\0"]
    assert arrow.name_with_nul(object()) is None


def test_stream_capsules_are_consumed_once():
    table = pa.table({"a": [1, 2, 3], "s": ["x", None, "z"]})
    capsule = table.__arrow_c_stream__()
    assert arrow.table_from_stream_capsule(capsule).equals(table)
    stream = arrow._Stream(table.__arrow_c_stream__())
    stream.__arrow_c_stream__()
    with pytest.raises(RuntimeError, match="already consumed"):
        stream.__arrow_c_stream__()
    reader = arrow.reader_from_stream_capsule(table.__arrow_c_stream__())
    assert reader.schema.equals(table.schema) and reader.read_all().equals(table)


@pytest.fixture
def typed_table():
    return pa.table({"i": pa.array([1, None, 3], pa.int64()), "b": pa.array([True, None, False]),
                     "x": pa.array([1.5, None, 2.5]), "n": pa.array([1, 2, 3], pa.int32())})


def test_pandas_nullable_dtypes(typed_table):
    frame = arrow.pandas_from_stream_capsule(typed_table.__arrow_c_stream__(), "nullable")
    assert str(frame["i"].dtype) == "Int64" and frame["i"].isna().tolist() == [False, True, False]
    assert str(frame["b"].dtype) == "boolean"
    assert str(frame["n"].dtype) == "Int32"
    assert frame["x"].dtype == np.float64 and np.isnan(frame["x"].iloc[1])


def test_pandas_numpy_and_arrow_dtypes(typed_table):
    numpy_frame = arrow.pandas_from_table(typed_table, "numpy")
    assert numpy_frame["i"].dtype == np.float64  # nulls in int64: numpy has only NaN
    assert numpy_frame["n"].dtype == np.int32
    arrow_frame = arrow.pandas_from_table(typed_table, "arrow")
    assert all(isinstance(dtype, pd.ArrowDtype) for dtype in arrow_frame.dtypes)
    assert arrow_frame["i"].tolist()[0] == 1 and pd.isna(arrow_frame["i"].tolist()[1])


def test_frames_from_arrow_are_writable_and_leave_the_arrow_memory_alone():
    table = pa.table({"x": pa.array([1.0, 2.0, 3.0]), "n": pa.array([1, 2, 3], pa.int32())})
    frame = arrow.pandas_from_table(table, "nullable")
    frame.iloc[0, 0] = 10.0
    frame.loc[2, "x"] = 30.0
    assert frame["x"].tolist() == [10.0, 2.0, 30.0]
    assert table.column("x").to_pylist() == [1.0, 2.0, 3.0]
    numpy_frame = arrow.pandas_from_table(table, "numpy")
    numpy_frame.loc[0, "n"] = 7
    assert numpy_frame["n"].tolist() == [7, 2, 3] and table.column("n").to_pylist() == [1, 2, 3]


@pytest.mark.parametrize("version, setting, expected", [
    ("3.0.0", False, True), ("3.1.1", None, True), ("2.2.3", True, True), ("2.2.3", False, False),
    ("2.2.3", "warn", False), ("dev", True, False),
])
def test_copy_on_write_detection(version, setting, expected):
    fake = types.SimpleNamespace(__version__=version,
                                 options=types.SimpleNamespace(mode=types.SimpleNamespace(copy_on_write=setting)))
    assert arrow._copy_on_write(fake) is expected
    assert arrow._copy_on_write(types.SimpleNamespace(__version__="2.0.0", options=None)) is False


def test_protected_arrays_are_copies_without_an_owner_and_pinned_with_one():
    values = pa.array([1.0, 2.0, 3.0])
    address = values.buffers()[1].address
    copy = arrow._protected(values, None)
    assert copy.equals(values) and copy.buffers()[1].address != address
    owner = object()
    pinned = arrow._protected(values, owner)
    assert pinned.equals(values) and pinned.buffers()[1].address == address
    with_nulls = pa.array([1.0, None])
    assert arrow._protected(with_nulls, None) is with_nulls
    strings = pa.array(["a"])
    assert arrow._protected(strings, None) is strings
