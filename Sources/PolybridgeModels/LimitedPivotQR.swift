import Foundation

/// R's least-squares solve (`lm.fit`'s `Cdqrls`): a Householder QR with LINPACK `dqrdc2`'s
/// limited pivoting (a column whose norm falls below `tolerance` times its original norm moves
/// to the right and is aliased), then the coefficients of the first `rank` pivoted columns and
/// the residual sum of squares from Q'y, as `dqrsl` gives them.
struct LimitedPivotQR {
    /// The rank: how many pivoted columns are not aliased.
    private(set) var rank = 0
    /// The original column (0-based) at each pivoted position.
    private(set) var pivot: [Int]
    /// The upper triangle R (column-major, `rows` × `columns`) and, below it, the Householder
    /// vectors.
    private var qr: [Double]
    private var qraux: [Double]
    let rows: Int
    let columns: Int

    /// Factors the column-major `rows` × `columns` matrix `x`.
    init(_ x: [Double], rows n: Int, columns p: Int, tolerance: Double = 1e-7) {
        (qr, rows, columns, pivot) = (x, n, p, Array(0..<p))
        qraux = [Double](repeating: 0, count: p)
        guard n > 0 else { return }
        var original = [Double](repeating: 0, count: p)
        for j in 0..<p {
            qraux[j] = Self.norm(qr, from: j * n, count: n)
            original[j] = qraux[j] == 0 ? 1 : qraux[j]
        }
        var limit = p  // columns at or beyond `limit` have been moved right as negligible
        for l in 0..<min(n, p) {
            // Move negligible columns to the right end until column l is not (or none is left).
            while l < limit && qraux[l] < original[l] * tolerance {
                for i in 0..<n {
                    let moved = qr[l * n + i]
                    for j in (l + 1)..<p { qr[(j - 1) * n + i] = qr[j * n + i] }
                    qr[(p - 1) * n + i] = moved
                }
                pivot.append(pivot.remove(at: l))
                qraux.append(qraux.remove(at: l))
                original.append(original.remove(at: l))
                limit -= 1
            }
            guard l != n - 1 else { break }
            var length = Self.norm(qr, from: l * n + l, count: n - l)
            guard length != 0 else { continue }
            let diagonal = qr[l * n + l]
            if diagonal != 0 { length = diagonal < 0 ? -abs(length) : abs(length) }
            for i in l..<n { qr[l * n + i] /= length }
            qr[l * n + l] += 1
            for j in (l + 1)..<p {
                var dot = 0.0
                for i in l..<n { dot += qr[l * n + i] * qr[j * n + i] }
                let t = -dot / qr[l * n + l]
                for i in l..<n { qr[j * n + i] += t * qr[l * n + i] }
                guard qraux[j] != 0 else { continue }
                let ratio = abs(qr[j * n + l]) / qraux[j]
                let shrink = max(1 - ratio * ratio, 0)
                if abs(shrink) >= 1e-6 {
                    qraux[j] *= shrink.squareRoot()
                } else {
                    qraux[j] = Self.norm(qr, from: j * n + l + 1, count: n - l - 1)
                }
            }
            qraux[l] = qr[l * n + l]
            qr[l * n + l] = -length
        }
        rank = min(limit, n)
    }

    private static func norm(_ values: [Double], from start: Int, count: Int) -> Double {
        // Scaled, as the reference BLAS dnrm2 computes it, so no square overflows.
        var scale = 0.0, sum = 1.0
        for index in start..<(start + count) where values[index] != 0 {
            let magnitude = abs(values[index])
            if scale < magnitude {
                sum = 1 + sum * (scale / magnitude) * (scale / magnitude)
                scale = magnitude
            } else {
                sum += (magnitude / scale) * (magnitude / scale)
            }
        }
        return scale * sum.squareRoot()
    }

    /// Q'y: the Householder transformations applied to `y`, in order.
    func qty(_ y: [Double]) -> [Double] {
        var out = y
        let n = rows
        for l in 0..<min(rank, n - 1) where qraux[l] != 0 {
            var dot = qraux[l] * out[l]
            for i in (l + 1)..<n { dot += qr[l * n + i] * out[i] }
            let t = -dot / qraux[l]
            out[l] += t * qraux[l]
            for i in (l + 1)..<n { out[i] += t * qr[l * n + i] }
        }
        return out
    }

    /// The coefficients by original column (NaN for an aliased one), and the residual sum of
    /// squares, for the response `y`.
    func solve(_ y: [Double]) -> (coefficients: [Double], residualSumOfSquares: Double) {
        let effects = qty(y)
        var b = [Double](repeating: 0, count: rank)
        for i in stride(from: rank - 1, through: 0, by: -1) {
            var sum = effects[i]
            for j in (i + 1)..<max(i + 1, rank) { sum -= qr[j * rows + i] * b[j] }
            b[i] = sum / qr[i * rows + i]
        }
        var coefficients = [Double](repeating: .nan, count: columns)
        for i in 0..<rank { coefficients[pivot[i]] = b[i] }
        var rss = 0.0
        for i in rank..<rows { rss += effects[i] * effects[i] }
        return (coefficients, rss)
    }

    /// The diagonal of (R'R)⁻¹ for the first `rank` pivoted columns, by original column (NaN
    /// for an aliased one): `chol2inv` of R's triangle, as `summary.lm` takes it.
    func unscaledVariances() -> [Double] {
        let k = rank
        // R⁻¹, upper triangular, column-major k × k.
        var inverse = [Double](repeating: 0, count: k * k)
        for j in 0..<k {
            inverse[j * k + j] = 1 / qr[j * rows + j]
            for i in stride(from: j - 1, through: 0, by: -1) {
                var sum = 0.0
                for m in (i + 1)...j { sum += qr[m * rows + i] * inverse[j * k + m] }
                inverse[j * k + i] = -sum / qr[i * rows + i]
            }
        }
        var variances = [Double](repeating: .nan, count: columns)
        for i in 0..<k {
            var sum = 0.0
            for j in i..<k { sum += inverse[j * k + i] * inverse[j * k + i] }
            variances[pivot[i]] = sum
        }
        return variances
    }
}
