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
        let stored = try await runCommand("python3", ["-c",
            "import pyarrow.parquet as pq, sys; sys.stdout.write(pq.read_schema(sys.argv[1]).metadata[b'r'].decode())",
            folder + "/mid.parquet"])
        #expect(stored.status == 0, "\(stored.error)")
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
        let stored = try await runCommand("python3", ["-c",
            "import pyarrow.parquet as pq, sys; sys.stdout.write(pq.read_schema(sys.argv[1]).metadata[b'r'].decode())",
            folder + "/mid.parquet"])
        #expect(stored.status == 0, "\(stored.error)")
        let expected = try await rscript("""
            cat(rawToChar(serialize(list(attributes = list(class = "data.frame"), columns = list(a = NULL, b = NULL)), NULL, ascii = TRUE)))
            """, in: folder)
        #expect(stored.output == expected)
        let same = try await rscript("cat(identical(readRDS(file.path(dir, 'in.rds')), readRDS(file.path(dir, 'out.rds'))))", in: folder)
        #expect(same == "TRUE")
    }
}
