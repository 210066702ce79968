import pyarrow as pa

class FileProblem(Exception):
    """A problem with the file's contents, described for the person at the terminal."""

# Unquoted empty fields and R's "NA"/"NULL" are missing values; a quoted field is always text
# ("NA" in quotes is the two letters, as R's write.csv and read.csv agree). "nan"/"NaN" are not
# in the list, so a written NaN reads back as NaN and stays apart from null.
CSV_NULL_VALUES = ["", "NA", "NULL", "null"]

# The compressions text files may have, by extension and by --compression name.
TEXT_COMPRESSIONS = {"gzip": "gzip", "bz2": "bz2", "zstd": "zstd"}

class ColumnTypeProblem(FileProblem):
    """A CSV value later in the file does not fit the type inferred from the first block."""

def _text_stream(path, compression):
    import os
    import stat
    # A pipe (`<(zcat x.gz)`, a FIFO, /dev/stdin) cannot seek, which pyarrow's own file
    # opening does; Python's buffered reader streams it instead.
    source = path if stat.S_ISREG(os.stat(path).st_mode) else open(path, "rb")
    if compression:
        return pa.input_stream(source, compression=compression)
    return source

def _arrow_type(name, column):
    import pyarrow as pa
    types = {"string": pa.string(), "character": pa.string(), "text": pa.string(),
             "integer": pa.int32(), "int32": pa.int32(), "int64": pa.int64(),
             "double": pa.float64(), "numeric": pa.float64(), "float64": pa.float64(),
             "logical": pa.bool_(), "bool": pa.bool_(), "boolean": pa.bool_(),
             "date": pa.date32(), "timestamp": pa.timestamp("us"), "datetime": pa.timestamp("us"),
             "factor": pa.dictionary(pa.int32(), pa.string())}
    found = types.get(name.lower())
    if found is None:
        raise FileProblem(f"--column-types: unknown type '{name}' for column '{column}'; "
                          f"expected one of {', '.join(types)}")
    return found

def _csv_options(encoding, delimiter, column_types):
    from pyarrow import csv
    # Single-threaded reading numbers rows, so a malformed row can be named by its line.
    read = csv.ReadOptions(use_threads=False, encoding=encoding or "utf8")
    types = {name: (_arrow_type(kind, name) if isinstance(kind, str) else kind)
             for name, kind in (column_types or {}).items()}
    convert = csv.ConvertOptions(null_values=CSV_NULL_VALUES, strings_can_be_null=True,
                                 quoted_strings_can_be_null=False, column_types=types)
    parse = csv.ParseOptions(delimiter=delimiter or ",")
    return read, parse, convert

def _csv_batches(path, encoding, delimiter, compression, column_types):
    from pyarrow import csv
    read, parse, convert = _csv_options(encoding, delimiter, column_types)
    _refuse_binary(path, compression)
    try:
        reader = csv.open_csv(_text_stream(path, compression), read_options=read,
                              parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as error:
        raise FileProblem(_csv_message(str(error), None)) from None
    except OSError as error:
        raise FileProblem(f"cannot decompress the {compression} text ({error})") from None
    schema = reader.schema
    missing = [name for name in (column_types or {}) if name not in schema.names]
    if missing:
        raise FileProblem(f"--column-types names {', '.join(repr(m) for m in missing)}, "
                          f"which the file does not have (its columns: {', '.join(schema.names)})")
    for field in schema:
        if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            raise FileProblem(
                f"column '{field.name}' holds text that is not valid {encoding or 'UTF-8'}"
                " (for a Latin-1 file pass --encoding latin1)")
    def batches():
        try:
            yield from reader
        except pa.ArrowInvalid as error:
            problem = _csv_type_problem(str(error), schema)
            if problem:
                raise problem from None
            raise FileProblem(_csv_message(str(error), schema)) from None
        except OSError as error:
            raise FileProblem(f"cannot decompress the {compression} text ({error})") from None
    return schema, batches()

def _refuse_binary(path, compression):
    """A Parquet, Arrow or RDS file named .csv is named as such instead of parsed as text."""
    import os
    import stat
    if compression or not stat.S_ISREG(os.stat(path).st_mode):
        return
    with open(path, "rb") as handle:
        head = handle.read(8)
    kinds = [(b"PAR1", "Parquet", "parquet"), (b"ARROW1", "Feather/Arrow IPC", "feather"),
             (b"FEA1", "Feather V1", "feather"), (b"\x1f\x8b", "gzip-compressed", None),
             (b"BZh", "bzip2-compressed", None), (b"\x28\xb5\x2f\xfd", "zstd-compressed", None)]
    for magic, kind, name in kinds:
        if head.startswith(magic):
            hint = f"pass --from {name} or rename it" if name else \
                "name it .csv.gz/.csv.bz2/.csv.zst, or pass --from rds if it is an RDS file"
            raise FileProblem(f"this looks like a {kind} file, not CSV text; {hint}")

def _csv_type_problem(message, schema):
    import re
    found = re.match(r"In CSV column #(\d+): Row #(\d+): CSV conversion error to (.*): invalid value '(.*)'$",
                     message, re.S)
    if not found or schema is None or int(found.group(1)) >= len(schema):
        return None
    name = schema.field(int(found.group(1))).name
    problem = ColumnTypeProblem(
        f"column '{name}', line {found.group(2)}: '{found.group(4)}' is not a {found.group(3)} value (the type "
        f"inferred from the lines before it); pass --column-types {name}=string (or another type)")
    problem.column = name
    return problem

def _csv_message(message, schema):
    import re
    message = message.replace("CSV parse error: Row #", "malformed CSV row at line ")
    message = message.replace("CSV parse error: ", "malformed CSV: ")
    if message == "Empty CSV file":
        return "the CSV file is empty (no header line)"
    found = re.match(r"In CSV column #(\d+): (.*)", message)
    if found and schema is not None and int(found.group(1)) < len(schema):
        name = schema.field(int(found.group(1))).name
        detail = found.group(2).replace("CSV conversion error to string: invalid UTF8 data",
                                        "text that is not valid UTF-8 (for a Latin-1 file pass --encoding latin1)")
        line = re.match(r"Row #(\d+): (.*)", detail)
        if line:
            return f"column '{name}', line {line.group(1)}: {line.group(2)}"
        return f"column '{name}': {detail}"
    return message

# What a whole-file scan may settle on, in order of preference; pyarrow's CSV inference
# knows the same families.
_CANDIDATES = [pa.int64(), pa.bool_(), pa.date32(), pa.timestamp("s"), pa.timestamp("ns"),
               pa.timestamp("s", "UTC"), pa.timestamp("ns", "UTC"), pa.float64()]

def infer_csv_types(path, encoding=None, delimiter=None, compression=None, column_types=None):
    """The column types a whole-file scan gives, for columns whose type inferred from the first
    block does not hold further down (a column empty for 299,000 lines, text late in numbers)."""
    import pyarrow.compute as pc
    fixed = dict(column_types or {})
    first_schema, _ = _csv_batches(path, encoding, delimiter, compression, fixed)
    as_text = {field.name: pa.string() for field in first_schema if field.name not in fixed}
    as_text.update({name: kind for name, kind in fixed.items()})
    schema, batches = _csv_batches(path, encoding, delimiter, compression, as_text)
    initial = {field.name: field.type for field in first_schema}
    fits = {name: True for name in as_text if name not in fixed}
    alive = {name: list(_CANDIDATES) for name in fits}
    seen = {name: False for name in fits}
    def casts(values, kind):
        try:
            pc.cast(values, kind)
            return True
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return False
    for batch in batches:
        for name in fits:
            values = batch.column(batch.schema.get_field_index(name)).drop_null()
            if len(values) == 0:
                continue
            seen[name] = True
            start = initial[name]
            if fits[name] and not (pa.types.is_string(start) or pa.types.is_large_string(start)):
                fits[name] = not pa.types.is_null(start) and casts(values, start)
            alive[name] = [kind for kind in alive[name] if casts(values, kind)]
    widened = {}
    for name in fits:
        if fits[name]:
            continue
        widened[name] = alive[name][0] if alive[name] else (pa.string() if seen[name] else pa.null())
    return widened

def _feather_batches(path):
    with open(path, "rb") as handle:
        if handle.read(4) == b"FEA1":
            return _feather_v1_batches(path)
    source = pa.memory_map(path)
    try:
        reader = pa.ipc.open_file(source)
    except pa.ArrowInvalid as error:
        raise FileProblem(f"not a readable Feather/Arrow IPC file ({error})") from None
    def batches():
        try:
            for index in range(reader.num_record_batches):
                yield reader.get_batch(index)
        except (pa.ArrowInvalid, OSError) as error:
            raise FileProblem(f"corrupted Feather/Arrow IPC data ({error})") from None
    return reader.schema, batches()

def _feather_v1_batches(path):
    # Feather V1 (before Arrow IPC) has no record batches to stream: it is read whole.
    import warnings
    import pyarrow.feather as feather
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            table = feather.read_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise FileProblem(f"not a readable Feather V1 file ({error})") from None
    return table.schema, iter(table.to_batches())

def _parquet_batches(path):
    import pyarrow.parquet as pq
    try:
        parquet = pq.ParquetFile(path)
        schema = parquet.schema_arrow
    except (pa.ArrowInvalid, OSError) as error:
        raise FileProblem(f"not a readable Parquet file ({error})") from None
    def batches():
        try:
            yield from parquet.iter_batches(batch_size=65536)
        except (pa.ArrowInvalid, OSError) as error:
            raise FileProblem(f"corrupted Parquet data ({error})") from None
    return schema, batches()

def _renamed(schema, batches):
    """The batches again under `schema` (same columns, other names or metadata)."""
    for batch in batches:
        yield pa.RecordBatch.from_arrays(batch.columns, schema=schema)

def _index_from_blank_header(schema, batches):
    """A first column with an empty header holds row names, as R's write.csv and pandas'
    to_csv write them: it becomes the pandas index (R's row names)."""
    import json
    if len(schema) == 0 or schema.field(0).name != "" or "" in schema.names[1:]:
        return schema, batches
    kind = schema.field(0).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_integer(kind)):
        return schema, batches
    index = "__index_level_0__"
    description = {"index_columns": [index], "column_indexes": [],
                   "columns": [{"name": None, "field_name": index, "metadata": None,
                                "pandas_type": "unicode" if not pa.types.is_integer(kind) else str(kind),
                                "numpy_type": "object" if not pa.types.is_integer(kind) else str(kind)}]}
    renamed = pa.schema([schema.field(0).with_name(index)] + list(schema)[1:],
                        metadata={"pandas": json.dumps(description)})
    return renamed, _renamed(renamed, batches)

def _index_first_with_blank_header(schema):
    """For CSV text: the pandas index columns first, an unnamed one under an empty header
    (what pandas' to_csv and R's write.csv write), and no metadata. None when there is no index."""
    import json
    try:
        index_columns = json.loads((schema.metadata or {}).get(b"pandas", b"{}")).get("index_columns", [])
    except ValueError:
        return None
    names = [name for name in index_columns if isinstance(name, str) and name in schema.names]
    if not names:
        return None
    order = [schema.get_field_index(name) for name in names] + \
            [position for position, name in enumerate(schema.names) if name not in names]
    fields = []
    for position in order:
        field = schema.field(position)
        fields.append(field.with_name("") if field.name.startswith("__index_level_") else field)
    return order, pa.schema(fields)

def _reordered(order, schema, reader):
    for batch in reader:
        yield pa.RecordBatch.from_arrays([batch.column(position) for position in order], schema=schema)

def open_reader(path, file_format, encoding=None, delimiter=None, compression=None, column_types=None):
    """A RecordBatchReader over the file, read lazily batch by batch."""
    if file_format in ("csv", "tsv"):
        delimiter = delimiter or ("\t" if file_format == "tsv" else ",")
        schema, batches = _csv_batches(path, encoding, delimiter, compression, column_types)
        schema, batches = _index_from_blank_header(schema, batches)
    elif file_format == "feather":
        schema, batches = _feather_batches(path)
    elif file_format == "parquet":
        schema, batches = _parquet_batches(path)
    else:
        raise FileProblem(f"pyarrow does not read the {file_format} format")
    return pa.RecordBatchReader.from_batches(schema, batches)

def _row_group_source(path, file_format):
    """A Parquet file's row groups or an Arrow IPC file's record batches: their row counts
    (from metadata; an IPC file is memory-mapped), the schema, and a function reading some
    of them as a table of the named columns."""
    if file_format == "parquet":
        import pyarrow.parquet as pq
        try:
            source = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as error:
            raise FileProblem(f"not a readable Parquet file ({error})") from None
        metadata = source.metadata
        sizes = [metadata.row_group(index).num_rows for index in range(metadata.num_row_groups)]
        return sizes, source.schema_arrow, lambda groups, columns: source.read_row_groups(groups, columns=columns)
    if file_format == "feather":
        with open(path, "rb") as handle:
            if handle.read(4) == b"FEA1":
                raise FileProblem("a Feather V1 file has no record batches to read by rows")
        try:
            reader = pa.ipc.open_file(pa.memory_map(path))
        except pa.ArrowInvalid as error:
            raise FileProblem(f"not a readable Feather/Arrow IPC file ({error})") from None
        sizes = [reader.get_batch(index).num_rows for index in range(reader.num_record_batches)]
        def read(groups, columns):
            return pa.Table.from_batches([reader.get_batch(index) for index in groups], schema=reader.schema).select(columns)
        return sizes, reader.schema, read
    raise FileProblem(f"reading rows by range needs Parquet or Arrow IPC, not {file_format}")

def row_groups(path, file_format):
    """The row counts of a Parquet file's row groups or an Arrow IPC file's record batches,
    from the file's metadata (no data is read)."""
    return _row_group_source(path, file_format)[0]

def read_rows(path, file_format, start, stop, columns):
    """Rows start..<stop of `columns` (those the file has), reading only the Parquet row
    groups or Arrow IPC record batches that hold them (an IPC file is memory-mapped)."""
    sizes, schema, read = _row_group_source(path, file_format)
    present = [name for name in columns if name in schema.names]
    total = sum(sizes)
    if not 0 <= start <= stop <= total:
        raise FileProblem(f"rows {start + 1}-{stop} are beyond the file's {total} rows")
    groups, first, position = [], None, 0
    for index, size in enumerate(sizes):
        if position < stop and position + size > start and size > 0:
            groups.append(index)
            first = position if first is None else first
        position += size
    try:
        if not groups:
            return schema.empty_table().select(present)
        return read(groups, present).slice(start - first, stop - start)
    except (pa.ArrowInvalid, OSError) as error:
        raise FileProblem(f"corrupted data in rows {start + 1}-{stop} ({error})") from None

def read_all(reader, integers_as_r_does=False, factors_as_r_does=False, columns=None):
    """The whole table, or with `columns` only those of them the file has (each batch is cut
    to them as it is read, so the others never fill memory). With `integers_as_r_does` (data headed for R), int64 columns whose
    values fit R's integer become int32, so they arrive as integer vectors, as read.csv gives
    and R's arrow package makes (arrow.int64_downcast). With `factors_as_r_does` (CSV text,
    whose only dictionaries are --column-types factors), the levels are sorted as R's factor()
    sorts them (C collation: by code point), not left in order of first appearance."""
    if columns is None:
        table = reader.read_all()
    else:
        names = [name for name in columns if name in reader.schema.names]
        schema = pa.schema([reader.schema.field(name) for name in names], metadata=reader.schema.metadata)
        table = pa.Table.from_batches([batch.select(names) for batch in reader], schema=schema)
    narrowed = _integer_columns_for_r(table.schema, table.columns) if integers_as_r_does else []
    factors = [index for index, field in enumerate(table.schema)
               if factors_as_r_does and pa.types.is_dictionary(field.type) and not field.type.ordered]
    if not narrowed and not factors:
        return table
    # One new table: Table.set_column per column copies the column list each time, which
    # made 20,000 columns take minutes.
    fields, columns = list(table.schema), list(table.columns)
    for index in narrowed:
        fields[index] = fields[index].with_type(pa.int32())
        columns[index] = columns[index].cast(pa.int32())
    for index in factors:
        columns[index] = _sorted_levels(columns[index])
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=table.schema.metadata))

def _sorted_levels(column):
    """A dictionary column with one dictionary of sorted levels (unused ones dropped, as
    factor() of the values makes them)."""
    import pyarrow.compute as pc
    kind = column.type
    values = column.cast(kind.value_type)
    levels = pc.unique(values).drop_null()
    levels = pc.take(levels, pc.array_sort_indices(levels))
    codes = pc.index_in(values, value_set=levels).cast(kind.index_type)
    chunks = [pa.DictionaryArray.from_arrays(chunk, levels) for chunk in codes.chunks]
    return pa.chunked_array(chunks, type=kind)

def _fits_r_integer(low, high):
    """Whether int64 values with these bounds (None: all missing) fit R's integer, whose
    -2^31 is NA_integer_."""
    return low is None or (low > -2**31 and high < 2**31)

def _integer_columns_for_r(schema, columns):
    """The positions of the int64 columns whose values all fit R's integer."""
    return [index for index, field in enumerate(schema)
            if pa.types.is_int64(field.type) and _fits_r_integer(*_bounds(columns[index]))]

def _bounds(values):
    import pyarrow.compute as pc
    found = pc.min_max(values)
    return found["min"].as_py(), found["max"].as_py()

class _Counts:
    """Rows, batches and per-column null counts of the batches that pass through `count`, and
    the integer columns whose R type depends on their values: int64 columns whose values fit
    R's integer, which become integer vectors (`r_integer`), and int32 columns holding
    -2^31, R's NA_integer_, which become doubles (`r_double`)."""
    def __init__(self, schema):
        self.rows = self.batches = 0
        self.nulls = [0] * len(schema.names)
        self.wide = {index: [None, None] for index, field in enumerate(schema) if pa.types.is_int64(field.type)}
        self.int32 = [index for index, field in enumerate(schema) if pa.types.is_int32(field.type)]
        self.int32_minimum = set()

    def count(self, reader):
        import pyarrow.compute as pc
        for batch in reader:
            self.rows += batch.num_rows
            self.batches += 1
            for index, column in enumerate(batch.columns):
                self.nulls[index] += column.null_count
            for index, bounds in self.wide.items():
                low, high = _bounds(batch.column(index))
                if low is not None:
                    bounds[0] = low if bounds[0] is None else min(bounds[0], low)
                    bounds[1] = high if bounds[1] is None else max(bounds[1], high)
            for index in self.int32:
                if pc.min(batch.column(index)).as_py() == -2**31:
                    self.int32_minimum.add(index)
            yield batch

    def summary(self):
        narrowed = [index for index, (low, high) in self.wide.items() if _fits_r_integer(low, high)]
        return {"rows": self.rows, "batches": self.batches, "nulls": self.nulls,
                "r_integer": narrowed, "r_double": sorted(self.int32_minimum)}

def summarize(reader):
    """Rows, batches, per-column null counts and the value-dependent R types (see _Counts),
    reading one batch at a time."""
    counts = _Counts(reader.schema)
    for _ in counts.count(reader):
        pass
    return counts.summary()

# Years 1-9999: what ISO 8601 text (and so pyarrow's CSV writer) can hold. Outside them it
# writes "<value out of range>" or a wrong year instead of failing.
_SECONDS_PER_DAY = 86400
_FIRST_DAY, _LAST_DAY = -719162, 2932896  # 0001-01-01 and 9999-12-31 as days since 1970
_PER_SECOND = {"s": 1, "ms": 1000, "us": 1000000, "ns": 1000000000}

def _check_csv_years(batch, first_row):
    import pyarrow.compute as pc
    for index, field in enumerate(batch.schema):
        kind = field.type
        if pa.types.is_date32(kind):
            values, low, high = batch.column(index).cast(pa.int32()), _FIRST_DAY, _LAST_DAY
        elif pa.types.is_date64(kind):
            values = batch.column(index).cast(pa.int64())
            low, high = _FIRST_DAY * _SECONDS_PER_DAY * 1000, (_LAST_DAY + 1) * _SECONDS_PER_DAY * 1000 - 1
        elif pa.types.is_timestamp(kind):
            per_second = _PER_SECOND[kind.unit]
            values = batch.column(index).cast(pa.int64())
            # Clamped to int64: in nanoseconds the years 1-9999 are wider than int64 can count
            # (whose range, 1677-2262, lies inside them), and a Python int past it is refused.
            low = max(_FIRST_DAY * _SECONDS_PER_DAY * per_second, -2**63)
            high = min((_LAST_DAY + 1) * _SECONDS_PER_DAY * per_second - 1, 2**63 - 1)
        else:
            continue
        outside = pc.or_(pc.less(values, low), pc.greater(values, high))
        position = pc.index(outside, True).as_py()
        if position >= 0:
            unit = "days" if pa.types.is_date32(kind) else ("ms" if pa.types.is_date64(kind) else kind.unit)
            raise FileProblem(f"column '{field.name}', row {first_row + position + 1}: "
                              f"{values[position].as_py()} {unit} from 1970 is outside the years 1-9999 "
                              "that CSV text can hold; write Parquet or Feather instead")

_MS_PER_DAY = _SECONDS_PER_DAY * 1000

def _check_whole_days(batch, first_row, file_format):
    """date64 (milliseconds) values must be whole days where the format holds dates as days:
    pyarrow writes date64 to Parquet as date32 and to CSV as the date alone, dropping the
    rest of the day without a word. The same values are refused on the way to R."""
    import pyarrow.compute as pc
    for index, field in enumerate(batch.schema):
        if not pa.types.is_date64(field.type):
            continue
        values = batch.column(index).cast(pa.int64())
        # Integer division truncates, so the remainder is 0 exactly for whole days (nulls stay null).
        remainder = pc.subtract(values, pc.multiply(pc.divide(values, _MS_PER_DAY), _MS_PER_DAY))
        partial = pc.fill_null(pc.not_equal(remainder, 0), False)
        position = pc.index(partial, True).as_py()
        if position >= 0:
            raise FileProblem(f"column '{field.name}', row {first_row + position + 1}: date64 value "
                              f"{values[position].as_py()} ms is not a whole day, which "
                              f"{'Parquet' if file_format == 'parquet' else 'CSV text'} holds only as a date "
                              "(the rest of the day would be dropped); cast it to a timestamp, or write Feather")

def _check_csv_time_zones(schema):
    import re
    import zoneinfo
    for field in schema:
        zone = field.type.tz if pa.types.is_timestamp(field.type) else None
        if not zone or re.fullmatch(r"[+-]\d\d:\d\d", zone):
            continue
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise FileProblem(f"column '{field.name}': unknown time zone '{zone}'; CSV text needs a "
                              "known zone to print its times") from None

def type_name(kind):
    """A readable name for an Arrow type: list<int64>, struct<a: int64, b: string>, decimal128(10, 2)."""
    lists = [(pa.types.is_list, "list"), (pa.types.is_large_list, "large_list"),
             (pa.types.is_list_view, "list_view"), (pa.types.is_large_list_view, "large_list_view")]
    for test, prefix in lists:
        if test(kind):
            return f"{prefix}<{type_name(kind.value_type)}>"
    if pa.types.is_fixed_size_list(kind):
        return f"fixed_size_list<{type_name(kind.value_type)}, {kind.list_size}>"
    if pa.types.is_struct(kind):
        return "struct<" + ", ".join(f"{field.name}: {type_name(field.type)}" for field in kind) + ">"
    if pa.types.is_map(kind):
        return f"map<{type_name(kind.key_type)}, {type_name(kind.item_type)}>"
    if pa.types.is_dictionary(kind):
        return f"dictionary<values={type_name(kind.value_type)}, indices={kind.index_type}" + \
            (", ordered>" if kind.ordered else ">")
    return str(kind)

def type_names(schema):
    return [type_name(field.type) for field in schema]

_NOT_TEXT = (pa.types.is_nested, pa.types.is_binary, pa.types.is_large_binary,
             pa.types.is_fixed_size_binary, pa.types.is_binary_view)

# Row groups of a Parquet file: pyarrow's own default size (write_table's row_group_size).
PARQUET_ROW_GROUP_ROWS = 1024 * 1024

def _timestamp_text(values):
    """Timestamps as pandas' to_csv writes them (R's write.csv too, for whole seconds):
    `2013-01-01 10:00:00`, fractional seconds only when present (3, 6 or 9 digits, as few as
    hold the value), and a zone's offset as `+00:00` for zoned timestamps (local time there)."""
    import pyarrow.compute as pc
    text = pc.strftime(values, format="%Y-%m-%d %H:%M:%S")
    text = pc.replace_substring_regex(text, pattern=r"\.0+$", replacement="")
    text = pc.replace_substring_regex(text, pattern=r"(\.(?:\d{3})+?)(?:000)+$", replacement=r"\1")
    if values.type.tz:
        offset = pc.replace_substring_regex(pc.strftime(values, format="%z"), pattern=r"(\d\d)$", replacement=r":\1")
        text = pc.binary_join_element_wise(text, offset, "")
    return text

def _csv_text_schema(schema):
    """The schema CSV text is written under: timestamps as their text (see _timestamp_text)."""
    return pa.schema([field.with_type(pa.string()) if pa.types.is_timestamp(field.type) else field for field in schema],
                     metadata=schema.metadata)

def _as_csv_text(batch, schema):
    columns = [_timestamp_text(column) if pa.types.is_timestamp(column.type) else column for column in batch.columns]
    return pa.RecordBatch.from_arrays(columns, schema=schema)

def write(reader, path, file_format, compression=None, delimiter=None, row_group_rows=None):
    """Writes every batch of `reader` to `path`; returns the same summary as summarize().
    Parquet row groups hold `row_group_rows` rows (PARQUET_ROW_GROUP_ROWS when None), the
    last one the rest, whatever the size of the batches read."""
    schema = reader.schema
    stream = None
    text_schema = None
    group_rows = row_group_rows or PARQUET_ROW_GROUP_ROWS
    pending, pending_rows = [], 0
    if file_format in ("csv", "tsv"):
        from pyarrow import csv
        refused = [f"'{field.name}' ({type_name(field.type)})" for field in schema
                   if any(test(field.type) for test in _NOT_TEXT)]
        if refused:
            raise FileProblem(f"CSV text cannot hold column{'s' if len(refused) > 1 else ''} "
                              f"{', '.join(refused)}; write Parquet or Feather instead")
        _check_csv_time_zones(schema)
        reordering = _index_first_with_blank_header(schema)
        if reordering:
            order, schema = reordering
            reader = pa.RecordBatchReader.from_batches(schema, _reordered(order, schema, reader))
        delimiter = delimiter or ("\t" if file_format == "tsv" else ",")
        if compression and compression != "none":
            stream = pa.output_stream(path, compression=TEXT_COMPRESSIONS[compression])
        # Missing values are written as NA, as R's write.csv does: an empty field would make an
        # empty line in a one-column file, which CSV readers skip.
        text_schema = _csv_text_schema(schema)
        writer = csv.CSVWriter(stream or path, text_schema,
                               write_options=csv.WriteOptions(delimiter=delimiter, null_string="NA"))
    elif file_format == "feather":
        chosen = compression or "lz4"
        options = pa.ipc.IpcWriteOptions(compression=None if chosen == "none" else chosen)
        writer = pa.ipc.new_file(path, schema, options=options)
    elif file_format == "parquet":
        import pyarrow.parquet as pq
        writer = pq.ParquetWriter(path, schema, compression=compression or "snappy")
    else:
        raise FileProblem(f"pyarrow does not write the {file_format} format")
    counts = _Counts(schema)
    try:
        first_row = 0
        batches = counts.count(reader)
        for batch in batches:
            if file_format in ("csv", "tsv"):
                _check_csv_years(batch, first_row)
            if file_format in ("csv", "tsv", "parquet"):
                _check_whole_days(batch, first_row, file_format)
                if batch.num_columns == 0 and batch.num_rows > 0:
                    # Parquet counts rows in its column chunks and CSV in its lines: with no
                    # column both files would hold 0 rows. Arrow IPC records the row count.
                    rows = first_row + batch.num_rows + sum(rest.num_rows for rest in batches)
                    raise FileProblem(f"the table has {rows} rows and no columns, which "
                                      f"{'Parquet' if file_format == 'parquet' else 'CSV text'} cannot hold "
                                      "(it would read back as 0 rows); write Feather or RDS, which keep the row count")
            first_row += batch.num_rows
            if file_format == "parquet":
                # Batches gather into whole row groups: a CSV reader's blocks are ~10,000 rows.
                pending.append(batch)
                pending_rows += batch.num_rows
                while pending_rows >= group_rows:
                    table = pa.Table.from_batches(pending, schema=schema)
                    writer.write_table(table.slice(0, group_rows), row_group_size=group_rows)
                    pending = table.slice(group_rows).to_batches()
                    pending_rows -= group_rows
            elif text_schema is not None:
                writer.write_batch(_as_csv_text(batch, text_schema))
            else:
                writer.write_batch(batch)
        if pending_rows:
            writer.write_table(pa.Table.from_batches(pending, schema=schema), row_group_size=group_rows)
    finally:
        writer.close()
        if stream is not None:
            stream.close()
    return counts.summary()
