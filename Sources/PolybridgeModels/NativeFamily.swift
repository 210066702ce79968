import Foundation

/// A glm family and link as R's `family` objects compute them, row by row, in Swift: the
/// inverse link, d mu / d eta, the variance, the deviance residual and the validity checks,
/// each written as R writes it (the C code of `binomial` and `logit`, the R code of the
/// others), so that an IRLS round on a chunk gives what `glm.fit` computes on those rows.
struct NativeFamily: Sendable, Equatable {
    enum Family: Sendable, Equatable { case binomial, poisson, gamma, gaussian, inverseGaussian }
    enum Link: Sendable, Equatable { case logit, probit, cauchit, cloglog, identity, log, sqrt, inverseSquare, inverse }

    let family: Family
    let link: Link
    /// `-qnorm(.Machine$double.eps)` and `-qcauchy(.Machine$double.eps)`, as R computes them.
    let probitThreshold: Double
    let cauchitThreshold: Double

    /// The family and link R names `family` and `link` (the quasi families compute as their
    /// base families do; only their dispersion differs, which the summary handles).
    init?(family: String, link: String, probitThreshold: Double, cauchitThreshold: Double) {
        switch family {
        case "binomial", "quasibinomial": self.family = .binomial
        case "poisson", "quasipoisson": self.family = .poisson
        case "Gamma": self.family = .gamma
        case "gaussian": self.family = .gaussian
        case "inverse.gaussian": self.family = .inverseGaussian
        default: return nil
        }
        switch link {
        case "logit": self.link = .logit
        case "probit": self.link = .probit
        case "cauchit": self.link = .cauchit
        case "cloglog": self.link = .cloglog
        case "identity": self.link = .identity
        case "log": self.link = .log
        case "sqrt": self.link = .sqrt
        case "1/mu^2": self.link = .inverseSquare
        case "inverse": self.link = .inverse
        default: return nil
        }
        self.probitThreshold = probitThreshold
        self.cauchitThreshold = cauchitThreshold
    }

    private static let epsilon = Double.ulpOfOne
    private static let logitThreshold = 30.0

    /// The inverse link.
    @inline(__always)
    func mean(_ eta: Double) -> Double {
        switch link {
        case .logit:
            // R's C_logit_linkinv.
            let t = eta < -Self.logitThreshold ? Self.epsilon : eta > Self.logitThreshold ? 1 / Self.epsilon : Foundation.exp(eta)
            return t / (1 + t)
        case .probit:
            let e = Swift.min(Swift.max(eta, -probitThreshold), probitThreshold)
            return 0.5 * erfc(-e / 2.0.squareRoot())
        case .cauchit:
            let e = Swift.min(Swift.max(eta, -cauchitThreshold), cauchitThreshold)
            return 0.5 + atan(e) / Double.pi
        case .cloglog: return Swift.max(Swift.min(-expm1(-Foundation.exp(eta)), 1 - Self.epsilon), Self.epsilon)
        case .identity: return eta
        case .log: return Swift.max(Foundation.exp(eta), Self.epsilon)
        case .sqrt: return eta * eta
        case .inverseSquare: return 1 / eta.squareRoot()
        case .inverse: return 1 / eta
        }
    }

    /// The mean and d mu / d eta together, sharing the exponential where the link has one.
    @inline(__always)
    func meanAndDerivative(_ eta: Double) -> (Double, Double) {
        switch link {
        case .logit:
            // R's C_logit_linkinv and C_logit_mu_eta, with exp(eta) taken once.
            let outside = eta < -Self.logitThreshold || eta > Self.logitThreshold
            let e = outside ? 0 : Foundation.exp(eta)
            let t = eta < -Self.logitThreshold ? Self.epsilon : eta > Self.logitThreshold ? 1 / Self.epsilon : e
            let opexp = 1 + e
            return (t / (1 + t), outside ? Self.epsilon : e / (opexp * opexp))
        case .log:
            let m = Swift.max(Foundation.exp(eta), Self.epsilon)
            return (m, m)
        default:
            return (mean(eta), meanDerivative(eta))
        }
    }

    /// d mu / d eta.
    @inline(__always)
    func meanDerivative(_ eta: Double) -> Double {
        switch link {
        case .logit:
            // R's C_logit_mu_eta.
            let opexp = 1 + Foundation.exp(eta)
            return eta > Self.logitThreshold || eta < -Self.logitThreshold ? Self.epsilon : Foundation.exp(eta) / (opexp * opexp)
        case .probit: return Swift.max(Foundation.exp(-0.5 * eta * eta) / (2 * Double.pi).squareRoot(), Self.epsilon)
        case .cauchit: return Swift.max(1 / (Double.pi * (1 + eta * eta)), Self.epsilon)
        case .cloglog:
            let e = Swift.min(eta, 700)
            return Swift.max(Foundation.exp(e) * Foundation.exp(-Foundation.exp(e)), Self.epsilon)
        case .identity: return 1
        case .log: return Swift.max(Foundation.exp(eta), Self.epsilon)
        case .sqrt: return 2 * eta
        case .inverseSquare: return -1 / (2 * pow(eta, 1.5))
        case .inverse: return -1 / (eta * eta)
        }
    }

    /// The variance function.
    @inline(__always)
    func variance(_ mu: Double) -> Double {
        switch family {
        case .binomial: return mu * (1 - mu)
        case .poisson: return mu
        case .gamma: return mu * mu
        case .gaussian: return 1
        case .inverseGaussian: return pow(mu, 3)
        }
    }

    /// The row's deviance residual (its part of the deviance).
    @inline(__always)
    func deviance(_ y: Double, _ mu: Double, _ weight: Double) -> Double {
        switch family {
        case .binomial:
            // R's C_binomial_dev_resids.
            @inline(__always) func yLogY(_ y: Double, _ mu: Double) -> Double { y != 0 ? y * Foundation.log(y / mu) : 0 }
            return 2 * weight * (yLogY(y, mu) + yLogY(1 - y, 1 - mu))
        case .poisson: return y > 0 ? 2 * (weight * (y * Foundation.log(y / mu) - (y - mu))) : 2 * (mu * weight)
        case .gamma: return -2 * weight * (Foundation.log(y == 0 ? 1 : y / mu) - (y - mu) / mu)
        case .gaussian: return weight * ((y - mu) * (y - mu))
        case .inverseGaussian: return weight * ((y - mu) * (y - mu)) / (y * (mu * mu))
        }
    }

    /// Whether the link accepts `eta` (valideta, one row).
    @inline(__always)
    func validEta(_ eta: Double) -> Bool {
        switch link {
        case .sqrt, .inverseSquare: return eta.isFinite && eta > 0
        case .inverse: return eta.isFinite && eta != 0
        default: return true
        }
    }

    /// Whether the family accepts `mu` (validmu, one row).
    @inline(__always)
    func validMean(_ mu: Double) -> Bool {
        switch family {
        case .binomial: return mu.isFinite && mu > 0 && mu < 1
        case .poisson, .gamma: return mu.isFinite && mu > 0
        case .gaussian, .inverseGaussian: return true
        }
    }
}

/// One IRLS round on a chunk's rows: the model matrix's columns (each `rows` long), the
/// response, prior weights and offset after the family's initialize.
struct NativeRoundInput {
    var columns: [UnsafePointer<Double>]
    var rows: Int
    var y: UnsafePointer<Double>
    var weights: UnsafePointer<Double>
    var offset: UnsafePointer<Double>
}

extension NativeFamily {
    /// The round at `beta` (or at the linear predictor `start`): the deviance, validity and,
    /// with `factor` (and a finite deviance at valid means, where glm.fit goes on), the factor
    /// of √W [X | z], or the error glm.fit would stop with when it takes the working weights.
    func round(_ input: NativeRoundInput, beta: [Double]?, start: UnsafePointer<Double>?, factor: Bool) -> GeneralizedLinearModelRoundResult {
        let n = input.rows
        var eta = [Double](repeating: 0, count: n)
        eta.withUnsafeMutableBufferPointer { eta in
            if let beta {
                // As R's x %*% beta (reference BLAS dgemv, column by column), then the offset.
                for (column, b) in zip(input.columns, beta) {
                    for i in 0..<n { eta[i] += b * column[i] }
                }
                for i in 0..<n { eta[i] += input.offset[i] }
            } else if let start {
                for i in 0..<n { eta[i] = start[i] }
            }
        }
        // One pass: the means and deviance, and (for the factor) the working weights and
        // response, which glm.fit uses only when the deviance is finite and the means valid.
        var w = [Double](repeating: 0, count: factor ? n : 0), z = [Double](repeating: 0, count: factor ? n : 0)
        var deviance: Float80 = 0
        var valid = true
        var varianceNA = false, varianceZero = false, derivativeNA = false, good = 0
        for i in 0..<n {
            let e = eta[i], prior = input.weights[i]
            let (m, d) = meanAndDerivative(e)
            deviance += Float80(self.deviance(input.y[i], m, prior))
            valid = valid && validEta(e) && validMean(m)
            guard factor, prior > 0 else { continue }
            let v = variance(m)
            if v.isNaN { varianceNA = true } else if v == 0 { varianceZero = true }
            if d.isNaN { derivativeNA = true }
            guard d != 0 else { continue }
            z[i] = (e - input.offset[i]) + (input.y[i] - m) / d
            w[i] = ((prior * (d * d)) / v).squareRoot()
            good += 1
        }
        var result = GeneralizedLinearModelRoundResult(deviance: Double(deviance), valid: valid, good: 0, factor: nil, factorRows: 0,
                                                       factorError: nil)
        guard factor, result.deviance.isFinite, valid else { return result }
        // In glm.fit's order of checks.
        if varianceNA { result.factorError = "NAs in V(mu)"; return result }
        if varianceZero { result.factorError = "0s in V(mu)"; return result }
        if derivativeNA { result.factorError = "NAs in d(mu)/d(eta)"; return result }
        result.good = good
        let (values, rows) = w.withUnsafeBufferPointer { w in
            z.withUnsafeBufferPointer { z in
                TriangularFactor.weighted(columns: input.columns, rows: n, weights: w.baseAddress!, response: z.baseAddress!)
            }
        }
        (result.factor, result.factorRows) = (PackedDoubles(values), rows)
        return result
    }
}

/// What the summary needs from a chunk once the coefficients are final, as `glm.fit` and
/// `summary.glm` compute it on the chunk's rows.
struct NativeFinalSums {
    /// Σ wt · r² over rows of positive working weight: wt is the last solve's (at `weightsEta`),
    /// r the working residual at the final coefficients (Pearson's χ²).
    var pearson: Double
    /// Σ deviance residuals at the null model's means.
    var nullDeviance: Double
    /// A fitted mean within 10ε of 0 or 1, and within 10ε of 0.
    var extremeProbabilities: Bool
    var zeroRates: Bool
    /// The fitted means, for the AIC (which R's density functions compute).
    var means: [Double]
}

extension NativeFamily {
    /// The linear predictor at `beta` over `columns`, as R's x %*% beta + offset.
    func linearPredictor(_ input: NativeRoundInput, beta: [Double]) -> [Double] {
        let n = input.rows
        var eta = [Double](repeating: 0, count: n)
        eta.withUnsafeMutableBufferPointer { eta in
            for (column, b) in zip(input.columns, beta) {
                for i in 0..<n { eta[i] += b * column[i] }
            }
            for i in 0..<n { eta[i] += input.offset[i] }
        }
        return eta
    }

    /// The final sums at `beta`, with the last solve's weights from the linear predictor
    /// `weightsEta`; the null model's means are `nullMean` (an intercept model: Σ w·y / Σ w) or
    /// the inverse link of the offset.
    func finalSums(_ input: NativeRoundInput, beta: [Double], weightsEta: [Double], nullMean: Double?) -> NativeFinalSums {
        let n = input.rows
        let eta = linearPredictor(input, beta: beta)
        var means = [Double](repeating: 0, count: n)
        var pearson: Float80 = 0, null: Float80 = 0
        var extreme = false, zero = false
        let small = 10 * Double.ulpOfOne
        for i in 0..<n {
            let mu = mean(eta[i])
            means[i] = mu
            if mu > 1 - small || mu < small { extreme = true }
            if mu < small { zero = true }
            let prior = input.weights[i]
            null += Float80(deviance(input.y[i], nullMean ?? mean(input.offset[i]), prior))
            guard prior > 0 else { continue }
            let d = meanDerivative(weightsEta[i])
            guard d != 0 else { continue }
            let w = ((prior * (d * d)) / variance(mean(weightsEta[i]))).squareRoot()
            let wt = w * w
            guard wt > 0 else { continue }
            let r = (input.y[i] - mu) / meanDerivative(eta[i])
            pearson += Float80(wt * (r * r))
        }
        return NativeFinalSums(pearson: Double(pearson), nullDeviance: Double(null), extremeProbabilities: extreme, zeroRates: zero, means: means)
    }
}

extension NativeFamily {
    /// R's deviance residuals at `beta`: sign(y − mu) · √max(dev.resid, 0), negative where y
    /// equals mu (as `residuals.glm` writes `ifelse(y > mu, d, -d)`).
    func devianceResiduals(_ input: NativeRoundInput, beta: [Double]) -> [Double] {
        let eta = linearPredictor(input, beta: beta)
        return (0..<input.rows).map { i in
            let mu = mean(eta[i]), y = input.y[i]
            let d = Swift.max(deviance(y, mu, input.weights[i]), 0).squareRoot()
            return y > mu ? d : -d
        }
    }
}

extension Array where Element == Double {
    /// The first index whose element satisfies `predicate`, which is false and then true
    /// along the array (a sorted array's elements above a bound).
    func partitioningIndex(where predicate: (Double) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
