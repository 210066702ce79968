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
        let run = try await runPolybridge("fit", "--data", parquet, "--formula", "mpg ~ wt + factor(cyl)", "--chunks", "3", "--json")
        #expect(run.status == 0, "\(run.error)")
        let fit = try JSONDecoder().decode(LinearModelFit.self, from: Data(run.output.utf8))
        #expect(fit.combine == .exact && fit.chunks == 3)
        let expected = try await RRuntime.shared().eval("unname(coef(lm(mpg ~ wt + factor(cyl), data = mtcars)))", as: [Double].self)
        #expect(fit.coefficients.count == expected.count)
        for (coefficient, value) in zip(fit.coefficients, expected) {
            #expect(abs(coefficient.estimate - value) <= 1e-8 * abs(value), "\(coefficient.name)")
        }
    }

    /// A fit on two workers leaves nothing in the temporary folder: the command's own R session
    /// folder and each worker's (workers are killed, so their R cannot remove its own).
    @Test func aPoolFitLeavesNothingInTheTemporaryFolder() async throws {
        let parquet = try await mtcarsParquet()
        let temporary = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        let run = try await runPolybridge(["fit", "--data", parquet, "--formula", "mpg ~ wt", "--workers", "2", "--chunks", "4"],
                                          environment: ["TMPDIR": temporary])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("wt"), "\(run.output)")
        let left = try FileManager.default.contentsOfDirectory(atPath: temporary)
        #expect(left.isEmpty, "left in TMPDIR: \(left)")
    }

    @Test func wholeFitPrintsRsSummaryAndBadInputExitsOne() async throws {
        let parquet = try await mtcarsParquet()
        let run = try await runPolybridge("fit", "--data", parquet, "--formula", "mpg ~ wt")
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("Residual standard error: 3.046 on 30 degrees of freedom"))
        let refused = try await runPolybridge("fit", "--data", parquet, "--formula", "mpg ~ wt; system('true')")
        #expect(refused.status == 1)
        #expect(refused.error.contains("exactly one R formula"))
        let average = try await runPolybridge("fit", "--data", parquet, "--formula", "mpg ~ wt", "--chunks", "2", "--combine", "average")
        #expect(average.status == 0, "\(average.error)")
        #expect(average.output.hasPrefix("APPROXIMATE"))
    }
}

/// `polybridge fit --family`: R's glm on a file, as R prints it, as JSON, with R's warnings.
@Suite struct FitGLMCommandTests {
    @Test func aFamilyFitsGLMAndPrintsSummaryGLMOrJSON() async throws {
        let parquet = try await FitCommandTests().mtcarsParquet()
        let run = try await runPolybridge("fit", "--data", parquet, "--formula", "am ~ wt + hp", "--family", "binomial(link = \"probit\")")
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("family = binomial(link = \"probit\")") && run.output.contains("Number of Fisher Scoring iterations"), "\(run.output)")
        let json = try await runPolybridge("fit", "--data", parquet, "--formula", "am ~ wt + hp", "--family", "binomial", "--link", "probit", "--json")
        #expect(json.status == 0, "\(json.error)")
        let fit = try JSONDecoder().decode(GeneralizedLinearModelFit.self, from: Data(json.output.utf8))
        _ = try await RRuntime.shared().evaluate("glm_cli_mtcars <- mtcars")
        #expect(try await agreesWithGLMFromCLI(fit) == "TRUE")
        // Separation: R's warning on standard error, the fit still printed.
        let separated = try await runPolybridge("fit", "--data", parquet, "--formula", "am ~ wt + hp + disp + qsec", "--family", "binomial", "--maxit", "100")
        #expect(separated.status == 0 && separated.error.contains("warning: glm.fit: fitted probabilities numerically 0 or 1 occurred"), "\(separated.error)")
    }

    @Test func glmOptionsWithoutAFamilyOrAnAverageAreRefused() async throws {
        let parquet = try await FitCommandTests().mtcarsParquet()
        let link = try await runPolybridge("fit", "--data", parquet, "--formula", "am ~ wt", "--link", "probit")
        #expect(link.status == 64 && link.error.contains("--link, --epsilon and --maxit apply to a glm fit: give --family"), "\(link.error)")
        let average = try await runPolybridge("fit", "--data", parquet, "--formula", "am ~ wt", "--family", "binomial", "--chunks", "2",
                                              "--combine", "average")
        #expect(average.status == 64 && average.error.contains("--combine average is for lm: a glm in chunks is exact"), "\(average.error)")
        let family = try await runPolybridge("fit", "--data", parquet, "--formula", "am ~ wt", "--family", "binomal")
        #expect(family.status == 1 && family.error.contains("glm failed: unknown family 'binomal'"), "\(family.error)")
    }

    /// `--family` with `--chunks` in this process and with `--workers`: R's glm on all rows,
    /// its warnings on standard error, the table as R prints it, and the timing with --timing.
    @Test func glmInChunksInProcessAndOnWorkersEqualsGLM() async throws {
        let directory = try scratchDirectory()
        let rds = directory + "/esoph.rds", parquet = directory + "/esoph.parquet"
        _ = try await RRuntime.shared().evaluate("glm_cli_esoph <- esoph; saveRDS(esoph, '\(rds)')")
        _ = try await DataFiles.convert(rds, to: parquet)
        let formula = "cbind(ncases, ncontrols) ~ agegp + tobgp + alcgp"
        let call = "glm(\(formula), family = binomial, data = glm_cli_esoph)"
        for where_ in [["--chunks", "5"], ["--workers", "2", "--chunk-rows", "20", "--timing"]] {
            let run = try await runPolybridge(["fit", "--data", parquet, "--formula", formula, "--family", "binomial", "--json"] + where_)
            try #require(run.status == 0, "\(run.error)")
            let fit = try JSONDecoder().decode(GeneralizedLinearModelFit.self, from: Data(run.output.utf8))
            let numbers = fit.oracleNumbers
            #expect(try await agreesWithRsGLM(numbers, call) == "TRUE", "\(where_)")
            #expect(where_.contains("--timing") == run.error.contains("timing: workers ready"), "\(run.error)")
        }
        let text = try await runPolybridge("fit", "--data", parquet, "--formula", formula, "--family", "binomial", "--chunks", "4")
        let printed = try await RRuntime.shared().eval("""
            local({ s <- summary(glm(\(formula), family = binomial, data = glm_cli_esoph))
                    s$call <- quote(glm(formula = \(formula), family = binomial(link = "logit"), data = esoph.parquet))
                    paste(capture.output(print(s)), collapse = "\\n") })
            """, as: String.self)
        #expect(text.status == 0 && text.output == printed + "\n", "\(text.output)\n---\n\(printed)")
    }

    /// `--chunk-state`: memory and disk as asked; automatic keeps the state in memory unless
    /// it would take over half the memory limit (`POLYBRIDGE_MEMORY_LIMIT` here); R's glm
    /// each time. Without a glm in chunks the option is refused.
    @Test func theChunksKeepTheirStateWhereAskedOrOnDiskWhenMemoryIsShort() async throws {
        let directory = try scratchDirectory()
        let rds = directory + "/esoph.rds", parquet = directory + "/esoph.parquet"
        _ = try await RRuntime.shared().evaluate("glm_cli_esoph_state <- esoph; saveRDS(esoph, '\(rds)')")
        _ = try await DataFiles.convert(rds, to: parquet)
        let formula = "cbind(ncases, ncontrols) ~ agegp + tobgp + alcgp"
        let call = "glm(\(formula), family = binomial, data = glm_cli_esoph_state)"
        // esoph's 88 rows take at least 88 × (7 + 6) × 8 = 9.2 kB as state (7 or more columns).
        let cases: [(arguments: [String], limit: String?, onDisk: Bool)] = [
            (["--chunk-state", "disk"], nil, true), (["--chunk-state", "memory"], "10K", false),
            ([], nil, false), ([], "12K", true), (["--chunk-state", "auto", "--workers", "2"], "12K", true)]
        for (arguments, limit, onDisk) in cases {
            let run = try await runPolybridge(["fit", "--data", parquet, "--formula", formula, "--family", "binomial", "--chunks", "4",
                                               "--json", "--timing"] + arguments,
                                              environment: limit.map { ["POLYBRIDGE_MEMORY_LIMIT": $0] } ?? [:])
            try #require(run.status == 0, "\(arguments) \(limit ?? ""): \(run.error)")
            let fit = try JSONDecoder().decode(GeneralizedLinearModelFit.self, from: Data(run.output.utf8))
            #expect(fit.chunkStateOnDisk == onDisk, "\(arguments) \(limit ?? "")")
            #expect(run.error.contains("timing: chunk state kept \(onDisk ? "on disk" : "in memory")"), "\(run.error)")
            let numbers = fit.oracleNumbers
            #expect(try await agreesWithRsGLM(numbers, call) == "TRUE", "\(arguments) \(limit ?? "")")
        }
        // A formula of bare columns, whose levels Swift finds: mtcars' 32 rows and 3 columns take
        // 32 × (3 + 6) × 8 = 2.3 kB.
        let mtcars = try await FitCommandTests().mtcarsParquet()
        _ = try await RRuntime.shared().evaluate("glm_cli_mtcars <- mtcars")
        for (limit, onDisk) in [("3K", true), ("10K", false)] {
            let run = try await runPolybridge(["fit", "--data", mtcars, "--formula", "am ~ wt + hp", "--family", "binomial", "--link", "probit",
                                               "--chunks", "3", "--json"], environment: ["POLYBRIDGE_MEMORY_LIMIT": limit])
            try #require(run.status == 0, "\(limit): \(run.error)")
            let fit = try JSONDecoder().decode(GeneralizedLinearModelFit.self, from: Data(run.output.utf8))
            #expect(fit.chunkStateOnDisk == onDisk, "\(limit)")
            #expect(try await agreesWithGLMFromCLI(fit) == "TRUE", "\(limit)")
        }
        // A whole glm, and an lm in chunks, have no chunk state.
        for arguments in [["--formula", formula, "--family", "binomial"], ["--formula", "ncases ~ agegp", "--chunks", "2"]] {
            let refused = try await runPolybridge(["fit", "--data", parquet, "--chunk-state", "disk"] + arguments)
            #expect(refused.status == 64 && refused.error.contains("--chunk-state applies to a glm in chunks: give --family, and --chunks, --chunk-rows or --workers"),
                    "\(arguments): \(refused.error)")
        }
        let bad = try await runPolybridge("fit", "--data", parquet, "--formula", formula, "--family", "binomial", "--chunks", "2", "--chunk-state", "ram")
        #expect(bad.status == 64 && bad.error.contains("ram"), "\(bad.error)")
    }

    /// The CLI's probit fit against R's glm on mtcars.
    func agreesWithGLMFromCLI(_ fit: GeneralizedLinearModelFit) async throws -> String {
        let estimates = fit.coefficients.map { String(format: "%.17g", $0.estimate) }.joined(separator: ", ")
        let errors = fit.coefficients.map { String(format: "%.17g", $0.standardError) }.joined(separator: ", ")
        return try await RRuntime.shared().eval("""
            local({ g <- glm(am ~ wt + hp, family = binomial(link = "probit"), data = glm_cli_mtcars); s <- summary(g)
                    ok <- isTRUE(all.equal(unname(coef(s)[, 1]), c(\(estimates)), tolerance = 1e-8)) &&
                          isTRUE(all.equal(unname(coef(s)[, 2]), c(\(errors)), tolerance = 1e-8)) &&
                          isTRUE(all.equal(g$deviance, \(String(format: "%.17g", fit.deviance)), tolerance = 1e-8)) &&
                          isTRUE(all.equal(g$aic, \(String(format: "%.17g", fit.aic)), tolerance = 1e-8)) && g$iter == \(fit.iterations)
                    if (ok) "TRUE" else "FALSE" })
            """, as: String.self)
    }
}

/// Fits too big for memory, and long fits, as a log (not a terminal) shows them.
@Suite struct FitSizeAndLogTests {
    /// A CSV of 30,000 rows with a text column of about 4,000 values.
    func wideCodeCSV() async throws -> String {
        let csv = try scratchDirectory() + "/codes.csv"
        _ = try await RRuntime.shared().evaluate("""
            local({ set.seed(2); n <- 30000; write.csv(data.frame(y = rnorm(n), x = rnorm(n), code = sprintf("C%04d", sample(4000, n, TRUE))),
                                                       '\(csv)', row.names = FALSE) })
            """)
        return csv
    }

    /// `y ~ .` with a text column of thousands of values is refused before lm starts when its
    /// model matrix would not fit in memory (here a limit of 500 MB), naming the column.
    @Test func aModelMatrixLargerThanMemoryIsRefusedNamingTheColumn() async throws {
        let csv = try await wideCodeCSV()
        let distinct = try await RRuntime.shared().eval("length(unique(read.csv('\(csv)')$code))", as: Int.self)
        let run = try await runPolybridge(["fit", "--data", csv, "--formula", "y ~ ."], environment: ["POLYBRIDGE_MEMORY_LIMIT": "500M"])
        #expect(run.status == 1)
        #expect(run.error.contains("the model matrix would be 30000 rows × \(distinct + 1) columns"), "\(run.error)")
        #expect(run.error.contains("code alone adds \(distinct - 1) columns (\(distinct) distinct values)"), "\(run.error)")
        // Without the column, the same limit holds the model.
        let small = try await runPolybridge(["fit", "--data", csv, "--formula", "y ~ x"], environment: ["POLYBRIDGE_MEMORY_LIMIT": "500M"])
        #expect(small.status == 0, "\(small.error)")
    }

    /// A chunked fit is refused before any chunk builds its model matrix when the chunks would
    /// not fit in memory: through R (`y ~ .`), on the native path (bare columns), in this
    /// process and on workers. The column count is what R's model.matrix gives on the first
    /// chunk's rows, the levels known when the fit is refused.
    @Test func aChunkedFitLargerThanMemoryIsRefusedBeforeItStartsNamingTheColumn() async throws {
        let csv = try await wideCodeCSV()
        for (formula, extra, firstRows) in [("y ~ .", ["--chunks", "3"], 10000), ("y ~ x + code", ["--chunks", "3"], 10000),
                                            ("y ~ .", ["--workers", "2", "--chunks", "4"], 7500)] {
            let expected = try await RRuntime.shared().eval("""
                local({ d <- read.csv('\(csv)')[seq_len(\(firstRows)), ]; d$code <- factor(d$code)
                        c(ncol(model.matrix(y ~ x + code, d)), nlevels(d$code)) })
                """, as: [Double].self).map { Int($0) }
            let run = try await runPolybridge(["fit", "--data", csv, "--formula", formula] + extra,
                                              environment: ["POLYBRIDGE_MEMORY_LIMIT": "500M"])
            #expect(run.status == 1, "\(formula) \(extra)")
            #expect(run.error.contains("error: the model has at least \(expected[0]) columns: \(extra.last!) chunk(s) of up to \(firstRows) rows"),
                    "\(run.error)")
            #expect(run.error.contains("code alone adds \(expected[1] - 1) columns (\(expected[1]) distinct values)"), "\(run.error)")
            #expect(!run.error.contains("pass 2/2"), "\(run.error)")
        }
        let small = try await runPolybridge(["fit", "--data", csv, "--formula", "y ~ x", "--chunks", "3"],
                                            environment: ["POLYBRIDGE_MEMORY_LIMIT": "500M"])
        #expect(small.status == 0, "\(small.error)")
    }

    /// With standard error not a terminal, a long fit prints a plain line every few seconds.
    @Test func aLongFitPrintsAProgressLineToALog() async throws {
        let csv = try await wideCodeCSV()
        let run = try await runPolybridge(["fit", "--data", csv, "--formula", "y ~ x + I(x + 0 * length(Sys.sleep(2)))"],
                                          environment: ["POLYBRIDGE_PROGRESS_SECONDS": "1"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.error.contains("fit: 1 s: lm on the whole of codes.csv\n"), "\(run.error)")
        let chunked = try await runPolybridge(["fit", "--data", csv, "--formula", "y ~ x + I(x + 0 * length(Sys.sleep(1)))", "--chunks", "3",
                                               "--row-wise", "length", "--row-wise", "Sys.sleep"], environment: ["POLYBRIDGE_PROGRESS_SECONDS": "1"])
        #expect(chunked.status == 0, "\(chunked.error)")
        #expect(chunked.error.contains("pass 2/2 factor, "), "\(chunked.error)")
    }
}

/// What a user at a terminal sees: the progress bar, and `--plot`'s PNG.
@Suite struct FitProgressAndPlotTests {
    /// The PNG's signature and its width and height from the IHDR chunk.
    func pngSize(_ path: String) throws -> (width: Int, height: Int)? {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        guard bytes.count > 24, bytes.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
              bytes[12..<16] == [0x49, 0x48, 0x44, 0x52] else { return nil }
        let number = { (start: Int) in bytes[start..<(start + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (number(16), number(20))
    }

    @Test func aTerminalShowsTheProgressBarAPipeDoesNot() async throws {
        let parquet = try await FitCommandTests().mtcarsParquet()
        let terminal = try await runPolybridgeOnATerminal("fit", "--data", parquet, "--formula", "mpg ~ wt + factor(cyl)",
                                                    "--workers", "2", "--chunks", "4")
        #expect(terminal.status == 0, "\(terminal.error)")
        #expect(terminal.output.contains("pass 1/2 levels ["), "\(terminal.output)")
        #expect(terminal.output.contains("pass 2/2 factor [########################] 4/4 chunks"), "\(terminal.output)")
        #expect(terminal.output.contains("rows/s"))
        #expect(terminal.output.contains("Residual standard error"))
        // The bar, not the plain progress log a long fit prints to a pipe (kept out of the way:
        // on a busy machine this fit can pass the log's 10 s).
        let piped = try await runPolybridge(["fit", "--data", parquet, "--formula", "mpg ~ wt + factor(cyl)", "--chunks", "4"],
                                            environment: ["POLYBRIDGE_PROGRESS_SECONDS": "3600"])
        #expect(piped.status == 0 && !piped.error.contains("pass 1/2"), "\(piped.error)")
    }

    @Test func plotWritesACoefficientPNG() async throws {
        let parquet = try await FitCommandTests().mtcarsParquet()
        let directory = try scratchDirectory()
        let plot = directory + "/coef.png"
        let run = try await runPolybridge("fit", "--data", parquet, "--formula", "mpg ~ wt + factor(cyl)", "--chunks", "2", "--plot", plot)
        #expect(run.status == 0, "\(run.error)")
        let size = try #require(try pngSize(plot))
        #expect(size.width == 1000 && size.height >= 320)
        // Nothing but the plot is left in the directory (it was drawn aside and renamed).
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0 != "coef.png" }.isEmpty)
        let refused = try await runPolybridge("fit", "--data", parquet, "--formula", "mpg ~ wt", "--plot", directory + "/missing/coef.png")
        #expect(refused.status == 1 && refused.error.contains("\(directory)/missing/coef.png: cannot write: the directory \(directory)/missing does not exist"), "\(refused.error)")
    }

    /// `--save` writes an RDS file R reads as a `polybridge_fit` list, whose predictions through
    /// the Swift API are R's `predict` of R's own glm; with `--by`, one fit per group is saved
    /// (each R's lm of the group); a formula it cannot save and an unwritable path are refused.
    @Test func saveWritesAFitRReadsAndPredictsFrom() async throws {
        let parquet = try await FitCommandTests().mtcarsParquet()
        let directory = try scratchDirectory()
        let path = directory + "/am.rds"
        let run = try await runPolybridge("fit", "--data", parquet, "--formula", "am ~ wt + hp", "--family", "binomial", "--chunks", "2", "--save", path)
        #expect(run.status == 0, "\(run.error)")
        let same = try await RRuntime.shared().eval("""
            local({ f <- readRDS('\(path)'); fit <- glm(am ~ wt + hp, family = binomial, data = mtcars)
                    inherits(f, 'polybridge_fit') && identical(f$model, 'glm') && identical(f$terms, names(coef(fit))) &&
                      isTRUE(all.equal(f$coefficients, unname(coef(fit)), tolerance = 1e-8)) })
            """, as: Bool.self)
        #expect(same)
        let saved = try await SavedFit.read(path)
        let predicted = try await saved.predict(try await DataFiles.readTable(parquet), type: .response)
        let expected = try await RRuntime.shared().eval("unname(predict(glm(am ~ wt + hp, family = binomial, data = mtcars), type = 'response'))",
                                                        as: [Double].self)
        #expect(zip(predicted, expected).allSatisfy { abs($0 - $1) <= 1e-12 * abs($1) })
        let refused = try await runPolybridge("fit", "--data", parquet, "--formula", "mpg ~ poly(wt, 2)", "--save", path + ".2")
        #expect(refused.status == 1 && refused.error.contains("--save takes formulas of bare columns and their products, not mpg ~ poly(wt, 2)"),
                "\(refused.error)")
        let unwritable = try await runPolybridge("fit", "--data", parquet, "--formula", "mpg ~ wt", "--save", directory + "/missing/f.rds")
        #expect(unwritable.status == 1 && unwritable.error.contains("cannot write the saved fit"), "\(unwritable.error)")
        let groupedPath = directory + "/by_cyl.rds"
        let grouped = try await runPolybridge("fit", "--data", parquet, "--formula", "mpg ~ wt + hp", "--by", "cyl", "--chunks", "2", "--save", groupedPath)
        #expect(grouped.status == 0, "\(grouped.error)")
        let perGroup = try await RRuntime.shared().eval("""
            local({ f <- readRDS('\(groupedPath)')
                    identical(f$by, 'cyl') && identical(sapply(f$groups, `[[`, 'key'), c('4', '6', '8')) &&
                      all(mapply(function(g, cyl) isTRUE(all.equal(g$coefficients, unname(coef(lm(mpg ~ wt + hp, data = mtcars[mtcars$cyl == cyl, ]))),
                                                                  tolerance = 1e-12)), f$groups, c(4, 6, 8))) })
            """, as: Bool.self)
        #expect(perGroup)
        let groupedRefused = try await runPolybridge("fit", "--data", parquet, "--formula", "mpg ~ log(wt)", "--by", "cyl", "--save", groupedPath + ".2")
        #expect(groupedRefused.status == 1 && groupedRefused.error.contains("--save takes formulas of bare columns"), "\(groupedRefused.error)")
    }
}

/// `polybridge fit --workers`: the pool from the command line.
@Suite struct FitWorkersCommandTests {
    /// The `polybridge worker` processes whose parent is `pid`.
    func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { candidate in
            guard let stat = try? String(contentsOfFile: "/proc/\(candidate)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == pid
        }.filter(ProcessTable.isPolybridgeWorker)  // not a short-lived helper such as `R RHOME`
    }

    @Test func workersGiveLMsAnswer() async throws {
        let parquet = try await FitCommandTests().mtcarsParquet()
        let run = try await runPolybridge("fit", "--data", parquet, "--formula", "mpg ~ wt + factor(cyl)", "--workers", "2", "--chunks", "4", "--json")
        #expect(run.status == 0, "\(run.error)")
        let fit = try JSONDecoder().decode(LinearModelFit.self, from: Data(run.output.utf8))
        let expected = try await RRuntime.shared().eval("unname(coef(lm(mpg ~ wt + factor(cyl), data = mtcars)))", as: [Double].self)
        #expect(zip(fit.coefficients, expected).allSatisfy { abs($0.estimate - $1) <= 1e-8 * abs($1) })
        #expect(fit.chunks == 4)
    }

    /// A Parquet file whose row groups hold 5, 5 and 3 rows, fitted on 2 workers with the default
    /// chunks (whole row groups, at least one chunk per worker: 10 and 3 rows): the short chunk
    /// lacks a factor level, and the standard errors and sigma are still lm's (R reads the same
    /// rows from CSV).
    @Test func shortRowGroupsOnWorkersGiveLMsStandardErrors() async throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let csv = directory + "/d.csv", parquet = directory + "/d.parquet"
        _ = try await RRuntime.shared().evaluate("""
            write.csv(data.frame(y = c(1, 2, 4, 7, 3, 9, 5, 6, 8, 2, 4, 6, 1),
                                 g = c("a", "a", "b", "b", "c", "c", "a", "a", "b", "c", "c", "c", "a")), '\(csv)', row.names = FALSE)
            """)
        let written = try await runCommand("/usr/bin/env", ["python3", "-c", """
            import pyarrow.csv, pyarrow.parquet as pq
            pq.write_table(pyarrow.csv.read_csv('\(csv)'), '\(parquet)', row_group_size=5)
            """])
        #expect(written.status == 0, "\(written.error)")
        let run = try await runPolybridge("fit", "--data", parquet, "--formula", "y ~ g", "--workers", "2", "--json")
        #expect(run.status == 0, "\(run.error)")
        let fit = try JSONDecoder().decode(LinearModelFit.self, from: Data(run.output.utf8))
        #expect(fit.chunks == 2)
        let expected = try await RRuntime.shared().eval("""
            local({ s <- summary(lm(y ~ g, data = read.csv('\(csv)'))); c(coef(s)[, 2], s$sigma) })
            """, as: [Double].self)
        let actual = fit.coefficients.map(\.standardError) + [fit.residualStandardError]
        #expect(actual.count == expected.count && zip(actual, expected).allSatisfy { abs($0 - $1) <= 1e-10 * abs($1) },
                "\(actual) vs lm's \(expected)")
    }

    /// A FIFO as the data of a fit on workers is refused at once (every worker blocked on it
    /// for good); without workers it is read once, as any file.
    @Test func aFIFOForWorkersIsRefusedNotWaitedOn() async throws {
        let fifo = try scratchDirectory() + "/data.csv"
        #expect(mkfifo(fifo, 0o600) == 0)
        let run = try await runCommand("/usr/bin/timeout", ["60", polybridgeExecutable().path, "fit", "--data", fifo,
                                                            "--formula", "y ~ x", "--workers", "2"])
        #expect(run.status == 1, "status \(run.status) (124: still waiting after 60 s): \(run.error)")
        #expect(run.error.contains("\(fifo) is not a regular file"), "\(run.error)")
    }

    /// Ctrl-C while workers are busy: exit 130 and no worker process left.
    @Test func ctrlCLeavesNoWorkerBehind() async throws {
        let parquet = try await FitCommandTests().mtcarsParquet()
        let process = Process()
        (process.executableURL, process.arguments) = withDefaultInterrupt(polybridgeExecutable(), [
            "fit", "--data", parquet, "--formula", "mpg ~ I(wt + 0 * length(Sys.sleep(600)))", "--row-wise", "length", "--row-wise", "Sys.sleep", "--workers", "2", "--chunks", "4"])
        process.environment = childEnvironment()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var workers: [Int32] = []
        for _ in 0..<1200 where workers.count < 2 {
            workers = children(of: process.processIdentifier)
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(workers.count == 2, "the workers never started")
        try await Task.sleep(for: .seconds(2))  // the workers are inside their chunks
        kill(process.processIdentifier, SIGINT)
        for _ in 0..<600 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(process.terminationStatus == 130)
        for _ in 0..<100 where workers.contains(where: { kill($0, 0) == 0 }) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!workers.contains(where: { kill($0, 0) == 0 }), "a worker outlived the command")
    }
}

/// Extreme integers in a chunked fit's columns.
@Suite struct FitIntegerRangeTests {
    /// -2^63 in an int64 column crashed the Swift model matrix (abs(Int64.min) traps); it is an
    /// error naming the value, as R's own conversion reports it.
    @Test func int64MinimumInAChunkedFitIsAnErrorNotACrash() async throws {
        let parquet = try scratchDirectory() + "/extreme.parquet"
        try PythonRuntime.shared().exec("""
            import pyarrow as pa, pyarrow.parquet as pq
            pq.write_table(pa.table({'y': [1.0, 2.0, 3.0, 4.0], 'v': pa.array([5, -2**63, 3, 4], pa.int64())}), '\(parquet)')
            """)
        let run = try await runPolybridge("fit", "--data", parquet, "--formula", "y ~ v", "--chunks", "2")
        #expect(run.status == 1, "\(run.status) \(run.error)")
        #expect(run.error.contains("int64 value -9223372036854775808"), "\(run.error)")
    }
}
