import ArgumentParser
import Foundation
import Polybridge

/// `polybridge demo`: the main job, R and Python working on the same data in one process.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the demo: an R data.frame goes to pandas and back through Arrow, exactly.")

    func run() async throws {
        let r = try RRuntime.shared()
        let python = try PythonRuntime.shared()
        _ = try await r.evaluate("""
            demo <- data.frame(
              car = rownames(mtcars), mpg = mtcars$mpg, cyl = factor(mtcars$cyl), am = mtcars$am == 1,
              made = as.Date("1974-01-01") + seq_len(nrow(mtcars)),
              seen = as.POSIXct("2024-03-01 09:00:00", tz = "Europe/Paris") + seq_len(nrow(mtcars)) * 3600)
            demo$mpg[3] <- NA; demo$am[5] <- NA
            """)
        let frame = try await Bridge.pandas(fromR: "demo")
        print("R data.frame → pandas (through Arrow):")
        let describe = try python.evaluateObject("lambda d: str(d.dtypes.to_dict()) + '\\n' + d.head(3).to_string()")
        if case .string(let text) = try python.value(of: try python.call(describe, [frame])) { print(text) }
        try python.exec("import pandas as pd")
        let enrich = try python.evaluateObject("lambda d: d.assign(kpl=d['mpg'] * 0.425144)")
        let enriched = try python.call(enrich, [frame])
        try await Bridge.assignToR(python: enriched, as: "back")
        let checks = try await r.eval("""
            c(identical(back[names(demo)], demo), isTRUE(all.equal(back$kpl, demo$mpg * 0.425144)), is.na(back$kpl[3]))
            """, as: [Bool].self)
        print("\npandas (+ kpl column) → R: identical to the original for every original column: \(checks[0])")
        print("kpl computed in pandas equals R's own computation: \(checks[1]); NA stayed NA: \(checks[2])")
        guard checks.allSatisfy({ $0 }) else { throw ExitCode(1) }
        print("R and Python agree.")
    }
}
