import BeamlineIO
import BeamlineTensor
import Foundation
import Testing

/// An HDF5 header may declare any shape (unwritten chunks read as fill
/// values), so a tiny file can ask for terabytes: the read is refused,
/// naming the size, before the buffer is allocated.
@Suite("Resource limits of the HDF5 reader")
struct HDF5ResourceLimitTests {
    @Test("a 715-byte file declaring 8·10^12 bytes, or more than Int counts, is refused before allocating")
    func hugeDeclaredShapes() throws {
        let url = try fixtureURL("h5_huge_fill.h5")
        #expect(try Data(contentsOf: url).count < 1024)
        let file = try HDF5File(contentsOf: url)
        #expect(try file.shape(of: "/huge") == [1_000_000, 1_000_000])
        let memory = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        #expect(throws: HDF5Error.readFailure(
            file: url.path, path: "/huge",
            reason: "the selection of shape [1000000, 1000000] needs 8000000000000 bytes, more than this machine's memory (\(memory) bytes)")) {
            try file.read("/huge")
        }
        #expect(throws: HDF5Error.readFailure(
            file: url.path, path: "/overflow",
            reason: "the selection of shape [1099511627776, 1099511627776] needs more bytes than an Int can count, more than this machine's memory (\(memory) bytes)")) {
            try file.read(Double.self, from: "/overflow")
        }
        // A small selection of the same dataset is an ordinary read of fill values (0).
        let row = try file.read(Double.self, from: "/huge", selection: [0, TensorIndex.slice(0, 4)])
        #expect(row == Tensor<Double>([0, 0, 0, 0]))
    }
}
