import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// A fit per group saved for prediction (`polybridge fit --by … --save`): each row is predicted
/// with its group's fit, equal to R's `predict()` on R's own lm or glm of that group's rows (as
/// `split()` makes them) to 1e-12; a key with no group, a group whose fit failed and a level
/// the group did not see are errors.
@Suite struct SavedGroupedFitTests {
    /// Groups by `k` (text) and `j` (numbers): group `a` lacks level `p` of `g` (its own levels),
    /// group `e` has one level of `g` (R's lm and glm fail there), two rows have no key.
    static let data = """
        set.seed(61); n <- 400
        d <- data.frame(k = sample(c("b", "a", "ç", "d", "e"), n, TRUE), j = sample(1:2, n, TRUE), x = rnorm(n), w = runif(n),
                        g = factor(sample(c("p", "q", "r"), n, TRUE)), s = sample(c("u", "v"), n, TRUE))
        d$g[d$k == "a" & d$g == "p"] <- "q"
        d$g[d$k == "e"] <- "r"
        d$y <- 1 + d$x - d$w + as.integer(d$g) + (d$s == "v") + rnorm(n)
        d$b <- rbinom(n, 1, plogis(0.4 * d$x - d$w + 0.2 * as.integer(d$g)))
        d$k[c(7, 9)] <- NA
        d$x[11] <- NA
        d
        """
    /// Rows of every fitted group, a missing predictor and a missing key.
    static let newData = """
        data.frame(k = c("a", "b", "ç", "d", "b", NA, "ç"), j = c(1, 2, 1, 2, 1, 1, 2), x = c(0.5, -1, NA, 2, 0.1, 1, -0.3),
                   w = c(0.2, 0.4, 0.6, 0.8, 0.5, 0.5, 0.1), g = c("q", "p", "r", "q", "r", "p", "p"), s = c("u", "v", "u", "v", "v", "u", "v"))
        """

    /// Whether `mine` equals R's predict, row by row, from R's `fit` (an lm or glm call on `d`)
    /// of the row's group by `keys`.
    func agrees(_ mine: [Double], fit: String, keys: [String], type: SavedFit.PredictionType, data: String = "saved_grouped",
                tolerance: Double = 1e-12) async throws -> Bool {
        let code = """
            local({
              d <- \(data); nd <- \(data)_new; keys <- c(\(keys.map { "'\($0)'" }.joined(separator: ", ")))
              expected <- vapply(seq_len(nrow(nd)), function(i) {
                if (anyNA(unlist(nd[i, keys]))) return(NA_real_)
                rows <- Reduce(`&`, lapply(keys, function(k) !is.na(d[[k]]) & d[[k]] == nd[[k]][i]))
                d <- d[rows, ]
                unname(suppressWarnings(predict(\(fit), nd[i, , drop = FALSE], type = '\(type.rawValue)')))
              }, 0)
              mine <- c(\(mine.map { $0.isNaN ? "NA" : String(format: "%.17g", $0) }.joined(separator: ", ")))
              identical(is.na(mine), is.na(expected)) && isTRUE(all.equal(mine, expected, tolerance = \(tolerance)))
            })
            """
        return try await RRuntime.shared().eval(code, as: Bool.self)
    }

    func newTable(_ code: String, _ name: String) async throws -> ArrowTable {
        let rds = try scratchDirectory() + "/\(name).rds"
        _ = try await RRuntime.shared().evaluate("\(name) <- \(code); saveRDS(\(name), '\(rds)')")
        return try await DataFiles.readTable(rds)
    }

    /// Writes `saved`, reads it back in Swift and checks what R reads.
    func roundTrip(_ saved: SavedFit, _ name: String) async throws -> SavedFit {
        let path = try scratchDirectory() + "/\(name).rds"
        try await saved.write(to: path)
        let read = try await SavedFit.read(path)
        #expect(read.by == saved.by && read.groups.map(\.key) == saved.groups.map(\.key) && read.groups.map(\.terms) == saved.groups.map(\.terms)
                && read.groups.map(\.coefficients) == saved.groups.map(\.coefficients) && read.groups.map(\.levels) == saved.groups.map(\.levels)
                && read.groups.map(\.error) == saved.groups.map(\.error) && read.groups.map(\.residualDF) == saved.groups.map(\.residualDF))
        let inR = try await RRuntime.shared().eval("""
            local({ f <- readRDS('\(path)'); inherits(f, 'polybridge_fit') && identical(f$by, c(\(saved.by.map { "'\($0)'" }.joined(separator: ", ")))) &&
                    length(f$groups) == \(saved.groups.count) })
            """, as: Bool.self)
        #expect(inR)
        return read
    }

    @Test func eachRowIsPredictedWithItsGroupsFit() async throws {
        let path = try await glmParquet("saved_grouped", Self.data)
        let table = try await newTable(Self.newData, "saved_grouped_new")
        for keys in [["k"], ["k", "j"]] {
            for chunks in [nil, 3] {
                var options = FileFitOptions()
                options.chunks = chunks
                let lm = LinearModelSpecification(formula: "y ~ x + w + g + s")
                let (lmFit, _) = try await LinearModel.fitGrouped(file: path, by: keys, lm, options: options)
                let savedLM = try await roundTrip(try #require(try await SavedFit.from(lmFit, file: path, by: keys, lm)), "saved_grouped_lm")
                #expect(savedLM.groups.filter { $0.error != nil }.count == (keys.count == 1 ? 1 : 2), "group e fails")
                let lmPredictions = try await savedLM.predict(table)
                #expect(try await agrees(lmPredictions, fit: "lm(y ~ x + w + g + s, data = d)", keys: keys, type: .response),
                        "lm by \(keys) in \(chunks ?? 1) chunks")
                // The check's check: one group's coefficient off by 1e-9 (relative) fails it.
                var perturbed = savedLM
                perturbed.groups[0].coefficients[0] *= 1 + 1e-9
                let off = try await perturbed.predict(table)
                #expect(!(try await agrees(off, fit: "lm(y ~ x + w + g + s, data = d)", keys: keys, type: .response)))

                let glm = GeneralizedLinearModelSpecification(formula: "b ~ x + g", family: "binomial")
                let (glmFit, _) = try await GeneralizedLinearModel.fitGrouped(file: path, by: keys, glm, options: options)
                let savedGLM = try await roundTrip(try #require(try await SavedFit.from(glmFit, file: path, by: keys, glm)), "saved_grouped_glm")
                #expect(savedGLM.link == "logit")
                for type in SavedFit.PredictionType.allCases {
                    let predictions = try await savedGLM.predict(table, type: type)
                    #expect(try await agrees(predictions, fit: "glm(b ~ x + g, family = binomial, data = d)", keys: keys, type: type),
                            "glm by \(keys) in \(chunks ?? 1) chunks, \(type)")
                }
            }
        }
    }

    /// A key with no group, a group whose fit failed, a level the group did not see (R's
    /// message), an absent key column and intervals are refused, each naming what is wrong.
    @Test func unknownGroupsFailedGroupsAndNewLevelsAreRefused() async throws {
        let path = try await glmParquet("saved_grouped_bad", Self.data)
        let lm = LinearModelSpecification(formula: "y ~ x + g")
        let (fit, _) = try await LinearModel.fitGrouped(file: path, by: ["k"], lm, options: FileFitOptions())
        let predictor = try await #require(try await SavedFit.from(fit, file: path, by: ["k"], lm)).predictor()
        #expect(predictor.columns == ["k", "x", "g"] && predictor.textColumns == ["k", "g"])

        let unknown = try await newTable(#"data.frame(k = c("b", "zz"), x = 1, g = "q")"#, "saved_grouped_unknown")
        #expect { try predictor.predict(unknown) } throws: { "\($0)".contains("row 2: the saved fit has no group k=zz") }

        let failed = try await newTable(#"data.frame(k = "e", x = 1, g = "r")"#, "saved_grouped_failed")
        let message = try await RRuntime.shared().eval(
            "tryCatch(lm(y ~ x + g, data = saved_grouped_bad[!is.na(saved_grouped_bad$k) & saved_grouped_bad$k == 'e', ]), error = conditionMessage)",
            as: String.self)
        #expect { try predictor.predict(failed) } throws: { error in
            guard case SavedFitPredictionError.groupNotFitted(let group, let reason) = error else { return false }
            return group == "k=e" && reason.contains(message)
        }

        let newLevel = try await newTable(#"data.frame(k = c("a", "b"), x = 1, g = c("p", "p"))"#, "saved_grouped_level")
        let rMessage = try await RRuntime.shared().eval("""
            tryCatch(predict(lm(y ~ x + g, data = saved_grouped_bad[!is.na(saved_grouped_bad$k) & saved_grouped_bad$k == 'a', ]),
                             data.frame(x = 1, g = 'p')), error = conditionMessage)
            """, as: String.self)
        #expect(rMessage == "factor g has new level p")
        #expect { try predictor.predict(newLevel) } throws: { "\($0)".contains("\(rMessage) (in group k=a)") }

        // Text keys that read as numbers stay text: "007" and "7" are two groups.
        let codes = try await glmParquet("saved_grouped_codes", """
            set.seed(5); d <- data.frame(code = rep(c("007", "7"), each = 20), x = rnorm(40)); d$y <- d$x * ifelse(d$code == "7", 2, -1) + rnorm(40); d
            """)
        let codeSpec = LinearModelSpecification(formula: "y ~ x")
        let (codeFit, _) = try await LinearModel.fitGrouped(file: codes, by: ["code"], codeSpec, options: FileFitOptions())
        let codeSaved = try #require(try await SavedFit.from(codeFit, file: codes, by: ["code"], codeSpec))
        let codePredictor = try await codeSaved.predictor()
        #expect(codeSaved.keyTypes == ["text"] && codePredictor.textColumns.contains("code"))
        let codeRows = try await newTable(#"data.frame(code = c("007", "7"), x = 1)"#, "saved_grouped_code_rows")
        let byCode = try codePredictor.predict(codeRows)
        let rByCode = try await RRuntime.shared().eval("""
            sapply(c("007", "7"), function(k) predict(lm(y ~ x, saved_grouped_codes[saved_grouped_codes$code == k, ]), data.frame(x = 1)))
            """, as: [Double].self)
        #expect(zip(byCode, rByCode).allSatisfy { abs($0 - $1) <= 1e-12 * abs($1) }, "\(byCode) \(rByCode)")
        // A file whose coefficients do not match its terms is refused, not read past its end.
        var crafted = codeSaved
        crafted.groups[0].coefficients.removeLast()
        await #expect(throws: LinearModelError.self) { _ = try await crafted.predictor() }

        let noKey = try await newTable(#"data.frame(x = 1, g = "q")"#, "saved_grouped_nokey")
        #expect { try predictor.predict(noKey) } throws: { "\($0)".contains("no column 'k'") }
        #expect(throws: LinearModelError.self) { try predictor.predict(noKey, interval: .confidence) }
    }

    /// Random small data (1 to 4 groups of 1 to 30 rows, a factor some groups lack a level of,
    /// missing values, an aliased column) and random formulas: each row of new data from a
    /// fitted group is predicted as R's own fit of that group predicts it.
    @Test(arguments: 0..<12) func randomGroupsPredictAsRDoes(seed: Int) async throws {
        let formulas = ["y ~ x + g", "y ~ x", "y ~ 0 + x + g", "y ~ x + z + g", "y ~ x:g"]
        let formula = formulas[seed % formulas.count]
        let glm = seed % 3 == 2
        let name = "saved_grouped_r\(seed)"
        let path = try await glmParquet(name, """
            set.seed(\(700 + seed)); n <- sample(8:70, 1)
            d <- data.frame(k = sample(1:sample(1:4, 1), n, TRUE), x = round(rnorm(n), 2), g = factor(sample(c("p", "q", "r"), n, TRUE)))
            d$z <- 3 * d$x
            d$g[d$k == 1 & d$g == "p"] <- "q"
            d$y <- d$x + as.integer(d$g) + rnorm(n)
            d$b <- rbinom(n, 1, 0.5)
            d$x[sample(n, 2)] <- NA
            d
            """)
        let response = glm ? "b" : "y"
        let modelFormula = response + formula.dropFirst()
        let saved: SavedFit
        if glm {
            let specification = GeneralizedLinearModelSpecification(formula: modelFormula, family: "binomial")
            let (fit, _) = try await GeneralizedLinearModel.fitGrouped(file: path, by: ["k"], specification, options: FileFitOptions())
            saved = try #require(try await SavedFit.from(fit, file: path, by: ["k"], specification))
        } else {
            let specification = LinearModelSpecification(formula: modelFormula)
            let (fit, _) = try await LinearModel.fitGrouped(file: path, by: ["k"], specification, options: FileFitOptions())
            saved = try #require(try await SavedFit.from(fit, file: path, by: ["k"], specification))
        }
        let fitted = saved.groups.filter { $0.error == nil }.map { $0.key[0] }
        try #require(!fitted.isEmpty, "seed \(seed): no group was fitted")
        // New rows of the fitted groups, with levels each group's kept rows have.
        let table = try await newTable("""
            local({ d <- \(name)[complete.cases(\(name)) & \(name)$k %in% c(\(fitted.joined(separator: ", "))), ]
                    nd <- d[sample(nrow(d), min(nrow(d), 10)), c("k", "x", "z", "g")]
                    nd$x <- round(rnorm(nrow(nd)), 3); nd$z <- 3 * nd$x; rownames(nd) <- NULL; nd })
            """, name + "_new")
        for type in glm ? SavedFit.PredictionType.allCases : [.response] {
            let mine = try await saved.predict(table, type: type)
            #expect(mine.contains { !$0.isNaN }, "seed \(seed): nothing predicted")
            let fit = glm ? "glm(\(modelFormula), family = binomial, data = d)" : "lm(\(modelFormula), data = d)"
            #expect(try await agrees(mine, fit: fit, keys: ["k"], type: type, data: name), "seed \(seed): \(modelFormula) \(type)")
        }
    }
}
