/// Python source defining `arrow_difference(a, b)`: "same" when two pyarrow tables hold the same
/// schema and values, else a description of the first difference.
///
/// `Table.equals` treats NaN as unequal to itself, so float columns compare their null masks,
/// NaN masks and remaining values separately; chunk layout does not matter.
public let arrowDifferenceSource = """

import pyarrow as pa
def arrow_difference(a, b):
    # 'same', or what differs. Table.equals treats NaN != NaN, so floats compare null/NaN masks and values.
    import pyarrow.compute as pc
    if not a.schema.equals(b.schema):
        return f"schema: {a.schema} vs {b.schema}"
    for name in a.column_names:
        x, y = a[name].combine_chunks(), b[name].combine_chunks()
        if pa.types.is_floating(x.type):
            clean = lambda v: pc.fill_null(pc.if_else(pc.is_nan(v), 0.0, v), 0.0)
            same = (x.is_null().equals(y.is_null()) and pc.fill_null(pc.is_nan(x), False).equals(pc.fill_null(pc.is_nan(y), False))
                    and clean(x).equals(clean(y)))
        else:
            same = x.equals(y)
        if not same:
            return f"column {name}: {x} vs {y}"
    return "same"
"""
