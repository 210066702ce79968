"""Rows grouped by key columns, for fits per group on workers.

A worker writes its rows to an Arrow IPC file with each group's rows together (`write_groups`)
and reports the groups' keys and sizes. Another worker then reads a set of groups back from
those files as pieces (a file, a first row and a row count) and gets one table with each
group's rows together in the order asked (`read_pieces`), or writes them to one file
(`write_pieces`) for a group too large for one worker to fit whole."""
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ROW_COLUMN = "__polybridge_row"
ROWS_COLUMN = "__rows"


class FileProblem(Exception):
    """A problem with the rows or the files, described for the person at the terminal."""


def _complete(table, by):
    """A mask of the rows whose key columns are all present (not null and, for floating-point
    columns, not NaN), as R's complete.cases() marks them; None when every row is."""
    mask = None
    for name in by:
        column = table[name]
        ok = pc.is_valid(column)
        value_type = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if pa.types.is_floating(value_type) and not pa.types.is_dictionary(column.type):
            ok = pc.and_(ok, pc.fill_null(pc.invert(pc.is_nan(column)), False))
        mask = ok if mask is None else pc.and_(mask, ok)
    if mask is None or pc.all(mask).as_py() is not False:
        return None
    return mask


def _write_file(table, path, batch_rows=None):
    """Writes `table` to the Arrow IPC file `path` through a temporary file renamed into place,
    so a worker killed mid-write leaves no half file under the name."""
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        with pa.OSFile(temporary, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=batch_rows)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_groups(reader, by, path, keys_path):
    """Writes the rows of `reader` to the Arrow IPC file `path`, each group of rows with equal
    `by` columns together (groups in their order of first appearance, rows in their order
    within a group), and the groups' keys to `keys_path`: the `by` columns, one row per group
    in the same order, and `__rows`, its row count. Rows whose key has a missing value are
    left out, as R's split() leaves them out. Returns (rows written, rows left out)."""
    table = reader.read_all()
    absent = [name for name in by if name not in table.schema.names]
    if absent:
        raise FileProblem(f"no column '{absent[0]}' to group by (the columns are {', '.join(table.schema.names)})")
    mask = _complete(table, by)
    left_out = 0
    if mask is not None:
        kept = table.filter(mask)
        left_out = table.num_rows - kept.num_rows
        table = kept
    numbered = table.select(by).append_column(ROW_COLUMN, pa.array(range(table.num_rows), type=pa.int64()))
    groups = numbered.group_by(by, use_threads=False).aggregate([(ROW_COLUMN, "list")])
    rows = groups[f"{ROW_COLUMN}_list"]
    _write_file(table.take(pc.list_flatten(rows)), path)
    keys = groups.select(by).append_column(ROWS_COLUMN, pc.list_value_length(rows).cast(pa.int64()))
    _write_file(keys, keys_path)
    return table.num_rows, left_out


def read_keys(path):
    """The keys table `write_groups` wrote."""
    with pa.memory_map(path) as source:
        return pa.ipc.open_file(source).read_all()


def _pieces(pieces):
    """The rows of `pieces` (a JSON list of [path, first row, row count]) as one table, in that
    order, with every dictionary column's values unified across the files."""
    items = json.loads(pieces)
    if not items:
        raise FileProblem("no rows asked for")
    tables = {}
    for path, start, count in items:
        if path not in tables:
            try:
                tables[path] = pa.ipc.open_file(pa.memory_map(path)).read_all()
            except FileNotFoundError:
                raise FileProblem(f"the grouped rows file {path} is gone (was the scratch folder removed?)") from None
        rows = tables[path].num_rows
        if not 0 <= start <= start + count <= rows:
            raise FileProblem(f"rows {start + 1}-{start + count} are beyond the {rows} rows of {path}")
    # Each file gives its rows at once (one index per row), the files' rows are put end to end
    # with their dictionaries unified, and one more take puts them in the order asked.
    counts = np.fromiter((count for _, _, count in items), dtype=np.int64, count=len(items))
    ends = np.cumsum(counts)
    parts, places = [], []
    for path, table in tables.items():
        mine = [i for i, item in enumerate(items) if item[0] == path]
        starts = np.array([items[i][1] for i in mine], dtype=np.int64)
        sizes = counts[mine]
        before = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        rows = np.arange(int(sizes.sum()), dtype=np.int64) + np.repeat(starts - before, sizes)
        parts.append(table.take(pa.array(rows)))
        places.append(np.arange(int(sizes.sum()), dtype=np.int64) + np.repeat(ends[mine] - sizes - before, sizes))
    joined = pa.concat_tables(parts).unify_dictionaries()
    places = np.concatenate(places)
    order = np.empty_like(places)
    order[places] = np.arange(len(places), dtype=np.int64)
    return joined.take(pa.array(order))


def read_pieces(pieces, by, sizes):
    """The rows of `pieces` (see `_pieces`) as one table of one batch, and the keys of its
    groups: the `by` columns of the first row of each run of `sizes` rows (the rows of one
    group each)."""
    table = _pieces(pieces).combine_chunks()
    sizes = np.asarray(sizes, dtype=np.int64)
    if int(sizes.sum()) != table.num_rows:
        raise FileProblem(f"groups of {int(sizes.sum())} rows in all, but {table.num_rows} rows read")
    firsts = np.concatenate(([0], np.cumsum(sizes)[:-1])) if len(sizes) else np.zeros(0, dtype=np.int64)
    return table, table.select(by).take(pa.array(firsts, type=pa.int64()))


def write_pieces(pieces, path, batch_rows):
    """Writes the rows of `pieces` (see `_pieces`) to the Arrow IPC file `path`, in record
    batches of at most `batch_rows` rows. Returns the batches' row counts."""
    table = _pieces(pieces)
    _write_file(table, path, batch_rows)
    with pa.memory_map(path) as source:
        reader = pa.ipc.open_file(source)
        return [reader.get_batch(i).num_rows for i in range(reader.num_record_batches)]
