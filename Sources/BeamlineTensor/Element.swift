import ComplexModule
import RealModule

/// The element types a ``Tensor`` can hold, named as NumPy names them.
///
/// The raw value is the NumPy type character (`numpy.dtype(...).char`).
public enum DType: String, Sendable, CaseIterable, CustomStringConvertible {
    /// 32-bit IEEE float (`float32`, `<f4`).
    case float32 = "f"
    /// 64-bit IEEE float (`float64`, `<f8`).
    case float64 = "d"
    /// Complex of two `float32` (`complex64`, `<c8`).
    case complex64 = "F"
    /// Complex of two `float64` (`complex128`, `<c16`).
    case complex128 = "D"
    /// 32-bit signed integer (`int32`, `<i4`).
    case int32 = "i"
    /// 64-bit signed integer (`int64`, `<i8`).
    case int64 = "l"
    /// 8-bit unsigned integer (`uint8`, `|u1`).
    case uint8 = "B"
    /// Boolean stored in one byte (`bool`, `|b1`).
    case bool = "?"
    /// 8-bit signed integer (`int8`, `|i1`): pyFAI's detector masks.
    case int8 = "b"
    /// 16-bit signed integer (`int16`, `<i2`).
    case int16 = "h"
    /// 16-bit unsigned integer (`uint16`, `<u2`): most detector images.
    case uint16 = "H"
    /// 32-bit unsigned integer (`uint32`, `<u4`): Pilatus and Eiger images.
    case uint32 = "I"
    /// 64-bit unsigned integer (`uint64`, `<u8`).
    case uint64 = "L"

    /// Size of one element in bytes.
    public var byteCount: Int {
        switch self {
        case .float32, .int32, .uint32: return 4
        case .float64, .int64, .uint64, .complex64: return 8
        case .complex128: return 16
        case .int16, .uint16: return 2
        case .uint8, .int8, .bool: return 1
        }
    }

    /// NumPy's name of the type (`"float64"`, `"complex64"`, ...).
    public var description: String {
        switch self {
        case .float32: return "float32"
        case .float64: return "float64"
        case .complex64: return "complex64"
        case .complex128: return "complex128"
        case .int32: return "int32"
        case .int64: return "int64"
        case .uint8: return "uint8"
        case .bool: return "bool"
        case .int8: return "int8"
        case .int16: return "int16"
        case .uint16: return "uint16"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        }
    }

    /// True for the signed and unsigned integer types (not `bool`).
    public var isInteger: Bool {
        switch self {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: return true
        case .float32, .float64, .complex64, .complex128, .bool: return false
        }
    }

    /// True when every value of this type is exactly a value of `target`
    /// (a *value-preserving* conversion): the same type; `bool` to any type
    /// (0 and 1); an integer to a wider integer whose range contains it; an
    /// integer of at most 24 bits (`int8`, `int16`, `uint8`, `uint16`) to
    /// `float32`/`complex64`, of at most 53 bits (also `int32`, `uint32`)
    /// to `float64`/`complex128`; `float32` to `float64`; a real type to a
    /// complex type whose parts hold it; `complex64` to `complex128`.
    ///
    /// This is NumPy's `numpy.can_cast(self, target, casting="safe")`
    /// except for `int64` and `uint64` to `float64`/`complex128`, which
    /// NumPy calls safe but which round integers above 2⁵³. Floats never
    /// widen to integers, complex never to real, and nothing but `bool`
    /// to `bool`.
    public func isValuePreserving(to target: DType) -> Bool {
        if self == target || self == .bool { return true }
        switch (integerRange, target.integerRange) {
        case let ((low, high)?, (targetLow, targetHigh)?):
            return low >= targetLow && high <= targetHigh
        case let ((low, high)?, nil):
            guard let digits = target.significandDigits else { return false }
            return low >= -(Int64(1) << digits) && high <= UInt64(1) << digits
        case (nil, _?):
            return false
        case (nil, nil):
            // float32 -> float64, real -> complex of the same or a wider
            // precision, complex64 -> complex128.
            guard let digits = significandDigits, let targetDigits = target.significandDigits else { return false }
            let selfComplex = self == .complex64 || self == .complex128
            let targetComplex = target == .complex64 || target == .complex128
            return digits <= targetDigits && (!selfComplex || targetComplex)
        }
    }

    /// The smallest and largest value of an integer type (nil for other
    /// types).
    var integerRange: (low: Int64, high: UInt64)? {
        switch self {
        case .int8: return (Int64(Int8.min), UInt64(Int8.max))
        case .int16: return (Int64(Int16.min), UInt64(Int16.max))
        case .int32: return (Int64(Int32.min), UInt64(Int32.max))
        case .int64: return (Int64.min, UInt64(Int64.max))
        case .uint8: return (0, UInt64(UInt8.max))
        case .uint16: return (0, UInt64(UInt16.max))
        case .uint32: return (0, UInt64(UInt32.max))
        case .uint64: return (0, UInt64.max)
        default: return nil
        }
    }

    /// Significand bits of a floating-point type or complex part (nil for
    /// integers and `bool`).
    var significandDigits: Int? {
        switch self {
        case .float32, .complex64: return 24
        case .float64, .complex128: return 53
        default: return nil
        }
    }
}

/// A type that a ``Tensor`` can store: `Float`, `Double`, `Complex<Float>`,
/// `Complex<Double>`, `Int8`, `Int16`, `Int32`, `Int64`, `UInt8`, `UInt16`,
/// `UInt32`, `UInt64` and `Bool` (one per ``DType`` case).
///
/// Elements are plain bits (trivial types: storage never runs
/// deinitialisers, and only the thirteen types above conform), and they convert between each other with
/// NumPy's casting rules through ``Tensor/cast(to:)``.
///
/// The underscored requirements (`_zeroValue`, `init(_castingInt64:)`,
/// `_cast(to:)`, …) are the hooks the tensor kernels use; they are public
/// only because the protocol is, and are not API.
public protocol TensorElement: Sendable, Equatable {
    /// The NumPy type of this element.
    static var dtype: DType { get }
    /// The additive identity (`false` for `Bool`).
    static var _zeroValue: Self { get }
    /// The value 1 (`true` for `Bool`).
    static var _oneValue: Self { get }

    /// Creates a value from an integer, as NumPy's `astype` does.
    init(_castingInt64 value: Int64)
    /// Creates a value from a real number, as NumPy's `astype` does
    /// (integers truncate toward zero and saturate; NaN becomes 0).
    init(_castingDouble value: Double)
    /// Creates a value from a complex number, as NumPy's `astype` does
    /// (real types keep the real part).
    init(_castingComplex real: Double, _ imaginary: Double)
    /// Creates a value from a Boolean (1 or 0).
    init(_castingBool value: Bool)
    /// Converts `self` to another element type with NumPy's casting rules.
    func _cast<Target: TensorElement>(to: Target.Type) -> Target
}

/// Elements with `+`, `-`, `*` and `/` (all but `Bool`).
///
/// Integer division truncates toward zero (Swift's rule; NumPy's `//`
/// floors, and its `/` gives floats).
public protocol ArithmeticElement: TensorElement, Numeric {
    /// Division (truncating for integers).
    static func / (lhs: Self, rhs: Self) -> Self
    /// In-place division.
    static func /= (lhs: inout Self, rhs: Self)
}

/// Elements with a total order for comparisons, `min`, `max`, `clip`,
/// `argmin` and `argmax` (the real and integer types).
public protocol ComparableElement: ArithmeticElement, Comparable {}

/// Elements that are floating point or complex, with the elementary
/// functions of swift-numerics (`exp`, `log`, `sqrt`, `sin`, `cos`, `pow`).
public protocol FloatingElement: ArithmeticElement, ElementaryFunctions, AlgebraicField {
    /// The real type underneath (`Self` for real types).
    associatedtype RealComponent: RealElement
    /// The modulus (absolute value) of the element.
    var modulus: RealComponent { get }
    /// The real part.
    var realComponent: RealComponent { get }
    /// The imaginary part (0 for real types).
    var imaginaryComponent: RealComponent { get }
    /// The complex conjugate (`self` for real types).
    var conjugated: Self { get }
    /// Builds a value from real and imaginary parts (the imaginary part is
    /// dropped for real types).
    init(realComponent: RealComponent, imaginaryComponent: RealComponent)
}

/// `Float` and `Double`.
public protocol RealElement: FloatingElement, ComparableElement, Real, BinaryFloatingPoint
where RealComponent == Self {}

/// `Complex<Float>` and `Complex<Double>`.
public protocol ComplexElement: FloatingElement {}

// MARK: - Conformances

/// `Float` is `float32`; the members implement ``TensorElement``, ``FloatingElement`` and ``RealElement``.
extension Float: RealElement {
    @inlinable public static var dtype: DType { .float32 }
    @inlinable public static var _zeroValue: Float { 0 }
    @inlinable public static var _oneValue: Float { 1 }
    @inlinable public init(_castingInt64 value: Int64) { self = Float(value) }
    @inlinable public init(_castingDouble value: Double) { self = Float(value) }
    @inlinable public init(_castingComplex real: Double, _ imaginary: Double) { self = Float(real) }
    @inlinable public init(_castingBool value: Bool) { self = value ? 1 : 0 }
    @inlinable public func _cast<Target: TensorElement>(to: Target.Type) -> Target {
        Target(_castingDouble: Double(self))
    }
    @inlinable public var modulus: Float { Swift.abs(self) }
    @inlinable public var realComponent: Float { self }
    @inlinable public var imaginaryComponent: Float { 0 }
    @inlinable public var conjugated: Float { self }
    @inlinable public init(realComponent: Float, imaginaryComponent: Float) { self = realComponent }
}

/// `Double` is `float64`; the members implement ``TensorElement``, ``FloatingElement`` and ``RealElement``.
extension Double: RealElement {
    @inlinable public static var dtype: DType { .float64 }
    @inlinable public static var _zeroValue: Double { 0 }
    @inlinable public static var _oneValue: Double { 1 }
    @inlinable public init(_castingInt64 value: Int64) { self = Double(value) }
    @inlinable public init(_castingDouble value: Double) { self = value }
    @inlinable public init(_castingComplex real: Double, _ imaginary: Double) { self = real }
    @inlinable public init(_castingBool value: Bool) { self = value ? 1 : 0 }
    @inlinable public func _cast<Target: TensorElement>(to: Target.Type) -> Target {
        Target(_castingDouble: self)
    }
    @inlinable public var modulus: Double { Swift.abs(self) }
    @inlinable public var realComponent: Double { self }
    @inlinable public var imaginaryComponent: Double { 0 }
    @inlinable public var conjugated: Double { self }
    @inlinable public init(realComponent: Double, imaginaryComponent: Double) { self = realComponent }
}

/// `Complex<Float>` is `complex64` and `Complex<Double>` `complex128`; the members implement
/// ``TensorElement`` and ``FloatingElement``.
extension Complex: TensorElement, ArithmeticElement, FloatingElement, ComplexElement
where RealType: RealElement {
    @inlinable public static var dtype: DType { RealType.self == Float.self ? .complex64 : .complex128 }
    @inlinable public static var _zeroValue: Complex { .zero }
    @inlinable public static var _oneValue: Complex { .one }
    @inlinable public init(_castingInt64 value: Int64) {
        self.init(RealType(_castingInt64: value), 0)
    }
    @inlinable public init(_castingDouble value: Double) {
        self.init(RealType(_castingDouble: value), 0)
    }
    @inlinable public init(_castingComplex real: Double, _ imaginary: Double) {
        self.init(RealType(_castingDouble: real), RealType(_castingDouble: imaginary))
    }
    @inlinable public init(_castingBool value: Bool) { self.init(value ? 1 : 0, 0) }
    @inlinable public func _cast<Target: TensorElement>(to: Target.Type) -> Target {
        Target(_castingComplex: Double(real), Double(imaginary))
    }
    @inlinable public var modulus: RealType { length }
    @inlinable public var realComponent: RealType { real }
    @inlinable public var imaginaryComponent: RealType { imaginary }
    @inlinable public var conjugated: Complex { conjugate }
    @inlinable public init(realComponent: RealType, imaginaryComponent: RealType) {
        self.init(realComponent, imaginaryComponent)
    }
}

/// Converts a real number to an integer type as NumPy's `astype` does on
/// finite in-range values (truncation toward zero); out-of-range values
/// saturate and NaN gives 0 instead of NumPy's undefined result.
@inlinable
func saturatingIntegerCast<I: FixedWidthInteger>(_ value: Double) -> I {
    if value.isNaN { return 0 }
    if value <= Double(I.min) { return I.min }
    if value >= Double(I.max) { return I.max }
    return I(value.rounded(.towardZero))
}

/// `Int32` is `int32`; the members implement ``TensorElement``.
extension Int32: ComparableElement {
    @inlinable public static var dtype: DType { .int32 }
    @inlinable public static var _zeroValue: Int32 { 0 }
    @inlinable public static var _oneValue: Int32 { 1 }
    @inlinable public init(_castingInt64 value: Int64) { self = Int32(truncatingIfNeeded: value) }
    @inlinable public init(_castingDouble value: Double) { self = saturatingIntegerCast(value) }
    @inlinable public init(_castingComplex real: Double, _ imaginary: Double) { self = saturatingIntegerCast(real) }
    @inlinable public init(_castingBool value: Bool) { self = value ? 1 : 0 }
    @inlinable public func _cast<Target: TensorElement>(to: Target.Type) -> Target {
        Target(_castingInt64: Int64(self))
    }
}

/// `Int64` is `int64`; the members implement ``TensorElement``.
extension Int64: ComparableElement {
    @inlinable public static var dtype: DType { .int64 }
    @inlinable public static var _zeroValue: Int64 { 0 }
    @inlinable public static var _oneValue: Int64 { 1 }
    @inlinable public init(_castingInt64 value: Int64) { self = value }
    @inlinable public init(_castingDouble value: Double) { self = saturatingIntegerCast(value) }
    @inlinable public init(_castingComplex real: Double, _ imaginary: Double) { self = saturatingIntegerCast(real) }
    @inlinable public init(_castingBool value: Bool) { self = value ? 1 : 0 }
    @inlinable public func _cast<Target: TensorElement>(to: Target.Type) -> Target {
        Target(_castingInt64: self)
    }
}

/// `UInt8` is `uint8`; the members implement ``TensorElement``.
extension UInt8: ComparableElement {
    @inlinable public static var dtype: DType { .uint8 }
    @inlinable public static var _zeroValue: UInt8 { 0 }
    @inlinable public static var _oneValue: UInt8 { 1 }
    @inlinable public init(_castingInt64 value: Int64) { self = UInt8(truncatingIfNeeded: value) }
    @inlinable public init(_castingDouble value: Double) { self = saturatingIntegerCast(value) }
    @inlinable public init(_castingComplex real: Double, _ imaginary: Double) { self = saturatingIntegerCast(real) }
    @inlinable public init(_castingBool value: Bool) { self = value ? 1 : 0 }
    @inlinable public func _cast<Target: TensorElement>(to: Target.Type) -> Target {
        Target(_castingInt64: Int64(self))
    }
}

/// `Int8` is `int8`; the members implement ``TensorElement``.
extension Int8: ComparableElement {
    @inlinable public static var dtype: DType { .int8 }
    @inlinable public static var _zeroValue: Int8 { 0 }
    @inlinable public static var _oneValue: Int8 { 1 }
    @inlinable public init(_castingInt64 value: Int64) { self = Int8(truncatingIfNeeded: value) }
    @inlinable public init(_castingDouble value: Double) { self = saturatingIntegerCast(value) }
    @inlinable public init(_castingComplex real: Double, _ imaginary: Double) { self = saturatingIntegerCast(real) }
    @inlinable public init(_castingBool value: Bool) { self = value ? 1 : 0 }
    @inlinable public func _cast<Target: TensorElement>(to: Target.Type) -> Target {
        Target(_castingInt64: Int64(self))
    }
}

/// `Int16` is `int16`; the members implement ``TensorElement``.
extension Int16: ComparableElement {
    @inlinable public static var dtype: DType { .int16 }
    @inlinable public static var _zeroValue: Int16 { 0 }
    @inlinable public static var _oneValue: Int16 { 1 }
    @inlinable public init(_castingInt64 value: Int64) { self = Int16(truncatingIfNeeded: value) }
    @inlinable public init(_castingDouble value: Double) { self = saturatingIntegerCast(value) }
    @inlinable public init(_castingComplex real: Double, _ imaginary: Double) { self = saturatingIntegerCast(real) }
    @inlinable public init(_castingBool value: Bool) { self = value ? 1 : 0 }
    @inlinable public func _cast<Target: TensorElement>(to: Target.Type) -> Target {
        Target(_castingInt64: Int64(self))
    }
}

/// `UInt16` is `uint16`; the members implement ``TensorElement``.
extension UInt16: ComparableElement {
    @inlinable public static var dtype: DType { .uint16 }
    @inlinable public static var _zeroValue: UInt16 { 0 }
    @inlinable public static var _oneValue: UInt16 { 1 }
    @inlinable public init(_castingInt64 value: Int64) { self = UInt16(truncatingIfNeeded: value) }
    @inlinable public init(_castingDouble value: Double) { self = saturatingIntegerCast(value) }
    @inlinable public init(_castingComplex real: Double, _ imaginary: Double) { self = saturatingIntegerCast(real) }
    @inlinable public init(_castingBool value: Bool) { self = value ? 1 : 0 }
    @inlinable public func _cast<Target: TensorElement>(to: Target.Type) -> Target {
        Target(_castingInt64: Int64(self))
    }
}

/// `UInt32` is `uint32`; the members implement ``TensorElement``.
extension UInt32: ComparableElement {
    @inlinable public static var dtype: DType { .uint32 }
    @inlinable public static var _zeroValue: UInt32 { 0 }
    @inlinable public static var _oneValue: UInt32 { 1 }
    @inlinable public init(_castingInt64 value: Int64) { self = UInt32(truncatingIfNeeded: value) }
    @inlinable public init(_castingDouble value: Double) { self = saturatingIntegerCast(value) }
    @inlinable public init(_castingComplex real: Double, _ imaginary: Double) { self = saturatingIntegerCast(real) }
    @inlinable public init(_castingBool value: Bool) { self = value ? 1 : 0 }
    @inlinable public func _cast<Target: TensorElement>(to: Target.Type) -> Target {
        Target(_castingInt64: Int64(self))
    }
}

/// `UInt64` is `uint64`; the members implement ``TensorElement``.
///
/// Values above `Int64.max` convert as NumPy's `astype` does: to the
/// nearest `float32`/`float64` (rounded once), to the low bits of a smaller
/// or signed integer type (wrap-around), to `true`.
extension UInt64: ComparableElement {
    @inlinable public static var dtype: DType { .uint64 }
    @inlinable public static var _zeroValue: UInt64 { 0 }
    @inlinable public static var _oneValue: UInt64 { 1 }
    @inlinable public init(_castingInt64 value: Int64) { self = UInt64(truncatingIfNeeded: value) }
    @inlinable public init(_castingDouble value: Double) { self = saturatingIntegerCast(value) }
    @inlinable public init(_castingComplex real: Double, _ imaginary: Double) { self = saturatingIntegerCast(real) }
    @inlinable public init(_castingBool value: Bool) { self = value ? 1 : 0 }
    @inlinable public func _cast<Target: TensorElement>(to: Target.Type) -> Target {
        if self <= UInt64(Int64.max) { return Target(_castingInt64: Int64(self)) }
        switch Target.dtype {
        case .float32, .complex64:
            // Round once to float32 (through Double would round twice).
            return Target(_castingDouble: Double(Float(self)))
        case .float64, .complex128:
            return Target(_castingDouble: Double(self))
        default:
            return Target(_castingInt64: Int64(bitPattern: self))
        }
    }
}

/// `Bool` is NumPy's `bool`; the members implement ``TensorElement``.
extension Bool: TensorElement {
    @inlinable public static var dtype: DType { .bool }
    @inlinable public static var _zeroValue: Bool { false }
    @inlinable public static var _oneValue: Bool { true }
    @inlinable public init(_castingInt64 value: Int64) { self = value != 0 }
    @inlinable public init(_castingDouble value: Double) { self = value != 0 }
    @inlinable public init(_castingComplex real: Double, _ imaginary: Double) { self = real != 0 || imaginary != 0 }
    @inlinable public init(_castingBool value: Bool) { self = value }
    @inlinable public func _cast<Target: TensorElement>(to: Target.Type) -> Target {
        Target(_castingBool: self)
    }
}
