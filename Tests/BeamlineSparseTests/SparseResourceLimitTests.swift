import BeamlineIO
import BeamlineSparse
import BeamlineTensor
import Foundation
import Testing

/// SciPy sparse files whose `shape` asks for more than the file holds: the
/// shape is refused, naming it, before the pointer arrays are allocated.
@Suite("Resource limits of the SciPy sparse reader")
struct SparseResourceLimitTests {
    /// An archive with the members `scipy.sparse.save_npz` writes for a
    /// matrix of `format` with one entry at (0, 0) (`coo`: `row`, `col`;
    /// `csr`/`csc`: `indices`, `indptr`).
    static func archive(format: String, shape: [Int64], indptr: [Int32] = [0, 1]) throws -> NumpyArchive {
        var members: [(String, Data)] = [
            ("format", NumpyFile.encodeByteString(format)),
            ("shape", NumpyFile.encode(Tensor<Int64>(shape))),
            ("data", NumpyFile.encode(Tensor<Double>([1]))),
        ]
        if format == "coo" {
            members += [("row", NumpyFile.encode(Tensor<Int32>([0]))), ("col", NumpyFile.encode(Tensor<Int32>([0])))]
        } else {
            members += [("indices", NumpyFile.encode(Tensor<Int32>([0]))), ("indptr", NumpyFile.encode(Tensor<Int32>(indptr)))]
        }
        let directory = FileManager.default.temporaryDirectory
        let url = directory.appendingPathComponent("beamline-sparse-limit-\(UUID().uuidString).npz")
        defer { try? FileManager.default.removeItem(at: url) }
        try NumpyArchive.write(npyMembers: members, to: url)
        return try NumpyArchive(data: Data(contentsOf: url), source: "limit.npz")
    }

    @Test("a coo file claiming 2^40 rows is refused before allocating its row pointers")
    func cooHugeRows() throws {
        let archive = try Self.archive(format: "coo", shape: [1 << 40, 2])
        #expect(throws: SparseError.invalidDimensions(
            rows: 1 << 40, columns: 2,
            reason: "a coo file stores no pointers for its 1099511627776 rows; at most 134217728 are read (1 GiB of pointers)")) {
            try CSRMatrix<Double>.load(archive)
        }
    }

    @Test("a coo file claiming 2^31 columns is refused (the column sort would need 16 GiB)")
    func cooHugeColumns() throws {
        let archive = try Self.archive(format: "coo", shape: [2, 1 << 31])
        #expect(throws: SparseError.invalidDimensions(
            rows: 2, columns: 1 << 31,
            reason: "a coo file stores no pointers for its 2147483648 columns; at most 134217728 are read (1 GiB of pointers)")) {
            try CSRMatrix<Double>.load(archive)
        }
    }

    @Test("a csc file claiming 2^30 rows is refused (its transpose would allocate them; beyond 2^31 the column limit refuses it first)")
    func cscHugeRows() throws {
        let archive = try Self.archive(format: "csc", shape: [1 << 30, 1])
        #expect {
            try CSRMatrix<Double>.load(archive)
        } throws: { error in
            guard case let .invalidDimensions(rows, 1, reason)? = error as? SparseError else { return false }
            return rows == 1 << 30 && reason.contains("csc file stores no pointers for its 1073741824 rows")
        }
    }

    @Test("a csr file with Int64.max rows is an error, not an overflow of rows + 1")
    func csrMaximumRows() throws {
        let archive = try Self.archive(format: "csr", shape: [Int64.max, 1])
        #expect(throws: SparseError.invalidDimensions(rows: Int.max, columns: 1, reason: "at most Int.max - 1 rows")) {
            try CSRMatrix<Double>.load(archive)
        }
        // A csr file's rows are backed by its indptr: 2^40 rows with a
        // two-entry indptr is a length mismatch, found before allocating.
        let backed = try Self.archive(format: "csr", shape: [1 << 40, 1])
        #expect(throws: SparseError.lengthMismatch(argument: "rowPointers (indptr)", expected: (1 << 40) + 1, received: 2)) {
            try CSRMatrix<Double>.load(backed)
        }
    }
}
