import BeamlineOperators
import BeamlineSolvers
import BeamlineTensor
import Foundation

/// A loss on the residuals `r` of tensor tomography, with optional weights
/// `w` (mumott's `SquaredLoss` and `HuberLoss`).
public enum ResidualLoss: Sendable, Hashable {
    /// `½ Σ w r²`; residual gradient `w r`.
    case squared
    /// mumott's Huber loss: `Σ w · (r² / (2δ))` where `|r| < δ`, else
    /// `Σ w · (|r| − δ/2)`; residual gradient `w · r/δ` or `w · sign r`.
    case huber(delta: Double)

    /// The loss value and its gradient with respect to the residuals (with
    /// the weights applied), computed in `Double` in a fixed order.
    @specialized(where Scalar == Double)
    @specialized(where Scalar == Float)
    public func evaluate<Scalar: OperatorScalar>(residuals: Tensor<Scalar>, weights: Tensor<Scalar>?) -> (value: Double, residualGradient: Tensor<Scalar>) {
        let r = residuals.elements
        let w = weights?.elements
        var g = [Scalar](repeating: 0, count: r.count)
        var value = 0.0
        switch self {
        case .squared:
            for i in r.indices {
                let wi = w.map { Double($0[i]) } ?? 1
                let ri = Double(r[i])
                value += 0.5 * wi * ri * ri
                g[i] = Scalar(wi * ri)
            }
        case let .huber(delta):
            for i in r.indices {
                let wi = w.map { Double($0[i]) } ?? 1
                let ri = Double(r[i])
                if Swift.abs(ri) < delta {
                    value += 0.5 / delta * ri * ri * wi
                    g[i] = Scalar(ri / delta * wi)
                } else {
                    value += (Swift.abs(ri) - 0.5 * delta) * wi
                    g[i] = Scalar((ri > 0 ? 1.0 : (ri < 0 ? -1.0 : 0.0)) * wi)
                }
            }
        }
        return (value, Tensor(shape: residuals.shape, elements: g))
    }
}

/// mumott's regularisers on a coefficient volume `(X, Y, Z, C)`.
///
/// Values are mumott's. Gradients are the true gradients of those values
/// (checked against finite differences), which for three of them is not
/// what mumott returns: mumott's `L2Norm` returns `c` for the value `Σ c²`
/// (we return `2c`), its `Laplacian` returns `r = ½ L c` for the value
/// `Σ r²` (we return `L r`), and its `TotalVariation` returns
/// `(6c − Σ neighbours)/‖∇c‖` (we return the derivative of `Σ ‖∇c‖`).
/// mumott's `GroupLasso` returns 1 for an all-zero group (not a
/// subgradient); we return 0 there.
public enum TensorRegularizer: Sendable, Hashable {
    /// `Σ |c|`; gradient `sign c`.
    case l1
    /// `Σ c²`; gradient `2c`.
    case l2
    /// `Σ h(c)`, `h = c²/(2δ)` for `|c| < δ`, else `|c| − δ/2`.
    case huberNorm(delta: Double)
    /// `Σ_voxel,channel n`, `n = √(Σ_neighbours (c − c_nb)²)` over the
    /// face neighbours inside the volume; with `delta`, `n` is replaced by
    /// `n²/(2δ)` where `n < δ` and `n − δ/2` elsewhere (mumott's options;
    /// mumott's `TotalVariation()` default is `delta: 0.01`).
    case totalVariation(delta: Double?)
    /// `Σ r²` with `r = ½(6c − Σ_neighbours c_nb)` (neighbours inside the volume).
    case laplacian
    /// `Σ_voxel ‖c_voxel‖₂` (mumott's `GroupLasso` with parameter 1; the
    /// regularisation weight plays its parameter's role).
    case groupLasso

    /// The value and (if asked) the gradient at `coefficients` `(X, Y, Z, C)`.
    ///
    /// - Throws: ``TomographyError`` when `coefficients` is not rank 4.
    @specialized(where Scalar == Double)
    @specialized(where Scalar == Float)
    public func evaluate<Scalar: OperatorScalar>(_ coefficients: Tensor<Scalar>, gradient: Bool = true) throws(TomographyError) -> (value: Double, gradient: Tensor<Scalar>?) {
        let shape = coefficients.shape
        guard shape.count == 4 else {
            throw .invalidArgument(name: "coefficients", expected: "a (X, Y, Z, C) volume", received: "shape \(shape)")
        }
        let c = RealConversion.doubles(coefficients.elements)
        var g = [Double](repeating: 0, count: gradient ? c.count : 0)
        var value = 0.0
        let (nx, ny, nz, nc) = (shape[0], shape[1], shape[2], shape[3])
        let strides = [ny * nz * nc, nz * nc, nc]
        let dims = [nx, ny, nz]
        switch self {
        case .l1:
            for i in c.indices {
                value += Swift.abs(c[i])
                if gradient { g[i] = c[i] > 0 ? 1 : (c[i] < 0 ? -1 : 0) }
            }
        case .l2:
            for i in c.indices {
                value += c[i] * c[i]
                if gradient { g[i] = 2 * c[i] }
            }
        case let .huberNorm(delta):
            for i in c.indices {
                let a = Swift.abs(c[i])
                if a < delta {
                    value += a * a / (2 * delta)
                    if gradient { g[i] = c[i] / delta }
                } else {
                    value += a - 0.5 * delta
                    if gradient { g[i] = c[i] > 0 ? 1 : -1 }
                }
            }
        case .groupLasso:
            for v in 0..<(nx * ny * nz) {
                var s = 0.0
                for k in 0..<nc { s += c[v * nc + k] * c[v * nc + k] }
                let n = s.squareRoot()
                value += n
                if gradient && n > 0 { for k in 0..<nc { g[v * nc + k] = c[v * nc + k] / n } }
            }
        case .laplacian:
            var r = [Double](repeating: 0, count: c.count)
            Self.forEachSite(dims) { x, y, z in
                let base = x * strides[0] + y * strides[1] + z * strides[2]
                for k in 0..<nc {
                    var acc = 6 * c[base + k]
                    Self.forEachNeighbour(x, y, z, dims, strides) { o in acc -= c[base + o + k] }
                    r[base + k] = 0.5 * acc
                }
            }
            for v in r { value += v * v }
            if gradient {
                // d/dc Σ r² = 2 (½ L)ᵀ r = L r (L symmetric).
                Self.forEachSite(dims) { x, y, z in
                    let base = x * strides[0] + y * strides[1] + z * strides[2]
                    for k in 0..<nc {
                        var acc = 6 * r[base + k]
                        Self.forEachNeighbour(x, y, z, dims, strides) { o in acc -= r[base + o + k] }
                        g[base + k] = acc
                    }
                }
            }
        case let .totalVariation(delta):
            var n = [Double](repeating: 0, count: c.count)
            Self.forEachSite(dims) { x, y, z in
                let base = x * strides[0] + y * strides[1] + z * strides[2]
                for k in 0..<nc {
                    var s = 0.0
                    Self.forEachNeighbour(x, y, z, dims, strides) { o in
                        let d = c[base + k] - c[base + o + k]
                        s += d * d
                    }
                    n[base + k] = s.squareRoot()
                }
            }
            // φ = h'(n)/n: the factor each difference gets in the gradient.
            var phi = [Double](repeating: 0, count: c.count)
            for i in n.indices {
                if let delta, n[i] < delta {
                    value += n[i] * n[i] / (2 * delta)
                    phi[i] = 1 / delta
                } else {
                    value += n[i] - (delta.map { 0.5 * $0 } ?? 0)
                    phi[i] = n[i] > 0 ? 1 / n[i] : 0
                }
            }
            if gradient {
                Self.forEachSite(dims) { x, y, z in
                    let base = x * strides[0] + y * strides[1] + z * strides[2]
                    for k in 0..<nc {
                        var acc = 0.0
                        Self.forEachNeighbour(x, y, z, dims, strides) { o in
                            acc += (c[base + k] - c[base + o + k]) * (phi[base + k] + phi[base + o + k])
                        }
                        g[base + k] = acc
                    }
                }
            }
        }
        return (value, gradient ? Tensor(shape: shape, elements: RealConversion.values(g, as: Scalar.self)) : nil)
    }

    @inline(__always)
    static func forEachSite(_ dims: [Int], _ body: (Int, Int, Int) -> Void) {
        for x in 0..<dims[0] { for y in 0..<dims[1] { for z in 0..<dims[2] { body(x, y, z) } } }
    }

    /// Calls `body(offset)` for each face neighbour inside the volume.
    @inline(__always)
    static func forEachNeighbour(_ x: Int, _ y: Int, _ z: Int, _ dims: [Int], _ strides: [Int], _ body: (Int) -> Void) {
        if x > 0 { body(-strides[0]) }
        if x + 1 < dims[0] { body(strides[0]) }
        if y > 0 { body(-strides[1]) }
        if y + 1 < dims[1] { body(strides[1]) }
        if z > 0 { body(-strides[2]) }
        if z + 1 < dims[2] { body(strides[2]) }
    }

    /// The proximal operator of `weight · step · Σ‖c_voxel‖` (group
    /// soft-thresholding, mumott's `GroupLasso.proximal_operator`): groups
    /// with norm ≤ `weight · step` become zero, the others shrink by it.
    public static func groupLassoProximal<Scalar: OperatorScalar>(_ coefficients: inout Tensor<Scalar>, threshold: Double) {
        let nc = coefficients.shape.last ?? 1
        coefficients.withUnsafeMutableBufferPointer { b in
            for v in 0..<(b.count / nc) {
                var s = 0.0
                for k in 0..<nc { s += Double(b[v * nc + k]) * Double(b[v * nc + k]) }
                let n = s.squareRoot()
                let scale = n <= threshold ? 0 : 1 - threshold / n
                for k in 0..<nc { b[v * nc + k] = Scalar(Double(b[v * nc + k]) * scale) }
            }
        }
    }
}

/// A named, weighted regulariser term of a ``TensorTomographyLossFunction``.
public struct RegularizerTerm: Sendable, Hashable {
    /// A name (for reports).
    public var name: String
    /// The regulariser.
    public var regularizer: TensorRegularizer
    /// Its weight λ.
    public var weight: Double

    /// A term `weight · regularizer`.
    public init(name: String, regularizer: TensorRegularizer, weight: Double) {
        self.name = name
        self.regularizer = regularizer
        self.weight = weight
    }
}

/// mumott's `LossFunction`: a residual calculator, a residual loss and a
/// sum of weighted regularisers, with mumott's optional preconditioner on
/// the data term's gradient and its mask (voxels where the preconditioner
/// is zero get no gradient at all).
///
/// `loss = m · L(r) + Σ λᵢ Rᵢ(c)`, `∇ = mask · (m · C · ∇L + Σ λᵢ ∇Rᵢ)`
/// with `m` ``residualNormMultiplier`` and `C` ``preconditioner``.
/// ``objective()`` hands it to any optimiser of BeamlineSolvers.
public final class TensorTomographyLossFunction<Scalar: OperatorScalar, Basis: TensorBasisSet> {
    /// The residual calculator (its coefficients are set on every evaluation).
    public var calculator: GradientResidualCalculator<Scalar, Basis>
    /// The residual loss.
    public var loss: ResidualLoss
    /// Whether the calculator's weights enter the loss (default true).
    public var useWeights: Bool
    /// The regularisers.
    public var regularizers: [RegularizerTerm]
    /// A preconditioner `(X, Y, Z, C)` or `(X, Y, Z, 1)` for the data term's gradient.
    public var preconditioner: Tensor<Scalar>?
    /// Weights replacing the calculator's (e.g. SIRT weights), `(N, J, K, S)`.
    public var weightOverride: Tensor<Scalar>?
    /// Scale of the data term (mumott's `residual_norm_multiplier`, default 1).
    public var residualNormMultiplier: Double
    /// Number of evaluations so far.
    public private(set) var evaluations = 0

    /// A loss function on `calculator`.
    public init(calculator: GradientResidualCalculator<Scalar, Basis>, loss: ResidualLoss = .squared, useWeights: Bool = true,
                regularizers: [RegularizerTerm] = [], preconditioner: Tensor<Scalar>? = nil, residualNormMultiplier: Double = 1) {
        self.calculator = calculator
        self.loss = loss
        self.useWeights = useWeights
        self.regularizers = regularizers
        self.preconditioner = preconditioner
        self.residualNormMultiplier = residualNormMultiplier
    }

    /// The loss and, if asked, its gradient at `coefficients`. On a
    /// calculator with ``GradientResidualCalculator/partialSums`` (one part
    /// of a problem split by projections) the data term and the gradient are
    /// those of the whole problem, summed over the parts; the regularisers
    /// are counted once.
    ///
    /// - Throws: ``TomographyError`` for a wrong shape (coefficients,
    ///   preconditioner, weights) or an invalid geometry.
    @specialized(where Scalar == Double, Basis == SphericalHarmonics)
    @specialized(where Scalar == Double, Basis == GaussianKernels)
    @specialized(where Scalar == Double, Basis == NearestNeighbor)
    @specialized(where Scalar == Double, Basis == TrivialBasis)
    @specialized(where Scalar == Float, Basis == SphericalHarmonics)
    @specialized(where Scalar == Float, Basis == GaussianKernels)
    @specialized(where Scalar == Float, Basis == NearestNeighbor)
    @specialized(where Scalar == Float, Basis == TrivialBasis)
    public func evaluate(_ coefficients: Tensor<Scalar>, gradient: Bool = true) throws(TomographyError) -> (value: Double, gradient: Tensor<Scalar>?) {
        evaluations += 1
        calculator.coefficients = coefficients
        let out = try calculator.residuals(weighted: useWeights)
        var w = useWeights ? out.weights : nil
        if let o = weightOverride {
            guard o.shape == out.residuals.shape else {
                throw .shapeMismatch(argument: "weightOverride", expected: out.residuals.shape, received: o.shape)
            }
            w = useWeights ? Tensor(shape: o.shape, elements: zip(o.elements, w!.elements).map { $0 * $1 }) : o
        }
        let (partValue, residualGradient) = loss.evaluate(residuals: out.residuals, weights: w)
        // A part of a split problem: the data term over all parts' projections.
        let dataValue = calculator.partialSums?.sumValues(partValue) ?? partValue
        var value = residualNormMultiplier * dataValue
        var g: [Scalar]? = nil
        if gradient {
            var data = try calculator.gradient(fromResidualGradient: residualGradient).elements
            let m = Scalar(residualNormMultiplier)
            let nc = coefficients.shape[3]
            var mask: [Scalar]? = nil
            if let p = preconditioner {
                let ps = p.shape
                guard ps.count == 4, Array(ps[0..<3]) == Array(coefficients.shape[0..<3]), ps[3] == nc || ps[3] == 1 else {
                    throw .shapeMismatch(argument: "preconditioner", expected: coefficients.shape, received: ps)
                }
                let pe = p.elements
                mask = [Scalar](repeating: 1, count: data.count)
                for i in data.indices {
                    let pv = ps[3] == 1 ? pe[i / nc] : pe[i]
                    data[i] *= m * pv
                    mask![i] = pv > 0 ? 1 : 0
                }
            } else if m != 1 {
                for i in data.indices { data[i] *= m }
            }
            g = data
            for term in regularizers {
                let (v, rg) = try term.regularizer.evaluate(coefficients, gradient: true)
                value += term.weight * v
                let re = rg!.elements
                let lw = Scalar(term.weight)
                for i in re.indices { g![i] += lw * re[i] }
            }
            if let mask { for i in mask.indices { g![i] *= mask[i] } }
        } else {
            for term in regularizers { value += term.weight * (try term.regularizer.evaluate(coefficients, gradient: false)).value }
        }
        return (value, g.map { Tensor(shape: coefficients.shape, elements: $0) })
    }

    /// This loss as an `Objective` for BeamlineSolvers' optimisers
    /// (`LBFGS.minimize`, `Adam.minimize`, `GradientDescent.minimize`);
    /// a ``TomographyError`` becomes `SolverError.invalidArgument`.
    public func objective() -> Objective<Scalar> {
        return { [self] (x: Tensor<Scalar>) throws(SolverError) -> (value: Double, gradient: Tensor<Scalar>) in
            do {
                let r = try self.evaluate(x, gradient: true)
                return (r.value, r.gradient!)
            } catch {
                throw SolverError.invalidArgument(name: "coefficients", expected: "a valid tensor-tomography problem", received: "\(error)")
            }
        }
    }
}
