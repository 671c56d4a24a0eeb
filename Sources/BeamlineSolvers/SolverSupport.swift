import BeamlineSparse
import BeamlineTensor

/// Errors thrown by the solvers, optimisers, losses and operator
/// combinators when their input is unusable.
///
/// Each case names the argument and the expected and received values.
public enum SolverError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An argument's shape or length does not fit the operator.
    case shapeMismatch(argument: String, expected: [Int], received: [Int])
    /// The operator has no rows or no columns.
    case emptyOperator(rows: Int, columns: Int)
    /// An input held NaN or infinity.
    case nonFiniteValues(argument: String)
    /// A parameter or input is outside its allowed range.
    case invalidArgument(name: String, expected: String, received: String)

    /// A one-line message naming the argument and the problem.
    public var description: String {
        switch self {
        case let .shapeMismatch(argument, expected, received):
            return "\(argument): expected shape \(expected), received \(received)"
        case let .emptyOperator(rows, columns):
            return "the operator is empty (shape (\(rows), \(columns))); solvers need at least one row and one column"
        case let .nonFiniteValues(argument):
            return "\(argument) contains NaN or infinite values"
        case let .invalidArgument(name, expected, received):
            return "invalid \(name): expected \(expected), received \(received)"
        }
    }
}

/// What an iterative solver or optimiser reports after each iteration to
/// its progress callback (the CLI turns this into a progress bar).
public struct IterationProgress: Sendable, Equatable {
    /// The iteration just finished (1-based).
    public var iteration: Int
    /// The iteration limit.
    public var maximumIterations: Int
    /// The solver's main figure after this iteration: the residual norm
    /// for LSMR, CGLS and SIRT, the largest relative change for MLEM, the
    /// objective value for the optimisers.
    public var value: Double

    /// Creates a progress report.
    public init(iteration: Int, maximumIterations: Int, value: Double) {
        self.iteration = iteration
        self.maximumIterations = maximumIterations
        self.value = value
    }
}

/// A progress callback.
public typealias ProgressHandler = (IterationProgress) -> Void

/// Deterministic parallel vector kernels for the solvers: reductions are
/// summed per fixed block and the blocks combined in order, so results do
/// not depend on the thread count.
@usableFromInline
enum VectorKernels {
    /// Elements per reduction block (fixed, independent of threads).
    @usableFromInline static var blockSize: Int { 16384 }

    /// Σ body(range) over fixed blocks of `0..<count`, in block order.
    @inlinable
    static func blockedSum(count: Int, _ body: @Sendable (Range<Int>) -> Double) -> Double {
        if count <= blockSize { return count > 0 ? body(0..<count) : 0 }
        let blocks = (count + blockSize - 1) / blockSize
        var partials = [Double](repeating: 0, count: blocks)
        partials.withUnsafeMutableBufferPointer { out in
            let base = SendableMutableBuffer(out)
            Parallel.forEachBlock(count: count, blockSize: blockSize) { block, range in base[block] = body(range) }
        }
        var total = 0.0
        for value in partials { total += value }
        return total
    }

    /// Σ x² in Double.
    @inlinable
    static func squaredNorm<S: RealElement>(_ x: UnsafePointer<S>, _ count: Int) -> Double {
        let x = SendableBuffer(start: x, validIndices: 0..<count)
        return blockedSum(count: count) { range in
            var sum = 0.0
            for i in range { let v = Double(x[i]); sum += v * v }
            return sum
        }
    }

    /// ‖x‖₂.
    @inlinable
    static func norm<S: RealElement>(_ x: UnsafePointer<S>, _ count: Int) -> Double {
        squaredNorm(x, count).squareRoot()
    }

    /// Σ x y in Double.
    @inlinable
    static func dot<S: RealElement>(_ x: UnsafePointer<S>, _ y: UnsafePointer<S>, _ count: Int) -> Double {
        let (x, y) = (SendableBuffer(start: x, validIndices: 0..<count), SendableBuffer(start: y, validIndices: 0..<count))
        return blockedSum(count: count) { range in
            var sum = 0.0
            for i in range { sum += Double(x[i]) * Double(y[i]) }
            return sum
        }
    }

    /// Runs an elementwise body over `0..<count` in parallel chunks.
    @inlinable
    static func forEach(_ count: Int, _ body: @Sendable (Range<Int>) -> Void) {
        Parallel.forEachChunk(count: count, minimumChunk: 32768, body)
    }

    /// x *= a.
    @inlinable
    static func scale<S: RealElement>(_ x: UnsafeMutablePointer<S>, _ count: Int, by a: S) {
        let x = SendableMutableBuffer(start: x, validIndices: 0..<count)
        forEach(count) { range in for i in range { x[i] *= a } }
    }
}

/// A zero-filled scratch array of `count` elements.
@inlinable
func zeroArray<S: RealElement>(_ count: Int) -> [S] {
    [S](repeating: 0, count: count)
}

/// Validates a vector argument: length and finiteness.
@inlinable
func checkedVector<S: RealElement>(_ tensor: Tensor<S>, count: Int, name: String) throws(SolverError) -> [S] {
    guard tensor.count == count && tensor.shape.filter({ $0 != 1 }).count <= 1 else {
        throw .shapeMismatch(argument: name, expected: [count], received: tensor.shape)
    }
    let values = tensor.elements
    for value in values where !value.isFinite { throw .nonFiniteValues(argument: name) }
    return values
}

/// Checks that an operator can be solved with.
@inlinable
func checkNonEmpty<Op: LinearOperator>(_ op: Op) throws(SolverError) {
    guard op.rows > 0 && op.columns > 0 else { throw .emptyOperator(rows: op.rows, columns: op.columns) }
}

/// Checks a finite, non-negative parameter.
@inlinable
func checkParameter(_ value: Double, _ name: String, positive: Bool = false) throws(SolverError) {
    guard value.isFinite && (positive ? value > 0 : value >= 0) else {
        throw .invalidArgument(name: name, expected: positive ? "a finite number > 0" : "a finite number ≥ 0",
                               received: "\(value)")
    }
}
