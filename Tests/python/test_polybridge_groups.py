"""Tests of _polybridge_groups (rows grouped by key columns for fits per group on workers).

Oracles: pyarrow reading the written files back (with `validate(full=True)`), and the groups
worked out in plain Python from the input rows."""
import json
import math
import random

import pyarrow as pa
import pyarrow.feather as feather
import pytest

import _polybridge_groups as groups


def reader_of(table):
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=7))


def read(path):
    table = feather.read_table(str(path))
    table.validate(full=True)
    return table


def expected_groups(rows, by):
    """{key: [row, ...]} in first-appearance order, rows with a missing key left out."""
    out = {}
    for row in rows:
        key = tuple(row[name] for name in by)
        if any(value is None or (isinstance(value, float) and math.isnan(value)) for value in key):
            continue
        out.setdefault(key, []).append(row)
    return out


def test_rows_are_written_group_by_group_with_their_keys_and_missing_keys_left_out(tmp_path):
    random.seed(4)
    rows = [{"k": random.choice(["b", "ä", "a", None]), "j": random.choice([1.0, 2.0, float("nan")]), "x": float(i)}
            for i in range(200)]
    table = pa.Table.from_pylist(rows)
    part, keys = tmp_path / "part.arrow", tmp_path / "keys.arrow"
    written, left_out = groups.write_groups(reader_of(table), ["k", "j"], str(part), str(keys))
    expected = expected_groups(rows, ["k", "j"])
    assert left_out == 200 - sum(len(v) for v in expected.values())
    assert written == 200 - left_out
    got_keys, got_rows = read(keys).to_pylist(), read(part).to_pylist()
    assert [(k["k"], k["j"]) for k in got_keys] == list(expected)
    assert [k["__rows"] for k in got_keys] == [len(v) for v in expected.values()]
    assert got_rows == [row for members in expected.values() for row in members]


def test_dictionary_keys_and_an_empty_input(tmp_path):
    table = pa.table({"g": pa.array(["u", "v", "u", None]).dictionary_encode(), "x": [1.0, 2.0, 3.0, 4.0]})
    part, keys = tmp_path / "p.arrow", tmp_path / "k.arrow"
    assert groups.write_groups(reader_of(table), ["g"], str(part), str(keys)) == (3, 1)
    assert read(keys).to_pydict() == {"g": ["u", "v"], "__rows": [2, 1]}
    assert read(part).column("x").to_pylist() == [1.0, 3.0, 2.0]
    assert groups.write_groups(reader_of(table.slice(0, 0)), ["g"], str(part), str(keys)) == (0, 0)
    assert read(keys).num_rows == 0 and read(part).num_rows == 0


def test_a_key_column_the_rows_lack_is_named(tmp_path):
    table = pa.table({"x": [1.0]})
    with pytest.raises(groups.FileProblem, match="no column 'k' to group by"):
        groups.write_groups(reader_of(table), ["k"], str(tmp_path / "p"), str(tmp_path / "k"))


def test_pieces_of_several_files_come_back_in_the_order_asked_with_unified_dictionaries(tmp_path):
    one = pa.table({"g": pa.array(["a", "b", "a"]).dictionary_encode(), "x": [1.0, 2.0, 3.0]})
    two = pa.table({"g": pa.array(["c", "a"]).dictionary_encode(), "x": [4.0, 5.0]})
    for name, table in (("one", one), ("two", two)):
        feather.write_feather(table, str(tmp_path / f"{name}.arrow"), compression="uncompressed")
    pieces = json.dumps([[str(tmp_path / "two.arrow"), 1, 1], [str(tmp_path / "one.arrow"), 0, 2], [str(tmp_path / "two.arrow"), 0, 1]])
    table, keys = groups.read_pieces(pieces, ["g"], [2, 1, 1])
    table.validate(full=True)
    assert table.to_pydict() == {"g": ["a", "a", "b", "c"], "x": [5.0, 1.0, 2.0, 4.0]}
    assert table.column("g").num_chunks == 1
    assert keys.column("g").to_pylist() == ["a", "b", "c"]
    with pytest.raises(groups.FileProblem, match="groups of 3 rows in all, but 4 rows read"):
        groups.read_pieces(pieces, ["g"], [2, 1])
    sizes = groups.write_pieces(pieces, str(tmp_path / "out.arrow"), 3)
    assert sizes == [3, 1]
    assert read(tmp_path / "out.arrow").to_pydict() == {"g": ["a", "a", "b", "c"], "x": [5.0, 1.0, 2.0, 4.0]}


def test_pieces_beyond_a_file_or_of_a_missing_file_are_named(tmp_path):
    feather.write_feather(pa.table({"x": [1.0, 2.0]}), str(tmp_path / "a.arrow"), compression="uncompressed")
    with pytest.raises(groups.FileProblem, match="rows 2-3 are beyond the 2 rows"):
        groups.read_pieces(json.dumps([[str(tmp_path / "a.arrow"), 1, 2]]), ["x"], [2])
    with pytest.raises(groups.FileProblem, match="is gone"):
        groups.read_pieces(json.dumps([[str(tmp_path / "b.arrow"), 0, 1]]), ["x"], [1])
