import BeamlineIO
import BeamlineTensor
import ComplexModule
import Foundation
import Testing

@Suite("Reading .npy files written by NumPy")
struct NpyReadTests {
    /// Files from `np.save(name, array)` for eight of the dtypes (the rest:
    /// EveryDTypeTests)
    /// (little-endian, C order, format 1.0).
    @Test("every element type", arguments: Expected.typed)
    func everyElementType(name: String, expected: AnyTensor) throws {
        let read = try NumpyFile.read(from: fixtureURL("\(name).npy"))
        #expect(read.dtype == expected.dtype)
        #expect(read == expected)
    }

    /// Files from `np.save(name, array.astype(array.dtype.newbyteorder('>')))`.
    @Test("big-endian files", arguments: Expected.typed.filter { ["f4", "f8", "c8", "c16", "i4", "i8"].contains($0.0) })
    func bigEndian(name: String, expected: AnyTensor) throws {
        let read = try NumpyFile.read(from: fixtureURL("\(name)_be.npy"))
        #expect(read == expected)
    }

    /// `np.save(..., np.asfortranarray(np.arange(24.0).reshape(2, 3, 4)))`
    /// and `np.asfortranarray(np.arange(6, dtype=np.int32).reshape(3, 2))`
    /// and `np.asfortranarray(c16.astype('>c16'))`: the header says
    /// `'fortran_order': True`.
    @Test("Fortran-ordered files")
    func fortranOrder() throws {
        let cube = try NumpyFile.read(Double.self, from: fixtureURL("f8_fortran_2x3x4.npy"))
        #expect(cube == Expected.arange24)
        #expect(cube.isContiguous)
        #expect(try cube.element(at: [1, 2, 3]) == 23)
        #expect(try cube.element(at: [0, 1, 2]) == 6)

        let matrix = try NumpyFile.read(Int32.self, from: fixtureURL("i4_fortran_3x2.npy"))
        #expect(matrix == Tensor(shape: [3, 2], elements: [0, 1, 2, 3, 4, 5]))

        let complex = try NumpyFile.read(Complex<Double>.self, from: fixtureURL("c16_be_fortran_2x2.npy"))
        #expect(complex == Expected.c16)
    }

    /// `np.save(..., np.array(3.5))` (shape `()`), `np.zeros((0, 3))`,
    /// `np.arange(24, dtype=np.int64).reshape(2, 3, 4)` and
    /// `(np.arange(1000) % 256).astype(np.uint8)`.
    @Test("0-d, empty, 3-d and long arrays")
    func shapes() throws {
        let scalar = try NumpyFile.read(Double.self, from: fixtureURL("f8_scalar.npy"))
        #expect(scalar.shape == [])
        #expect(scalar.scalar == 3.5)

        let empty = try NumpyFile.read(Double.self, from: fixtureURL("f8_empty_0x3.npy"))
        #expect(empty.shape == [0, 3])
        #expect(empty.count == 0)

        #expect(try NumpyFile.read(Int64.self, from: fixtureURL("i8_3d_2x3x4.npy")) == Expected.arange24Int)
        #expect(try NumpyFile.read(UInt8.self, from: fixtureURL("u1_1000.npy")) == Expected.u1Long)
    }

    /// `np.lib.format.write_array(f, array, version=(2, 0))` and
    /// `version=(3, 0)` (4-byte header length; 3.0 has a UTF-8 header).
    @Test("format versions 2.0 and 3.0", arguments: ["f8_v2.npy", "f8_v3.npy"])
    func versions(file: String) throws {
        let data = try fixtureData(file)
        #expect(data[6] == (file == "f8_v2.npy" ? 2 : 3))
        #expect(try NumpyFile.decode(Double.self, from: data) == Expected.f8)
    }

    /// Typed reads take the stored dtype or a value-preserving widening
    /// unless asked to convert.
    @Test("typed reads: exact, value-preserving and NumPy-cast conversion")
    func typedReads() throws {
        let url = try fixtureURL("i4.npy")
        #expect(try NumpyFile.read(Int32.self, from: url) == Expected.i4)
        #expect(throws: NumpyFileError.dtypeMismatch(source: url.path, expected: .float64, found: .int32)) {
            try NumpyFile.read(Double.self, from: url, conversion: .exact)
        }
        #expect(throws: NumpyFileError.dtypeMismatch(source: url.path, expected: .float32, found: .int32)) {
            try NumpyFile.read(Float.self, from: url)
        }
        #expect(try NumpyFile.read(Double.self, from: url).elements == [-2147483648, -1, 0, 2147483647])
        let converted = try NumpyFile.read(Double.self, from: url, conversion: .numpyCast)
        #expect(converted.elements == [-2147483648, -1, 0, 2147483647])

        // np.array([1+2j, -0.5+0.25j, 3-4j], dtype=np.complex64).astype(np.int64) == [1, 0, 3]
        let real = try NumpyFile.read(Int64.self, from: fixtureURL("c8.npy"), conversion: .numpyCast)
        #expect(real.elements == [1, 0, 3])
    }

    /// AnyTensor's own accessors.
    @Test("AnyTensor accessors")
    func anyTensor() throws {
        let any = try NumpyFile.read(from: fixtureURL("c16.npy"))
        #expect(any.dtype == .complex128)
        #expect(any.shape == [2, 2])
        #expect(any.count == 4)
        if case let .complex128(t) = any { #expect(t == Expected.c16) } else { Issue.record("wrong case \(any.dtype)") }
        #expect(throws: NumpyFileError.dtypeMismatch(source: "tensor", expected: .complex64, found: .complex128)) {
            try any.tensor(as: Complex<Float>.self)
        }
        #expect(any.cast(to: Double.self).elements == [1, 0.1, 0, -4])
        #expect(AnyTensor(Expected.b1).cast(to: UInt8.self).elements == [1, 0, 0, 1])
    }

    /// Bytes of a bool array other than 0 and 1 mean True, as in NumPy
    /// (`np.frombuffer(b'\x00\x02\xff', dtype=bool)` is `[False, True, True]`).
    @Test("bool bytes other than 0 and 1")
    func boolBytes() throws {
        var data = NumpyFile.encode(Tensor<Bool>([false, true, true]))
        data[data.count - 2] = 2
        data[data.count - 1] = 0xFF
        let read = try NumpyFile.decode(Bool.self, from: data)
        #expect(read.elements == [false, true, true])
    }

    /// numpy ignores bytes after the array data; so does the reader.
    @Test("trailing bytes are ignored")
    func trailingBytes() throws {
        var data = try fixtureData("f8.npy")
        data.append(contentsOf: [1, 2, 3])
        #expect(try NumpyFile.decode(Double.self, from: data) == Expected.f8)
    }
}
