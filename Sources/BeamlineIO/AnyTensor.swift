import BeamlineTensor
import ComplexModule
import RealModule

/// How a typed read treats an array whose stored dtype differs from the
/// requested element type.
public enum DTypeConversion: Sendable, Equatable {
    /// The stored dtype must equal the requested one; otherwise the read
    /// throws ``NumpyFileError/dtypeMismatch(source:expected:found:)``.
    /// This is the default, so that no precision is lost silently.
    case exact
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
/// by default insists on an exact dtype match (``DTypeConversion/exact``)
/// and converts with NumPy's rules only when asked
/// (``DTypeConversion/numpyCast``).
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

    /// Wraps a tensor of any of the eight element types.
    ///
    /// The case is chosen by `T.dtype`. (Only the eight element types
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
        }
    }

    /// Number of elements (the product of the shape; 1 for rank 0).
    public var count: Int { shape.reduce(1, *) }

    /// The tensor as `Tensor<T>`.
    ///
    /// With ``DTypeConversion/exact`` (the default) the stored dtype must be
    /// `T.dtype`, else this throws
    /// ``NumpyFileError/dtypeMismatch(source:expected:found:)`` (with source
    /// `"tensor"`); with ``DTypeConversion/numpyCast`` it converts as
    /// ``cast(to:)`` does. An exact match never copies.
    public func tensor<T: TensorElement>(as type: T.Type,
                                         conversion: DTypeConversion = .exact) throws(NumpyFileError) -> Tensor<T> {
        try tensor(as: type, conversion: conversion, source: "tensor")
    }

    /// ``tensor(as:conversion:)`` with the source named in the error.
    func tensor<T: TensorElement>(as type: T.Type, conversion: DTypeConversion,
                                  source: String) throws(NumpyFileError) -> Tensor<T> {
        if dtype == T.dtype || conversion == .numpyCast { return cast(to: type) }
        throw .dtypeMismatch(source: source, expected: T.dtype, found: dtype)
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
        }
    }
}
