import PolybridgeArrow
import PolybridgeRuntime

/// R's classes and attributes of a data frame and its columns, kept in Arrow schema metadata
/// under the key `r` in the format of R's arrow package, so that a tibble, a data.table, a
/// grouped tibble or a `spec_tbl_df` comes back as itself from Parquet, Feather or a pipeline
/// step, and R's arrow reads them too.
///
/// The value is `rawToChar(serialize(list(attributes = ..., columns = ...), NULL, ascii = TRUE))`:
/// the data frame's attributes without `names` and `row.names` (and without `class` for a plain
/// tibble, which R's arrow reads back as a tibble anyway; a plain data.frame keeps its class, so
/// R's arrow reads it back as a data.frame, not a tibble), and per column its attributes without
/// what the Arrow type already carries (a factor's class and levels, a Date's or integer64's
/// class, a POSIXct's class and time zone, a difftime's class and units), NULL for a column with
/// none. A grouped tibble keeps only its grouping columns, as `.group_vars`, and is grouped again
/// with dplyr when read. Values over 100 kB that R's arrow gzip-compressed and serialized once
/// more are read too.
///
/// What cannot be kept is reported as notes, one sentence each: an attribute holding an
/// external pointer (meaningless outside the process; data.table's `.internal.selfref` is
/// rebuilt instead), and, when reading, a data.table or grouping whose package is not installed.
public enum RAttributes {
    /// The schema metadata key R's arrow package uses.
    public static let key = "r"

    /// The name the helpers' environment is bound to in R's global environment.
    static let environmentName = ".polybridge_r_attributes"

    /// Calls `.polybridge_r_attributes$name(arguments...)`, binding the environment first
    /// unless this R process already has it. `to_metadata(x)` gives list(text, notes) for data
    /// frame `x`; `from_metadata(x, text)` gives list(frame, notes). Metadata without a class is
    /// a plain tibble's; a data.table gets its over-allocation and `.internal.selfref` back
    /// through `data.table::setalloccol`; `.group_vars` groups the frame again with dplyr.
    static func call(_ name: String, _ arguments: [SEXP], in session: RSession) throws -> SEXP {
        try session.callHelper(environmentName, name, arguments, from: EmbeddedScripts.rAttributesR, what: "the R attribute helpers",
                               purpose: "R attributes")
    }
}

extension RSession {
    /// Data frame `frame` as Arrow, with its R classes and attributes in the schema metadata
    /// (``RAttributes``), and a sentence for each attribute that cannot be kept.
    public func arrowTableKeepingRAttributes(fromDataFrame frame: SEXP) throws -> (table: ArrowTable, notes: [String]) {
        let table = try arrowTable(fromDataFrame: frame)
        let result = try RAttributes.call("to_metadata", [frame], in: self)
        let notes = try readStrings(try element(of: result, at: 1)).compactMap { $0 }
        guard let text = try readStrings(try element(of: result, at: 0)).first ?? nil else { return (table, notes) }
        return (table.withMetadata(table.metadata.merging([RAttributes.key: text]) { $1 }), notes)
    }

    /// `table` as an R data.frame with the R classes and attributes its schema metadata records
    /// (``RAttributes``), and a sentence for each that cannot be restored here.
    public func dataFrameRestoringRAttributes(from table: ArrowTable) throws -> (frame: SEXP, notes: [String]) {
        let frame = try dataFrame(from: table)
        guard let text = table.metadata[RAttributes.key] else { return (frame, []) }
        let result = try RAttributes.call("from_metadata", [frame, try makeStrings([text])], in: self)
        return (try element(of: result, at: 0), try readStrings(try element(of: result, at: 1)).compactMap { $0 })
    }
}
