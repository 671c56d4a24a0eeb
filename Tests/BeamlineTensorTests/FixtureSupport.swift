@_exported import BeamlineTestSupport
import BeamlineTensor
import Foundation
import Testing

extension Fixtures {
    /// Loads `Fixtures/<file>` from this test target's bundle (the generators
    /// in Tests/Fixtures wrote it; see BeamlineTestSupport).
    static func load(_ file: String) throws -> Fixtures { try load(file, in: .module) }
}

/// Expects equal shapes and a largest error, relative to max(|expected|, 1),
/// of at most `tolerance`.
func expectClose<T: FloatingElement>(_ actual: Tensor<T>, _ expected: Tensor<T>, _ tolerance: Double,
                                     sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let error = maxRelativeError(actual, expected, floor: 1)
    #expect(error <= tolerance, "largest error \(error)", sourceLocation: sourceLocation)
}
