import PolybridgeRuntime

/// R's classes and attributes of a data frame and its columns, kept in Arrow schema metadata
/// under the key `r` in the format of R's arrow package, so that a tibble, a data.table or a
/// `spec_tbl_df` read from RDS comes back as itself from Parquet or Feather (and R's arrow
/// reads them too).
///
/// The value is `rawToChar(serialize(list(attributes = ..., columns = ...), NULL, ascii = TRUE))`:
/// the data frame's attributes without `names` and `row.names` (and without `class` for a plain
/// tibble, which R's arrow reads back as a tibble anyway; a plain data.frame keeps its class, so
/// R's arrow reads it back as a data.frame, not a tibble), and per column its attributes without
/// what the Arrow type already carries (a factor's class and levels, a Date's or integer64's class, a POSIXct's
/// class and time zone, a difftime's class and units), NULL for a column with none. Values
/// over 100 kB that R's arrow gzip-compressed and serialized once more are read too.
enum RArrowMetadata {
    /// The schema metadata key R's arrow package uses.
    static let key = "r"

    /// R function(x): the metadata text for data frame `x`, or NA when there is nothing to keep.
    /// data.table's `.internal.selfref` (an external pointer, meaningless in a file) is left out;
    /// ``applySource`` rebuilds it.
    static let serializeSource = #"""
    function(x) {
      without <- function(a, drop) a[setdiff(names(a), drop)]
      column_attributes <- function(column) {
        drop <- "names"
        if (is.factor(column)) drop <- c(drop, "class", "levels")
        else if (inherits(column, c("Date", "integer64"))) drop <- c(drop, "class")
        else if (inherits(column, "POSIXct")) drop <- c(drop, "class", "tzone")
        else if (inherits(column, "difftime")) drop <- c(drop, "class", "units")
        kept <- without(attributes(column), drop)
        if (length(kept)) list(attributes = kept, columns = NULL) else NULL
      }
      plain_tibble <- identical(class(x), c("tbl_df", "tbl", "data.frame"))
      top <- c("names", "row.names", ".internal.selfref", if (plain_tibble) "class")
      attributes <- without(attributes(x), top)
      columns <- lapply(x, column_attributes)
      if (!length(attributes) && !plain_tibble && all(vapply(columns, is.null, NA))) return(NA_character_)
      rawToChar(serialize(list(attributes = attributes, columns = columns), NULL, ascii = TRUE))
    }
    """#

    /// R function(x, text): data frame `x` with the attributes that metadata `text` records.
    /// Metadata without a class is a plain tibble's; a data.table gets its over-allocation and
    /// `.internal.selfref` back through `data.table::setalloccol`.
    static let applySource = #"""
    function(x, text) {
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
      if (is.null(attributes$class)) attributes$class <- c("tbl_df", "tbl", "data.frame")
      for (attribute in names(attributes)) attr(x, attribute) <- attributes[[attribute]]
      if (inherits(x, "data.table") && requireNamespace("data.table", quietly = TRUE)) {
        x <- data.table::setalloccol(x)
      }
      x
    }
    """#
}
