import Foundation

/// One glm per group in Swift, as `glm.fit` computes it: the family's starting means, IRLS
/// rounds solved by ``LimitedPivotQR`` at glm.fit's tolerance, its convergence rule, then
/// `summary.glm`'s dispersion and standard errors from the last round's QR, the null deviance
/// and the family's AIC. It covers the well-behaved fits only: anything where R would warn,
/// halve a step, stop, or refit (an offset's null deviance), and a fit near separation (more
/// than 12 rounds, or a deviance at most 1e-6 of the null deviance), returns nil, and R's own
/// glm fits that group with its own result or message.
extension NativeGroupedLM {
    /// What a glm per group asks of the native path.
    struct GLMOptions: Sendable {
        var family: NativeFamily
        /// quasibinomial or quasipoisson: the fit of the base family, a Pearson dispersion, no AIC.
        var quasi: Bool
        var epsilon: Double
        var maxit: Int
    }

    /// Whether the native path fits this family and link (the others go to R).
    static func coversGLM(_ family: NativeFamily) -> Bool {
        switch (family.family, family.link) {
        case (.binomial, .logit), (.binomial, .cloglog), (.binomial, .log):
            return true
        case (.poisson, .log), (.poisson, .identity), (.poisson, .sqrt):
            return true
        case (.gaussian, .identity), (.gaussian, .log), (.gaussian, .inverse):
            return true
        default:
            return false
        }
    }

    /// The glm of the group of `rows`, or nil for R to fit it.
    func fitGLM(rows: [Int], _ options: GLMOptions) async throws -> NativeGroupResult? {
        let started = ContinuousClock.now
        guard let design = try await design(rows: rows) else { return nil }
        let family = options.family
        let (full, n, p) = (design.full, design.n, design.p)
        let y = design.response
        let prior = design.weights ?? [Double](repeating: 1, count: n)
        let offset = design.offset ?? [Double](repeating: 0, count: n)
        let intercept = design.layout.intercept
        // An offset with an intercept: glm refits the null model by IRLS (R does it).
        if design.offset != nil && intercept { return nil }
        // The family's initialize, and what would make R warn or stop there.
        var mu = [Double](repeating: 0, count: n)
        switch family.family {
        case .binomial:
            for i in 0..<n {
                let yi = prior[i] == 0 ? 0 : y[i]
                guard yi == 0 || yi == 1, prior[i] == prior[i].rounded() else { return nil }
                mu[i] = (prior[i] * yi + 0.5) / (prior[i] + 1)
            }
        case .poisson:
            for i in 0..<n {
                guard y[i] >= 0, options.quasi || y[i] == y[i].rounded() else { return nil }
                mu[i] = y[i] + 0.1
            }
        case .gaussian:
            for i in 0..<n {
                if family.link == .log && y[i] <= 0 || family.link == .inverse && y[i] == 0 { return nil }
                mu[i] = y[i]
            }
        default:
            return nil
        }
        let response = family.family == .binomial ? (0..<n).map { prior[$0] == 0 ? 0 : y[$0] } : y
        var eta = mu.map { link(family, $0) }
        for i in 0..<n {
            mu[i] = family.mean(eta[i])
            guard family.validMean(mu[i]), family.validEta(eta[i]) else { return nil }
        }
        func deviance(_ mu: [Double]) -> Double { (0..<n).reduce(0) { $0 + family.deviance(response[$1], mu[$1], prior[$1]) } }
        var devianceBefore = deviance(mu)
        var coefficients = [Double](repeating: 0, count: p)
        var last: LimitedPivotQR?
        var lastWeights: [Double] = []
        var iterations = 0, converged = false
        let tolerance = min(1e-7, options.epsilon / 1000)
        for iteration in 1...max(1, options.maxit) {
            iterations = iteration
            var good: [Int] = [], z: [Double] = [], w: [Double] = []
            for i in 0..<n where prior[i] > 0 {
                let variance = family.variance(mu[i]), derivative = family.meanDerivative(eta[i])
                guard variance.isFinite, derivative.isFinite, variance != 0 else { return nil }
                guard derivative != 0 else { continue }
                good.append(i)
                z.append(eta[i] - offset[i] + (response[i] - mu[i]) / derivative)
                w.append((prior[i] * derivative * derivative / variance).squareRoot())
            }
            let m = good.count
            guard m >= p, m > 0 else { return nil }
            var x = [Double](repeating: 0, count: m * p)
            for (k, row) in good.enumerated() {
                for j in 0..<p { x[j * m + k] = full[j * n + row] * w[k] }
                z[k] *= w[k]
            }
            let qr = LimitedPivotQR(consume x, rows: m, columns: p, tolerance: tolerance)
            let solved = qr.solve(z).coefficients
            guard qr.rank > 0 else { return nil }
            var next = [Double](repeating: 0, count: p)
            for j in 0..<p { next[j] = solved[j].isNaN ? 0 : solved[j] }
            guard next.allSatisfy(\.isFinite) else { return nil }
            for i in 0..<n {
                var value = 0.0
                for j in 0..<p { value += full[j * n + i] * next[j] }
                eta[i] = value + offset[i]
                mu[i] = family.mean(eta[i])
            }
            let devianceNow = deviance(mu)
            // Step-halving (a deviance that is not finite, a mean or predictor out of range): R.
            guard devianceNow.isFinite, (0..<n).allSatisfy({ family.validEta(eta[$0]) && family.validMean(mu[$0]) }) else { return nil }
            coefficients = solved
            last = qr
            lastWeights = [Double](repeating: 0, count: n)
            for (k, row) in good.enumerated() { lastWeights[row] = w[k] * w[k] }
            if abs(devianceNow - devianceBefore) / (abs(devianceNow) + 0.1) < options.epsilon {
                converged = true
                devianceBefore = devianceNow
                break
            }
            devianceBefore = devianceNow
        }
        guard converged, let qr = last else { return nil }
        // A fit that needs many rounds is near separation: its last digits follow every
        // rounding of every round, so R fits it.
        guard iterations <= 12 else { return nil }
        // glm.fit's warnings: fitted probabilities or rates numerically 0 or 1.
        let eps = 10 * Double.ulpOfOne
        switch family.family {
        case .binomial where mu.contains(where: { $0 > 1 - eps || $0 < eps }): return nil
        case .poisson where mu.contains(where: { $0 < eps }): return nil
        default: break
        }
        let dev = devianceBefore
        let usable = prior.filter { $0 != 0 }.count
        let rank = qr.rank, residualDF = usable - rank
        // The null deviance: the weighted mean with an intercept, else the offset's mean.
        let weightSum = prior.reduce(0, +)
        let nullMean = intercept ? (0..<n).reduce(0) { $0 + prior[$1] * response[$1] } / weightSum : family.mean(0)
        let nullDeviance = (0..<n).reduce(0) { $0 + family.deviance(response[$1], intercept ? nullMean : family.mean(offset[$1]), prior[$1]) }
        // So is a fit that is (almost) perfect, or saturated: R fits it too.
        guard !(dev <= 1e-6 * nullDeviance) else { return nil }
        // summary.glm: the dispersion (1, or Pearson's from the working residuals and weights).
        let fixed = !options.quasi && (family.family == .binomial || family.family == .poisson)
        var dispersion = 1.0
        if !fixed {
            guard residualDF > 0 else { return nil }
            var sum = 0.0
            for i in 0..<n where lastWeights[i] > 0 {
                let residual = (response[i] - mu[i]) / family.meanDerivative(eta[i])
                sum += lastWeights[i] * residual * residual
            }
            dispersion = sum / Double(residualDF)
        }
        let variances = qr.unscaledVariances()
        let se = variances.map { ($0 * dispersion).squareRoot() }
        let estimate = coefficients
        let statistic = zip(estimate, se).map { $0 / $1 }
        // The family's AIC, plus 2 × rank (none for a quasi family).
        var aic = Double.nan
        if !options.quasi {
            switch family.family {
            case .binomial:
                var sum = 0.0
                for i in 0..<n where prior[i] > 0 {
                    sum += response[i] == 1 ? prior[i] * Foundation.log(mu[i]) : prior[i] * Foundation.log1p(-mu[i])
                }
                aic = -2 * sum
            case .poisson:
                var sum = 0.0
                for i in 0..<n {
                    let logDensity = response[i] == 0 ? -mu[i] : response[i] * Foundation.log(mu[i]) - mu[i] - lgamma(response[i] + 1)
                    sum += logDensity * prior[i]
                }
                aic = -2 * sum
            case .gaussian:
                let count = Double(n)
                aic = count * (Foundation.log(dev / count * 2 * Double.pi) + 1) + 2 - prior.reduce(0) { $0 + Foundation.log($1) }
            default:
                return nil
            }
            aic += 2 * Double(rank)
        }
        return NativeGroupResult(terms: design.layout.names, estimate: estimate, standardError: se, statistic: statistic, rows: rows.count,
                                 used: n, residualDF: residualDF, rSquared: .nan, adjustedRSquared: .nan, sigma: .nan, fStatistic: .nan,
                                 seconds: (ContinuousClock.now - started).seconds,
                                 glm: .init(deviance: dev, nullDeviance: nullDeviance, aic: aic, dispersion: dispersion, iterations: iterations,
                                            zStatistic: fixed))
    }

    /// The link function (R's `linkfun`) for the links the native path covers.
    private func link(_ family: NativeFamily, _ mu: Double) -> Double {
        switch family.link {
        case .logit: return Foundation.log(mu / (1 - mu))
        case .cloglog: return Foundation.log(-Foundation.log(1 - mu))
        case .log: return Foundation.log(mu)
        case .identity: return mu
        case .sqrt: return mu.squareRoot()
        case .inverse: return 1 / mu
        case .inverseSquare: return 1 / (mu * mu)
        case .probit, .cauchit: return .nan
        }
    }
}
