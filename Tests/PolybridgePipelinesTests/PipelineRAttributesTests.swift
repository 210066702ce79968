import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// R steps receive and return R's classes and attributes (a tibble, a column label) through the
/// tables' `r` metadata, in the command's process and on a worker process alike, and what cannot
/// be kept is a warning on standard error with the step's id.
@Suite struct PipelineRAttributesTests {
    @Test func rStepsKeepATibbleAndItsAttributesAndWarnAboutAnExternalPointer() async throws {
        let project = try PipelineProject(baseFiles.merging([
            "rscripts/pass.R": """
                pass <- function(d, who = "") {
                  message("classes ", who, ": ", paste(class(d), collapse = " "))
                  Sys.sleep(1)
                  d
                }
                handle <- function() {
                  x <- data.frame(a = 1:2)
                  attr(x, "handle") <- new("externalptr")
                  attr(x, "note") <- "kept"
                  x
                }
                """,
            "p.yaml": """
                name: p
                steps:
                  - {id: raw, kind: read, path: in.rds}
                  - {id: one, kind: r, script: rscripts/pass.R, function: pass, inputs: {d: raw}, params: {who: one}}
                  - {id: two, kind: r, script: rscripts/pass.R, function: pass, inputs: {d: raw}, params: {who: two}}
                  - {id: ptr, kind: r, script: rscripts/pass.R, function: handle}
                  - {id: out_one, kind: write, path: one.rds, inputs: {d: one}}
                  - {id: out_two, kind: write, path: two.rds, inputs: {d: two}}
                  - {id: out_ptr, kind: write, path: ptr.rds, inputs: {d: ptr}}
                """,
        ]) { $1 })
        let made = try await runCommand("Rscript", ["-e", """
            x <- tibble::tibble(id = 1:3, day = as.Date("2024-01-01") + 0:2)
            attr(x$id, "label") <- "Identifier"
            saveRDS(x, "\(project.path("in.rds"))")
            """])
        #expect(made.status == 0, "\(made.error)")
        let run = try await runPolybridge("run", project.path("p.yaml"), "--no-cache")
        #expect(run.status == 0, "\(run.error)")
        let lines = run.error.split(separator: "\n").map(String.init)
        #expect(lines.contains("[one] classes one: tbl_df tbl data.frame"), "\(run.error)")
        #expect(lines.contains("[two] classes two: tbl_df tbl data.frame"), "\(run.error)")
        #expect(lines.contains("[ptr] warning: attribute 'handle' of the data frame holds an external pointer, which no file keeps; it is left out"),
                "\(run.error)")
        let check = try await runCommand("Rscript", ["-e", """
            x <- readRDS("\(project.path("in.rds"))")
            p <- readRDS("\(project.path("ptr.rds"))")
            cat(identical(readRDS("\(project.path("one.rds"))"), x), identical(readRDS("\(project.path("two.rds"))"), x),
                is.null(attr(p, "handle")), identical(attr(p, "note"), "kept"))
            """])
        #expect(check.output == "TRUE TRUE TRUE TRUE", "\(check.error)")
    }
}
