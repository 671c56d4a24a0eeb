import BeamlineTensor
import ComplexModule
import RealModule
import Foundation

/// Reads and writes NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
///
/// Reading accepts every NumPy numeric dtype: `i1 i2 i4 i8 u1 u2 u4 u8 f4
/// f8 c8 c16 b1`, each decoded to its own element type (`Int8` … `UInt64`,
/// `Float`, `Double`, `Complex`, `Bool`), and `f2` (half precision), which
/// Beamline has no element type for and which is widened to `Float`
/// (exactly: every `float16` value is a `float32` value), so an `f2` file
/// reads as ``AnyTensor/float32(_:)``. Any byte order is accepted (`<`,
/// `>`, and `=`/`|` for the machine's own), in C or Fortran order;
/// Fortran-ordered data is returned as a C-contiguous tensor with the same
/// shape and values. Bytes after the array data are ignored, as NumPy
/// ignores them. Strings (`<U3`), objects (`|O`), dates (`<M8`, `<m8`),
/// `float128` and structured dtypes throw
/// ``NumpyFileError/unsupportedDType(source:descr:)``.
///
/// A typed read (``read(_:from:conversion:)``) converts only where no
/// value can change unless asked otherwise; see ``DTypeConversion``.
/// ``readMask(from:)`` reads a pyFAI-style mask (non-zero = masked) of any
/// integer or bool dtype.
///
/// Writing keeps the element type (a `Tensor<UInt16>` is written as `<u2`)
/// and produces the bytes `numpy.save` produces for the same array:
/// little-endian, C order, format 1.0 (2.0 only if the header would exceed
/// 65535 bytes), header padded with spaces so that the data starts at a
/// multiple of 64 bytes. Files are written atomically: the bytes go to a
/// temporary file in the destination's directory, which is then renamed
/// over the destination, so a failed write never leaves a half-written
/// file.
///
/// ```swift
/// let image = try NumpyFile.read(Float.self, from: url)    // float32, or a dtype that widens exactly
/// let any = try NumpyFile.read(from: url)                  // AnyTensor
/// try NumpyFile.write(image, to: outputURL)
/// ```
public enum NumpyFile {
    // MARK: - Files

    /// Reads the array stored in the `.npy` file at `url`, whatever its
    /// element type.
    ///
    /// - Throws: ``NumpyFileError`` naming the file: I/O failure, bad
    ///   magic, unsupported version or dtype, malformed header, shape
    ///   overflow or truncated data.
    public static func read(from url: URL) throws(NumpyFileError) -> AnyTensor {
        try decode(FileIO.readContents(of: url), source: url.path)
    }

    /// Reads the `.npy` file at `url` as a `Tensor<T>`.
    ///
    /// With ``DTypeConversion/valuePreserving`` (the default) the stored
    /// dtype must be `T.dtype` or one that converts to it without changing
    /// any value (a `uint16` image read as `Float` or `Double`, an `int8`
    /// mask as `Int32`); with ``DTypeConversion/exact`` it must be
    /// `T.dtype`; otherwise this throws
    /// ``NumpyFileError/dtypeMismatch(source:expected:found:)``. With
    /// ``DTypeConversion/numpyCast`` the values are converted as NumPy's
    /// `astype` does.
    public static func read<T: TensorElement>(_ type: T.Type, from url: URL,
                                              conversion: DTypeConversion = .valuePreserving) throws(NumpyFileError) -> Tensor<T> {
        try read(from: url).tensor(as: type, conversion: conversion, source: url.path)
    }

    /// Reads a detector mask from the `.npy` file at `url`: `true` where the
    /// stored value is non-zero (masked, as pyFAI reads masks).
    ///
    /// Any integer or bool dtype is accepted (pyFAI's own masks are `|i1`;
    /// `uint8`, `uint16` and `bool` masks are common too), and real
    /// floating-point arrays (non-zero or NaN is masked).
    ///
    /// - Throws: the ``read(from:)`` errors, and
    ///   ``NumpyFileError/dtypeMismatch(source:expected:found:)`` (expected
    ///   `bool`) for complex arrays.
    public static func readMask(from url: URL) throws(NumpyFileError) -> Tensor<Bool> {
        try read(from: url).maskFlags(source: url.path)
    }

    /// Writes `tensor` to `url` as a `.npy` file, byte for byte what
    /// `numpy.save` writes for the same array, replacing any existing file
    /// atomically.
    ///
    /// - Throws: ``NumpyFileError/ioFailure(path:operation:reason:)`` when
    ///   the temporary file cannot be created, written or renamed (the
    ///   destination is then left as it was).
    public static func write<T: TensorElement>(_ tensor: Tensor<T>, to url: URL) throws(NumpyFileError) {
        try FileIO.writeAtomically(encode(tensor), to: url)
    }

    /// Writes a type-erased tensor to `url` as a `.npy` file, atomically and
    /// byte for byte as `numpy.save` would (see the generic overload).
    public static func write(_ tensor: AnyTensor, to url: URL) throws(NumpyFileError) {
        try FileIO.writeAtomically(encode(tensor), to: url)
    }

    // MARK: - In memory

    /// Decodes the contents of a `.npy` file.
    ///
    /// - Parameters:
    ///   - data: the bytes of the `.npy` file.
    ///   - source: names the data in error messages.
    public static func decode(_ data: Data, source: String = "<memory>") throws(NumpyFileError) -> AnyTensor {
        let result: Result<AnyTensor, NumpyFileError> = data.withUnsafeBytes { bytes in
            Result { () throws(NumpyFileError) -> AnyTensor in try decode(bytes, source: source) }
        }
        return try result.get()
    }

    /// Decodes the contents of a `.npy` file as a `Tensor<T>` (see
    /// ``read(_:from:conversion:)`` for `conversion`).
    public static func decode<T: TensorElement>(_ type: T.Type, from data: Data, source: String = "<memory>",
                                                conversion: DTypeConversion = .valuePreserving) throws(NumpyFileError) -> Tensor<T> {
        try decode(data, source: source).tensor(as: type, conversion: conversion, source: source)
    }

    /// The bytes of a `.npy` file holding `tensor` (what `numpy.save`
    /// writes).
    public static func encode<T: TensorElement>(_ tensor: Tensor<T>) -> Data {
        let header = NumpyFormat.headerBytes(dtype: T.dtype, shape: tensor.shape)
        let byteCount = tensor.count * MemoryLayout<T>.stride
        var data = Data(capacity: header.count + byteCount)
        data.append(contentsOf: header)
        tensor.withUnsafeBufferPointer { elements in
            let raw = UnsafeRawBufferPointer(elements)
            #if _endian(big)
            var swapped = [UInt8](raw)
            swapped.withUnsafeMutableBytes { ByteOrder.swap($0, componentSize: componentSize(of: T.dtype)) }
            data.append(contentsOf: swapped)
            #else
            if !raw.isEmpty { data.append(raw.bindMemory(to: UInt8.self)) }
            #endif
        }
        return data
    }

    /// The bytes of a `.npy` file holding a type-erased tensor.
    public static func encode(_ tensor: AnyTensor) -> Data {
        switch tensor {
        case let .float32(t): return encode(t)
        case let .float64(t): return encode(t)
        case let .complex64(t): return encode(t)
        case let .complex128(t): return encode(t)
        case let .int32(t): return encode(t)
        case let .int64(t): return encode(t)
        case let .uint8(t): return encode(t)
        case let .bool(t): return encode(t)
        case let .int8(t): return encode(t)
        case let .int16(t): return encode(t)
        case let .uint16(t): return encode(t)
        case let .uint32(t): return encode(t)
        case let .uint64(t): return encode(t)
        }
    }

    // MARK: - Decoding

    /// Decodes `.npy` bytes.
    static func decode(_ bytes: UnsafeRawBufferPointer, source: String) throws(NumpyFileError) -> AnyTensor {
        let header = try NumpyFormat.parseHeader(bytes, source: source)
        let payload = UnsafeRawBufferPointer(rebasing: bytes[header.dataOffset..<header.dataOffset + header.byteCount])
        if header.float16 {
            let halves = elements(UInt16.self, payload, header)
            return .float32(halves.map { Half.float(fromBits: $0) })
        }
        switch header.dtype {
        case .float32: return .float32(elements(Float.self, payload, header))
        case .float64: return .float64(elements(Double.self, payload, header))
        case .complex64: return .complex64(elements(Complex<Float>.self, payload, header))
        case .complex128: return .complex128(elements(Complex<Double>.self, payload, header))
        case .int32: return .int32(elements(Int32.self, payload, header))
        case .int64: return .int64(elements(Int64.self, payload, header))
        case .uint8: return .uint8(elements(UInt8.self, payload, header))
        case .int8: return .int8(elements(Int8.self, payload, header))
        case .int16: return .int16(elements(Int16.self, payload, header))
        case .uint16: return .uint16(elements(UInt16.self, payload, header))
        case .uint32: return .uint32(elements(UInt32.self, payload, header))
        case .uint64: return .uint64(elements(UInt64.self, payload, header))
        case .bool:
            // Any non-zero byte is True (as in NumPy); a Swift Bool must be 0 or 1.
            let raw = elements(UInt8.self, payload, header)
            return .bool(raw.map { $0 != 0 })
        }
    }

    /// Builds a C-contiguous tensor from the payload of a file whose header
    /// is `header` (`payload.count == header.byteCount`, checked before).
    static func elements<T: TensorElement>(_ type: T.Type, _ payload: UnsafeRawBufferPointer,
                                           _ header: NumpyHeader) -> Tensor<T> {
        precondition(MemoryLayout<T>.stride == header.itemSize)
        // Fortran order: the bytes are the C-order layout of the reversed shape.
        let storedShape = header.fortranOrder ? Array(header.shape.reversed()) : header.shape
        let stored = Tensor<T>(unsafeUninitializedShape: storedShape) { buffer in
            let destination = UnsafeMutableRawBufferPointer(buffer)
            if !payload.isEmpty { destination.copyMemory(from: payload) }
            #if _endian(big)
            let swap = !header.bigEndian
            #else
            let swap = header.bigEndian
            #endif
            if swap {
                ByteOrder.swap(destination, componentSize: header.float16 ? 2 : componentSize(of: header.dtype))
            }
        }
        return header.fortranOrder && header.shape.count > 1 ? stored.transposed.contiguous() : stored
    }

    /// Size of the byte-swapped unit: the element, or half of it for complex.
    static func componentSize(of dtype: DType) -> Int {
        switch dtype {
        case .complex64, .complex128: return dtype.byteCount / 2
        default: return dtype.byteCount
        }
    }
}

/// IEEE 754 half precision (`float16`, NumPy's `f2`), which Beamline reads
/// as `Float`.
enum Half {
    /// The `Float` with the value of the half-precision number whose bits
    /// are `bits` (exact: zeros, subnormals, infinities and NaN payloads
    /// included).
    static func float(fromBits bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = Int(bits >> 10) & 0x1F
        let fraction = UInt32(bits & 0x03FF)
        switch exponent {
        case 0:
            // Zero or subnormal: fraction × 2⁻²⁴, exact in Float.
            let magnitude = Float(fraction) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | (fraction << 13))
        default:
            return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (fraction << 13))
        }
    }
}

/// Byte-order reversal of packed numbers.
enum ByteOrder {
    /// Reverses the bytes of every `componentSize`-byte number in `buffer`
    /// (which must be aligned to `componentSize`).
    static func swap(_ buffer: UnsafeMutableRawBufferPointer, componentSize: Int) {
        guard let base = buffer.baseAddress else { return }
        let count = buffer.count / componentSize
        switch componentSize {
        case 2:
            let p = base.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { p[i] = p[i].byteSwapped }
        case 4:
            let p = base.assumingMemoryBound(to: UInt32.self)
            for i in 0..<count { p[i] = p[i].byteSwapped }
        case 8:
            let p = base.assumingMemoryBound(to: UInt64.self)
            for i in 0..<count { p[i] = p[i].byteSwapped }
        default:
            break
        }
    }
}
