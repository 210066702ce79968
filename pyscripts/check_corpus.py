"""Check `polybridge convert` results on the stress corpus against the R-written oracle.

    python3 pyscripts/check_corpus.py --corpus /tmp/corpus --results /tmp/results.jsonl \\
        --outputs /tmp/corpus-out [--failures-json failures.json]

The corpus and its oracle come from `Rscript fixtures/corpus/make_corpus.R DIR`: DIR/*.rds
and DIR/expected/*.json (the encoding is described at the top of that script). RESULTS.jsonl
is written by pyscripts/run_corpus_cli.py (or polybridge's batch mode): one line per
(input, format) with "status" ok|error|signal|timeout and "message".

For every corpus object and every format (csv, feather, parquet, rds):
- the result must exist and the process must not have died by a signal or timed out;
- "must_fail" objects must end in an error that names a blamed column as `column 'NAME'`
  (or, where the oracle blames the file, names the file); an error must leave no output;
- "frame" objects must convert (unless "may_fail", where a column-naming error is also
  fine) and the output must hold exactly the expected columns:
  * feather/parquet, read with pyarrow, every chunk `validate(full=True)`: column names and
    order, row count, Arrow types (float64, int32, bool, utf8/large_utf8,
    dictionary<int32, utf8> with the exact levels in order and the ordered flag, date32,
    timestamp[us, tz], int64), values with NaN and null distinct, timestamps as
    microseconds (a value that reads back as the same R double also passes);
  * csv, read with pyarrow.csv, null_values ["", "NA"], all columns as text: names from
    the header; doubles compared as parsed numbers ("1" == "1.0"; "nan"/"inf" parse, and a
    NaN must not be written as a null); integers must parse as integers; logicals case-insensitive
    true/false; Dates as YYYY-MM-DD (any year); timestamps as
    "YYYY-MM-DD[ T]hh:mm:ss[.ffffff][Z|+hh[:]mm]" compared as instants (no suffix = UTC);
    strings and factor labels as exact text, except that NA, "" and "NA" cannot be told
    apart in CSV and all match a null;
  * rds, read back by one Rscript process that describes each output: a data.frame with
    the same names, row count and column kinds (an integer64 column may come back as an
    exact double), the same values, levels and time zone (the tzone's first element).
- -0 and 0 are treated as equal everywhere (the sign of zero is not checked); each format
  reports how many values lost the sign, as a note.

Prints failures grouped by kind and object category, then a summary; exits 1 if any.
"""

import argparse
import csv
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.parquet as pq

FORMATS = ("csv", "feather", "parquet", "rds")
csv.field_size_limit(sys.maxsize)  # the corpus has 1 MB strings and 10,000-character names


class Mismatch(Exception):
    """An output that differs from the oracle; the message says where and how."""


# ---- decoding the oracle's value encoding (also used for the R helper's output) ----

def decode_values(values, kind):
    """Returns (values, valid) for kind float/int/bigint/bool, or a list for text."""
    if isinstance(values, dict) and "seq" in values:
        start, step, n = values["seq"]
        numbers = start + step * np.arange(n, dtype=np.int64)
        return numbers.astype(np.float64 if kind == "float" else np.int64), np.ones(n, bool)
    if kind == "text":
        return [v if v is None or isinstance(v, str) else ("<invalid UTF-8 " + v["invalid_utf8_hex"] + ">")
                for v in values]
    valid = np.array([v is not None and v != "NA" for v in values], dtype=bool)
    if kind == "float":
        parsed = [float(v) if ok else 0.0 for v, ok in zip(values, valid)]  # "NaN", "Inf", "-0" parse
        return np.array(parsed, dtype=np.float64), valid
    if kind == "bool":
        return np.array([bool(v) if ok else False for v, ok in zip(values, valid)]), valid
    return np.array([int(v) if ok else 0 for v, ok in zip(values, valid)], dtype=np.int64), valid


def expected_column(col):
    """The oracle's column as (values, valid) or a text list, in the kind the type needs."""
    r_type = col["r_type"]
    if r_type == "character":
        return decode_values(col["values"], "text")
    kind = {"double": "float", "logical": "bool", "POSIXct": "bigint", "integer64": "bigint"}.get(r_type, "int")
    values, valid = decode_values(col["values"], kind)
    if r_type in ("factor", "ordered"):
        values = values - 1  # Arrow dictionary indices are 0-based
    return values, valid


# ---- comparing values ----

class Notes:
    """Counts of differences the checker accepts but reports (the sign of zero)."""

    def __init__(self):
        self.lost_zero_sign = Counter()


def differing_rows(name, exp_values, exp_valid, act_values, act_valid, floats):
    """Indices of the rows that differ (null vs value, or different values)."""
    if len(exp_valid) != len(act_valid):
        raise Mismatch(f"column '{name}': {len(act_valid)} values, expected {len(exp_valid)}")
    same = exp_valid == act_valid
    if floats:
        equal = (exp_values == act_values) | (np.isnan(exp_values) & np.isnan(act_values))
    else:
        equal = exp_values == act_values
    same &= equal | ~exp_valid
    return np.flatnonzero(~same)


def show(values, valid, i):
    return repr(values[i].item()) if valid[i] else "null"


def compare_numbers(name, expected, actual, floats, notes=None, fmt=None):
    (exp_values, exp_valid), (act_values, act_valid) = expected, actual
    for i in differing_rows(name, exp_values, exp_valid, act_values, act_valid, floats)[:1]:
        raise Mismatch(f"column '{name}' row {i + 1}: expected {show(exp_values, exp_valid, i)}, "
                       f"got {show(act_values, act_valid, i)}")
    if floats and notes is not None:
        both = exp_valid & act_valid & (exp_values == 0)
        notes.lost_zero_sign[fmt] += int(np.sum(np.signbit(exp_values[both]) != np.signbit(act_values[both])))


def compare_micros(name, expected, actual):
    """Timestamps: exact microseconds, or a different integer that is the same R double."""
    (exp_values, exp_valid), (act_values, act_valid) = expected, actual
    for i in differing_rows(name, exp_values, exp_valid, act_values, act_valid, floats=False):
        if not (exp_valid[i] and act_valid[i] and int(act_values[i]) / 10**6 == int(exp_values[i]) / 10**6):
            raise Mismatch(f"column '{name}' row {i + 1}: expected {show(exp_values, exp_valid, i)} us, "
                           f"got {show(act_values, act_valid, i)} us")


def compare_texts(name, expected, actual, csv_nulls=False, what="values"):
    if len(expected) != len(actual):
        raise Mismatch(f"column '{name}': {len(actual)} {what} {clip(actual)}, expected {len(expected)} {clip(expected)}")
    for i, (e, a) in enumerate(zip(expected, actual)):
        if e == a or (csv_nulls and a is None and e in (None, "", "NA")):
            continue
        raise Mismatch(f"column '{name}' row {i + 1}: expected {clip(e)}, got {clip(a)}")


def clip(value):
    # Strings that differ only in normalisation print alike: non-ASCII is shown escaped.
    text = ascii(value)
    return text if len(text) <= 80 else text[:60] + f"... ({len(text)} chars)"


# ---- feather and parquet ----

def expected_arrow_type(col):
    r_type = col["r_type"]
    simple = {"double": pa.float64(), "integer": pa.int32(), "logical": pa.bool_(),
              "Date": pa.date32(), "integer64": pa.int64()}
    if r_type in simple:
        return [simple[r_type]]
    if r_type == "character":
        return [pa.string(), pa.large_string()]
    if r_type == "POSIXct":
        return [pa.timestamp("us", tz=col["tz"])]
    ordered = r_type == "ordered"
    return [pa.dictionary(pa.int32(), value, ordered) for value in (pa.string(), pa.large_string())]


def arrow_numbers(chunked):
    """(values, valid) of a primitive column; dates and timestamps as their integers."""
    array = chunked.combine_chunks() if chunked.num_chunks else pa.array([], chunked.type)
    if pa.types.is_date32(array.type):
        array = array.view(pa.int32())
    elif pa.types.is_timestamp(array.type):
        array = array.view(pa.int64())
    if array.null_count == 0:  # the common case, and most of the time on 100,000-column frames
        return array.to_numpy(zero_copy_only=False), np.ones(len(array), dtype=bool)
    valid = ~np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    values = array.fill_null(False if pa.types.is_boolean(array.type) else 0).to_numpy(zero_copy_only=False)
    return values, valid


def compare_dictionary(name, col, chunked, fmt=None):
    levels = decode_values(col["levels"], "text")
    for i, chunk in enumerate(chunked.chunks):
        got = chunk.dictionary.to_pylist()
        # Parquet stores a dictionary only beside the data it encodes: a factor without rows
        # has nowhere to keep its (all unused) levels. A format limit, stated in docs/files.md.
        if fmt == "parquet" and len(chunk) == 0 and not got:
            continue
        if got != levels:
            raise Mismatch(f"column '{name}' chunk {i}: levels {clip(got)}, expected {clip(levels)}")
    indices = pa.chunked_array([c.indices for c in chunked.chunks], pa.int32())
    compare_numbers(name, expected_column(col), arrow_numbers(indices), floats=False)


def compare_arrow_column(col, chunked, notes, fmt):
    name = col["name"]
    for chunk in chunked.chunks:
        chunk.validate(full=True)
    if chunked.type not in expected_arrow_type(col):
        raise Mismatch(f"column '{name}': type {chunked.type}, expected {expected_arrow_type(col)[0]}")
    r_type = col["r_type"]
    if r_type in ("factor", "ordered"):
        compare_dictionary(name, col, chunked, fmt)
    elif r_type == "character":
        compare_texts(name, expected_column(col), chunked.to_pylist())
    elif r_type == "POSIXct":
        compare_micros(name, expected_column(col), arrow_numbers(chunked))
    else:
        compare_numbers(name, expected_column(col), arrow_numbers(chunked), r_type == "double", notes, fmt)


def read_parquet(path):
    """The whole Parquet file. Not pq.read_table: with OMP_NUM_THREADS=1 (as Polybridge sets
    it on two cores) its dataset reader took over 14 GB for the 100,000-column file."""
    return pq.ParquetFile(path).read()


INDEX_COLUMN = "__index_level_0__"


def check_arrow(path, fmt, expected, notes):
    table = feather.read_table(path) if fmt == "feather" else read_parquet(path)
    check_shape(table.column_names, table.num_rows, expected, index_last=INDEX_COLUMN)
    for col, chunked in zip(expected["columns"], table.columns):
        compare_arrow_column(col, chunked, notes, fmt)
    if "row_names" in expected:
        # Stored the way pandas stores an index: a column the schema's pandas metadata names.
        described = json.loads((table.schema.metadata or {}).get(b"pandas", b"{}"))
        if described.get("index_columns") != [INDEX_COLUMN]:
            raise Mismatch(f"pandas metadata names index columns {described.get('index_columns')}")
        check_row_names(table.column(INDEX_COLUMN).to_pylist(), expected)


def check_row_names(found, expected):
    if found != expected["row_names"]:
        raise Mismatch(f"row names {clip(found)}, expected {clip(expected['row_names'])}")


def check_shape(names, nrow, expected, index_last=None, index_first=None):
    want = [c["name"] for c in expected["columns"]]
    if "row_names" in expected and index_last is not None:
        want = want + [index_last]
    if "row_names" in expected and index_first is not None:
        want = [index_first] + want
    if names != want:
        raise Mismatch(f"column names {clip(names)}, expected {clip(want)}")
    if expected.get("nrow_checked", True) and nrow != expected["nrow"]:
        raise Mismatch(f"{nrow} rows, expected {expected['nrow']}")


# ---- csv ----

def civil_to_days(year, month, day):
    """Days since 1970-01-01 in the proleptic Gregorian calendar, for any year."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


DATE = r"(-?\d+)-(\d\d)-(\d\d)"
TIMESTAMP = re.compile(DATE + r"[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?$")


def text_to_days(text):
    match = re.fullmatch(DATE, text)
    if not match:
        raise ValueError(text)
    return civil_to_days(*map(int, match.groups()))


def text_to_micros(text):
    match = TIMESTAMP.match(text)
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    seconds = civil_to_days(int(year), int(month), int(day)) * 86400 + int(hour) * 3600 + int(minute) * 60 + int(second)
    micros = seconds * 10**6 + int((fraction or "0").ljust(6, "0")[:6])
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        micros -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60) * 10**6
    return micros


def parsed_texts(name, texts, parse):
    values, valid = [], []
    for i, text in enumerate(texts):
        try:
            values.append(parse(text) if text is not None else 0)
        except ValueError:
            raise Mismatch(f"column '{name}' row {i + 1}: cannot read {clip(text)}") from None
        valid.append(text is not None)
    return np.array(values, dtype=np.int64), np.array(valid, dtype=bool)


def cast_texts(name, column, arrow_type):
    try:
        return arrow_numbers(pc.cast(column, arrow_type))
    except pa.ArrowInvalid as error:
        raise Mismatch(f"column '{name}': {error}") from None


def compare_csv_column(col, column, notes):
    name, r_type = col["name"], col["r_type"]
    if r_type in ("character", "factor", "ordered"):
        expected = expected_column(col) if r_type == "character" else factor_labels(col)
        compare_texts(name, expected, column.to_pylist(), csv_nulls=True)
    elif r_type == "double":
        compare_numbers(name, expected_column(col), cast_texts(name, column, pa.float64()), True, notes, "csv")
    elif r_type in ("integer", "integer64"):
        compare_numbers(name, expected_column(col), cast_texts(name, column, pa.int64()), floats=False)
    elif r_type == "logical":
        compare_numbers(name, expected_column(col), cast_texts(name, pc.utf8_lower(column), pa.bool_()), floats=False)
    elif r_type == "Date":
        compare_numbers(name, expected_column(col), parsed_texts(name, column.to_pylist(), text_to_days), floats=False)
    else:
        compare_micros(name, expected_column(col), parsed_texts(name, column.to_pylist(), text_to_micros))


def factor_labels(col):
    levels = decode_values(col["levels"], "text")
    codes, valid = expected_column(col)
    return [levels[c] if ok else None for c, ok in zip(codes.tolist(), valid.tolist())]


def csv_header(path):
    with open(path, newline="", encoding="utf-8") as f:
        return next(csv.reader(f), [])


def check_csv(path, expected, notes):
    header = csv_header(path)
    if not expected["columns"]:
        if header not in ([], [""]):
            raise Mismatch(f"header {clip(header)} for a frame without columns")
        if expected.get("nrow_checked", True) and expected["nrow"] != 0:
            raise Mismatch("rows without columns")  # only reached if the oracle says CSV can hold it
        return
    table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
                           convert_options=pacsv.ConvertOptions(
                               column_types={name: pa.string() for name in header}, null_values=["", "NA"],
                               strings_can_be_null=True, quoted_strings_can_be_null=True))
    check_shape(table.column_names, table.num_rows, expected, index_first="")
    columns = table.columns
    if "row_names" in expected:
        # Row names first under an empty header, as write.csv and pandas' to_csv write them.
        check_row_names(columns[0].to_pylist(), expected)
        columns = columns[1:]
    for col, column in zip(expected["columns"], columns):
        compare_csv_column(col, column, notes)


# ---- rds: one R process describes every output, in the oracle's value encoding ----

R_DESCRIBE = r"""
args <- commandArgs(trailingOnly = TRUE)
paths <- readLines(args[[1]], encoding = "UTF-8")
out <- file(args[[2]], open = "wb")

quote_json <- function(s) {
  s <- enc2utf8(s)
  ok <- validUTF8(s)
  s[ok] <- gsub("([\"\\\\])", "\\\\\\1", s[ok])
  s[ok] <- vapply(s[ok], function(x) {
    codes <- utf8ToInt(x)
    if (!any(codes < 32)) return(x)
    paste(ifelse(codes < 32, sprintf("\\u%04x", codes), vapply(codes, intToUtf8, "")), collapse = "")
  }, "", USE.NAMES = FALSE)
  s[ok] <- paste0("\"", s[ok], "\"")
  s[!ok] <- vapply(s[!ok], function(b) sprintf("{\"invalid_utf8_hex\":\"%s\"}",
                   paste(charToRaw(b), collapse = "")), "", USE.NAMES = FALSE)
  s
}
array_json <- function(items) paste0("[", paste(items, collapse = ","), "]")
strings_json <- function(s) {
  if (!length(s)) return("[]")
  array_json(ifelse(is.na(s), "null", quote_json(ifelse(is.na(s), "", s))))
}

# Long NA-free runs of whole numbers stepping by 1 or -1 are written as {"seq": ...}.
seq_json <- function(x) {
  n <- length(x)
  if (n < 1000 || anyNA(x)) return(NULL)
  step <- as.double(x[[2]]) - as.double(x[[1]])
  if (!step %in% c(-1, 1) || x[[1]] != round(x[[1]]) || abs(x[[1]]) > 2^52) return(NULL)
  if (!isTRUE(all(x == x[[1]] + step * (seq_len(n) - 1)))) return(NULL)
  sprintf("{\"seq\":[%.0f,%.0f,%d]}", as.double(x[[1]]), step, n)
}

values_json <- function(col) {
  x <- unclass(col)
  attributes(x) <- NULL
  if (inherits(col, "integer64") && requireNamespace("bit64", quietly = TRUE)) {
    text <- asNamespace("bit64")$as.character.integer64(col)
    return(array_json(ifelse(is.na(text), "null", paste0("\"", text, "\""))))
  }
  switch(typeof(x),
    double = { s <- seq_json(x); if (is.null(s)) array_json(sprintf("\"%.17g\"", x)) else s },
    integer = { s <- seq_json(x); if (is.null(s)) array_json(ifelse(is.na(x), "null", sprintf("%d", x))) else s },
    logical = array_json(ifelse(is.na(x), "null", ifelse(x, "true", "false"))),
    character = strings_json(x),
    sprintf("{\"unsupported\":\"%s\"}", typeof(x)))
}

column_json <- function(col) {
  levels <- attr(col, "levels")
  tzone <- attr(col, "tzone")
  paste0("{\"typeof\":", quote_json(typeof(col)),
         ",\"class\":", strings_json(as.character(oldClass(col))),
         if (is.character(levels)) paste0(",\"levels\":", strings_json(levels)),
         if (is.character(tzone)) paste0(",\"tzone\":", strings_json(tzone)),
         ",\"values\":", values_json(col), "}")
}

describe <- function(x) {
  if (!is.data.frame(x)) return(paste0("\"class\":", strings_json(class(x))))
  row_names <- attr(x, "row.names")
  paste0("\"class\":", strings_json(class(x)), ",\"nrow\":", .row_names_info(x, 2L),
         ",\"names\":", strings_json(names(x)),
         ",\"row_names\":", if (is.character(row_names)) strings_json(row_names) else "null",
         ",\"columns\":", array_json(vapply(unclass(x), column_json, "", USE.NAMES = FALSE)))
}

for (path in paths) {
  body <- tryCatch(describe(readRDS(path)),
                   error = function(e) paste0("\"error\":", quote_json(conditionMessage(e))))
  writeLines(paste0("{\"path\":", quote_json(path), ",", body, "}"), out, useBytes = TRUE)
  flush(out)  # if a later file kills R, the lines so far survive
}
close(out)
"""


def describe_rds_outputs(paths):
    """Runs Rscript over every RDS output; returns {path: description}.

    One R process reads them all; if a file kills R, it is marked and R restarts after it.
    """
    described = {}
    with tempfile.TemporaryDirectory() as tmp:
        script, listing, output = (Path(tmp) / n for n in ("describe.R", "paths.txt", "described.jsonl"))
        script.write_text(R_DESCRIBE, encoding="utf-8")
        while paths:
            listing.write_text("\n".join(paths) + "\n", encoding="utf-8")
            run = subprocess.run(["Rscript", "--vanilla", str(script), str(listing), str(output)])
            for line in output.read_text(encoding="utf-8").splitlines() if output.exists() else []:
                row = json.loads(line)
                described[row["path"]] = row
            paths = [p for p in paths if p not in described]
            if paths and run.returncode == 0:
                raise RuntimeError(f"Rscript described nothing for {paths[0]}")
            if paths:
                described[paths[0]] = {"error": f"R died reading it (exit status {run.returncode})"}
                paths = paths[1:]
    return described


def rds_kind(column):
    cls = column["class"]
    if "factor" in cls:
        return "ordered" if "ordered" in cls else "factor"
    for special in ("Date", "POSIXct", "integer64"):
        if special in cls:
            return special
    return column["typeof"]


def rds_zone(column):
    tzone = column.get("tzone") or [None]
    return tzone[0] or None  # "" and no tzone both mean a naive time


def compare_rds_column(col, column, notes):
    name, r_type, kind = col["name"], col["r_type"], rds_kind(column)
    if kind != r_type and not (r_type == "integer64" and kind == "double"):
        raise Mismatch(f"column '{name}': R kind {kind} ({column['typeof']}), expected {r_type}")
    if r_type in ("factor", "ordered"):
        compare_texts(name, decode_values(col["levels"], "text"), column.get("levels", []), what="levels")
        codes, valid = decode_values(column["values"], "int")
        compare_numbers(name, expected_column(col), (codes - 1, valid), floats=False)
    elif r_type == "character":
        compare_texts(name, expected_column(col), decode_values(column["values"], "text"))
    elif r_type == "POSIXct":
        compare_rds_times(name, col, column)
    elif r_type == "Date" or (r_type == "integer64" and kind == "double"):
        values, valid = decode_values(column["values"], "float")
        expected, exp_valid = expected_column(col)
        if r_type == "Date":
            valid &= ~np.isnan(values)  # NaN and NA are both a missing Date
        compare_numbers(name, (expected.astype(np.float64), exp_valid), (values, valid), True, notes, "rds")
    else:
        value_kind = {"double": "float", "logical": "bool", "integer64": "bigint"}.get(r_type, "int")
        compare_numbers(name, expected_column(col), decode_values(column["values"], value_kind),
                        r_type == "double", notes, "rds")


def compare_rds_times(name, col, column):
    if rds_zone(column) != col["tz"]:
        raise Mismatch(f"column '{name}': time zone {rds_zone(column)!r}, expected {col['tz']!r}")
    seconds, valid = decode_values(column["values"], "float")
    valid &= ~np.isnan(seconds)
    micros, exp_valid = expected_column(col)
    for i in range(len(micros)):
        if valid[i] != exp_valid[i] or (valid[i] and seconds[i] != int(micros[i]) / 10**6):
            got = repr(seconds[i].item()) if valid[i] else "null"
            want = repr(int(micros[i]) / 10**6) if exp_valid[i] else "null"
            raise Mismatch(f"column '{name}' row {i + 1}: expected {want} s, got {got} s")


def check_rds(description, expected, notes):
    if "error" in description:
        raise Mismatch(f"readRDS failed: {description['error']}")
    if "data.frame" not in description["class"]:
        raise Mismatch(f"holds class {description['class']}, not a data.frame")
    check_shape(description["names"], description["nrow"], expected)
    if "row_names" in expected:
        check_row_names(description.get("row_names"), expected)
    for col, column in zip(expected["columns"], description["columns"]):
        compare_rds_column(col, column, notes)


# ---- verdicts per (object, format) ----

def effective_expectation(expected, fmt):
    """The object's verdict with the oracle's per-format exceptions merged in."""
    merged = {k: v for k, v in expected.items() if k != "formats"}
    merged.update((expected.get("formats") or {}).get(fmt, {}))
    return merged


def error_problem(message, input_path, expectation):
    """Why an error message does not name what the oracle blames, or None."""
    blame = expectation.get("blame", {"columns": [], "file": True})
    if any(f"column '{name}'" in message for name in blame["columns"]):
        return None
    if blame["file"] and Path(input_path).name in message:
        return None
    if blame["columns"] and "column '" in message:
        return "error_names_other_column"
    if blame["columns"] and re.search(r"\bcolumn\b", message):
        return "error_without_column_quote"  # mentions a column, not as `column 'NAME'`
    return "error_without_column" if blame["columns"] else "error_without_file"


def judge(result, expectation, check_output, peek):
    """Returns (failure kind, detail) or None for one conversion."""
    status, message = result["status"], result.get("message", "")
    if status in ("signal", "timeout"):
        return status, message
    if status == "error":
        if Path(result["output"]).exists():
            return "error_left_output", message
        if not message.strip():
            return "error_without_message", f"exit status {result.get('returncode')}, nothing printed"
        if expectation["kind"] == "frame" and not expectation.get("may_fail"):
            return "refused_exact", message
        problem = error_problem(message, result["input"], expectation)
        return (problem, message) if problem else None
    if status != "ok":
        return "unknown_status", status
    if expectation["kind"] == "must_fail":
        return "ok_but_must_fail", f"expected an error ({expectation['reason']}); wrote {peek()}"
    if not Path(result["output"]).exists():
        return "ok_without_output", message
    try:
        check_output()
    except Mismatch as difference:
        return "wrong_ok", str(difference)
    except (pa.ArrowException, OSError, ValueError, KeyError) as error:
        return "unreadable_output", f"{type(error).__name__}: {error}"
    return None


def load_results(path):
    results = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                results[(Path(row["input"]).name, row["format"])] = row
    return results


def check_all(corpus, results, notes):
    expectations = {p.stem: json.loads(p.read_text(encoding="utf-8"))
                    for p in sorted((corpus / "expected").glob("*.json"))}
    # Every RDS written, also those that should have been refused (to show what they hold).
    rds_paths = [results[(stem + ".rds", "rds")]["output"] for stem in expectations
                 if results.get((stem + ".rds", "rds"), {}).get("status") == "ok"]
    rds_descriptions = describe_rds_outputs([p for p in rds_paths if Path(p).exists()])
    failures = []
    for stem, expected in expectations.items():
        for fmt in FORMATS:
            result = results.get((stem + ".rds", fmt))
            if result is None:
                failures.append(failure(stem, expected, fmt, "missing_result", ""))
                continue
            expectation = effective_expectation(expected, fmt)
            verdict = judge(result, expectation,
                            output_checker(fmt, result["output"], expectation, rds_descriptions, notes),
                            lambda: peek_output(fmt, result["output"], expectation, rds_descriptions))  # noqa: B023 (called now)
            if verdict:
                failures.append(failure(stem, expected, fmt, *verdict))
    return expectations, failures


def output_checker(fmt, path, expectation, rds_descriptions, notes):
    if fmt == "csv":
        return lambda: check_csv(path, expectation, notes)
    if fmt == "rds":
        return lambda: check_rds(rds_descriptions.get(path, {"error": "not described"}), expectation, notes)
    return lambda: check_arrow(path, fmt, expectation, notes)


def peek_output(fmt, path, expectation, rds_descriptions):
    """A one-line look at an output that should not exist: the blamed columns' first values."""
    blamed = set(expectation.get("blame", {}).get("columns", []))
    try:
        if fmt == "csv":
            with open(path, encoding="utf-8", errors="replace") as f:
                return " | ".join(f.read(300).splitlines()[:3])
        if fmt == "rds":
            described = rds_descriptions.get(path, {})
            columns = zip(described.get("names", []), described.get("columns", []))
            return "; ".join(f"{n}: {c['typeof']} {c['class']} {clip(c['values'] if isinstance(c['values'], dict) else c['values'][:3])}"
                             for n, c in columns if n in blamed or not blamed) or str(described.get("class"))
        table = feather.read_table(path) if fmt == "feather" else read_parquet(path)
        return "; ".join(f"{n}: {c.type} {' '.join(str(c.slice(0, 3).combine_chunks()).split())[:160]}"
                         for n, c in zip(table.column_names, table.columns) if n in blamed or not blamed)
    except Exception as error:  # a peek is a courtesy; the failure is reported either way
        return f"(unreadable: {type(error).__name__})"


def failure(stem, expected, fmt, kind, detail):
    return {"file": stem + ".rds", "format": fmt, "kind": kind, "category": expected["category"],
            "expected": expected["kind"] + (" (may_fail)" if expected.get("may_fail") else ""),
            "detail": detail.strip().replace("\n", " ")[:300]}


def stray_outputs(outputs, expectations):
    """Files in the output directory that no conversion was asked to write (e.g. temporaries)."""
    wanted = {f"{stem}.{fmt}" for stem in expectations for fmt in FORMATS}
    return sorted(p.name for p in Path(outputs).iterdir() if p.name not in wanted)


def report(expectations, failures, strays, notes):
    by_kind = defaultdict(list)
    for f in failures:
        by_kind[f["kind"]].append(f)
    for kind, rows in sorted(by_kind.items(), key=lambda kv: -len(kv[1])):
        print(f"\n== {kind}: {len(rows)}")
        for f in rows:
            print(f"  {f['file']} -> {f['format']} [{f['expected']}]: {f['detail']}")
    if strays:
        print(f"\n== stray files in the output directory: {len(strays)}")
        for name in strays:
            print(f"  {name}")
    print("\n== failures by object category and kind")
    table = Counter((f["category"], f["kind"]) for f in failures)
    for (category, kind), count in sorted(table.items()):
        print(f"  {category:6} {kind:28} {count}")
    kinds = Counter(e["kind"] for e in expectations.values())
    print(f"\n{len(expectations)} objects ({kinds['frame']} frame, {kinds['must_fail']} must_fail), "
          f"{len(expectations) * len(FORMATS)} conversions, {len(failures)} failures"
          + "".join(f", {k} {len(v)}" for k, v in sorted(by_kind.items())))
    signs = ", ".join(f"{fmt} {n}" for fmt, n in sorted(notes.lost_zero_sign.items()) if n)
    print("note: -0 read back as 0 (accepted): " + (signs or "none"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, type=Path, help="directory with *.rds and expected/*.json")
    parser.add_argument("--results", required=True, help="RESULTS.jsonl")
    parser.add_argument("--outputs", required=True, type=Path, help="directory holding the converted files")
    parser.add_argument("--failures-json", help="also write the failures as a JSON list here")
    args = parser.parse_args()

    notes = Notes()
    expectations, failures = check_all(args.corpus, load_results(args.results), notes)
    strays = stray_outputs(args.outputs, expectations)
    report(expectations, failures, strays, notes)
    if args.failures_json:
        Path(args.failures_json).write_text(json.dumps(failures, indent=1, ensure_ascii=False), encoding="utf-8")
    sys.exit(1 if failures or strays else 0)


if __name__ == "__main__":
    main()
