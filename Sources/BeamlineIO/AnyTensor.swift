import BeamlineTensor
import ComplexModule
import RealModule

/// How a typed read treats an array whose stored dtype differs from the
/// requested element type.
///
/// | stored                  | reads without `numpyCast` as                         |
/// |-------------------------|------------------------------------------------------|
/// | `bool`                  | any element type (0 and 1)                           |
/// | `int8`                  | `Int16` `Int32` `Int64` `Float` `Double` `Complex`   |
/// | `uint8`                 | every integer type but `Int8`, `Float` `Double` `Complex` |
/// | `int16`                 | `Int32` `Int64` `Float` `Double` `Complex`           |
/// | `uint16`                | `Int32` `Int64` `UInt32` `UInt64` `Float` `Double` `Complex` |
/// | `int32`                 | `Int64` `Double` `Complex<Double>`                   |
/// | `uint32`                | `Int64` `UInt64` `Double` `Complex<Double>`          |
/// | `int64`, `uint64`       | only their own type                                  |
/// | `float16` (read as `float32`), `float32` | `Double` `Complex<Float>` `Complex<Double>` |
/// | `float64`               | `Complex<Double>`                                    |
/// | `complex64`             | `Complex<Double>`                                    |
///
/// (Every type also reads as itself.) This is
/// `DType.isValuePreserving(to:)`: NumPy's "safe" casting, less `int64`
/// and `uint64` to `float64`, which NumPy allows although integers above
/// 2⁵³ change; read those with ``numpyCast``.
public enum DTypeConversion: Sendable, Equatable {
    /// The stored dtype must equal the requested one; otherwise the read
    /// throws ``NumpyFileError/dtypeMismatch(source:expected:found:)``.
    case exact
    /// The stored dtype must be the requested one or convert to it without
    /// changing any value (the table above: integers to wider integers and
    /// to floats whose significand holds them, floats to wider floats, real
    /// to complex, `bool` to anything); otherwise the read throws
    /// ``NumpyFileError/dtypeMismatch(source:expected:found:)``. This is
    /// the default, so that no value changes silently while a `uint16`
    /// detector image still reads as `Float` or `Double`.
    case valuePreserving
    /// Converts with NumPy's `astype` rules (unsafe casting): floats to
    /// integers truncate toward zero (saturating, NaN becomes 0), complex to
    /// real keeps the real part, anything to `Bool` tests for non-zero.
    case numpyCast
}

/// A tensor whose element type is known only at run time: what a `.npy`
/// file or an `.npz` member holds before the caller picks a Swift type.
///
/// There is one case per `DType`. Switch over the cases to handle every
/// type, or ask for a concrete type with ``tensor(as:conversion:)``, which
/// by default converts only where no value changes
/// (``DTypeConversion/valuePreserving``) and converts with NumPy's rules
/// only when asked (``DTypeConversion/numpyCast``).
///
/// A NumPy `float16` array has no case of its own: it is read as
/// ``float32(_:)`` (the widening is exact) and written back as `<f4`.
public enum AnyTensor: Sendable, Equatable, CustomStringConvertible {
    /// `float32` (`<f4`).
    case float32(Tensor<Float>)
    /// `float64` (`<f8`).
    case float64(Tensor<Double>)
    /// `complex64` (`<c8`).
    case complex64(Tensor<Complex<Float>>)
    /// `complex128` (`<c16`).
    case complex128(Tensor<Complex<Double>>)
    /// `int32` (`<i4`).
    case int32(Tensor<Int32>)
    /// `int64` (`<i8`).
    case int64(Tensor<Int64>)
    /// `uint8` (`|u1`).
    case uint8(Tensor<UInt8>)
    /// `bool` (`|b1`).
    case bool(Tensor<Bool>)
    /// `int8` (`|i1`).
    case int8(Tensor<Int8>)
    /// `int16` (`<i2`).
    case int16(Tensor<Int16>)
    /// `uint16` (`<u2`).
    case uint16(Tensor<UInt16>)
    /// `uint32` (`<u4`).
    case uint32(Tensor<UInt32>)
    /// `uint64` (`<u8`).
    case uint64(Tensor<UInt64>)

    /// Wraps a tensor of any of the thirteen element types.
    ///
    /// The case is chosen by `T.dtype`. (Only the thirteen element types
    /// conform to `TensorElement`; should another type claim one of their
    /// dtypes, its elements are converted with `cast(to:)`.)
    public init<T: TensorElement>(_ tensor: Tensor<T>) {
        func wrap<U: TensorElement>(_ type: U.Type) -> Tensor<U> {
            (tensor as? Tensor<U>) ?? tensor.map { $0._cast(to: U.self) }
        }
        switch T.dtype {
        case .float32: self = .float32(wrap(Float.self))
        case .float64: self = .float64(wrap(Double.self))
        case .complex64: self = .complex64(wrap(Complex<Float>.self))
        case .complex128: self = .complex128(wrap(Complex<Double>.self))
        case .int32: self = .int32(wrap(Int32.self))
        case .int64: self = .int64(wrap(Int64.self))
        case .uint8: self = .uint8(wrap(UInt8.self))
        case .bool: self = .bool(wrap(Bool.self))
        case .int8: self = .int8(wrap(Int8.self))
        case .int16: self = .int16(wrap(Int16.self))
        case .uint16: self = .uint16(wrap(UInt16.self))
        case .uint32: self = .uint32(wrap(UInt32.self))
        case .uint64: self = .uint64(wrap(UInt64.self))
        }
    }

    /// The NumPy type of the elements.
    public var dtype: DType {
        switch self {
        case .float32: return .float32
        case .float64: return .float64
        case .complex64: return .complex64
        case .complex128: return .complex128
        case .int32: return .int32
        case .int64: return .int64
        case .uint8: return .uint8
        case .bool: return .bool
        case .int8: return .int8
        case .int16: return .int16
        case .uint16: return .uint16
        case .uint32: return .uint32
        case .uint64: return .uint64
        }
    }

    /// Length of each axis.
    public var shape: [Int] {
        switch self {
        case let .float32(t): return t.shape
        case let .float64(t): return t.shape
        case let .complex64(t): return t.shape
        case let .complex128(t): return t.shape
        case let .int32(t): return t.shape
        case let .int64(t): return t.shape
        case let .uint8(t): return t.shape
        case let .bool(t): return t.shape
        case let .int8(t): return t.shape
        case let .int16(t): return t.shape
        case let .uint16(t): return t.shape
        case let .uint32(t): return t.shape
        case let .uint64(t): return t.shape
        }
    }

    /// Number of elements (the product of the shape; 1 for rank 0).
    public var count: Int { shape.reduce(1, *) }

    /// The tensor as `Tensor<T>`.
    ///
    /// With ``DTypeConversion/valuePreserving`` (the default) the stored
    /// dtype must be `T.dtype` or convert to it without changing a value
    /// (see ``DTypeConversion``), with ``DTypeConversion/exact`` it must be
    /// `T.dtype`; otherwise this throws
    /// ``NumpyFileError/dtypeMismatch(source:expected:found:)`` (with source
    /// `"tensor"`). With ``DTypeConversion/numpyCast`` it converts as
    /// ``cast(to:)`` does. An exact match never copies.
    public func tensor<T: TensorElement>(as type: T.Type,
                                         conversion: DTypeConversion = .valuePreserving) throws(NumpyFileError) -> Tensor<T> {
        try tensor(as: type, conversion: conversion, source: "tensor")
    }

    /// ``tensor(as:conversion:)`` with the source named in the error.
    func tensor<T: TensorElement>(as type: T.Type, conversion: DTypeConversion,
                                  source: String) throws(NumpyFileError) -> Tensor<T> {
        switch conversion {
        case .numpyCast:
            return cast(to: type)
        case .valuePreserving where dtype.isValuePreserving(to: T.dtype):
            return cast(to: type)
        case .exact where dtype == T.dtype:
            return cast(to: type)
        default:
            throw .dtypeMismatch(source: source, expected: T.dtype, found: dtype)
        }
    }

    /// The tensor as a mask: `true` where an element is non-zero (pyFAI's
    /// convention, masked pixels are non-zero), for any integer or bool
    /// dtype, and for real floating-point arrays too (NumPy's `mask != 0`:
    /// NaN counts as masked).
    ///
    /// - Throws: ``NumpyFileError/dtypeMismatch(source:expected:found:)``
    ///   (source `"tensor"`, expected `bool`) for complex tensors.
    public func maskFlags() throws(NumpyFileError) -> Tensor<Bool> {
        try maskFlags(source: "tensor")
    }

    /// ``maskFlags()`` with the source named in the error.
    func maskFlags(source: String) throws(NumpyFileError) -> Tensor<Bool> {
        guard dtype != .complex64 && dtype != .complex128 else {
            throw .dtypeMismatch(source: source, expected: .bool, found: dtype)
        }
        return cast(to: Bool.self)
    }

    /// The elements converted to `T` with NumPy's `astype` rules (no copy
    /// when the dtype already is `T.dtype`).
    public func cast<T: TensorElement>(to type: T.Type) -> Tensor<T> {
        func convert<S: TensorElement>(_ t: Tensor<S>) -> Tensor<T> {
            if let same = t as? Tensor<T> { return same }
            return t.map { $0._cast(to: T.self) }
        }
        switch self {
        case let .float32(t): return convert(t)
        case let .float64(t): return convert(t)
        case let .complex64(t): return convert(t)
        case let .complex128(t): return convert(t)
        case let .int32(t): return convert(t)
        case let .int64(t): return convert(t)
        case let .uint8(t): return convert(t)
        case let .bool(t): return convert(t)
        case let .int8(t): return convert(t)
        case let .int16(t): return convert(t)
        case let .uint16(t): return convert(t)
        case let .uint32(t): return convert(t)
        case let .uint64(t): return convert(t)
        }
    }

    /// The wrapped tensor's description.
    public var description: String {
        switch self {
        case let .float32(t): return t.description
        case let .float64(t): return t.description
        case let .complex64(t): return t.description
        case let .complex128(t): return t.description
        case let .int32(t): return t.description
        case let .int64(t): return t.description
        case let .uint8(t): return t.description
        case let .bool(t): return t.description
        case let .int8(t): return t.description
        case let .int16(t): return t.description
        case let .uint16(t): return t.description
        case let .uint32(t): return t.description
        case let .uint64(t): return t.description
        }
    }
}
