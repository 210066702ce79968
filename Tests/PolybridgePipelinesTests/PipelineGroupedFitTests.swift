import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// A fit step with `by` fits one model per group, with outputs `coefficients` and `groups`.
@Suite struct PipelineGroupedFitTests {
    @Test func aFitStepWithByFitsEachGroupAsRDoes() async throws {
        let project = try PipelineProject(baseFiles.merging([
            "p.yaml": """
                name: p
                steps:
                  - {id: cars, kind: r, code: "transform(mtcars, cyl = as.character(cyl))"}
                  - {id: model, kind: fit, formula: "mpg ~ wt", inputs: {data: cars}, params: {by: "cyl, am"}}
                  - {id: glm, kind: fit, formula: "am ~ wt", inputs: {data: cars}, params: {by: cyl, family: binomial}}
                  - {id: coef, kind: write, path: coef.rds, inputs: {d: model.coefficients}}
                  - {id: groups, kind: write, path: groups.rds, inputs: {d: glm.groups}}
                """,
        ]) { $1 })
        let run = try await runPolybridge("run", project.path("p.yaml"), "--no-cache")
        #expect(run.status == 0, "\(run.error)")
        let check = try await runCommand("Rscript", ["-e", """
            d <- transform(mtcars, cyl = as.character(cyl))
            cf <- readRDS("\(project.path("coef.rds"))"); gr <- readRDS("\(project.path("groups.rds"))")
            parts <- split(d, d[c("cyl", "am")], drop = TRUE)
            ok <- all(vapply(parts, function(p) {
              mine <- cf[cf$cyl == p$cyl[1] & cf$am == p$am[1], ]
              s <- summary(lm(mpg ~ wt, data = p))
              isTRUE(all.equal(mine$estimate, unname(coef(lm(mpg ~ wt, data = p))), tolerance = 1e-8)) &&
                # A group of two rows has no residual df: its standard errors are missing, as R's are.
                identical(is.na(mine$std_error), unname(is.na(s$coefficients[, 2]))) &&
                isTRUE(all.equal(mine$std_error[!is.na(mine$std_error)], unname(s$coefficients[!is.na(s$coefficients[, 2]), 2]), tolerance = 1e-8))
            }, NA))
            glms <- lapply(split(d, d$cyl), function(p) suppressWarnings(glm(am ~ wt, family = binomial, data = p)))
            cat(ok, nrow(cf) == 2 * length(parts), identical(gr$cyl, c("4", "6", "8")),
                isTRUE(all.equal(gr$deviance, unname(vapply(glms, deviance, 0)), tolerance = 1e-8)))
            """])
        #expect(check.output == "TRUE TRUE TRUE TRUE", "\(check.output) \(check.error)")
    }

    @Test func byWithChunksAnOutputThatIsNotThereAndAnEmptyColumnAreValidationErrors() async throws {
        for (step, write, message) in [
            ("params: {by: cyl, chunks: 2}", "model.coefficients", "a fit per group (by) fits each group whole: chunks and combine do not apply to it"),
            ("params: {by: cyl}", "model.statistics", "step 'model' (fit) has outputs coefficients and groups, not 'statistics'"),
            ("params: {by: \"cyl,\"}", "model.groups", "parameter 'by' names the columns to group by, separated by commas (got 'cyl,')"),
        ] {
            let project = try PipelineProject(baseFiles.merging(["p.yaml": """
                name: p
                steps:
                  - {id: cars, kind: r, code: "mtcars"}
                  - {id: model, kind: fit, formula: "mpg ~ wt", inputs: {data: cars}, \(step)}
                  - {id: out, kind: write, path: out.rds, inputs: {d: \(write)}}
                """]) { $1 })
            let run = try await runPolybridge("run", project.path("p.yaml"))
            #expect(run.status == 1 && run.error.contains(message), "\(step): \(run.error)")
        }
    }
}
