import BeamlineTensor
import ComplexModule
import RealModule

/// Errors thrown by the registration, shifting and centre-of-mass entry
/// points.
///
/// Every case names the argument at fault and, where it helps, the
/// expected and received values, so a message is useful on its own. Bad
/// input never stops the program. A shape that does not fit, a value out
/// of range and NaN or infinity are ``argument(_:)``, the `ArgumentError`
/// every Beamline module wraps; an error from the tensor layer underneath
/// (an FFT or BLAS call) arrives wrapped in ``tensor(_:)``, never as text.
/// Every public entry point of `BeamlineRegistration` throws exactly this
/// type (`throws(RegistrationError)`).
public enum RegistrationError: Error, ArgumentErrorWrapping, Equatable, Sendable, CustomStringConvertible {
    /// An argument had a shape, value or content the operation does not
    /// accept (its name, what was expected, what was received).
    case argument(ArgumentError)
    /// An image had no pixels (an axis of length 0) or no axes.
    case emptyImage(argument: String, shape: [Int])
    /// A mask was required and not given (for example only `movingMask`
    /// was passed, where scikit-image crashes).
    case missingMask(argument: String, reason: String)
    /// A mask selected no pixel.
    case emptyMask(argument: String)
    /// The total mass (sum of the weights) was zero, so a centre of mass
    /// is undefined (SciPy returns NaN or infinity with a warning).
    case zeroTotalMass(argument: String)
    /// An FFT or BLAS call in the tensor layer underneath failed.
    case tensor(TensorError)

    /// A human-readable message naming the argument.
    public var description: String {
        switch self {
        case let .argument(error) where error.kind == .nonFinite:
            return "\(error.argument) contains NaN or infinite values (mask them out with the masked registration instead)"
        case let .argument(error):
            return error.description
        case let .emptyImage(argument, shape):
            return "\(argument): the image is empty (shape \(shape)); at least one pixel on at least one axis is required"
        case let .missingMask(argument, reason):
            return "\(argument) is missing: \(reason)"
        case let .emptyMask(argument):
            return "\(argument) selects no pixel (all false)"
        case let .zeroTotalMass(argument):
            return "\(argument): the total mass is zero, so the centre of mass is undefined"
        case let .tensor(error):
            return "tensor layer: \(error)"
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
func checkNotEmpty<E: TensorElement>(_ image: Tensor<E>, _ name: String) throws(RegistrationError) {
    guard image.rank >= 1, !image.isEmpty else { throw RegistrationError.emptyImage(argument: name, shape: image.shape) }
}

@usableFromInline
func checkImage<E: FloatingElement>(_ image: Tensor<E>, _ name: String) throws(RegistrationError) {
    try checkNotEmpty(image, name)
    guard image.allFinite else { throw RegistrationError.nonFiniteValues(argument: name) }
}

/// Runs a throwing Tensor-layer call and wraps its error in
/// ``RegistrationError/tensor(_:)``.
@usableFromInline
func backend<R>(_ body: () throws(TensorError) -> R) throws(RegistrationError) -> R {
    do { return try body() } catch { throw .tensor(error) }
}

/// Row-major strides of `shape` (``Tensor/contiguousStrides(for:)``).
@usableFromInline
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    Tensor<Double>.contiguousStrides(for: shape)
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
