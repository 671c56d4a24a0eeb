import BeamlineIO
import BeamlineTensor
import ComplexModule
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Every bad input gives a typed HDF5Error naming the file and the path,
/// without a trap and without libhdf5 printing its error stack.
@Suite("HDF5 errors")
struct HDF5ErrorTests {
    @Test("a missing file, a directory, a non-HDF5 file and a truncated file")
    func badFiles() throws {
        let missing = "/nonexistent/beamline/scan.h5"
        #expect(throws: HDF5Error.fileNotFound(file: missing, reason: "No such file or directory")) {
            _ = try HDF5File(contentsOf: URL(fileURLWithPath: missing))
        }
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: HDF5Error.fileNotFound(file: directory.path, reason: "is a directory")) {
            _ = try HDF5File(contentsOf: directory)
        }
        let text = try fixtureURL("h5_not_hdf5.h5")
        #expect(throws: HDF5Error.notHDF5(file: text.path)) { _ = try HDF5File(contentsOf: text) }
        let truncated = try fixtureURL("h5_truncated.h5")
        do {
            _ = try HDF5File(contentsOf: truncated)
            Issue.record("a truncated file opened")
        } catch {
            guard case let .corruptFile(file, _, reason) = error else { Issue.record("\(error)"); return }
            #expect(file == truncated.path)
            #expect(reason.contains("truncated") || !reason.isEmpty)
            #expect(error.description.hasPrefix(truncated.path))
        }
    }

    @Test("missing paths, wrong object kinds, unsupported types, missing attributes")
    func badPaths() throws {
        let url = try fixtureURL("h5_layouts.h5")
        let file = try HDF5File(contentsOf: url)
        #expect(throws: HDF5Error.missingObject(file: url.path, path: "/entry/data/data")) {
            _ = try file.read("/entry/data/data")
        }
        #expect(throws: HDF5Error.missingObject(file: url.path, path: "/dangling")) { _ = try file.read("dangling") }
        #expect(throws: HDF5Error.notADataset(file: url.path, path: "/group", found: "group")) { _ = try file.read("/group") }
        #expect(throws: HDF5Error.notAGroup(file: url.path, path: "/contiguous", found: "dataset")) {
            _ = try file.members(of: "/contiguous")
        }
        #expect(throws: HDF5Error.missingAttribute(file: url.path, path: "/group", name: "nope")) {
            _ = try file.attribute("nope", of: "/group")
        }
        let types = try HDF5File(contentsOf: fixtureURL("h5_types.h5"))
        #expect(throws: HDF5Error.typeNotSupported(file: types.path, path: "/text", stored: "string", requested: "float32")) {
            _ = try types.read(Float.self, from: "/text")
        }
        #expect(throws: HDF5Error.typeNotSupported(file: types.path, path: "/c8", stored: "complex64", requested: "float64")) {
            _ = try types.read(Double.self, from: "/c8")
        }
        #expect(throws: HDF5Error.typeNotSupported(file: types.path, path: "/f4", stored: "float32", requested: "complex64")) {
            _ = try types.read(Complex<Float>.self, from: "/f4")
        }
    }

    @Test("hyperslabs out of range: index past the end, too many axes, a negative step")
    func badHyperslabs() throws {
        let url = try fixtureURL("h5_layouts.h5")
        let file = try HDF5File(contentsOf: url)
        let shape = [4, 6, 5]
        #expect(throws: HDF5Error.hyperslabOutOfRange(file: url.path, path: "/gzip", shape: shape,
                                                      reason: "index 4 is out of range for axis 0 of length 4")) {
            _ = try file.read("/gzip", selection: [4])
        }
        #expect(throws: HDF5Error.hyperslabOutOfRange(file: url.path, path: "/gzip", shape: shape,
                                                      reason: "4 indices for 3 axes")) {
            _ = try file.read("/gzip", selection: [0, 0, 0, 0])
        }
        #expect(throws: HDF5Error.hyperslabOutOfRange(file: url.path, path: "/gzip", shape: shape,
                                                      reason: "step -1 on axis 1: steps must be positive (as in h5py)")) {
            _ = try file.read("/gzip", selection: [.all, .stride(nil, nil, by: -1)])
        }
        #expect(throws: HDF5Error.hyperslabOutOfRange(file: url.path, path: "/gzip", shape: shape,
                                                      reason: "range 2..<7 is out of range for axis 2 of length 5")) {
            _ = try file.read("/gzip", selection: [.all, .all, 2..<7])
        }
    }

    @Test("a filter no plugin provides (generate_hdf5.py: filter 32999 on /data) names the filter and the dataset")
    func missingFilter() throws {
        let url = try fixtureURL("h5_unknown_filter.h5")
        let file = try HDF5File(contentsOf: url)
        #expect(try file.datasetInfo("/data").filters.map(\.id) == [32999])
        do {
            _ = try file.read(Int32.self, from: "/data")
            Issue.record("read through a missing filter")
        } catch {
            guard case let .missingFilter(name, path, id, _) = error else { Issue.record("\(error)"); return }
            #expect(name == url.path)
            #expect(path == "/data")
            #expect(id == 32999)
            #expect(error.description.contains("32999"))
        }
    }

    @Test("libhdf5 prints nothing to standard error on any of these failures")
    func noStandardErrorNoise() throws {
        let pipe = Pipe()
        fflush(nil)
        let saved = dup(2)
        dup2(pipe.fileHandleForWriting.fileDescriptor, 2)
        let file = try? HDF5File(contentsOf: fixtureURL("h5_layouts.h5"))
        _ = try? HDF5File(contentsOf: fixtureURL("h5_truncated.h5"))
        _ = try? HDF5File(contentsOf: fixtureURL("h5_not_hdf5.h5"))
        _ = try? file?.read("/missing/path")
        _ = try? file?.read("/gzip", selection: [9])
        _ = try? file?.attribute("nope", of: "/group")
        _ = try? file?.softLinkTarget(of: "/missing")
        _ = try? HDF5File(contentsOf: fixtureURL("h5_unknown_filter.h5")).read("/data")
        fflush(nil)
        dup2(saved, 2)
        close(saved)
        try pipe.fileHandleForWriting.close()
        let written = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        // Other suites run concurrently and the test runner may write its own progress to the same
        // descriptor, so the captured text is searched for libhdf5's error-stack format only
        // ("HDF5-DIAG: Error detected in HDF5 …", "  #000: … line …", "major: …", "minor: …").
        #expect(hdf5Diagnostics(in: written).isEmpty)
        // The filter recognises a real libhdf5 error stack (the format of H5Eprint2).
        #expect(hdf5Diagnostics(in: """
            HDF5-DIAG: Error detected in HDF5 (1.14.5) thread 1:
              #000: H5F.c line 836 in H5Fopen(): unable to synchronously open file
                major: File accessibility
                minor: Unable to open file
            """).count == 4)
    }

    /// The lines of `text` in libhdf5's error-stack format.
    private func hdf5Diagnostics(in text: String) -> [Substring] {
        text.split(separator: "\n").filter { line in
            let trimmed = line.drop { $0 == " " }
            return line.contains("HDF5-DIAG") || trimmed.hasPrefix("major:") || trimmed.hasPrefix("minor:")
                || (trimmed.hasPrefix("#") && trimmed.contains(" line "))
        }
    }
}
