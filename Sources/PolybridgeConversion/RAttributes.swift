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

    /// R function(x): list(text = the metadata text for data frame `x` or NA when there is
    /// nothing to keep, notes = what cannot be kept).
    static let serializeSource = #"""
    function(x) {
      notes <- character()
      has_pointer <- function(value) {
        if (typeof(value) == "externalptr") return(TRUE)
        if (is.list(value)) for (item in value) if (has_pointer(item)) return(TRUE)
        any(vapply(attributes(value), has_pointer, NA))
      }
      keep <- function(a, drop, owner) {
        a <- a[setdiff(names(a), drop)]
        for (name in names(a)) if (has_pointer(a[[name]])) {
          notes <<- c(notes, sprintf("attribute '%s' of %s holds an external pointer, which no file keeps; it is left out", name, owner))
          a[[name]] <- NULL
        }
        a
      }
      column_attributes <- function(column, name) {
        drop <- "names"
        if (is.factor(column)) drop <- c(drop, "class", "levels")
        else if (inherits(column, c("Date", "integer64"))) drop <- c(drop, "class")
        else if (inherits(column, "POSIXct")) drop <- c(drop, "class", "tzone")
        else if (inherits(column, "difftime")) drop <- c(drop, "class", "units")
        kept <- keep(attributes(column), drop, sprintf("column '%s'", name))
        if (length(kept)) list(attributes = kept, columns = NULL) else NULL
      }
      group_vars <- NULL
      if (inherits(x, "grouped_df")) {
        group_vars <- names(attr(x, "groups"))
        group_vars <- group_vars[group_vars != ".rows"]
        attr(x, "groups") <- NULL
        class(x) <- setdiff(class(x), "grouped_df")
      }
      plain_tibble <- identical(class(x), c("tbl_df", "tbl", "data.frame"))
      top <- c("names", "row.names", ".internal.selfref", if (plain_tibble) "class")
      attributes <- keep(attributes(x), top, "the data frame")
      if (!is.null(group_vars)) attributes$.group_vars <- group_vars
      columns <- Map(column_attributes, x, names(x))
      names(columns) <- names(x)
      if (!length(attributes) && !plain_tibble && all(vapply(columns, is.null, NA))) {
        return(list(text = NA_character_, notes = notes))
      }
      text <- rawToChar(serialize(list(attributes = attributes, columns = columns), NULL, ascii = TRUE))
      list(text = text, notes = notes)
    }
    """#

    /// R function(x, text): list(frame = data frame `x` with the attributes that metadata `text`
    /// records, notes = what cannot be restored). Metadata without a class is a plain tibble's;
    /// a data.table gets its over-allocation and `.internal.selfref` back through
    /// `data.table::setalloccol`; `.group_vars` groups the frame again with `dplyr::group_by`.
    static let applySource = #"""
    function(x, text) {
      notes <- character()
      metadata <- unserialize(charToRaw(text))
      if (is.raw(metadata)) metadata <- unserialize(memDecompress(metadata, type = "gzip"))
      for (name in intersect(names(metadata$columns), names(x))) {
        kept <- metadata$columns[[name]]$attributes
        if (length(kept)) {
          column <- x[[name]]
          for (attribute in names(kept)) attr(column, attribute) <- kept[[attribute]]
          x[[name]] <- column
        }
      }
      attributes <- metadata$attributes
      group_vars <- attributes$.group_vars
      attributes$.group_vars <- NULL
      if (is.null(attributes$class)) attributes$class <- c("tbl_df", "tbl", "data.frame")
      if ("data.table" %in% attributes$class && !requireNamespace("data.table", quietly = TRUE)) {
        notes <- c(notes, "the data is a data.table, but package data.table is not installed; it becomes a data.frame")
        attributes$class <- setdiff(attributes$class, "data.table")
        attributes[c("sorted", "index")] <- NULL
      }
      for (attribute in names(attributes)) attr(x, attribute) <- attributes[[attribute]]
      if (inherits(x, "data.table")) x <- data.table::setalloccol(x)
      if (length(group_vars)) {
        missing <- setdiff(group_vars, names(x))
        if (!requireNamespace("dplyr", quietly = TRUE)) {
          notes <- c(notes, sprintf("the data is grouped by %s, but package dplyr is not installed; it is left ungrouped",
                                    paste(group_vars, collapse = ", ")))
        } else if (length(missing)) {
          notes <- c(notes, sprintf("the data was grouped by %s, which it no longer has; it is left ungrouped",
                                    paste(missing, collapse = ", ")))
        } else {
          x <- dplyr::group_by(x, dplyr::across(dplyr::all_of(group_vars)))
        }
      }
      list(frame = x, notes = notes)
    }
    """#
}

extension RSession {
    /// Data frame `frame` as Arrow, with its R classes and attributes in the schema metadata
    /// (``RAttributes``), and a sentence for each attribute that cannot be kept.
    public func arrowTableKeepingRAttributes(fromDataFrame frame: SEXP) throws -> (table: ArrowTable, notes: [String]) {
        let table = try arrowTable(fromDataFrame: frame)
        let serialize = try evaluateText(RAttributes.serializeSource, purpose: "R attributes")
        let result = try evaluate(try lang(serialize, [frame]), purpose: "R attributes")
        let notes = try readStrings(try element(of: result, at: 1)).compactMap { $0 }
        guard let text = try readStrings(try element(of: result, at: 0)).first ?? nil else { return (table, notes) }
        return (table.withMetadata(table.metadata.merging([RAttributes.key: text]) { $1 }), notes)
    }

    /// `table` as an R data.frame with the R classes and attributes its schema metadata records
    /// (``RAttributes``), and a sentence for each that cannot be restored here.
    public func dataFrameRestoringRAttributes(from table: ArrowTable) throws -> (frame: SEXP, notes: [String]) {
        let frame = try dataFrame(from: table)
        guard let text = table.metadata[RAttributes.key] else { return (frame, []) }
        let apply = try evaluateText(RAttributes.applySource, purpose: "R attributes")
        let result = try evaluate(try lang(apply, [frame, try makeStrings([text])]), purpose: "R attributes")
        return (try element(of: result, at: 0), try readStrings(try element(of: result, at: 1)).compactMap { $0 })
    }
}
