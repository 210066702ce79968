import Foundation
import PolybridgeArrow

/// R row names ↔ the pandas index, stored the way pandas stores an index in Arrow: a column
/// (`__index_level_0__` when the index has no name) named by the `pandas` schema metadata's
/// `index_columns`. `pandas.read_parquet` and pyarrow's `to_pandas()` restore the index from it,
/// and R gets row names from a file pandas wrote. Automatic row names (1..n) and pandas'
/// RangeIndex travel as metadata only, with no column.
public enum PandasIndex {
    /// The schema metadata key pandas uses.
    public static let metadataKey = "pandas"
    /// The column pandas names an index without a name.
    public static let unnamedColumn = "__index_level_0__"

    /// Whether `column` is the name pandas gives a level of an index without a name
    /// (`__index_level_0__`, `__index_level_1__`, …).
    public static func isUnnamed(_ column: String) -> Bool {
        guard column.hasPrefix("__index_level_"), column.hasSuffix("__") else { return false }
        let digits = column.dropFirst("__index_level_".count).dropLast(2)
        return !digits.isEmpty && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber)
    }

    /// The `pandas` metadata for a table whose column `column` holds the index, of pandas type
    /// `pandasType` (`unicode` for strings, `int32` for R's integer row names).
    static func metadata(indexColumn column: String, pandasType: String) -> [String: String] {
        let description: [String: Any] = [
            "index_columns": [column],
            "column_indexes": [] as [Any],
            "columns": [["name": NSNull(), "field_name": column, "pandas_type": pandasType,
                         "numpy_type": pandasType == "unicode" ? "object" : pandasType, "metadata": NSNull()]],
            "creator": ["library": "polybridge"],
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: description, options: [.sortedKeys]) else { return [:] }
        return [metadataKey: String(decoding: data, as: UTF8.self)]
    }

    /// Where a table's pandas index is.
    public enum Location: Equatable, Sendable {
        /// In the column at this position.
        case column(Int)
        /// A RangeIndex other than 0, 1, 2, … (`df.iloc[[2, 0]]` gives start 2, step -2): labels
        /// `start + i * step`, stored as metadata only.
        case range(start: Int, step: Int)
    }

    /// The table's pandas index, when its metadata describes exactly one index level that R can
    /// hold: a column the table has, or a RangeIndex that does not start at 0 with step 1.
    public static func location(in table: ArrowTable) -> Location? {
        guard let text = table.metadata[metadataKey],
              let description = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let levels = description["index_columns"] as? [Any], levels.count == 1 else { return nil }
        if let name = levels[0] as? String {
            return table.columns.firstIndex { Array($0.name.utf8) == Array(name.utf8) }.map { .column($0) }
        }
        guard let range = levels[0] as? [String: Any], range["kind"] as? String == "range",
              let start = (range["start"] as? NSNumber)?.intValue, let step = (range["step"] as? NSNumber)?.intValue,
              step != 0, start != 0 || step != 1 else { return nil }
        return .range(start: start, step: step)
    }
}
