import PolybridgeRuntime

/// The Python side of file conversion: pyarrow's CSV, Feather (Arrow IPC) and Parquet readers
/// and writers, driven batch by batch so large files stay bounded in memory.
///
/// Problems found in a file are raised as `FileProblem` with a message that names the column or
/// line; Swift prefixes the file name.
enum DataFilePython {
    static let moduleName = "_polybridge_files"

    static let source = #"""
    import pyarrow as pa

    class FileProblem(Exception):
        """A problem with the file's contents, described for the person at the terminal."""

    # Empty fields and R's "NA" are missing values. "nan"/"NaN" are not in the list, so a
    # written NaN reads back as NaN and stays apart from null.
    CSV_NULL_VALUES = ["", "NA", "NULL", "null"]

    def _csv_batches(path, encoding):
        from pyarrow import csv
        # Single-threaded reading numbers rows, so a malformed row can be named by its line.
        read = csv.ReadOptions(use_threads=False, encoding=encoding or "utf8")
        convert = csv.ConvertOptions(null_values=CSV_NULL_VALUES, strings_can_be_null=True)
        import os, stat
        # A pipe (`<(zcat x.gz)`, a FIFO, /dev/stdin) cannot seek, which pyarrow's own file
        # opening does; Python's buffered reader streams it instead.
        source = path if stat.S_ISREG(os.stat(path).st_mode) else open(path, "rb")
        try:
            reader = csv.open_csv(source, read_options=read, convert_options=convert)
        except pa.ArrowInvalid as error:
            raise FileProblem(_csv_message(str(error), None)) from None
        schema = reader.schema
        for field in schema:
            if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
                raise FileProblem(
                    f"column '{field.name}' holds text that is not valid {encoding or 'UTF-8'}"
                    " (for a Latin-1 file pass --encoding latin1)")
        def batches():
            try:
                for batch in reader:
                    yield batch
            except pa.ArrowInvalid as error:
                raise FileProblem(_csv_message(str(error), schema)) from None
        return schema, batches()

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

    def _feather_batches(path):
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

    def open_reader(path, file_format, encoding=None):
        """A RecordBatchReader over the file, read lazily batch by batch."""
        if file_format == "csv":
            schema, batches = _csv_batches(path, encoding)
        elif file_format == "feather":
            schema, batches = _feather_batches(path)
        elif file_format == "parquet":
            schema, batches = _parquet_batches(path)
        else:
            raise FileProblem(f"pyarrow does not read the {file_format} format")
        return pa.RecordBatchReader.from_batches(schema, batches)

    def read_all(reader):
        return reader.read_all()

    class _Counts:
        """Rows, batches and per-column null counts of the batches that pass through `count`."""
        def __init__(self, schema):
            self.rows = self.batches = 0
            self.nulls = [0] * len(schema.names)

        def count(self, reader):
            for batch in reader:
                self.rows += batch.num_rows
                self.batches += 1
                for index, column in enumerate(batch.columns):
                    self.nulls[index] += column.null_count
                yield batch

        def summary(self):
            return {"rows": self.rows, "batches": self.batches, "nulls": self.nulls}

    def summarize(reader):
        """Rows, batches and per-column null counts, reading one batch at a time."""
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
                low = _FIRST_DAY * _SECONDS_PER_DAY * per_second
                high = (_LAST_DAY + 1) * _SECONDS_PER_DAY * per_second - 1
            else:
                continue
            outside = pc.or_(pc.less(values, low), pc.greater(values, high))
            position = pc.index(outside, True).as_py()
            if position >= 0:
                unit = "days" if pa.types.is_date32(kind) else ("ms" if pa.types.is_date64(kind) else kind.unit)
                raise FileProblem(f"column '{field.name}', row {first_row + position + 1}: "
                                  f"{values[position].as_py()} {unit} from 1970 is outside the years 1-9999 "
                                  "that CSV text can hold; write Parquet or Feather instead")

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

    def write(reader, path, file_format, compression=None):
        """Writes every batch of `reader` to `path`; returns the same summary as summarize()."""
        schema = reader.schema
        if file_format == "csv":
            from pyarrow import csv
            writer = csv.CSVWriter(path, schema)
        elif file_format == "feather":
            options = pa.ipc.IpcWriteOptions(compression=None if compression == "uncompressed" else (compression or "lz4"))
            writer = pa.ipc.new_file(path, schema, options=options)
        elif file_format == "parquet":
            import pyarrow.parquet as pq
            writer = pq.ParquetWriter(path, schema, compression=compression or "snappy")
        else:
            raise FileProblem(f"pyarrow does not write the {file_format} format")
        counts = _Counts(schema)
        if file_format == "csv":
            _check_csv_time_zones(schema)
        try:
            first_row = 0
            for batch in counts.count(reader):
                if file_format == "csv":
                    _check_csv_years(batch, first_row)
                first_row += batch.num_rows
                writer.write_batch(batch)
        finally:
            writer.close()
        return counts.summary()
    """#
}
