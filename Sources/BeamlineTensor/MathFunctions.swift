import ComplexModule
import RealModule

// Elementwise math functions, named as in NumPy. Each is a free function
// over tensors, so `exp(t)` reads as `numpy.exp(t)`; the scalar work is
// swift-numerics' `ElementaryFunctions`.

/// `eˣ` elementwise (`numpy.exp`).
@inlinable public func exp<E: FloatingElement>(_ x: Tensor<E>) -> Tensor<E> { x.map(ExpOperation<E>()) }

/// The scalar function behind ``exp(_:)``.
@frozen public struct ExpOperation<E: FloatingElement>: UnaryElementOperation {
    /// Creates the operation.
    @inlinable public init() {}
    /// Applies the function.
    @inlinable @inline(__always) public func callAsFunction(_ x: E) -> E { E.exp(x) }
}
/// Natural logarithm elementwise (`numpy.log`): NaN for negative reals, -inf at 0.
@inlinable public func log<E: FloatingElement>(_ x: Tensor<E>) -> Tensor<E> { x.map(LogOperation<E>()) }

/// The scalar function behind ``log(_:)``.
@frozen public struct LogOperation<E: FloatingElement>: UnaryElementOperation {
    /// Creates the operation.
    @inlinable public init() {}
    /// Applies the function.
    @inlinable @inline(__always) public func callAsFunction(_ x: E) -> E { E.log(x) }
}
/// Square root elementwise (`numpy.sqrt`): NaN for negative reals.
@inlinable public func sqrt<E: FloatingElement>(_ x: Tensor<E>) -> Tensor<E> { x.map(SqrtOperation<E>()) }

/// The scalar function behind ``sqrt(_:)``.
@frozen public struct SqrtOperation<E: FloatingElement>: UnaryElementOperation {
    /// Creates the operation.
    @inlinable public init() {}
    /// Applies the function.
    @inlinable @inline(__always) public func callAsFunction(_ x: E) -> E { E.sqrt(x) }
}
/// Sine elementwise (`numpy.sin`).
@inlinable public func sin<E: FloatingElement>(_ x: Tensor<E>) -> Tensor<E> { x.map(SinOperation<E>()) }

/// The scalar function behind ``sin(_:)``.
@frozen public struct SinOperation<E: FloatingElement>: UnaryElementOperation {
    /// Creates the operation.
    @inlinable public init() {}
    /// Applies the function.
    @inlinable @inline(__always) public func callAsFunction(_ x: E) -> E { E.sin(x) }
}
/// Cosine elementwise (`numpy.cos`).
@inlinable public func cos<E: FloatingElement>(_ x: Tensor<E>) -> Tensor<E> { x.map(CosOperation<E>()) }

/// The scalar function behind ``cos(_:)``.
@frozen public struct CosOperation<E: FloatingElement>: UnaryElementOperation {
    /// Creates the operation.
    @inlinable public init() {}
    /// Applies the function.
    @inlinable @inline(__always) public func callAsFunction(_ x: E) -> E { E.cos(x) }
}
/// Tangent elementwise (`numpy.tan`).
@inlinable public func tan<E: FloatingElement>(_ x: Tensor<E>) -> Tensor<E> { x.map(TanOperation<E>()) }

/// The scalar function behind ``tan(_:)``.
@frozen public struct TanOperation<E: FloatingElement>: UnaryElementOperation {
    /// Creates the operation.
    @inlinable public init() {}
    /// Applies the function.
    @inlinable @inline(__always) public func callAsFunction(_ x: E) -> E { E.tan(x) }
}

/// `xᵖ` elementwise for real tensors (`numpy.power`), with IEEE `pow`
/// semantics (negative bases give NaN for non-integer exponents).
@inlinable public func pow<E: RealElement>(_ x: Tensor<E>, _ p: E) -> Tensor<E> {
    x.map { E.pow($0, p) }
}

/// `xᵖ` elementwise with broadcasting for real tensors (`numpy.power`).
@inlinable public func pow<E: RealElement>(_ x: Tensor<E>, _ p: Tensor<E>) -> Tensor<E> {
    Tensor.zip(x, p) { E.pow($0, $1) }
}

/// `zᵖ` elementwise for complex tensors, on the principal branch.
@inlinable public func pow<E: ComplexElement>(_ x: Tensor<E>, _ p: E) -> Tensor<E> {
    x.map { E.pow($0, p) }
}

/// Absolute value (modulus for complex) elementwise (`numpy.abs`); complex
/// input gives a real tensor.
@inlinable public func abs<E: FloatingElement>(_ x: Tensor<E>) -> Tensor<E.RealComponent> { x.map { $0.modulus } }

/// Absolute value elementwise for signed integers (`numpy.abs`; the most
/// negative value wraps to itself, as in NumPy).
@inlinable public func abs<E: ComparableElement & FixedWidthInteger & SignedInteger>(_ x: Tensor<E>) -> Tensor<E> {
    x.map { $0 < 0 ? 0 &- $0 : $0 }
}

/// NaN-propagating maximum of two values, as NumPy's `maximum` does.
@inlinable
func propagatingMaximum<E: ComparableElement>(_ a: E, _ b: E) -> E {
    if a != a { return a }
    if b != b { return b }
    return a < b ? b : a
}

/// NaN-propagating minimum of two values, as NumPy's `minimum` does.
@inlinable
func propagatingMinimum<E: ComparableElement>(_ a: E, _ b: E) -> E {
    if a != a { return a }
    if b != b { return b }
    return b < a ? b : a
}

/// Elementwise maximum with broadcasting; NaN wins (`numpy.maximum`).
@inlinable public func maximum<E: ComparableElement>(_ a: Tensor<E>, _ b: Tensor<E>) -> Tensor<E> {
    Tensor.zip(a, b, propagatingMaximum)
}

/// Elementwise minimum with broadcasting; NaN wins (`numpy.minimum`).
@inlinable public func minimum<E: ComparableElement>(_ a: Tensor<E>, _ b: Tensor<E>) -> Tensor<E> {
    Tensor.zip(a, b, propagatingMinimum)
}

/// Limits every element to `[lower, upper]` (`numpy.clip`); NaN stays NaN.
@inlinable public func clip<E: ComparableElement>(_ x: Tensor<E>, _ lower: E, _ upper: E) -> Tensor<E> {
    x.map { propagatingMinimum(propagatingMaximum($0, lower), upper) }
}

/// Picks `a` where `condition` is true and `b` elsewhere, with broadcasting
/// of all three (`numpy.where`).
@inlinable public func `where`<E: TensorElement>(_ condition: Tensor<Bool>, _ a: Tensor<E>, _ b: Tensor<E>) -> Tensor<E> {
    Tensor.zip(condition, a, b) { $0 ? $1 : $2 }
}

// MARK: - Comparisons

infix operator .&& : LogicalConjunctionPrecedence
infix operator .|| : LogicalDisjunctionPrecedence

extension Tensor where Element: ComparableElement {
    /// Elementwise `<` with broadcasting, as a Boolean mask.
    @inlinable public static func .< (lhs: Tensor, rhs: Tensor) -> Tensor<Bool> { .zip(lhs, rhs) { $0 < $1 } }
    /// Elementwise `<=` with broadcasting.
    @inlinable public static func .<= (lhs: Tensor, rhs: Tensor) -> Tensor<Bool> { .zip(lhs, rhs) { $0 <= $1 } }
    /// Elementwise `>` with broadcasting.
    @inlinable public static func .> (lhs: Tensor, rhs: Tensor) -> Tensor<Bool> { .zip(lhs, rhs) { $0 > $1 } }
    /// Elementwise `>=` with broadcasting.
    @inlinable public static func .>= (lhs: Tensor, rhs: Tensor) -> Tensor<Bool> { .zip(lhs, rhs) { $0 >= $1 } }
    /// Elementwise `<` against a scalar.
    @inlinable public static func .< (lhs: Tensor, rhs: Element) -> Tensor<Bool> { lhs.map { $0 < rhs } }
    /// Elementwise `<=` against a scalar.
    @inlinable public static func .<= (lhs: Tensor, rhs: Element) -> Tensor<Bool> { lhs.map { $0 <= rhs } }
    /// Elementwise `>` against a scalar.
    @inlinable public static func .> (lhs: Tensor, rhs: Element) -> Tensor<Bool> { lhs.map { $0 > rhs } }
    /// Elementwise `>=` against a scalar.
    @inlinable public static func .>= (lhs: Tensor, rhs: Element) -> Tensor<Bool> { lhs.map { $0 >= rhs } }
}

extension Tensor {
    /// Elementwise `==` with broadcasting (NaN is unequal to everything).
    @inlinable public static func .== (lhs: Tensor, rhs: Tensor) -> Tensor<Bool> { .zip(lhs, rhs) { $0 == $1 } }
    /// Elementwise `!=` with broadcasting.
    @inlinable public static func .!= (lhs: Tensor, rhs: Tensor) -> Tensor<Bool> { .zip(lhs, rhs) { $0 != $1 } }
    /// Elementwise `==` against a scalar.
    @inlinable public static func .== (lhs: Tensor, rhs: Element) -> Tensor<Bool> { lhs.map { $0 == rhs } }
    /// Elementwise `!=` against a scalar.
    @inlinable public static func .!= (lhs: Tensor, rhs: Element) -> Tensor<Bool> { lhs.map { $0 != rhs } }

    /// The elements converted to another element type with NumPy's
    /// `astype` rules: floats to integers truncate toward zero (saturating,
    /// NaN → 0), complex to real keeps the real part, anything to `Bool` is
    /// `!= 0`.
    @inlinable
    public func cast<Target: TensorElement>(to target: Target.Type) -> Tensor<Target> {
        map { $0._cast(to: Target.self) }
    }
}

extension Tensor where Element == Bool {
    /// Elementwise logical and with broadcasting.
    @inlinable public static func .&& (lhs: Tensor, rhs: Tensor) -> Tensor { .zip(lhs, rhs) { $0 && $1 } }
    /// Elementwise logical or with broadcasting.
    @inlinable public static func .|| (lhs: Tensor, rhs: Tensor) -> Tensor { .zip(lhs, rhs) { $0 || $1 } }
    /// Elementwise logical not.
    @inlinable public static prefix func .! (operand: Tensor) -> Tensor { operand.map { !$0 } }
    /// True when any element is true (`numpy.any`).
    @inlinable public func any() -> Bool { elements.contains(true) }
    /// True when every element is true (`numpy.all`).
    @inlinable public func all() -> Bool { !elements.contains(false) }
    /// The number of true elements (`numpy.count_nonzero`).
    @inlinable public func trueCount() -> Int { elements.reduce(0) { $0 + ($1 ? 1 : 0) } }
}

extension Tensor where Element: FloatingElement {
    /// True where the element is finite (`numpy.isfinite`).
    @inlinable public var isFiniteMask: Tensor<Bool> {
        map { $0.realComponent.isFinite && $0.imaginaryComponent.isFinite }
    }
    /// True where the element is NaN (`numpy.isnan`).
    @inlinable public var isNaNMask: Tensor<Bool> { map { $0.realComponent.isNaN || $0.imaginaryComponent.isNaN } }
}

// MARK: - Complex parts

extension Tensor where Element: FloatingElement {
    /// Real parts (`numpy.real`); a copy of the values for real tensors.
    @inlinable public var real: Tensor<Element.RealComponent> { map { $0.realComponent } }
    /// Imaginary parts (`numpy.imag`); zeros for real tensors.
    @inlinable public var imaginary: Tensor<Element.RealComponent> { map { $0.imaginaryComponent } }
    /// Complex conjugates (`numpy.conj`); the values for real tensors.
    @inlinable public var conjugate: Tensor { map { $0.conjugated } }
}

extension Tensor where Element: ComplexElement {
    /// A complex tensor from real and imaginary parts, with broadcasting.
    @inlinable
    public init(real: Tensor<Element.RealComponent>, imaginary: Tensor<Element.RealComponent>) {
        self = .zip(real, imaginary) { Element(realComponent: $0, imaginaryComponent: $1) }
    }

    /// A complex tensor with the given real parts and zero imaginary parts.
    @inlinable
    public init(real: Tensor<Element.RealComponent>) {
        self = real.map { Element(realComponent: $0, imaginaryComponent: 0) }
    }

    /// The argument (phase angle) of every element in radians (`numpy.angle`).
    @inlinable public var phase: Tensor<Element.RealComponent> {
        map { Element.RealComponent.atan2(y: $0.imaginaryComponent, x: $0.realComponent) }
    }
}
