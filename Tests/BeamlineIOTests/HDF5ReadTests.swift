import BeamlineIO
import BeamlineTensor
import ComplexModule
import Foundation
import Testing

/// Reads of the h5py-written fixtures (Tests/Fixtures/generate_hdf5.py,
/// h5py 3.16): the expected values are generate_hdf5.py's formulas
/// (HDF5Expected), and every comparison is exact.
@Suite("HDF5 reads")
struct HDF5ReadTests {
    let types: HDF5File
    let layouts: HDF5File

    init() throws {
        types = try HDF5File(contentsOf: fixtureURL("h5_types.h5"))
        layouts = try HDF5File(contentsOf: fixtureURL("h5_layouts.h5"))
    }

    @Test("every integer dtype reads in its natural type, exactly (generate_hdf5.py: arange(6) - 2, arange(6) * 40)")
    func integersNatural() throws {
        let natural: [(String, DType, [Int64])] = [
            ("i1", .int8, HDF5Expected.signed), ("i2", .int16, HDF5Expected.signed),
            ("i4", .int32, HDF5Expected.signed), ("i8", .int64, HDF5Expected.signed),
            ("u1", .uint8, HDF5Expected.unsigned), ("u2", .uint16, HDF5Expected.unsigned),
            ("u4", .uint32, HDF5Expected.unsigned), ("u8", .uint64, HDF5Expected.unsigned),
            ("be_u2", .uint16, HDF5Expected.unsigned),
        ]
        for (name, dtype, values) in natural {
            let tensor = try types.read(name)
            #expect(tensor.dtype == dtype, "\(name)")
            #expect(tensor.shape == [2, 3], "\(name)")
            #expect(elements(tensor.cast(to: Int64.self)) == values, "\(name)")
        }
    }

    @Test("stored element types are described with h5py's names")
    func elementTypes() throws {
        let names = ["i1": "int8", "i2": "int16", "u2": "uint16", "u4": "uint32", "u8": "uint64", "f2": "float16",
                     "f4": "float32", "c8": "complex64", "c16": "complex128", "b1": "bool", "text": "string"]
        for (path, name) in names {
            #expect(try types.datasetInfo(path).elementType.description == name, "\(path)")
        }
    }

    @Test("floats read bit-identically; float16 widens to Float (generate_hdf5.py: (arange(6) - 2) * 0.25)")
    func floats() throws {
        #expect(try types.read("f2").dtype == .float32)
        #expect(try types.read("f4").dtype == .float32)
        #expect(try types.read("f8").dtype == .float64)
        for name in ["f2", "f4", "be_f4"] {
            #expect(elements(try types.read(Float.self, from: name)) == HDF5Expected.floats.map { Float($0) }, "\(name)")
        }
        #expect(elements(try types.read(Double.self, from: "f8")) == HDF5Expected.floats)
        #expect(try types.read(Double.self, from: "scalar_f8").shape == [])
        #expect(elements(try types.read(Double.self, from: "scalar_f8")) == [2.5])
    }

    @Test("complex data (h5py's {r, i} compound) reads as Complex (generate_hdf5.py: arange(6) * 0.5 - 1j * arange(6))")
    func complex() throws {
        let expected = (0..<6).map { Complex<Double>(Double($0) * 0.5, -Double($0)) }
        let c16 = try types.read(Complex<Double>.self, from: "c16")
        #expect(elements(c16) == expected)
        let c8 = try types.read("c8")
        #expect(c8.dtype == .complex64)
        #expect(elements(try types.read(Complex<Float>.self, from: "c8")) == expected.map {
            Complex(Float($0.real), Float($0.imaginary))
        })
        // libhdf5 converts the compound member by member.
        #expect(elements(try types.read(Complex<Float>.self, from: "c16", conversion: .numpyCast)) == expected.map {
            Complex(Float($0.real), Float($0.imaginary))
        })
    }

    @Test("bool (h5py's enum) reads as Bool and as numbers")
    func bools() throws {
        let expected = [true, false, true, false, false, true]
        #expect(try types.read("b1").dtype == .bool)
        #expect(elements(try types.read(Bool.self, from: "b1")) == expected)
        #expect(elements(try types.read(Float.self, from: "b1")) == expected.map { $0 ? 1 : 0 })
        #expect(elements(try types.read(Bool.self, from: "i1", conversion: .numpyCast)) == HDF5Expected.signed.map { $0 != 0 })
    }

    @Test("typed reads convert where no value changes; other conversions need .numpyCast, then libhdf5 converts")
    func conversions() throws {
        // The default refuses what NumpyFile refuses (NumPy's safe casting): uint32 → Int32 or Float,
        // float64 → Float, complex128 → complex64, any number → Bool.
        for (name, attempt) in [("extremes_u4", { () throws(HDF5Error) in _ = try types.read(Int32.self, from: "extremes_u4") }),
                                ("extremes_u4", { () throws(HDF5Error) in _ = try types.read(Float.self, from: "extremes_u4") }),
                                ("f8", { () throws(HDF5Error) in _ = try types.read(Float.self, from: "f8") }),
                                ("c16", { () throws(HDF5Error) in _ = try types.read(Complex<Float>.self, from: "c16") }),
                                ("i1", { () throws(HDF5Error) in _ = try types.read(Bool.self, from: "i1") })] {
            do { try attempt(); Issue.record("\(name): a value-changing read was not refused") } catch {
                guard case let .conversionChangesValues(_, path, _, _) = error else { Issue.record("\(error)"); continue }
                #expect(path == "/" + name)
            }
        }
        #expect(throws: HDF5Error.self) { try types.read(Float.self, from: "u2", conversion: .exact) }
        #expect(elements(try types.read(Float.self, from: "u2")) == HDF5Expected.unsigned.map { Float($0) })
        #expect(elements(try types.read(Double.self, from: "i1")) == HDF5Expected.signed.map { Double($0) })
        #expect(elements(try types.read(Int64.self, from: "extremes_i8")) == [Int64.min, -1, 0, Int64.max])
        #expect(elements(try types.read(Int64.self, from: "extremes_u4")) == [0, 1, 2_147_483_648, 4_294_967_295])
        #expect(elements(try types.read(Double.self, from: "extremes_u4")) == [0, 1, 2_147_483_648, 4_294_967_295])
        #expect(elements(try types.read(Int32.self, from: "extremes_i1")) == [-128, -1, 0, 127])
        // Saturating, as libhdf5 converts: uint32 max into Int32.
        #expect(elements(try types.read(Int32.self, from: "extremes_u4", conversion: .numpyCast)) == [0, 1, Int32.max, Int32.max])
    }

    @Test("contiguous, gzip + shuffle and LZ4 (Debian's hdf5-filter-plugin) layouts read the same values")
    func layoutsRead() throws {
        #expect(HDF5Library.isFilterAvailable(32004), "Debian's hdf5-filter-plugin provides LZ4 (32004)")
        for name in ["contiguous", "gzip", "lz4"] {
            let tensor = try layouts.read(name)
            #expect(tensor.dtype == .uint16, "\(name)")   // generate_hdf5.py stores the stack as uint16
            #expect(tensor.cast(to: Int64.self) == HDF5Expected.stack, "\(name)")
        }
        let gzip = try layouts.datasetInfo("gzip")
        #expect(gzip.chunkShape == [1, 6, 5])
        #expect(gzip.filters.map(\.id) == [2, 1])
        #expect(gzip.filters.last?.parameters == [4])
        #expect(try layouts.datasetInfo("lz4").filters.map(\.name) == ["lz4"])
        #expect(try layouts.datasetInfo("contiguous").chunkShape == nil)
    }

    @Test("bitshuffle/LZ4 (hdf5plugin.Bitshuffle(cname='lz4')) reads exactly", .enabled(if: bitshuffleAvailable))
    func bitshuffleRead() throws {
        let info = try layouts.datasetInfo("bitshuffle")
        #expect(info.filters.map(\.id) == [32008])
        #expect(info.elementType == .integer(signed: false, bytes: 4))
        #expect(try layouts.read(Int64.self, from: "bitshuffle") == HDF5Expected.stack)
        #expect(try layouts.read(Float.self, from: "bitshuffle", selection: [2], conversion: .numpyCast)
                == HDF5Expected.stack[2].map { Float($0) })
    }

    @Test("hyperslabs read the same elements as the tensor subscript on the whole dataset")
    func hyperslabs() throws {
        let whole = HDF5Expected.stack
        let cases: [([any TensorIndexExpression], Tensor<Int64>)] = [
            ([.slice(1, 3)], whole[1..<3]),
            ([2], whole[2]),
            ([-1], whole[3]),
            ([.all, .stride(1, 5, by: 2), .slice(-2, nil)], whole[.all, .stride(1, 5, by: 2), .slice(-2, nil)]),
            ([.ellipsis, 4], whole[.ellipsis, 4]),
            ([.slice(2, 100)], whole[2..<4]),   // clamped, as numpy and h5py
            ([1, 2, 3], whole[1, 2, 3]),
            ([.slice(3, 1)], whole[.slice(3, 1)]),   // empty
        ]
        for name in ["contiguous", "gzip", "lz4"] {
            for (selection, expected) in cases {
                let part = try layouts.read(Int64.self, from: name, selection: selection)
                #expect(part.shape == expected.shape, "\(name) \(selection)")
                #expect(part == expected.contiguous(), "\(name) \(selection)")
            }
        }
    }

    @Test("uint16 stacks read into Float and Double block by block (chunk-aligned pieces, strided and unaligned selections)")
    func widenedReads() throws {
        let whole = HDF5Expected.stack
        let selections: [[any TensorIndexExpression]] = [
            [], [.slice(1, 4)], [.stride(0, nil, by: 3)], [.slice(1, nil), .all, 2], [3], [.stride(1, nil, by: 2), .slice(2, 5)],
        ]
        for name in ["contiguous", "gzip", "lz4"] {   // chunks: none, (1, 6, 5), (2, 6, 5)
            for selection in selections {
                let expected = try whole.view(selection).contiguous()
                let floats = try layouts.read(Float.self, from: name, selection: selection)
                let doubles = try layouts.read(Double.self, from: name, selection: selection)
                #expect(floats == expected.map { Float($0) }, "\(name) \(selection)")
                #expect(doubles == expected.map { Double($0) }, "\(name) \(selection)")
            }
        }
    }

    @Test("groups, members, soft links and object kinds match h5py's view of h5_layouts.h5")
    func groupsAndLinks() throws {
        #expect(try layouts.members() == ["bitshuffle", "contiguous", "dangling", "group", "gzip", "link", "lz4"])
        #expect(try layouts.members(of: "/group") == ["sub"])
        #expect(try layouts.objectKind(at: "/group/sub") == .group)
        #expect(try layouts.objectKind(at: "link") == .dataset)
        #expect(try layouts.softLinkTarget(of: "/link") == "/group/sub/data")
        #expect(try layouts.softLinkTarget(of: "/dangling") == "/nowhere")
        #expect(try layouts.softLinkTarget(of: "/group/sub/data") == nil)
        #expect(layouts.contains("/link"))
        #expect(!layouts.contains("/dangling"))
        #expect(!layouts.contains("/group/missing/deeper"))
        #expect(try layouts.read(Float.self, from: "/link") == Tensor<Float>(shape: [3, 4], elements: (0..<12).map { Float($0) * 0.5 }))
    }

    @Test("attributes of each kind read as h5py wrote them")
    func attributes() throws {
        #expect(try layouts.attributeNames(of: "/group") == ["fixed_text", "flag", "float", "floats", "int", "ints", "text", "texts"])
        #expect(try layouts.attribute("int", of: "/group") == .integer(42))
        #expect(try layouts.attribute("float", of: "/group") == .number(0.125))
        #expect(try layouts.attribute("text", of: "/group") == .string("detector"))
        #expect(try layouts.attribute("fixed_text", of: "/group") == .string("fixed"))
        #expect(try layouts.attribute("floats", of: "/group") == .array(AnyTensor(Tensor<Double>([1.5, -2.0, 3.25]))))
        #expect(try layouts.attribute("ints", of: "/group") == .array(AnyTensor(Tensor<Int32>([1, 2, 3]))))
        #expect(try layouts.attribute("texts", of: "/group") == .strings(["a", "bc"]))
        #expect(try layouts.attribute("flag", of: "/group") == .array(AnyTensor(Tensor<Bool>(scalar: true))))
        #expect(try layouts.attribute("units", of: "/contiguous").stringValue == "counts")
        #expect(try layouts.attribute("int", of: "/group").doubleValue == 42)
    }

    @Test("one file read from 8 threads at once gives the same frames (every libhdf5 call holds the global lock)")
    func concurrentReads() throws {
        let file = layouts
        let results = SendableResults(count: 32)
        DispatchQueue.concurrentPerform(iterations: 32) { index in
            let name = ["contiguous", "gzip", "lz4"][index % 3]
            results.set(index, try? file.read(Int64.self, from: name, selection: [index % 4]))
        }
        for index in 0..<32 {
            #expect(results.get(index) == HDF5Expected.stack[index % 4].contiguous(), "\(index)")
        }
    }
}

/// Results written by concurrent iterations, one slot each.
final class SendableResults: @unchecked Sendable {
    private var slots: [Tensor<Int64>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Tensor<Int64>?) { lock.withLock { slots[index] = value } }
    func get(_ index: Int) -> Tensor<Int64>? { lock.withLock { slots[index] } }
}

