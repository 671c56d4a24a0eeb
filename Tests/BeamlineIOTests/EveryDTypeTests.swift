import BeamlineIO
import BeamlineTensor
import ComplexModule
import Foundation
import Testing

/// NumPy codes of the `all_<code>_*.npy` fixtures (generate_io.py's
/// `ALL_CODES`), in the order of `can_cast_safe.npy`'s rows and columns.
let allCodes = ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16", "b1"]

/// The DType each NumPy code reads as (`f2` widens to `float32`).
func dtype(ofCode code: String) -> DType {
    switch code {
    case "i1": return .int8
    case "i2": return .int16
    case "i4": return .int32
    case "i8": return .int64
    case "u1": return .uint8
    case "u2": return .uint16
    case "u4": return .uint32
    case "u8": return .uint64
    case "f2", "f4": return .float32
    case "f8": return .float64
    case "c8": return .complex64
    case "c16": return .complex128
    default: return .bool
    }
}

/// generate_io.py's integer formula: `[min, min + 1, 0, 1, 2, 100, max - 1, max]`, shape (2, 4).
func integerValues<T: FixedWidthInteger & TensorElement>(_ type: T.Type) -> Tensor<T> {
    Tensor(shape: [2, 4], elements: [T.min, T.min + 1, 0, 1, 2, 100, T.max - 1, T.max])
}

/// `AnyTensor.cast(to:)` with the target chosen at run time.
func cast(_ tensor: AnyTensor, to dtype: DType) -> AnyTensor {
    switch dtype {
    case .float32: return .float32(tensor.cast(to: Float.self))
    case .float64: return .float64(tensor.cast(to: Double.self))
    case .complex64: return .complex64(tensor.cast(to: Complex<Float>.self))
    case .complex128: return .complex128(tensor.cast(to: Complex<Double>.self))
    case .int8: return .int8(tensor.cast(to: Int8.self))
    case .int16: return .int16(tensor.cast(to: Int16.self))
    case .int32: return .int32(tensor.cast(to: Int32.self))
    case .int64: return .int64(tensor.cast(to: Int64.self))
    case .uint8: return .uint8(tensor.cast(to: UInt8.self))
    case .uint16: return .uint16(tensor.cast(to: UInt16.self))
    case .uint32: return .uint32(tensor.cast(to: UInt32.self))
    case .uint64: return .uint64(tensor.cast(to: UInt64.self))
    case .bool: return .bool(tensor.cast(to: Bool.self))
    }
}

/// Values compared bit for bit where they are floating point (so NaN
/// equals NaN and -0 differs from +0), as doubles.
func bitsOf(_ tensor: AnyTensor) -> [UInt64] {
    switch tensor {
    case let .float32(t): return t.elements.map { Double($0).bitPattern }
    case let .float64(t): return t.elements.map(\.bitPattern)
    case let .complex64(t):
        return t.elements.flatMap { [Double($0.real).bitPattern, Double($0.imaginary).bitPattern] }
    case let .complex128(t): return t.elements.flatMap { [$0.real.bitPattern, $0.imaginary.bitPattern] }
    default: return []
    }
}

@Suite("Every NumPy numeric dtype (issue 15)")
struct EveryDTypeTests {
    /// The values the integer and bool fixtures hold.
    static func formulaValues(_ code: String) -> AnyTensor? {
        switch code {
        case "i1": return AnyTensor(integerValues(Int8.self))
        case "i2": return AnyTensor(integerValues(Int16.self))
        case "i4": return AnyTensor(integerValues(Int32.self))
        case "i8": return AnyTensor(integerValues(Int64.self))
        case "u1": return AnyTensor(integerValues(UInt8.self))
        case "u2": return AnyTensor(integerValues(UInt16.self))
        case "u4": return AnyTensor(integerValues(UInt32.self))
        case "u8": return AnyTensor(integerValues(UInt64.self))
        case "b1": return .bool(Tensor(shape: [2, 4], elements: [true, false, false, true, true, true, false, true]))
        default: return nil
        }
    }

    /// Checks `read` against the fixture's values: the integer formula, or
    /// the float64/complex128 companion NumPy wrote (`all_<code>_values.npy`).
    func check(_ read: AnyTensor, code: String, file: String) throws {
        #expect(read.dtype == dtype(ofCode: code), "\(file)")
        #expect(read.shape == [2, 4], "\(file)")
        if let expected = Self.formulaValues(code) {
            #expect(read == expected, "\(file)")
        } else {
            let companion = try NumpyFile.read(from: fixtureURL("all_\(code)_values.npy"))
            let widened = cast(read, to: companion.dtype)
            #expect(bitsOf(widened) == bitsOf(companion), "\(file)")
        }
    }

    /// `np.save(array)` (little-endian, `|` for one byte) and
    /// `np.save(array.astype(array.dtype.newbyteorder('>')))`.
    @Test("every dtype reads back exactly, in both byte orders", arguments: allCodes)
    func bothByteOrders(code: String) throws {
        for suffix in ["le", "be"] {
            let file = "all_\(code)_\(suffix).npy"
            try check(NumpyFile.read(from: fixtureURL(file)), code: code, file: file)
        }
    }

    /// NumPy never writes `=` (native order) but reads it; the generator
    /// edits `'<u2'` to `'=u2'` (and `'|i1'` to `'<i1'`).
    @Test("native '=' and '<i1' dtype strings")
    func nativeOrder() throws {
        for code in ["u2", "f2", "c8"] {
            let file = "all_\(code)_native.npy"
            try check(NumpyFile.read(from: fixtureURL(file)), code: code, file: file)
        }
        try check(NumpyFile.read(from: fixtureURL("all_i1_lt.npy")), code: "i1", file: "all_i1_lt.npy")
    }

    /// `np.asfortranarray(np.arange(24).reshape(2, 3, 4).astype(...))` for
    /// `<u2`, `|i1`, `>f2`, `>u8` and `<u4`.
    @Test("Fortran order", arguments: ["u2", "i1", "f2", "u8", "u4"])
    func fortran(code: String) throws {
        let read = try NumpyFile.read(from: fixtureURL("all_\(code)_fortran_2x3x4.npy"))
        #expect(read.dtype == dtype(ofCode: code))
        #expect(read.shape == [2, 3, 4])
        #expect(read.cast(to: Double.self) == Tensor(shape: [2, 3, 4], elements: (0..<24).map(Double.init)))
    }

    /// A tensor of each new type is written byte for byte as `np.save`
    /// wrote the `_le` fixture (`<u2`, `|i1`, ...): writing keeps the type.
    @Test("writing keeps the type, byte-identical to np.save",
          arguments: ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"])
    func writeKeepsType(code: String) throws {
        let values = try #require(Self.formulaValues(code))
        #expect(NumpyFile.encode(values) == (try fixtureData("all_\(code)_le.npy")))
        // A typed tensor too (not only AnyTensor).
        if case let .uint16(t) = values { #expect(NumpyFile.encode(t) == (try fixtureData("all_u2_le.npy"))) }
        let any = try NumpyFile.read(from: fixtureURL("all_\(code)_be.npy"))
        #expect(NumpyFile.encode(any) == (try fixtureData("all_\(code)_le.npy")))
    }

    /// `f2` has no element type of its own: it reads as float32 and is
    /// written back as `<f4`.
    @Test("float16 widens to float32")
    func float16() throws {
        let read = try NumpyFile.read(from: fixtureURL("all_f2_le.npy"))
        guard case let .float32(t) = read else { Issue.record("f2 read as \(read.dtype)"); return }
        #expect(t.elements.map(\.bitPattern) == [0.0, -0.0, 1.0, -2.5, 65504.0, 0x1p-14, 0x1p-24, Float.infinity]
            .map(\.bitPattern))
        #expect(try NumpyFile.read(Double.self, from: fixtureURL("all_f2_le.npy")).elements[4] == 65504)
        let written = try NumpyFile.decode(NumpyFile.encode(read))
        #expect(written.dtype == .float32)
        // A NaN half keeps being NaN; its sign and payload survive too.
        #expect(Float(bitPattern: 0xFFC0_0000).bitPattern == 0xFFC0_0000)
    }

    /// `astype` from every dtype to every dtype, as NumPy computed it
    /// (`casts.npz`: member `src_<a>` and `<a>_to_<b>` =
    /// `src_<a>.astype(b)`; floats there are non-negative and below 127, so
    /// every conversion is defined in NumPy).
    @Test("numpyCast matches NumPy's astype for every pair", arguments: allCodes)
    func numpyCastMatchesNumPy(source: String) throws {
        let archive = try NumpyArchive(contentsOf: fixtureURL("casts.npz"))
        let values = try archive.read("src_\(source)")
        for target in allCodes {
            let expected = try archive.read("\(source)_to_\(target)")
            let converted = cast(values, to: dtype(ofCode: target))
            if target == "f2" {
                // NumPy rounds to half precision, which Beamline does not
                // have; the Float read of NumPy's result is what Beamline
                // gives when it reads that file.
                continue
            }
            #expect(converted == expected, "\(source) -> \(target)")
        }
    }

    /// The default conversion is NumPy's `can_cast(a, b, "safe")` except
    /// int64/uint64 to float64/complex128 (not exact above 2⁵³).
    @Test("valuePreserving is NumPy's safe casting, less i8/u8 to float64")
    func valuePreservingTable() throws {
        let safe = try NumpyFile.read(Bool.self, from: fixtureURL("can_cast_safe.npy"))
        let codes = allCodes.filter { $0 != "f2" }
        for (i, a) in allCodes.enumerated() where a != "f2" {
            for (j, b) in allCodes.enumerated() where b != "f2" {
                let numpy = try safe.element(at: [i, j])
                let exception = ["i8", "u8"].contains(a) && ["f8", "c16"].contains(b)
                #expect(dtype(ofCode: a).isValuePreserving(to: dtype(ofCode: b)) == (numpy && !exception), "\(a) -> \(b)")
            }
        }
        #expect(codes.count == DType.allCases.count)
    }

    /// Typed reads: widenings that keep every value are the default; the
    /// rest need `.numpyCast`; `.exact` insists on the stored type.
    @Test("typed reads of the new types")
    func typedReads() throws {
        let u2 = try fixtureURL("all_u2_le.npy")
        #expect(try NumpyFile.read(Float.self, from: u2).elements.last == 65535)
        #expect(try NumpyFile.read(Double.self, from: u2).elements.last == 65535)
        #expect(try NumpyFile.read(UInt32.self, from: u2).elements.last == 65535)
        #expect(try NumpyFile.read(UInt16.self, from: u2, conversion: .exact) == integerValues(UInt16.self))
        #expect(throws: NumpyFileError.dtypeMismatch(source: u2.path, expected: .int16, found: .uint16)) {
            try NumpyFile.read(Int16.self, from: u2)
        }
        #expect(throws: NumpyFileError.dtypeMismatch(source: u2.path, expected: .float32, found: .uint16)) {
            try NumpyFile.read(Float.self, from: u2, conversion: .exact)
        }
        let u4 = try fixtureURL("all_u4_le.npy")
        #expect(try NumpyFile.read(Double.self, from: u4).elements.last == 4294967295)
        #expect(throws: NumpyFileError.dtypeMismatch(source: u4.path, expected: .float32, found: .uint32)) {
            try NumpyFile.read(Float.self, from: u4)
        }
        let u8 = try fixtureURL("all_u8_le.npy")
        #expect(throws: NumpyFileError.dtypeMismatch(source: u8.path, expected: .float64, found: .uint64)) {
            try NumpyFile.read(Double.self, from: u8)
        }
        // np.uint64(2**64 - 1).astype(np.float64) == 1.8446744073709552e19
        #expect(try NumpyFile.read(Double.self, from: u8, conversion: .numpyCast).elements.last == 18446744073709551615.0)
        let i1 = try fixtureURL("all_i1_le.npy")
        #expect(try NumpyFile.read(Int32.self, from: i1).elements.first == -128)
        #expect(throws: NumpyFileError.dtypeMismatch(source: i1.path, expected: .uint8, found: .int8)) {
            try NumpyFile.read(UInt8.self, from: i1)
        }
        // The message says how to convert anyway.
        let message = NumpyFileError.dtypeMismatch(source: "a.npy", expected: .float64, found: .uint64).description
        #expect(message.contains("stored dtype uint64 is not the requested float64"))
        #expect(message.contains(".numpyCast"))
    }

    /// pyFAI masks: `|i1` (the thick-detector notebook's) and `<u2`, non-zero = masked.
    @Test("masks of any integer or bool dtype")
    func masks() throws {
        let i1 = try NumpyFile.readMask(from: fixtureURL("mask_i1.npy"))
        #expect(i1.shape == [16, 16])
        #expect(i1.elements.filter { $0 }.count == 17)
        #expect(try i1.element(at: [3, 5]) && i1.element(at: [10, 0]) && !i1.element(at: [0, 0]))
        let u2 = try NumpyFile.readMask(from: fixtureURL("mask_u2.npy"))
        #expect(u2.elements.filter { $0 }.count == 17)
        #expect(try u2.element(at: [3, 5]) && u2.element(at: [15, 7]) && !u2.element(at: [3, 6]))
        #expect(try NumpyFile.readMask(from: fixtureURL("b1.npy")).elements == [true, false, false, true])
        let c8 = try fixtureURL("c8.npy")
        #expect(throws: NumpyFileError.dtypeMismatch(source: c8.path, expected: .bool, found: .complex64)) {
            try NumpyFile.readMask(from: c8)
        }
        #expect(NumpyFileError.dtypeMismatch(source: "m", expected: .bool, found: .complex64).description
            == "m: a mask must hold integers, booleans or real numbers (non-zero = masked), found complex64")
    }
}
