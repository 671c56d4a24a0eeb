import Foundation
import BeamlineOperators
import BeamlineTensor

/// The result of ``GradientResidualCalculator/residuals(gradient:weighted:)``.
public struct ResidualEvaluation<Scalar: OperatorScalar>: Sendable {
    /// `B(P(c)) − data`, `(N, J, K, S)`.
    public var residuals: Tensor<Scalar>
    /// `Pᵀ(Bᵀ(r))`, or `Pᵀ(Bᵀ(w·r))` when weighted, `(X, Y, Z, C)`; nil unless asked for.
    public var gradient: Tensor<Scalar>?
    /// The weights `(N, J, K, S)`, when weighted.
    public var weights: Tensor<Scalar>?
}

/// mumott's `GradientResidualCalculator`: the residuals of a coefficient
/// volume against transmission-corrected scattering data, and their
/// gradient through the exact transpose of the forward model.
///
/// The forward model is ``TensorTomographyOperator`` `B ∘ P`: the
/// multi-channel John transform of the coefficients `(X, Y, Z, C)`, then
/// each projection's basis-set matrix (from the geometry's probed
/// coordinates), giving detector segments `(N, J, K, S)`. Because the
/// projector's adjoint is its exact transpose, ``residuals(gradient:weighted:)``
/// returns the true gradient of `½ Σ w r²` (mumott's CPU back-projection is
/// a different operator; see docs/tensor-tomography.md).
///
/// Caching ("dirtiness"): the projection matrix is rebuilt only when the
/// parts of the geometry that move the probed coordinates (rotations,
/// system and detector vectors, detector angles, 2θ, full-circle flag), the
/// integration samples or the basis set change; the projector only when
/// the geometry changes at all (offsets included). ``isDirty`` says whether
/// the next evaluation rebuilds something; ``matrixBuilds`` and
/// ``projectorBuilds`` count the rebuilds.
public struct GradientResidualCalculator<Scalar: OperatorScalar, Basis: TensorBasisSet>: Sendable {
    /// The geometry (changing it marks the calculator dirty).
    public var geometry: Geometry
    /// The basis set (changing it marks the calculator dirty).
    public var basisSet: Basis
    /// Samples per segment for the probed coordinates (default 3, mumott 2.3's).
    public var integrationSamples: Int
    /// The optimisation variables, `(X, Y, Z, C)` (zeros initially).
    public var coefficients: Tensor<Scalar>
    /// Whether to fit ``scalarProjections`` (one channel) instead of the data.
    public var useScalarProjections: Bool
    /// The data `(N, J, K, S)`.
    public private(set) var data: Tensor<Scalar>
    /// The weights `(N, J, K, S)` (ones by default).
    public private(set) var weights: Tensor<Scalar>
    /// Scalar projections `(N, J, K, 1)`, if given.
    public private(set) var scalarProjections: Tensor<Scalar>?
    /// How many times the projection matrix has been built.
    public private(set) var matrixBuilds = 0
    /// How many times the projector has been built.
    public private(set) var projectorBuilds = 0
    /// For a part of a problem whose projections are split over processes
    /// (geometry, data and weights hold this part's projections; the
    /// coefficients are the whole volume): how the back-projections are
    /// added over the parts (``TensorPartialSums``). nil (the default): the
    /// calculator holds the whole problem.
    public var partialSums: (any TensorPartialSums)?

    private var builtCoordinatesKey: CoordinatesKey?
    private var builtBasis: Basis?
    private var builtGeometry: Geometry?
    private var builtScalarMode: Bool?
    private var matrix: Tensor<Double>?
    private var model: TensorTomographyOperator<Scalar>?

    /// A calculator for `data` `(N, J, K, S)` with `weights` (default ones).
    ///
    /// - Parameters:
    ///   - geometry: the geometry, with its ``Geometry/detectorAngles`` (S of them for a basis that integrates segments).
    ///   - basisSet: the basis set.
    ///   - data: transmission-corrected scattering data `(N, J, K, S)`.
    ///   - weights: per-value weights `(N, J, K, S)`, non-negative (default ones).
    ///   - scalarProjections: optional `(N, J, K, 1)` scalar projections for ``useScalarProjections``.
    ///   - useScalarProjections: fit the scalar projections instead of the data (default false).
    ///   - integrationSamples: samples per segment (default 3).
    /// - Throws: ``TomographyError`` for shapes that do not match the
    ///   geometry and the basis set's matrix, non-finite data or weights,
    ///   negative weights, no detector segments, or a bad sample count.
    public init(geometry: Geometry, basisSet: Basis, data: Tensor<Scalar>, weights: Tensor<Scalar>? = nil,
                scalarProjections: Tensor<Scalar>? = nil, useScalarProjections: Bool = false,
                integrationSamples: Int = 3) throws(TomographyError) {
        try geometry.validate()
        self.geometry = geometry
        self.basisSet = basisSet
        self.integrationSamples = integrationSamples
        self.useScalarProjections = false
        self.data = data
        self.weights = weights ?? Tensor(shape: data.shape, repeating: 1)
        self.scalarProjections = scalarProjections
        self.coefficients = .zeros(geometry.volumeShape + [basisSet.count])
        try update()
        let expected = [geometry.count] + geometry.projectionShape + [matrix!.shape[1]]
        guard data.shape == expected else { throw .shapeMismatch(argument: "data", expected: expected, received: data.shape) }
        guard self.weights.shape == expected else {
            throw .shapeMismatch(argument: "weights", expected: expected, received: self.weights.shape)
        }
        guard data.elements.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "data") }
        let w = self.weights.elements
        guard w.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "weights") }
        guard w.allSatisfy({ $0 >= 0 }) else {
            throw .invalidArgument(name: "weights", expected: "non-negative values", received: "a negative weight")
        }
        if let s = scalarProjections {
            let e = [geometry.count] + geometry.projectionShape + [1]
            guard s.shape == e else { throw .shapeMismatch(argument: "scalarProjections", expected: e, received: s.shape) }
            guard s.elements.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "scalarProjections") }
        } else if useScalarProjections {
            throw .invalidArgument(name: "scalarProjections", expected: "(N, J, K, 1) projections with useScalarProjections", received: "nil")
        }
        self.useScalarProjections = useScalarProjections
    }

    /// Whether the next evaluation rebuilds the matrix or the projector.
    public var isDirty: Bool {
        builtGeometry != geometry || builtBasis != basisSet || builtScalarMode != useScalarProjections
            || builtCoordinatesKey != CoordinatesKey(geometry, integrationSamples)
    }

    /// The projection matrix `(N, S, C)` in use (rebuilding if dirty).
    public mutating func projectionMatrix() throws(TomographyError) -> Tensor<Double> {
        try update()
        return matrix!
    }

    /// The forward model `B ∘ P` in use (rebuilding if dirty).
    public mutating func forwardModel() throws(TomographyError) -> TensorTomographyOperator<Scalar> {
        try update()
        return model!
    }

    /// The data being fitted: ``scalarProjections`` in scalar mode, else ``data``.
    public var fittedData: Tensor<Scalar> { useScalarProjections ? (scalarProjections ?? data) : data }

    /// The weights in use: in scalar mode the mean over segments (mumott's), else ``weights``.
    public var fittedWeights: Tensor<Scalar> {
        guard useScalarProjections else { return weights }
        let shape = weights.shape, s = shape[3]
        let w = weights.elements
        var out = [Scalar](repeating: 0, count: w.count / s)
        for i in out.indices {
            var acc: Scalar = 0
            for j in 0..<s { acc += w[i * s + j] }
            out[i] = acc / Scalar(s)
        }
        return Tensor(shape: Array(shape[0..<3]) + [1], elements: out)
    }

    /// Rebuilds what is dirty.
    mutating func update() throws(TomographyError) {
        guard integrationSamples >= 1 else {
            throw .invalidArgument(name: "integrationSamples", expected: "≥ 1", received: "\(integrationSamples)")
        }
        let key = CoordinatesKey(geometry, integrationSamples)
        var rebuiltMatrix = false
        if builtCoordinatesKey != key || builtBasis != basisSet || builtScalarMode != useScalarProjections || matrix == nil {
            let coordinates: ProbedCoordinates
            if Basis.self == TrivialBasis.self {
                coordinates = ProbedCoordinates(unchecked: geometry.count, 1, 1,
                                                [Double](repeating: 0, count: geometry.count * 3),
                                                [Double](repeating: 0, count: geometry.count * 3))
            } else {
                coordinates = try geometry.probedCoordinates(integrationSamples: integrationSamples)
            }
            var m = basisSet.projectionMatrix(for: coordinates)
            if useScalarProjections { m = Self.segmentMean(m) }
            matrix = m
            builtCoordinatesKey = key
            builtBasis = basisSet
            builtScalarMode = useScalarProjections
            matrixBuilds += 1
            rebuiltMatrix = true
        }
        if builtGeometry != geometry || rebuiltMatrix || model == nil {
            let projector: JohnTransformProjector<Scalar>
            if let old = model?.projector, builtGeometry == geometry {
                projector = old
            } else {
                try geometry.validate()
                guard coefficients.shape == geometry.volumeShape + [basisSet.count] else {
                    throw .shapeMismatch(argument: "coefficients", expected: geometry.volumeShape + [basisSet.count], received: coefficients.shape)
                }
                projector = try JohnTransformProjector<Scalar>(geometry: geometry, channels: basisSet.count)
                projectorBuilds += 1
            }
            let basis = try BasisSetOperator<Scalar>(matrix: matrix!, projectionShape: geometry.projectionShape)
            model = try TensorTomographyOperator(projector: projector, basis: basis)
            builtGeometry = geometry
        }
    }

    static func segmentMean(_ m: Tensor<Double>) -> Tensor<Double> {
        let (n, s, c) = (m.shape[0], m.shape[1], m.shape[2])
        let v = m.elements
        var out = [Double](repeating: 0, count: n * c)
        for a in 0..<n { for b in 0..<s { for j in 0..<c { out[a * c + j] += v[(a * s + b) * c + j] / Double(s) } } }
        return Tensor(shape: [n, 1, c], elements: out)
    }

    /// mumott's `get_residuals(get_gradient, get_weights)`: the residuals
    /// `B(P(c)) − d`; with `gradient`, `Pᵀ(Bᵀ(r))`, or `Pᵀ(Bᵀ(w·r))` when
    /// `weighted` (then the weights are returned too). With
    /// ``partialSums`` the residuals are this part's and the gradient is the
    /// sum over all parts.
    ///
    /// - Throws: ``TomographyError`` when the geometry became invalid or the
    ///   coefficients' shape no longer matches the geometry and basis.
    @specialized(where Scalar == Double, Basis == SphericalHarmonics)
    @specialized(where Scalar == Double, Basis == GaussianKernels)
    @specialized(where Scalar == Double, Basis == NearestNeighbor)
    @specialized(where Scalar == Double, Basis == TrivialBasis)
    @specialized(where Scalar == Float, Basis == SphericalHarmonics)
    @specialized(where Scalar == Float, Basis == GaussianKernels)
    @specialized(where Scalar == Float, Basis == NearestNeighbor)
    @specialized(where Scalar == Float, Basis == TrivialBasis)
    public mutating func residuals(gradient: Bool = false, weighted: Bool = false) throws(TomographyError) -> ResidualEvaluation<Scalar> {
        try update()
        let op = model!
        let expected = op.inputShape
        guard coefficients.shape == expected else {
            throw .shapeMismatch(argument: "coefficients", expected: expected, received: coefficients.shape)
        }
        let d = fittedData
        guard d.shape == op.outputShape else {
            throw .shapeMismatch(argument: useScalarProjections ? "scalarProjections" : "data", expected: op.outputShape, received: d.shape)
        }
        var r = Tensor<Scalar>.zeros(op.outputShape)
        coefficients.withUnsafeBufferPointer { x in
            r.withUnsafeMutableBufferPointer { y in op.apply(x, into: y) }
        }
        Self.subtract(&r, d)
        let w: Tensor<Scalar>? = weighted ? fittedWeights : nil
        var g: Tensor<Scalar>? = nil
        if gradient {
            if let w {
                var wr = r
                Self.multiply(&wr, w)
                g = backProjection(op, wr)
            } else {
                g = backProjection(op, r)
            }
        }
        return ResidualEvaluation(residuals: r, gradient: g, weights: w)
    }

    /// mumott's `get_gradient_from_residual_gradient`: `Pᵀ(Bᵀ(g))` for a
    /// residual gradient `g` `(N, J, K, S)` (weights already applied), for
    /// losses other than the squared loss.
    ///
    /// - Throws: ``TomographyError`` for a wrong shape.
    @specialized(where Scalar == Double, Basis == SphericalHarmonics)
    @specialized(where Scalar == Double, Basis == GaussianKernels)
    @specialized(where Scalar == Double, Basis == NearestNeighbor)
    @specialized(where Scalar == Double, Basis == TrivialBasis)
    @specialized(where Scalar == Float, Basis == SphericalHarmonics)
    @specialized(where Scalar == Float, Basis == GaussianKernels)
    @specialized(where Scalar == Float, Basis == NearestNeighbor)
    @specialized(where Scalar == Float, Basis == TrivialBasis)
    public mutating func gradient(fromResidualGradient g: Tensor<Scalar>) throws(TomographyError) -> Tensor<Scalar> {
        try update()
        let op = model!
        guard g.shape == op.outputShape else {
            throw .shapeMismatch(argument: "residualGradient", expected: op.outputShape, received: g.shape)
        }
        return backProjection(op, g)
    }

    /// `(B P)ᵀ y`: this calculator's projections' back-projection, added
    /// over the parts with ``partialSums`` when the problem is split.
    func backProjection(_ op: TensorTomographyOperator<Scalar>, _ y: Tensor<Scalar>) -> Tensor<Scalar> {
        var x = Tensor<Scalar>.zeros(op.inputShape)
        y.withUnsafeBufferPointer { yb in
            x.withUnsafeMutableBufferPointer { xb in
                op.applyAdjoint(yb, into: xb)
                partialSums?.sumVolumes(xb)
            }
        }
        return x
    }

    static func subtract(_ a: inout Tensor<Scalar>, _ b: Tensor<Scalar>) {
        b.withUnsafeBufferPointer { bb in
            a.withUnsafeMutableBufferPointer { ab in
                let src = SendableBuffer(bb), dst = SendableMutableBuffer(ab)
                Parallel.forEachChunk(count: ab.count, minimumChunk: 65536) { range in
                    let p = dst.pointer(at: range.lowerBound, count: range.count)
                    for i in range { p[i - range.lowerBound] -= src[i] }
                }
            }
        }
    }

    static func multiply(_ a: inout Tensor<Scalar>, _ b: Tensor<Scalar>) {
        b.withUnsafeBufferPointer { bb in
            a.withUnsafeMutableBufferPointer { ab in
                let src = SendableBuffer(bb), dst = SendableMutableBuffer(ab)
                Parallel.forEachChunk(count: ab.count, minimumChunk: 65536) { range in
                    let p = dst.pointer(at: range.lowerBound, count: range.count)
                    for i in range { p[i - range.lowerBound] *= src[i] }
                }
            }
        }
    }

    /// An estimate of the largest eigenvalue of `(B P)ᵀ (B P)` (the squared
    /// largest singular value) by `iterations` power iterations from a
    /// seeded random start: the Lipschitz constant of the squared loss's
    /// gradient, from which safe step sizes follow (`step = 1 / λ`).
    ///
    /// - Throws: ``TomographyError`` as ``residuals(gradient:weighted:)``.
    @specialized(where Scalar == Double, Basis == SphericalHarmonics)
    @specialized(where Scalar == Double, Basis == GaussianKernels)
    @specialized(where Scalar == Double, Basis == NearestNeighbor)
    @specialized(where Scalar == Double, Basis == TrivialBasis)
    @specialized(where Scalar == Float, Basis == SphericalHarmonics)
    @specialized(where Scalar == Float, Basis == GaussianKernels)
    @specialized(where Scalar == Float, Basis == NearestNeighbor)
    @specialized(where Scalar == Float, Basis == TrivialBasis)
    public mutating func largestEigenvalue(iterations: Int = 20, seed: UInt64 = 0, weighted: Bool = false) throws(TomographyError) -> Double {
        try update()
        let op = model!
        let w: Tensor<Scalar>? = weighted ? fittedWeights : nil
        var x = Tensor<Scalar>.normal(op.inputShape, seed: seed).map { Swift.abs($0) }
        var lambda = 0.0
        for _ in 0..<Swift.max(1, iterations) {
            let norm = Self.norm(x)
            guard norm > 0 else { return 0 }
            x = x.map { [s = Scalar(1 / norm)] in $0 * s }
            var y = Tensor<Scalar>.zeros(op.outputShape)
            x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in op.apply(xb, into: yb) } }
            if let w { Self.multiply(&y, w) }
            x = backProjection(op, y)
            lambda = Self.norm(x)
        }
        return lambda
    }

    static func norm(_ x: Tensor<Scalar>) -> Double {
        x.withUnsafeBufferPointer { b in
            var s = 0.0
            for v in b { s += Double(v) * Double(v) }
            return s.squareRoot()
        }
    }
}

/// What the probed coordinates depend on.
struct CoordinatesKey: Hashable, Sendable {
    let rotations: [Double]
    let vectors: [Double]
    let detectorAngles: [Double]
    let twoTheta: [Double]
    let fullCircle: Bool
    let samples: Int

    init(_ g: Geometry, _ samples: Int) {
        rotations = g.rotations.flatMap(\.rowMajor)
        var v = [Double]()
        for s in [g.pDirection0, g.detectorDirectionOrigin, g.detectorDirectionPositive90] { v += [s.x, s.y, s.z] }
        vectors = v
        detectorAngles = g.detectorAngles
        twoTheta = g.twoTheta
        fullCircle = g.fullCircleCovered
        self.samples = samples
    }
}
