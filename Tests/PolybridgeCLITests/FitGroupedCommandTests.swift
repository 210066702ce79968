import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// `polybridge fit --by`: the two tables written as Parquet, Feather or CSV (read back by
/// pyarrow, numbers checked against R's lm per group), `--json`, the terminal summary, failed
/// groups and the exit status, and the options that do not go with `--by`.
@Suite struct FitGroupedCommandTests {
    static let data = """
        set.seed(31); n <- 200
        d <- data.frame(k = sample(c("a", "b", "c", NA), n, TRUE), x = rnorm(n))
        d$y <- 1 + d$x + rnorm(n); d$y[d$k %in% "c"] <- NA
        d
        """

    /// R's data frame made by `data`, bound as `name` and written to Parquet through RDS.
    static func parquet(_ name: String) async throws -> String {
        let path = try scratchDirectory() + "/\(name).parquet"
        _ = try await RRuntime.shared().evaluate("\(name) <- local({ \(data) }); saveRDS(\(name), '\(path).rds')")
        _ = try await DataFiles.convert(path + ".rds", to: path)
        return path
    }

    @Test func theTablesAreWrittenAndAreRsFitsPerGroup() async throws {
        let path = try await Self.parquet("gr_cli")
        let folder = try scratchDirectory()
        for (coefficients, groups) in [("c.parquet", "g.csv"), ("c.feather", "g.parquet"), ("c.csv", "g.feather")] {
            let run = try await runPolybridge("fit", "--data", path, "--formula", "y ~ x", "--by", "k",
                                              "--out", folder + "/" + coefficients, "--groups-out", folder + "/" + groups)
            #expect(run.status == 0, "\(run.error)")
            #expect(run.output.isEmpty, "\(run.output)")
            #expect(run.error.contains("warning: 1 of 3 groups could not be fitted (their errors are in the groups table)"), "\(run.error)")
            // pyarrow reads both files (validated in full) and gives their columns and group a's estimates.
            let read = try await runCommand("python3", ["-c", """
                import json, sys
                import pyarrow.csv, pyarrow.feather, pyarrow.parquet
                def read(path):
                    if path.endswith('.parquet'): return pyarrow.parquet.read_table(path)
                    if path.endswith('.feather'): return pyarrow.feather.read_table(path)
                    # Polybridge writes a missing value in CSV as NA, as R does.
                    return pyarrow.csv.read_csv(path, convert_options=pyarrow.csv.ConvertOptions(strings_can_be_null=True))
                c, g = read(sys.argv[1]), read(sys.argv[2])
                c.validate(full=True); g.validate(full=True)
                rows = c.to_pylist()
                print(json.dumps({'c': c.column_names, 'g': g.column_names, 'groups': g.column('k').to_pylist(),
                                  'errors': g.column('error').to_pylist(),
                                  'a': [r['estimate'] for r in rows if r['k'] == 'a'], 'se': [r['std_error'] for r in rows if r['k'] == 'a']}))
                """, folder + "/" + coefficients, folder + "/" + groups])
            try #require(read.status == 0, "\(read.error)")
            let tables = try JSONSerialization.jsonObject(with: Data(read.output.utf8)) as! [String: Any]
            #expect(tables["c"] as? [String] == ["k", "term", "estimate", "std_error", "statistic", "p_value"])
            #expect(tables["g"] as? [String] == ["k", "rows_used", "rows_dropped", "r_squared", "adj_r_squared", "sigma", "df_residual",
                                                 "f_statistic", "error", "warning"])
            #expect(tables["groups"] as? [String] == ["a", "b", "c"])
            #expect((tables["errors"] as? [Any])?.compactMap { $0 as? String } == ["0 (non-NA) cases"])
            let estimates = (tables["a"] as? [Double] ?? []) + (tables["se"] as? [Double] ?? [])
            let verdict = try await RRuntime.shared().eval("""
                local({ s <- summary(lm(y ~ x, data = gr_cli[gr_cli$k %in% "a", ]))
                        isTRUE(all.equal(c(s$coefficients[, 1], s$coefficients[, 2]), c(\(estimates.map { String(format: "%.17g", $0) }.joined(separator: ", "))),
                                         tolerance = 1e-8, check.attributes = FALSE)) })
                """, as: Bool.self)
            #expect(verdict, "\(coefficients): \(estimates)")
        }
    }

    @Test func jsonTheSummaryAndTheExitStatus() async throws {
        let path = try await Self.parquet("gr_cli_json")
        let json = try await runPolybridge("fit", "--data", path, "--formula", "y ~ x", "--by", "k", "--json")
        #expect(json.status == 0, "\(json.error)")
        let object = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as! [String: Any]
        let groups = try #require(object["groups"] as? [[String: Any]])
        #expect(groups.map { $0["k"] as? String } == ["a", "b", "c"])
        #expect(groups[2]["error"] as? String == "0 (non-NA) cases" && groups[0]["error"] is NSNull)
        #expect((object["coefficients"] as? [[String: Any]])?.count == 4)
        let missing = try await RRuntime.shared().eval("sum(is.na(gr_cli_json$k))", as: Int.self)
        #expect(object["missing_key_rows"] as? Int == missing)
        let summary = try await runPolybridge("fit", "--data", path, "--formula", "y ~ x", "--by", "k")
        #expect(summary.status == 0)
        #expect(summary.output.hasPrefix("2 of 3 groups fitted, 1 failed\n  failed: k=c: 0 (non-NA) cases\n\(missing) rows left out: a key column is missing there\nslowest group: k="),
                "\(summary.output)")
        let strict = try await runPolybridge("fit", "--data", path, "--formula", "y ~ x", "--by", "k", "--fail-on-group-error")
        #expect(strict.status == 1 && strict.error.contains("1 of 3 groups could not be fitted"), "\(strict.error)")
        let glm = try await runPolybridge("fit", "--data", path, "--formula", "y ~ x", "--by", "k", "--family", "gaussian", "--json")
        let glmGroups = try #require((try JSONSerialization.jsonObject(with: Data(glm.output.utf8)) as? [String: Any])?["groups"] as? [[String: Any]])
        #expect(glmGroups[0]["deviance"] is Double && glmGroups[0]["converged"] as? Bool == true, "\(glm.output)")
    }

    @Test func optionsThatDoNotGoWithByAreRefused() async throws {
        let path = try await Self.parquet("gr_cli_bad")
        let cases: [([String], String)] = [
            (["--out", "x.csv"], "--out, --groups-out and --fail-on-group-error apply to a fit per group: give --by"),
            (["--by", "k", "--chunks", "2", "--combine", "average"], "--by fits each group exactly: --combine average does not apply to it"),
            (["--by", "k", "--chunks", "2", "--chunk-state", "disk"], "--chunk-state applies to a glm in chunks: give --family"),
            (["--by", "k,"], "--by takes column names separated by commas (got 'k,')"),
            (["--by", "k", "--plot", "p.png"], "--plot draws one fit: it does not apply to --by"),
        ]
        for (arguments, message) in cases {
            let run = try await runPolybridge(["fit", "--data", path, "--formula", "y ~ x"] + arguments)
            #expect(run.status == 64 && run.error.contains(message), "\(arguments): \(run.error)")
        }
        let missing = try await runPolybridge("fit", "--data", path, "--formula", "y ~ x", "--by", "store")
        #expect(missing.status == 1 && missing.error.contains("no column 'store' to group by (the columns are k, x, y)"), "\(missing.error)")
        let unwritable = try await runPolybridge("fit", "--data", path, "--formula", "y ~ x", "--by", "k", "--out", "/nonexistent/c.parquet")
        #expect(unwritable.status == 1 && unwritable.error.contains("/nonexistent"), "\(unwritable.error)")
    }
}
