"""Tests of _polybridge_files (reading and writing CSV/TSV, Parquet and Feather with pyarrow).

Oracles: pyarrow and pandas reading back what a writer wrote, pandas' own to_csv text,
`Table.validate(full=True)`, and values worked out by hand."""
import datetime as dt
import gzip
import os
import threading

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

import _polybridge_files as files


def reader_of(table, max_chunksize=None):
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=max_chunksize))


def read_csv(path, **options):
    table = files.read_all(files.open_reader(str(path), "csv", **options))
    table.validate(full=True)
    return table


# --- type names ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind, name", [
    (pa.list_(pa.int64()), "list<int64>"),
    (pa.large_list(pa.string()), "large_list<string>"),
    (pa.list_(pa.float64(), 3), "fixed_size_list<double, 3>"),
    (pa.struct([("a", pa.int64()), ("b", pa.list_(pa.string()))]), "struct<a: int64, b: list<string>>"),
    (pa.map_(pa.string(), pa.int32()), "map<string, int32>"),
    (pa.dictionary(pa.int32(), pa.string()), "dictionary<values=string, indices=int32>"),
    (pa.dictionary(pa.int8(), pa.string(), ordered=True), "dictionary<values=string, indices=int8, ordered>"),
    (pa.decimal128(10, 2), "decimal128(10, 2)"),
    (pa.timestamp("ms", "UTC"), "timestamp[ms, tz=UTC]"),
])
def test_type_name(kind, name):
    assert files.type_name(kind) == name


def test_type_names_follow_the_schema_order():
    schema = pa.schema([("x", pa.int32()), ("y", pa.list_(pa.bool_()))])
    assert files.type_names(schema) == ["int32", "list<bool>"]


# --- CSV reading ----------------------------------------------------------------------------

def test_csv_missing_values_quoted_na_and_nan(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('n,x,s,b\n1,1.5,"NA",true\nNA,NaN,,false\n3,,NULL,\n')
    table = read_csv(path)
    assert table.schema.types == [pa.int64(), pa.float64(), pa.string(), pa.bool_()]
    assert table.column("n").to_pylist() == [1, None, 3]
    x = table.column("x").to_pylist()
    # "NaN" is a number (not null), an unquoted empty field is null.
    assert x[0] == 1.5 and x[1] != x[1] and x[2] is None
    assert table.column("x").null_count == 1
    # A quoted "NA" is the two letters; unquoted empty and NULL are missing.
    assert table.column("s").to_pylist() == ["NA", None, None]
    assert table.column("b").to_pylist() == [True, False, None]


def test_csv_column_types_by_name(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("code,n,day,f\n007,1,2024-02-29,b\n010,2,2024-03-01,a\n")
    table = read_csv(path, column_types={"code": "string", "n": "Integer", "day": "date", "f": "factor"})
    assert table.schema.field("code").type == pa.string()
    assert table.column("code").to_pylist() == ["007", "010"]  # leading zeros kept
    assert table.schema.field("n").type == pa.int32()
    assert table.column("day").to_pylist() == [dt.date(2024, 2, 29), dt.date(2024, 3, 1)]
    assert pa.types.is_dictionary(table.schema.field("f").type)
    assert table.column("f").to_pylist() == ["b", "a"]


def test_unknown_column_type_names_the_column_and_the_choices():
    with pytest.raises(files.FileProblem) as raised:
        files._arrow_type("complex", "z")
    message = str(raised.value)
    assert "unknown type 'complex' for column 'z'" in message
    assert "integer" in message and "factor" in message


def test_column_types_naming_a_missing_column_is_refused(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(files.FileProblem, match=r"names 'nope', which the file does not have \(its columns: a, b\)"):
        files.open_reader(str(path), "csv", column_types={"nope": "string"})


def test_tsv_uses_tabs(tmp_path):
    path = tmp_path / "a.tsv"
    path.write_text("a\tb\n1,5\tx y\n")
    table = files.read_all(files.open_reader(str(path), "tsv", column_types={"a": "string"}))
    assert table.to_pydict() == {"a": ["1,5"], "b": ["x y"]}


def test_blank_first_header_becomes_the_pandas_index(tmp_path):
    frame = pd.DataFrame({"v": [1.5, 2.5, None], "s": ["p", "q", "r"]}, index=["r1", "r2", "r3"])
    path = tmp_path / "indexed.csv"
    frame.to_csv(path)  # pandas writes the index under an empty header
    table = read_csv(path)
    assert table.column_names[0] == "__index_level_0__"
    pd.testing.assert_frame_equal(table.to_pandas(), frame)


def test_binary_file_named_csv_is_named_as_such(tmp_path):
    path = tmp_path / "really.csv"
    pq.write_table(pa.table({"a": [1]}), path)
    with pytest.raises(files.FileProblem, match="looks like a Parquet file, not CSV text; pass --from parquet"):
        files.open_reader(str(path), "csv")
    zipped = tmp_path / "zipped.csv"
    zipped.write_bytes(gzip.compress(b"a\n1\n"))
    with pytest.raises(files.FileProblem, match="gzip-compressed"):
        files.open_reader(str(zipped), "csv")


def test_gzip_compressed_csv(tmp_path):
    path = tmp_path / "a.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n1,x\n2,y\n"))
    table = read_csv(path, compression="gzip")
    assert table.to_pydict() == {"a": [1, 2], "b": ["x", "y"]}


def test_csv_from_a_pipe(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    writer = threading.Thread(target=lambda: path.write_text("a,b\n1,x\n2,y\n"))
    writer.start()
    try:
        table = read_csv(path)
    finally:
        writer.join(10)
    assert table.to_pydict() == {"a": [1, 2], "b": ["x", "y"]}


def test_empty_and_malformed_csv(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(files.FileProblem, match=r"the CSV file is empty \(no header line\)"):
        files.open_reader(str(empty), "csv")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(files.FileProblem, match="malformed CSV"):
        files.open_reader(str(ragged), "csv").read_all()


def test_latin1_text_needs_the_encoding(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("name\ncaf\u00e9\n".encode("latin-1"))
    with pytest.raises(files.FileProblem, match="--encoding latin1"):
        files.open_reader(str(path), "csv").read_all()
    assert read_csv(path, encoding="latin1").column("name").to_pylist() == ["caf\u00e9"]


@pytest.fixture(scope="module")
def late_csv(tmp_path_factory):
    """300,000 integer lines (more than pyarrow's first 1 MB block), then text in `x` and
    the first value of `e`, empty until then."""
    path = tmp_path_factory.mktemp("late") / "late.csv"
    with open(path, "w") as handle:
        handle.write("x,e\n")
        handle.write("".join(f"{i},\n" for i in range(300000)))
        handle.write("abc,5\n")
    return str(path)


def test_late_text_in_a_number_column_names_column_and_line(late_csv):
    with pytest.raises(files.ColumnTypeProblem) as raised:
        files.open_reader(late_csv, "csv").read_all()
    # Line 1 is the header, so the 300,001st value is on line 300,002.
    assert str(raised.value).startswith("column 'x', line 300002: 'abc' is not a int64 value")
    assert "--column-types x=string" in str(raised.value)
    assert raised.value.column == "x"


def test_whole_file_scan_widens_what_the_first_block_got_wrong(late_csv):
    inferred = files.infer_csv_types(late_csv)
    assert inferred == {"x": pa.string(), "e": pa.int64()}
    table = read_csv(late_csv, column_types=inferred)
    assert table.num_rows == 300001
    assert table.column("x")[-1].as_py() == "abc" and table.column("x")[0].as_py() == "0"
    assert table.column("e").null_count == 300000 and table.column("e")[-1].as_py() == 5


def test_whole_file_scan_keeps_fitting_columns_and_fixed_types(tmp_path):
    path = tmp_path / "fine.csv"
    path.write_text("a,b\n1,x\n2,y\n")
    assert files.infer_csv_types(str(path)) == {}
    assert files.infer_csv_types(str(path), column_types={"a": pa.string()}) == {}


# --- read_all for R -----------------------------------------------------------------------

def test_integers_as_r_does_narrow_only_what_fits_r_integer():
    table = pa.table({"small": pa.array([1, -5, None], pa.int64()),
                      "big": pa.array([1, 2**31, 0], pa.int64()),
                      "na_integer": pa.array([-2**31, 0, 1], pa.int64()),
                      "edge": pa.array([-2**31 + 1, 2**31 - 1, 0], pa.int64())})
    result = files.read_all(reader_of(table), integers_as_r_does=True)
    result.validate(full=True)
    assert result.schema.types == [pa.int32(), pa.int64(), pa.int64(), pa.int32()]
    assert result.column("small").to_pylist() == [1, -5, None]
    assert result.column("edge").to_pylist() == [-2**31 + 1, 2**31 - 1, 0]
    # Without the flag nothing changes.
    assert files.read_all(reader_of(table)).equals(table)


def test_factor_levels_sorted_as_r_factor_sorts_them():
    values = ["b", "a", "c", "B", "a", "10", "9", None]
    table = pa.table({"f": pa.array(values).dictionary_encode()})
    assert table.column("f").chunk(0).dictionary.to_pylist()[:3] == ["b", "a", "c"]  # first appearance
    result = files.read_all(reader_of(table, max_chunksize=3), factors_as_r_does=True)
    result.validate(full=True)
    levels = sorted({v for v in values if v is not None}, key=lambda s: s.encode())  # C collation
    assert levels == ["10", "9", "B", "a", "b", "c"]
    for chunk in result.column("f").chunks:
        assert chunk.dictionary.to_pylist() == levels
    assert result.column("f").to_pylist() == values


# --- summaries ----------------------------------------------------------------------------

def test_summarize_counts_rows_batches_nulls_and_r_types():
    schema = pa.schema([("fits", pa.int64()), ("wide", pa.int64()), ("i32", pa.int32()), ("s", pa.string())])
    batches = [pa.record_batch([pa.array([1, None]), pa.array([0, 2**40]), pa.array([1, 2], pa.int32()),
                                pa.array(["a", None])], schema=schema),
               pa.record_batch([pa.array([None, 7]), pa.array([None, 1]), pa.array([-2**31, None], pa.int32()),
                                pa.array([None, None], pa.string())], schema=schema),
               pa.record_batch([pa.array([3]), pa.array([4]), pa.array([5], pa.int32()), pa.array(["z"])],
                               schema=schema)]
    summary = files.summarize(pa.RecordBatchReader.from_batches(schema, batches))
    assert summary == {"rows": 5, "batches": 3, "nulls": [2, 1, 1, 3], "r_integer": [0], "r_double": [2]}


def test_all_missing_int64_column_counts_as_r_integer():
    table = pa.table({"a": pa.array([None, None], pa.int64())})
    assert files.summarize(reader_of(table))["r_integer"] == [0]


# --- writing ------------------------------------------------------------------------------

def sample_table(rows):
    return pa.table({"i": pa.array(range(rows), pa.int64()),
                     "x": pa.array([i / 4 if i % 7 else None for i in range(rows)], pa.float64()),
                     "s": pa.array([f"row {i % 13}" for i in range(rows)])})


def test_parquet_row_groups_hold_the_requested_rows_whatever_the_batches(tmp_path):
    table = sample_table(2500)
    path = tmp_path / "a.parquet"
    summary = files.write(reader_of(table, max_chunksize=300), str(path), "parquet",
                          compression="zstd", row_group_rows=1000)
    metadata = pq.ParquetFile(path).metadata
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [1000, 1000, 500]
    assert metadata.row_group(0).column(0).compression == "ZSTD"
    back = pq.read_table(path)
    back.validate(full=True)
    assert back.equals(table)
    assert summary["rows"] == 2500 and summary["batches"] == 9
    assert summary["nulls"] == [0, table.column("x").null_count, 0]
    assert files.row_groups(str(path), "parquet") == [1000, 1000, 500]


def test_parquet_default_compression_is_snappy(tmp_path):
    path = tmp_path / "a.parquet"
    files.write(reader_of(sample_table(10)), str(path), "parquet")
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "SNAPPY"


def test_read_rows_reads_a_range_across_row_groups(tmp_path):
    table = sample_table(2500)
    for file_format in ("parquet", "feather"):
        path = str(tmp_path / f"a.{file_format}")
        if file_format == "parquet":
            files.write(reader_of(table), path, "parquet", row_group_rows=1000)
        else:
            files.write(reader_of(table, max_chunksize=1000), path, "feather")
        assert files.row_groups(path, file_format) == [1000, 1000, 500]
        part = files.read_rows(path, file_format, 950, 2100, ["s", "i", "not there"])
        part.validate(full=True)
        assert part.column_names == ["s", "i"]
        assert part.equals(table.slice(950, 1150).select(["s", "i"]))
        assert files.read_rows(path, file_format, 2500, 2500, ["i"]).num_rows == 0
        with pytest.raises(files.FileProblem, match="rows 2401-2501 are beyond the file's 2500 rows"):
            files.read_rows(path, file_format, 2400, 2501, ["i"])


def test_feather_compression_and_round_trip(tmp_path):
    table = pa.table({"x": pa.array([1.0] * 20000), "s": pa.array(["same text"] * 20000)})
    sizes = {}
    for compression in ("none", "zstd", None):
        path = tmp_path / f"{compression}.feather"
        files.write(reader_of(table), str(path), "feather", compression=compression)
        back = feather.read_table(path)
        back.validate(full=True)
        assert back.equals(table)
        sizes[compression] = path.stat().st_size
    # Repetitive data compresses: zstd and the default (lz4) are far smaller than none.
    assert sizes["zstd"] * 3 < sizes["none"] and sizes[None] * 3 < sizes["none"]
    reread = files.read_all(files.open_reader(str(tmp_path / "zstd.feather"), "feather"))
    assert reread.equals(table)


def test_feather_v1_is_read_whole_but_not_by_rows(tmp_path):
    import warnings
    path = tmp_path / "v1.feather"
    table = pa.table({"a": [1, 2, 3], "b": ["x", "y", None]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        feather.write_feather(table, str(path), version=1)
    assert files.read_all(files.open_reader(str(path), "feather")).equals(table)
    with pytest.raises(files.FileProblem, match="Feather V1 file has no record batches"):
        files.row_groups(str(path), "feather")


def test_corrupt_parquet_is_a_file_problem(tmp_path):
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1 this is not a parquet file")
    with pytest.raises(files.FileProblem, match="not a readable Parquet file"):
        files.open_reader(str(path), "parquet")


def test_csv_round_trip_through_pandas_keeps_nulls_and_the_index(tmp_path):
    frame = pd.DataFrame({"n": pd.array([1, None, 3], dtype="Int64"), "s": ["a", None, "c,d"],
                          "x": [0.5, float("nan"), 2.0]}, index=pd.Index(["r1", "r2", "r3"]))
    table = pa.Table.from_pandas(frame)
    path = tmp_path / "out.csv"
    files.write(reader_of(table), str(path), "csv")
    first = path.read_text().splitlines()[0]
    assert first.split(",")[0] in ('""', "")  # the index first, under an empty header
    back = pd.read_csv(path, index_col=0, keep_default_na=False, na_values=["NA"])
    assert list(back.index) == ["r1", "r2", "r3"]
    assert back["n"].isna().tolist() == [False, True, False] and back["n"].iloc[2] == 3
    assert back["s"].tolist()[0] == "a" and pd.isna(back["s"].iloc[1]) and back["s"].iloc[2] == "c,d"
    # A NaN written from pandas is null in Arrow (from_pandas), and so NA in the text.
    assert pd.isna(back["x"].iloc[1]) and back["x"].iloc[2] == 2.0
    # And our own reader gives the frame back.
    again = read_csv(path).to_pandas()
    assert list(again.index) == ["r1", "r2", "r3"] and again["s"].tolist()[2] == "c,d"


def test_compressed_tsv_output(tmp_path):
    path = tmp_path / "out.tsv.gz"
    files.write(reader_of(pa.table({"a": [1, 2], "b": ["x", None]})), str(path), "tsv", compression="gzip")
    assert gzip.decompress(path.read_bytes()).decode().replace('"', "") == "a\tb\n1\tx\n2\tNA\n"


@pytest.mark.parametrize("array", [
    pa.array([dt.datetime(2013, 1, 1, 10), None], pa.timestamp("us")),
    pa.array([dt.datetime(2013, 1, 1, 10, 0, 0, 500000)], pa.timestamp("us")),
    pa.array([dt.datetime(2013, 1, 1, 10, 0, 0, 123456)], pa.timestamp("ns")),
    pa.array([dt.datetime(2013, 1, 1, 10), dt.datetime(2013, 7, 1, 23, 59, 59)], pa.timestamp("s", "UTC")),
    pa.array([dt.datetime(2013, 1, 1, 15), dt.datetime(2013, 7, 1, 15)], pa.timestamp("ms", "UTC"))
        .cast(pa.timestamp("ms", "America/New_York")),
], ids=["whole-seconds", "milliseconds", "microseconds-in-ns", "utc", "new-york"])
def test_csv_timestamp_text_is_what_pandas_to_csv_writes(tmp_path, array):
    table = pa.table({"t": array})
    path = tmp_path / "t.csv"
    files.write(reader_of(table), str(path), "csv")
    ours = path.read_text().replace('"', "")
    expected = table.to_pandas().to_csv(index=False, na_rep="NA")
    assert ours == expected
    # And the text reads back as the same instants.
    back = pd.read_csv(path, keep_default_na=False, na_values=["NA"])["t"]
    assert pd.to_datetime(back, format="ISO8601", utc=True).tolist() == \
        pd.to_datetime(table.to_pandas()["t"], utc=True).tolist()


def test_nanosecond_timestamp_keeps_nine_digits():
    values = pa.array([1_000_000_001, 1_500_000_000, 1_000_000_000], pa.timestamp("ns"))
    assert files._timestamp_text(values).to_pylist() == \
        ["1970-01-01 00:00:01.000000001", "1970-01-01 00:00:01.500", "1970-01-01 00:00:01"]


def test_csv_refuses_nested_columns_and_unknown_zones(tmp_path):
    table = pa.table({"l": pa.array([[1]]), "b": pa.array([b"x"]), "ok": [1]})
    with pytest.raises(files.FileProblem, match=r"CSV text cannot hold columns 'l' \(list<int64>\), 'b' \(binary\)"):
        files.write(reader_of(table), str(tmp_path / "a.csv"), "csv")
    zoned = pa.schema([("t", pa.timestamp("s", "Mars/Olympus_Mons"))])
    with pytest.raises(files.FileProblem, match="unknown time zone 'Mars/Olympus_Mons'"):
        files._check_csv_time_zones(zoned)
    files._check_csv_time_zones(pa.schema([("t", pa.timestamp("s", "+05:30"))]))  # a fixed offset is fine


def test_csv_refuses_years_outside_1_to_9999(tmp_path):
    first_day = -719162  # 0001-01-01
    table = pa.table({"d": pa.array([first_day, first_day - 1], pa.date32())})
    with pytest.raises(files.FileProblem, match=r"column 'd', row 2: -719163 days from 1970 is outside the years 1-9999"):
        files.write(reader_of(table), str(tmp_path / "a.csv"), "csv")
    # The same dates are fine in Parquet.
    files.write(reader_of(table), str(tmp_path / "a.parquet"), "parquet")
    assert pq.read_table(tmp_path / "a.parquet").column("d").cast(pa.int32()).to_pylist() == [first_day, first_day - 1]


def test_date64_that_is_not_a_whole_day_is_refused_where_dates_are_days(tmp_path):
    day = 86400000
    table = pa.table({"d": pa.array([day, None, 2 * day + 1], pa.date64())})
    for file_format in ("parquet", "csv"):
        with pytest.raises(files.FileProblem, match=r"column 'd', row 3: date64 value 172800001 ms is not a whole day"):
            files.write(reader_of(table), str(tmp_path / f"a.{file_format}"), file_format)
    files.write(reader_of(table), str(tmp_path / "a.feather"), "feather")  # Feather keeps milliseconds
    assert feather.read_table(tmp_path / "a.feather").equals(table)


def test_rows_without_columns_only_in_feather(tmp_path):
    table = pa.table({"a": [1, 2, 3]}).drop_columns(["a"])
    assert table.num_rows == 3
    with pytest.raises(files.FileProblem, match="the table has 3 rows and no columns"):
        files.write(reader_of(table), str(tmp_path / "a.parquet"), "parquet")
    files.write(reader_of(table), str(tmp_path / "a.feather"), "feather")
    assert feather.read_table(tmp_path / "a.feather").num_rows == 3


def test_unknown_formats_are_refused(tmp_path):
    with pytest.raises(files.FileProblem, match="pyarrow does not write the orc format"):
        files.write(reader_of(pa.table({"a": [1]})), str(tmp_path / "a.orc"), "orc")
    with pytest.raises(files.FileProblem, match="pyarrow does not read the rds format"):
        files.open_reader(str(tmp_path / "a.rds"), "rds")
