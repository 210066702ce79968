import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// A fit step with `family` fits R's glm on its input, with lm's two outputs.
@Suite struct PipelineGLMTests {
    @Test func aFitStepWithAFamilyEqualsGLMAndSaysRsWarnings() async throws {
        let project = try PipelineProject(baseFiles.merging([
            "p.yaml": """
                name: p
                steps:
                  - {id: cars, kind: r, code: "mtcars"}
                  - id: model
                    kind: fit
                    formula: "am ~ wt + hp + disp + qsec"
                    inputs: {data: cars}
                    params: {family: binomial, link: probit}
                  - {id: coef, kind: write, path: coef.rds, inputs: {d: model.coefficients}}
                  - {id: stats, kind: write, path: stats.rds, inputs: {d: model.statistics}}
                """,
        ]) { $1 })
        let run = try await runPolybridge("run", project.path("p.yaml"), "--no-cache")
        #expect(run.status == 0, "\(run.error)")
        #expect(run.error.contains("[model] warning: glm.fit: fitted probabilities numerically 0 or 1 occurred"), "\(run.error)")
        let check = try await runCommand("Rscript", ["-e", """
            suppressWarnings(g <- glm(am ~ wt + hp + disp + qsec, family = binomial(link = "probit"), data = mtcars))
            s <- summary(g); cf <- readRDS("\(project.path("coef.rds"))"); st <- readRDS("\(project.path("stats.rds"))")
            cat(identical(cf$term, rownames(coef(s))), isTRUE(all.equal(cf$estimate, unname(coef(s)[, 1]), tolerance = 1e-8)),
                isTRUE(all.equal(cf$z_value, unname(coef(s)[, 3]), tolerance = 1e-8)),
                isTRUE(all.equal(st$deviance, g$deviance, tolerance = 1e-8)), isTRUE(all.equal(st$aic, g$aic, tolerance = 1e-8)),
                st$family == "binomial" && st$link == "probit" && st$iterations == g$iter)
            """])
        #expect(check.output == "TRUE TRUE TRUE TRUE TRUE TRUE", "\(check.output) \(check.error)")
    }

    @Test func aLinkWithoutAFamilyOrAFamilyWithChunksIsAValidationError() async throws {
        for (params, message) in [("{link: probit}", "parameter 'link' applies to a glm fit: give 'family' too"),
                                  ("{family: poisson, chunks: 2}", "a glm fit step (family) fits its whole input: chunks and combine apply to lm"),
                                  ("{family: binomal}", "step 'model': unknown family 'binomal'"),
                                  ("{family: poisson, link: logt}", "step 'model': family poisson: link 'logt' is not one R knows")] {
            let project = try PipelineProject(baseFiles.merging(["p.yaml": """
                name: p
                steps:
                  - {id: raw, kind: read, path: data/small.csv}
                  - {id: model, kind: fit, formula: "x ~ id", inputs: {data: raw}, params: \(params)}
                """]) { $1 })
            let run = try await runPolybridge("run", project.path("p.yaml"))
            #expect(run.status == 1 && run.error.contains(message), "\(run.error)")
        }
    }
}
