import ArgumentParser
import Foundation
import Polybridge

/// `polybridge demo`: the main job, R and Python working on the same data in one process.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the demo: R computes, Python reads the result, Swift checks both agree.")

    func run() async throws {
        let r = try RRuntime.shared()
        let python = try PythonRuntime.shared()
        let fit = try await r.evaluate("fit <- lm(mpg ~ wt, data = mtcars); coef(fit)")
        guard case .double(let coefficients) = fit.value else { throw ExitCode(1) }
        print("R: lm(mpg ~ wt, mtcars) coefficients = \(coefficients.map { $0 ?? .nan })")
        try python.exec("import statistics\nslope = None")
        let wt = try await r.eval("mtcars$wt", as: [Double].self)
        let mpg = try await r.eval("mtcars$mpg", as: [Double].self)
        try python.exec("wt = \(wt)\nmpg = \(mpg)\nslope = statistics.linear_regression(wt, mpg).slope")
        let slope = try python.eval("slope", as: Double.self)
        print("Python: statistics.linear_regression slope = \(slope)")
        let agree = abs(slope - (coefficients[1] ?? .nan)) < 1e-9
        print(agree ? "R and Python agree." : "R and Python DISAGREE")
        if !agree { throw ExitCode(1) }
    }
}
