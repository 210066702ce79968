# R's classes and attributes of a data frame, kept in Arrow schema metadata under the key `r`
# in the format of R's arrow package (see RAttributes.swift). Bound as `.polybridge_r_attributes`
# in R's global environment.
assign(".polybridge_r_attributes", local({
  # list(text = the metadata text for data frame `x`, or NA when there is nothing to keep,
  #      notes = what cannot be kept, one sentence each).
  to_metadata <- function(x) {
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

  # list(frame = data frame `x` with the attributes metadata `text` records, notes = what
  #      cannot be restored, one sentence each).
  from_metadata <- function(x, text) {
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

  environment()
}), envir = globalenv())
