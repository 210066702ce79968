import Foundation
import PolybridgeTestSupport
import Testing

/// R classes and attributes of data frames survive RDS → Parquet/Feather → RDS through the
/// `r` schema metadata that R's arrow package uses.
@Suite struct RClassesRoundTripTests {
    /// Runs R `code` with `folder` as `dir`; fails the test on an R error.
    private func rscript(_ code: String, in folder: String) async throws -> String {
        let run = try await runCommand("Rscript", ["-e", "dir <- '\(folder)'", "-e", code])
        #expect(run.status == 0, "\(run.error)")
        return run.output
    }

    /// The `r` schema metadata of mid.parquet in `folder`, as pyarrow reads it.
    private func storedMetadata(_ folder: String) async throws -> PolybridgeRun {
        let stored = try await runCommand("python3", ["-c",
            "import pyarrow.parquet as pq, sys; sys.stdout.write(pq.read_schema(sys.argv[1]).metadata[b'r'].decode())",
            folder + "/mid.parquet"])
        #expect(stored.status == 0, "\(stored.error)")
        return stored
    }

    /// Writes `make` (R code giving a data frame) to in.rds, converts it to `middle` and back
    /// to out.rds, and returns the folder.
    private func roundTrip(_ make: String, through middle: String = "parquet") async throws -> String {
        let folder = try scratchDirectory()
        _ = try await rscript("saveRDS(local({ \(make) }), file.path(dir, 'in.rds'))", in: folder)
        for (from, to) in [("in.rds", "mid.\(middle)"), ("mid.\(middle)", "out.rds")] {
            let run = try await runPolybridge(["convert", folder + "/" + from, folder + "/" + to])
            #expect(run.status == 0, "\(run.error)")
        }
        return folder
    }

    @Test func tibbleWithSpecAndColumnLabelsIsIdenticalAfterParquet() async throws {
        let folder = try await roundTrip("""
            x <- tibble::tibble(id = 1:3, name = c("a", NA, "c"), day = as.Date("2024-01-01") + 0:2,
                                f = factor(c("u", "v", "u")))
            attr(x$id, "label") <- "Identifier"
            attr(x, "spec") <- list(cols = list(id = "integer"))
            class(x) <- c("spec_tbl_df", class(x))
            x
            """)
        let same = try await rscript("cat(identical(readRDS(file.path(dir, 'in.rds')), readRDS(file.path(dir, 'out.rds'))))", in: folder)
        #expect(same == "TRUE")
    }

    @Test func plainTibbleIsIdenticalAfterFeather() async throws {
        let folder = try await roundTrip("tibble::tibble(a = c(1.5, 2), b = c(TRUE, NA))", through: "feather")
        let same = try await rscript("cat(identical(readRDS(file.path(dir, 'in.rds')), readRDS(file.path(dir, 'out.rds'))))", in: folder)
        #expect(same == "TRUE")
    }

    @Test func dataTableComesBackAsAWorkingDataTableWithItsKey() async throws {
        let folder = try await roundTrip("""
            x <- data.table::data.table(k = c(2L, 1L, 3L), v = c("b", "a", "c"))
            data.table::setkey(x, k)
            x
            """)
        let check = try await rscript("""
            library(data.table)
            a <- readRDS(file.path(dir, 'in.rds')); b <- readRDS(file.path(dir, 'out.rds'))
            # .internal.selfref is an external pointer: equal only once restored, never identical.
            strip <- function(d) { attr(d, ".internal.selfref") <- NULL; d }
            cat(identical(strip(a), strip(b)), identical(key(b), "k"), typeof(attr(b, ".internal.selfref")) == "externalptr",
                inherits(b[, w := k * 2L], "data.table"))
            """, in: folder)
        #expect(check == "TRUE TRUE TRUE TRUE")
    }

    @Test func metadataIsRArrowsSerializedAttributesList() async throws {
        let folder = try await roundTrip("""
            x <- tibble::tibble(id = 1:2)
            attr(x, "spec") <- "s"
            class(x) <- c("spec_tbl_df", class(x))
            x
            """)
        let stored = try await storedMetadata(folder)
        let expected = try await rscript("""
            cat(rawToChar(serialize(list(attributes = list(class = c("spec_tbl_df", "tbl_df", "tbl", "data.frame"), spec = "s"),
                                         columns = list(id = NULL)), NULL, ascii = TRUE)))
            """, in: folder)
        #expect(stored.output == expected)
    }

    /// A plain data.frame keeps its class in the metadata, as R's arrow writes it (which reads a
    /// file with no class back as a tibble), and comes back identical.
    @Test func aPlainDataFrameStoresItsClassAsRArrowDoes() async throws {
        let folder = try await roundTrip("data.frame(a = c(1.5, 2), b = c('x', NA))")
        let stored = try await storedMetadata(folder)
        let expected = try await rscript("""
            cat(rawToChar(serialize(list(attributes = list(class = "data.frame"), columns = list(a = NULL, b = NULL)), NULL, ascii = TRUE)))
            """, in: folder)
        #expect(stored.output == expected)
        let same = try await rscript("cat(identical(readRDS(file.path(dir, 'in.rds')), readRDS(file.path(dir, 'out.rds'))))", in: folder)
        #expect(same == "TRUE")
    }

    /// A grouped tibble is stored as R's arrow stores it (its grouping columns as `.group_vars`,
    /// without dplyr's cached groups) and comes back grouped, identical to what was written.
    @Test func aGroupedTibbleStoresItsGroupVarsAndComesBackIdentical() async throws {
        let folder = try await roundTrip("dplyr::group_by(tibble::tibble(g = c(2, 1, 2), h = c('a', 'a', 'b'), v = 1:3), g, h)")
        let stored = try await storedMetadata(folder)
        let expected = try await rscript("""
            cat(rawToChar(serialize(list(attributes = list(.group_vars = c("g", "h")), columns = list(g = NULL, h = NULL, v = NULL)),
                                    NULL, ascii = TRUE)))
            """, in: folder)
        #expect(stored.output == expected)
        let same = try await rscript("cat(identical(readRDS(file.path(dir, 'in.rds')), readRDS(file.path(dir, 'out.rds'))))", in: folder)
        #expect(same == "TRUE")
    }

    /// An external pointer means nothing outside its process: an attribute holding one (of the
    /// frame, of a column, or inside a list) is left out with a warning naming it; the rest is kept.
    @Test func anExternalPointerAttributeIsLeftOutWithAWarningNamingIt() async throws {
        let folder = try scratchDirectory()
        _ = try await rscript("""
            x <- data.frame(a = 1:2, b = c('u', 'v'))
            attr(x, "handle") <- new("externalptr")
            attr(x, "note") <- "kept"
            attr(x$b, "inner") <- list(1, new("externalptr"))
            attr(x$b, "label") <- "B"
            saveRDS(x, file.path(dir, 'in.rds'))
            """, in: folder)
        let run = try await runPolybridge(["convert", folder + "/in.rds", folder + "/mid.parquet"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.error.contains("warning: \(folder)/mid.parquet: attribute 'handle' of the data frame holds an external pointer"), "\(run.error)")
        #expect(run.error.contains("attribute 'inner' of column 'b' holds an external pointer"), "\(run.error)")
        #expect(!run.error.contains("'note'") && !run.error.contains("'label'"), "\(run.error)")
        let back = try await runPolybridge(["convert", folder + "/mid.parquet", folder + "/out.rds"])
        #expect(back.status == 0 && back.error.isEmpty, "\(back.error)")
        let check = try await rscript("""
            a <- readRDS(file.path(dir, 'in.rds')); b <- readRDS(file.path(dir, 'out.rds'))
            attr(a, "handle") <- NULL; attr(a$b, "inner") <- NULL
            cat(identical(a, b))
            """, in: folder)
        #expect(check == "TRUE")
    }

    /// Metadata naming a class whose package is not installed (data.table, dplyr's grouping)
    /// gives a working data frame and a warning naming the package, not a broken object.
    @Test func aClassWhosePackageIsMissingGivesAPlainFrameAndAWarning() async throws {
        let folder = try scratchDirectory()
        _ = try await rscript("""
            x <- data.table::data.table(k = c(2L, 1L), v = c('b', 'a'))
            data.table::setkey(x, k)
            saveRDS(x, file.path(dir, 'table.rds'))
            saveRDS(dplyr::group_by(tibble::tibble(g = c(1, 1, 2), v = 1:3), g), file.path(dir, 'grouped.rds'))
            """, in: folder)
        let empty = try scratchDirectory()
        for name in ["table", "grouped"] {
            let run = try await runPolybridge(["convert", "\(folder)/\(name).rds", "\(folder)/\(name).parquet"])
            #expect(run.status == 0, "\(run.error)")
            // R_LIBS_SITE hides the site library, where Debian's r-cran-* packages live.
            let back = try await runPolybridge(["convert", "\(folder)/\(name).parquet", "\(folder)/\(name).out.rds"],
                                               environment: ["R_LIBS_SITE": empty])
            #expect(back.status == 0, "\(back.error)")
            let expected = name == "table" ? "the data is a data.table, but package data.table is not installed; it becomes a data.frame"
                                           : "the data is grouped by g, but package dplyr is not installed; it is left ungrouped"
            #expect(back.error.contains(expected), "\(back.error)")
        }
        let check = try await rscript("""
            a <- readRDS(file.path(dir, 'table.out.rds')); b <- readRDS(file.path(dir, 'grouped.out.rds'))
            cat(identical(a, data.frame(k = 1:2, v = c('a', 'b'))),
                identical(b, tibble::tibble(g = c(1, 1, 2), v = 1:3)))
            """, in: folder)
        #expect(check == "TRUE TRUE")
    }
}
