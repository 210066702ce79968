/// The R factor of a Householder QR of a tall, narrow matrix that arrives in blocks of rows:
/// after absorbing blocks B₁ … Bₖ, `RᵀR = Σ BᵢᵀBᵢ` and R is upper triangular, without ever
/// forming the normal equations (they would square the condition number).
///
/// Each block is reduced against the current R with Householder reflections that touch only
/// the R row and the block's rows, so the work is about 2·rows·columns² flops in all, the same
/// as LAPACK's `dgeqrf`, and memory is one block plus R.
struct TriangularFactor {
    /// The number of columns.
    let columns: Int
    /// R, column-major, `columns` × `columns`.
    private(set) var r: [Double]
    /// The number of rows absorbed so far.
    private(set) var rowsAbsorbed = 0

    /// An empty factor (no rows yet) for `columns` columns.
    init(columns: Int) {
        self.columns = columns
        self.r = [Double](repeating: 0, count: columns * columns)
    }

    /// The rows of R that are not all zero, column-major: their Gram matrix is that of the
    /// absorbed rows. A short chunk may leave any row of R zero, not only the last ones: a
    /// column that is zero in the chunk (a factor level or a constant the chunk lacks) leaves
    /// its own row empty, and the residual lands in a later row.
    var factor: (values: [Double], rows: Int) {
        let kept = (0..<columns).filter { row in (row..<columns).contains { r[$0 * columns + row] != 0 } }
        guard kept.count < columns else { return (r, columns) }
        var values = [Double](repeating: 0, count: kept.count * columns)
        for column in 0..<columns {
            for (index, row) in kept.enumerated() { values[column * kept.count + index] = r[column * columns + row] }
        }
        return (values, kept.count)
    }

    /// Absorbs `rowCount` rows held column-major in `block` (leading dimension `stride`,
    /// `columns` columns). The block is overwritten.
    mutating func absorb(block: UnsafeMutablePointer<Double>, rowCount: Int, stride: Int) {
        guard rowCount > 0 else { return }
        rowsAbsorbed += rowCount
        let p = columns
        r.withUnsafeMutableBufferPointer { rBuffer in
            let r = rBuffer.baseAddress!
            for j in 0..<p {
                let v = block + j * stride
                let blockNormSquared = Self.dot(v, v, rowCount)
                if blockNormSquared == 0 { continue }  // column j of the block is already zero
                let top = r[j * p + j]
                let norm = (top * top + blockNormSquared).squareRoot()
                let alpha = top > 0 ? -norm : norm
                let head = top - alpha  // the reflection vector is (head, v)
                let beta = 2 / (head * head + blockNormSquared)
                r[j * p + j] = alpha
                for k in (j + 1)..<max(p, j + 1) {
                    let target = block + k * stride
                    let s = beta * (head * r[k * p + j] + Self.dot(v, target, rowCount))
                    r[k * p + j] -= s * head
                    Self.subtract(s, v, from: target, rowCount)
                }
            }
        }
    }

    /// Σ a[i]·b[i], with four partial sums so the loop vectorises.
    @inline(__always)
    private static func dot(_ a: UnsafeMutablePointer<Double>, _ b: UnsafeMutablePointer<Double>, _ count: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i + 4 <= count {
            s0 += a[i] * b[i]
            s1 += a[i + 1] * b[i + 1]
            s2 += a[i + 2] * b[i + 2]
            s3 += a[i + 3] * b[i + 3]
            i += 4
        }
        while i < count {
            s0 += a[i] * b[i]
            i += 1
        }
        return (s0 + s1) + (s2 + s3)
    }

    /// target[i] -= s·v[i].
    @inline(__always)
    private static func subtract(_ s: Double, _ v: UnsafeMutablePointer<Double>, from target: UnsafeMutablePointer<Double>, _ count: Int) {
        for i in 0..<count { target[i] -= s * v[i] }
    }
}
