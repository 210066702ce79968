/// What `polybridge inspect` shows and `polybridge convert` reports: shape, types and nulls.
public struct DataFileSummary: Sendable, Codable, Equatable {
    /// One column: its name, Arrow type, what it becomes in R, and how many values are missing.
    public struct Column: Sendable, Codable, Equatable {
        /// The column's name.
        public var name: String
        /// The Arrow type, e.g. `float64` or `timestamp[us, tz=UTC]`.
        public var arrowType: String
        /// The R type the column converts to (`double`, `factor`, `POSIXct`, …), or nil if it does not convert.
        public var rType: String?
        /// The number of null (missing) values.
        public var nullCount: Int
    }

    /// The file described.
    public var file: String
    /// The file's format.
    public var format: DataFileFormat
    /// The number of rows.
    public var rows: Int
    /// The number of record batches the file was read in (row groups, IPC batches, CSV blocks).
    public var batches: Int
    /// The columns, in file order.
    public var columns: [Column]
    /// What the conversion could not keep (R attributes such as an external pointer), one
    /// sentence each; `polybridge convert` prints them on standard error.
    public var warnings: [String] = []
}
