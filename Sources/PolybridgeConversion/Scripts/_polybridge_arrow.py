class _Stream:
    """Hands a C stream capsule to pyarrow's PyCapsule consumer (consumed once)."""
    def __init__(self, capsule):
        self._capsule = capsule
    def __arrow_c_stream__(self, requested_schema=None):
        capsule, self._capsule = self._capsule, None
        if capsule is None:
            raise RuntimeError("this Arrow stream was already consumed")
        return capsule

def arrow_source(obj):
    """What to export for `obj`: a pyarrow Table for a pandas frame, else `obj` itself.

    R shares null-free float64 and int32 Arrow buffers without copying, and R's values must
    never change behind its back. Arrow memory is immutable; numpy memory behind a pandas
    column is not (`df.iloc[0, 0] = 99` writes into it). With pandas' copy-on-write (always
    on from pandas 3), a shallow copy of the frame that lives as long as the exported
    buffers makes pandas copy a block before writing to it, so the buffers are shared and
    still never change. Without copy-on-write those columns are copied here instead.

    pandas' own export (`Table.from_pandas`) scans float columns for NaN element by element;
    numpy's vectorised isnan does the same job about 3x faster. Anything unusual (an index
    worth keeping, MultiIndex or non-string column labels, no columns) goes through
    `Table.from_pandas`, with the same protection.
    """
    import sys
    # Another thread may be importing pandas right now: sys.modules then holds a partly
    # initialised module without DataFrame yet, and no object can be a DataFrame either.
    frame_type = getattr(sys.modules.get("pandas"), "DataFrame", None)
    if frame_type is None or not isinstance(obj, frame_type):
        return _keeping_empty_dictionaries(obj)
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    # The owner pinned to every shared buffer, or None when shared buffers must be copies.
    owner = obj.copy(deep=False) if _copy_on_write(pd) else None
    source = obj if owner is None else owner
    index = obj.index
    plain_index = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and index.name is None
    if not plain_index or obj.shape[1] == 0 or not all(isinstance(label, str) for label in obj.columns):
        # pandas' own conversion keeps the index and the row count of a frame without columns.
        table = pa.Table.from_pandas(source)
        columns = [pa.chunked_array([_protected(chunk, owner) for chunk in column.chunks], type=column.type)
                   for column in table.columns]
        return pa.Table.from_arrays(columns, schema=table.schema) if columns else table
    arrays = []
    for position in range(source.shape[1]):
        column = source.iloc[:, position]
        dtype = column.dtype
        if isinstance(dtype, np.dtype) and dtype.kind == "f" and dtype.itemsize in (4, 8):
            values = column.to_numpy(copy=False)
            missing = np.isnan(values)
            # With a mask R copies the values itself; without one it may share them.
            arrays.append(pa.array(values, mask=missing) if missing.any() else _protected(pa.array(values), owner))
        elif isinstance(dtype, np.dtype) and dtype.kind in "iu":
            arrays.append(_protected(pa.array(column.to_numpy(copy=False)), owner))
        elif isinstance(dtype, pd.ArrowDtype):
            arrays.append(pa.Array.from_pandas(column))  # Arrow memory: immutable already
        else:
            arrays.append(_protected(pa.Array.from_pandas(column), owner))
    return pa.Table.from_arrays(arrays, names=list(obj.columns))

def name_with_nul(obj):
    """[1-based position, name] of the first top-level column whose name holds a NUL byte,
    or None (also when `obj` shows no names: a bare Arrow C stream exporter)."""
    import pyarrow as pa
    schema = getattr(obj, "schema", None)
    names = schema.names if isinstance(schema, pa.Schema) else getattr(obj, "columns", None)
    if not isinstance(names, list):
        return None
    for position, name in enumerate(names, 1):
        if isinstance(name, str) and "\0" in name:
            return [position, name]
    return None

def _keeping_empty_dictionaries(obj):
    """`obj`, or for a pyarrow Table without rows a reader of one empty batch.

    pyarrow drops zero-length chunks when it exports a table, and with them the
    dictionaries of its dictionary columns: a zero-row factor would lose its levels.
    """
    import pyarrow as pa
    if not isinstance(obj, pa.Table) or obj.num_rows != 0 or obj.num_columns == 0:
        return obj
    empty = [column.chunks[0] if column.num_chunks else pa.array([], type=column.type) for column in obj.columns]
    return pa.RecordBatchReader.from_batches(obj.schema, [pa.record_batch(empty, schema=obj.schema)])

def _copy_on_write(pd):
    """Whether pandas copies a block before writing into one another frame still uses."""
    try:
        if int(pd.__version__.split(".")[0]) >= 3:
            return True
        return pd.options.mode.copy_on_write is True
    except (AttributeError, ValueError):
        return False

def _protected(array, owner):
    """`array` as R may share it: its value buffer pinned to `owner` (a shallow copy that
    makes pandas copy on write), or copied when there is no owner. Arrays R converts
    anyway (nulls, other types) are returned as they are."""
    import pyarrow as pa
    if array.null_count != 0 or not (pa.types.is_float64(array.type) or pa.types.is_int32(array.type)):
        return array
    if owner is None:
        return pa.array(array.to_numpy(zero_copy_only=False).copy())
    values = array.buffers()[1]
    pinned = pa.foreign_buffer(values.address, values.size, base=(owner, values))
    return pa.Array.from_buffers(array.type, len(array), [None, pinned], offset=array.offset)

def reader_from_stream_capsule(capsule):
    import pyarrow as pa
    return pa.RecordBatchReader.from_stream(_Stream(capsule))

def table_from_stream_capsule(capsule):
    return reader_from_stream_capsule(capsule).read_all()

def pandas_from_stream_capsule(capsule, dtypes):
    return pandas_from_table(table_from_stream_capsule(capsule), dtypes)

def pandas_from_table(table, dtypes):
    import pandas as pd
    import pyarrow as pa
    if dtypes == "arrow":
        return table.to_pandas(types_mapper=pd.ArrowDtype, split_blocks=True)
    if dtypes == "numpy":
        return _writable_on_demand(table.to_pandas(split_blocks=True), pd)
    mapping = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
               pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    return _writable_on_demand(table.to_pandas(types_mapper=mapping.get, split_blocks=True), pd)

def _writable_on_demand(frame, pd):
    """`frame`, whose zero-copy columns pandas copies the first time they are written to.

    With one block per column (`split_blocks`), a null-free numeric column wraps its Arrow
    buffer (possibly R's own memory) read-only instead of being copied into a consolidated
    block. Writing to a read-only block fails, unless pandas' copy-on-write sees another
    frame using it: a shallow copy kept on the frame is that user, so the first write copies
    the block and later ones go to the copy. Without copy-on-write (pandas 2 by default) the
    frame is copied now instead.
    """
    if not _copy_on_write(pd):
        return frame.copy(deep=True)
    object.__setattr__(frame, "_polybridge_shared_blocks", frame.copy(deep=False))
    return frame
