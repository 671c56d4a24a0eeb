import BeamlineTensor
import ComplexModule
import RealModule

/// Errors thrown by the registration, shifting and centre-of-mass entry
/// points.
///
/// Every case names the argument at fault and, where it helps, the
/// expected and received values, so a message is useful on its own. Bad
/// input never stops the program.
public enum RegistrationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Two shapes had to agree and did not.
    case shapeMismatch(argument: String, expected: [Int], received: [Int])
    /// An image had no pixels (an axis of length 0) or no axes.
    case emptyImage(argument: String, shape: [Int])
    /// An image held NaN or infinity.
    case nonFiniteValues(argument: String)
    /// An argument had a value that the operation does not accept.
    case invalidArgument(name: String, expected: String, received: String)
    /// A mask was required and not given (for example only `movingMask`
    /// was passed, where scikit-image crashes).
    case missingMask(argument: String, reason: String)
    /// A mask selected no pixel.
    case emptyMask(argument: String)
    /// The total mass (sum of the weights) was zero, so a centre of mass
    /// is undefined (SciPy returns NaN or infinity with a warning).
    case zeroTotalMass(argument: String)
    /// An FFT or BLAS call underneath failed.
    case backend(String)

    /// A human-readable message naming the argument.
    public var description: String {
        switch self {
        case let .shapeMismatch(argument, expected, received):
            return "\(argument): expected shape \(expected), received \(received)"
        case let .emptyImage(argument, shape):
            return "\(argument): the image is empty (shape \(shape)); at least one pixel on at least one axis is required"
        case let .nonFiniteValues(argument):
            return "\(argument) contains NaN or infinite values (mask them out with the masked registration instead)"
        case let .invalidArgument(name, expected, received):
            return "invalid \(name): expected \(expected), received \(received)"
        case let .missingMask(argument, reason):
            return "\(argument) is missing: \(reason)"
        case let .emptyMask(argument):
            return "\(argument) selects no pixel (all false)"
        case let .zeroTotalMass(argument):
            return "\(argument): the total mass is zero, so the centre of mass is undefined"
        case let .backend(message):
            return "backend failure: \(message)"
        }
    }
}

/// The real scalar types the registration code runs on: `Float` and
/// `Double` (FFTW and BLAS back ends for both precisions).
public protocol RegistrationScalar: FFTScalar, LinearAlgebraScalar, KernelScalar {}

extension Float: RegistrationScalar {}
extension Double: RegistrationScalar {}

// MARK: - Validation helpers

@usableFromInline
func checkNotEmpty<E: TensorElement>(_ image: Tensor<E>, _ name: String) throws {
    guard image.rank >= 1, !image.isEmpty else { throw RegistrationError.emptyImage(argument: name, shape: image.shape) }
}

@usableFromInline
func checkImage<E: FloatingElement>(_ image: Tensor<E>, _ name: String) throws {
    try checkNotEmpty(image, name)
    guard image.allFinite else { throw RegistrationError.nonFiniteValues(argument: name) }
}

/// Runs a throwing Tensor-layer call and converts its error.
@usableFromInline
func backend<R>(_ body: () throws -> R) throws -> R {
    do { return try body() } catch let error as RegistrationError { throw error } catch {
        throw RegistrationError.backend("\(error)")
    }
}

/// Row-major strides of `shape`.
@usableFromInline
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var step = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[axis] = step
        step &*= Swift.max(shape[axis], 1)
    }
    return strides
}

/// The multi-index of flat position `flat` in a row-major `shape`.
@usableFromInline
func unravel(_ flat: Int, _ shape: [Int]) -> [Int] {
    var rest = flat
    var index = [Int](repeating: 0, count: shape.count)
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        index[axis] = rest % shape[axis]
        rest /= shape[axis]
    }
    return index
}
