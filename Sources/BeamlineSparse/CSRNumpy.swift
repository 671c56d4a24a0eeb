import BeamlineIO
import BeamlineOperators
import BeamlineTensor
import Foundation

extension CSRMatrix {
    /// Reads a sparse matrix written by `scipy.sparse.save_npz` (members
    /// `data`, `indices`, `indptr`, `shape`, `format`; stored or
    /// compressed).
    ///
    /// Formats `csr` and `csc` (converted to CSR by transposing) and `coo`
    /// (duplicates summed) are read. Real `data` of any dtype is converted
    /// to `Element` with NumPy's rules; `indices` and `indptr` may be 32- or
    /// 64-bit. The arrays are checked as
    /// ``init(rows:columns:rowPointers:columnIndices:values:)`` checks them;
    /// with `canonicalize` true, unsorted or repeated column indices (which
    /// SciPy allows in non-canonical matrices) are sorted and summed instead
    /// of rejected.
    ///
    /// - Throws: ``SparseError/file(_:)`` for unreadable files and missing
    ///   members, ``SparseError/unsupportedFormat(source:format:)``,
    ///   ``SparseError/badMember(source:member:expected:found:)`` for
    ///   members of the wrong type or shape, and the structure errors.
    public static func load(contentsOf url: URL, canonicalize: Bool = false) throws(SparseError) -> CSRMatrix {
        let archive: NumpyArchive
        do { archive = try NumpyArchive(contentsOf: url) } catch { throw .file(error) }
        return try load(archive, canonicalize: canonicalize)
    }

    /// Reads a sparse matrix from an open archive (see
    /// ``load(contentsOf:canonicalize:)``).
    public static func load(_ archive: NumpyArchive, canonicalize: Bool = false) throws(SparseError) -> CSRMatrix {
        let source = archive.source
        let format: String
        let shapeTensor: AnyTensor, dataTensor: AnyTensor
        do {
            format = try archive.readString("format")
            shapeTensor = try archive.read("shape")
            dataTensor = try archive.read("data")
        } catch { throw .file(error) }
        guard let shape = integers(shapeTensor), shape.count == 2, shape[0] >= 0, shape[1] >= 0,
              shapeTensor.shape == [2] else {
            throw .badMember(source: source, member: "shape", expected: "two non-negative integers",
                             found: "\(shapeTensor.dtype) array of shape \(shapeTensor.shape)")
        }
        let values: [Element]
        switch dataTensor {
        case .complex64, .complex128:
            throw .badMember(source: source, member: "data", expected: "real values",
                             found: "\(dataTensor.dtype) array")
        default:
            guard dataTensor.shape.count == 1 else {
                throw .badMember(source: source, member: "data", expected: "a 1-d array",
                                 found: "shape \(dataTensor.shape)")
            }
            values = dataTensor.cast(to: Element.self).elements
        }
        let rows = Int(shape[0]), columns = Int(shape[1])
        func indexMember(_ name: String) throws(SparseError) -> [Int64] {
            let tensor: AnyTensor
            do { tensor = try archive.read(name) } catch { throw .file(error) }
            guard tensor.shape.count == 1, let result = integers(tensor) else {
                throw .badMember(source: source, member: name, expected: "a 1-d integer array",
                                 found: "\(tensor.dtype) array of shape \(tensor.shape)")
            }
            return result
        }
        switch format {
        case "csr", "csc":
            let (outer, inner) = format == "csr" ? (rows, columns) : (columns, rows)
            try checkDimensions(rows: outer, columns: inner)
            let indices = try indexMember("indices")
            let pointers = try indexMember("indptr")
            var narrow = [Int32](repeating: 0, count: indices.count)
            for (k, index) in indices.enumerated() {
                guard index >= 0 && index < Int64(inner) else {
                    throw .indexOutOfRange(argument: "indices", position: k, index: index, bound: inner)
                }
                narrow[k] = Int32(index)
            }
            let matrix = canonicalize
                ? try CSRMatrix(canonicalizingRows: outer, columns: inner, rowPointers: pointers,
                                columnIndices: narrow, values: values)
                : try CSRMatrix(rows: outer, columns: inner, rowPointers: pointers, columnIndices: narrow,
                                values: values)
            return format == "csr" ? matrix : matrix.transposed()
        case "coo":
            let rowIndices = try indexMember("row")
            let columnIndices = try indexMember("col")
            return try CSRMatrix(rows: rows, columns: columns, rowIndices: rowIndices.map { Int($0) },
                                 columnIndices: columnIndices.map { Int($0) }, values: values)
        default:
            throw .unsupportedFormat(source: source, format: format)
        }
    }

    /// The elements of an integer tensor as `Int64` (nil for other types).
    static func integers(_ tensor: AnyTensor) -> [Int64]? {
        switch tensor {
        case let .int32(t): return t.elements.map { Int64($0) }
        case let .int64(t): return t.elements
        case let .uint8(t): return t.elements.map { Int64($0) }
        case let .int8(t): return t.elements.map { Int64($0) }
        case let .int16(t): return t.elements.map { Int64($0) }
        case let .uint16(t): return t.elements.map { Int64($0) }
        case let .uint32(t): return t.elements.map { Int64($0) }
        case let .uint64(t): return t.elements.map { Int64(truncatingIfNeeded: $0) }  // > Int64.max: negative, rejected as an index
        default: return nil
        }
    }

    /// Writes the matrix as `scipy.sparse.save_npz` does, so that
    /// `scipy.sparse.load_npz` opens it as a `csr_matrix`: members
    /// `indices` (int32), `indptr` (int32, or int64 when the entry count
    /// needs it, as SciPy chooses), `format` (the byte string `b"csr"`),
    /// `shape` (int64) and `data`. The file is replaced atomically.
    ///
    /// - Throws: ``SparseError/file(_:)`` when the file cannot be written.
    public func save(to url: URL, compressed: Bool = false) throws(SparseError) {
        let pointers: AnyTensor = nonzeroCount <= Int(Int32.max)
            ? AnyTensor(Tensor<Int32>(_rowPointers.map { Int32(truncatingIfNeeded: $0) }))
            : AnyTensor(Tensor<Int64>(_rowPointers))
        let members: [(String, Data)] = [
            ("indices", NumpyFile.encode(Tensor<Int32>(_columnIndices))),
            ("indptr", NumpyFile.encode(pointers)),
            ("format", NumpyFile.encodeByteString("csr")),
            ("shape", NumpyFile.encode(Tensor<Int64>([Int64(rows), Int64(columns)]))),
            ("data", NumpyFile.encode(Tensor<Element>(_values))),
        ]
        do {
            try NumpyArchive.write(npyMembers: members, to: url, compression: compressed ? .deflated : .stored)
        } catch { throw .file(error) }
    }
}
