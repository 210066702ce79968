import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// `polybridge fit` as a user runs it, checked against R's own lm in this process.
@Suite struct FitCommandTests {
    /// mtcars as Parquet (written through R and Polybridge's converter).
    func mtcarsParquet() async throws -> String {
        let directory = try scratchDirectory()
        let rds = directory + "/mtcars.rds", parquet = directory + "/mtcars.parquet"
        _ = try await RRuntime.shared().evaluate("saveRDS(mtcars, '\(rds)')")
        _ = try await DataFiles.convert(rds, to: parquet)
        return parquet
    }

    @Test func chunkedFitFromAFileMatchesLMAndPrintsJSON() async throws {
        let parquet = try await mtcarsParquet()
        let run = try runPolybridge("fit", "--data", parquet, "--formula", "mpg ~ wt + factor(cyl)", "--chunks", "3", "--json")
        #expect(run.status == 0, "\(run.error)")
        let fit = try JSONDecoder().decode(LinearModelFit.self, from: Data(run.output.utf8))
        #expect(fit.combine == .exact && fit.chunks == 3)
        let expected = try await RRuntime.shared().eval("unname(coef(lm(mpg ~ wt + factor(cyl), data = mtcars)))", as: [Double].self)
        #expect(fit.coefficients.count == expected.count)
        for (coefficient, value) in zip(fit.coefficients, expected) {
            #expect(abs(coefficient.estimate - value) <= 1e-8 * abs(value), "\(coefficient.name)")
        }
    }

    @Test func wholeFitPrintsRsSummaryAndBadInputExitsOne() async throws {
        let parquet = try await mtcarsParquet()
        let run = try runPolybridge("fit", "--data", parquet, "--formula", "mpg ~ wt")
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("Residual standard error: 3.046 on 30 degrees of freedom"))
        let refused = try runPolybridge("fit", "--data", parquet, "--formula", "mpg ~ wt; system('true')")
        #expect(refused.status == 1)
        #expect(refused.error.contains("exactly one R formula"))
        let average = try runPolybridge("fit", "--data", parquet, "--formula", "mpg ~ wt", "--chunks", "2", "--combine", "average")
        #expect(average.status == 0, "\(average.error)")
        #expect(average.output.hasPrefix("APPROXIMATE"))
    }
}
