import Foundation
import BeamlineOperators
import BeamlineTensor
import Synchronization

/// A basis set's forward map as a `LinearOperator`: per projection `n`,
/// `y[n, j, k, s] = Σ_c M[n, s, c] · x[n, j, k, c]` with `M` the projection
/// matrix `(N, S, C)`. Input `(N, J, K, C)` (projected coefficients),
/// output `(N, J, K, S)` (detector segments). ``applyAdjoint(_:into:)`` is
/// its exact transpose (mumott's `BasisSet.gradient`).
public struct BasisSetOperator<Scalar: OperatorScalar>: LinearOperator, Sendable {
    /// Projections `N`.
    public let projections: Int
    /// Pixels per projection, `J · K`.
    public let pixels: Int
    /// Detector segments `S` (rows of each projection's matrix).
    public let segments: Int
    /// Coefficients `C`.
    public let coefficients: Int
    /// The detector shape `(J, K)`.
    public let projectionShape: [Int]
    /// The matrix `(N, S, C)` row-major in `Scalar`.
    @usableFromInline let matrix: [Scalar]

    /// The operator of `matrix` `(N, S, C)` for projections of shape `projectionShape` `(J, K)`.
    ///
    /// - Throws: ``TomographyError`` when `matrix` is not rank 3,
    ///   `projectionShape` is not two positive lengths, or a value is not finite.
    public init(matrix: Tensor<Double>, projectionShape: [Int]) throws(TomographyError) {
        guard matrix.rank == 3, matrix.count > 0 else {
            throw .invalidArgument(name: "matrix", expected: "a non-empty (N, S, C) projection matrix", received: "shape \(matrix.shape)")
        }
        guard projectionShape.count == 2, projectionShape.allSatisfy({ $0 > 0 }) else {
            throw .invalidArgument(name: "projectionShape", expected: "(J, K), positive", received: "\(projectionShape)")
        }
        let values = matrix.elements
        guard values.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "matrix") }
        projections = matrix.shape[0]
        segments = matrix.shape[1]
        coefficients = matrix.shape[2]
        self.projectionShape = projectionShape
        pixels = projectionShape[0] * projectionShape[1]
        self.matrix = RealConversion.values(values, as: Scalar.self)
    }

    /// `N · J · K · S`.
    @inlinable public var rows: Int { projections * pixels * segments }
    /// `N · J · K · C`.
    @inlinable public var columns: Int { projections * pixels * coefficients }
    /// `(N, J, K, C)`.
    @inlinable public var inputShape: [Int] { [projections] + projectionShape + [coefficients] }
    /// `(N, J, K, S)`.
    @inlinable public var outputShape: [Int] { [projections] + projectionShape + [segments] }

    /// Segments from projected coefficients (specialised for `Float` and
    /// `Double`, so generic callers run the specialised contraction).
    @specialized(where Scalar == Double)
    @specialized(where Scalar == Float)
    @inlinable
    public func apply(_ x: UnsafeBufferPointer<Scalar>, into y: UnsafeMutableBufferPointer<Scalar>) {
        precondition(x.count == columns && y.count == rows,
                     "BasisSetOperator.apply: buffers of \(x.count) and \(y.count) elements for operator [\(rows), \(columns)]")
        let (s, c, p) = (segments, coefficients, pixels)
        matrix.withUnsafeBufferPointer { mb in
            let m = SendableBuffer(mb), input = SendableBuffer(x), output = SendableMutableBuffer(y)
            Parallel.forEachChunk(count: projections * p, minimumChunk: Swift.max(1, 16384 / Swift.max(1, s * c))) { range in
                for row in range {
                    let n = row / p
                    let mp = m.baseAddress + n * s * c
                    let xp = input.baseAddress + row * c
                    let yp = output.pointer(at: row * s, count: s)
                    for a in 0..<s {
                        var acc: Scalar = 0
                        let mr = mp + a * c
                        for b in 0..<c { acc += mr[b] * xp[b] }
                        yp[a] = acc
                    }
                }
            }
        }
    }

    /// Projected coefficients from segments: the exact transpose
    /// (specialised as ``apply(_:into:)``).
    @specialized(where Scalar == Double)
    @specialized(where Scalar == Float)
    @inlinable
    public func applyAdjoint(_ y: UnsafeBufferPointer<Scalar>, into x: UnsafeMutableBufferPointer<Scalar>) {
        precondition(x.count == columns && y.count == rows,
                     "BasisSetOperator.applyAdjoint: buffers of \(y.count) and \(x.count) elements for operator [\(rows), \(columns)]")
        let (s, c, p) = (segments, coefficients, pixels)
        matrix.withUnsafeBufferPointer { mb in
            let m = SendableBuffer(mb), input = SendableBuffer(y), output = SendableMutableBuffer(x)
            Parallel.forEachChunk(count: projections * p, minimumChunk: Swift.max(1, 16384 / Swift.max(1, s * c))) { range in
                for row in range {
                    let n = row / p
                    let mp = m.baseAddress + n * s * c
                    let yp = input.baseAddress + row * s
                    let xp = output.pointer(at: row * c, count: c)
                    for b in 0..<c { xp[b] = 0 }
                    for a in 0..<s {
                        let w = yp[a]
                        let mr = mp + a * c
                        for b in 0..<c { xp[b] += mr[b] * w }
                    }
                }
            }
        }
    }
}

/// The tensor-tomography forward model `B ∘ P` as one `LinearOperator`:
/// the exact-adjoint multi-channel John transform of the coefficient
/// volume `(X, Y, Z, C)`, then each projection's basis-set matrix, giving
/// detector segments `(N, J, K, S)`. Its adjoint `Pᵀ Bᵀ` is the exact
/// transpose, so gradients built on it are true gradients.
public struct TensorTomographyOperator<Scalar: OperatorScalar>: LinearOperator, Sendable {
    /// The John transform with `C` channels.
    public let projector: JohnTransformProjector<Scalar>
    /// The basis-set matrices.
    public let basis: BasisSetOperator<Scalar>
    /// Reused scratch for the projected coefficients.
    let scratch: Scratch<Scalar>

    /// `B ∘ P` from a projector and a basis operator of matching shapes.
    ///
    /// - Throws: ``TomographyError`` when the projector's channels, projection
    ///   count or detector shape differ from the basis operator's.
    public init(projector: JohnTransformProjector<Scalar>, basis: BasisSetOperator<Scalar>) throws(TomographyError) {
        guard projector.projectionsShape == basis.inputShape else {
            throw .shapeMismatch(argument: "basis (projections, J, K, coefficients)", expected: projector.projectionsShape, received: basis.inputShape)
        }
        self.projector = projector
        self.basis = basis
        self.scratch = Scratch(count: projector.rows)
    }

    /// `N · J · K · S`.
    @inlinable public var rows: Int { basis.rows }
    /// `X · Y · Z · C`.
    @inlinable public var columns: Int { projector.columns }
    /// `(X, Y, Z, C)`.
    @inlinable public var inputShape: [Int] { projector.inputShape }
    /// `(N, J, K, S)`.
    @inlinable public var outputShape: [Int] { basis.outputShape }

    /// `y = B(P x)`.
    public func apply(_ x: UnsafeBufferPointer<Scalar>, into y: UnsafeMutableBufferPointer<Scalar>) {
        scratch.withBuffer { t in
            projector.apply(x, into: t)
            basis.apply(UnsafeBufferPointer(t), into: y)
        }
    }

    /// `x = Pᵀ(Bᵀ y)`.
    public func applyAdjoint(_ y: UnsafeBufferPointer<Scalar>, into x: UnsafeMutableBufferPointer<Scalar>) {
        scratch.withBuffer { t in
            basis.applyAdjoint(y, into: t)
            projector.applyAdjoint(UnsafeBufferPointer(t), into: x)
        }
    }
}

/// A reusable scratch buffer behind a lock (one user at a time; a second
/// concurrent user gets a fresh buffer), so repeated applications allocate
/// nothing.
final class Scratch<Scalar>: @unchecked Sendable {
    private var buffer: UnsafeMutableBufferPointer<Scalar>?
    private let count: Int
    private let busy = Atomic<Bool>(false)

    init(count: Int) { self.count = count }

    deinit { buffer?.deallocate() }

    func withBuffer<R>(_ body: (UnsafeMutableBufferPointer<Scalar>) -> R) -> R {
        if busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            defer { busy.store(false, ordering: .releasing) }
            if buffer == nil { buffer = .allocate(capacity: count) }
            return body(buffer!)
        }
        let temporary = UnsafeMutableBufferPointer<Scalar>.allocate(capacity: count)
        defer { temporary.deallocate() }
        return body(temporary)
    }
}
