@_exported import BeamlineTestSupport
import BeamlineTensor
import Foundation
import Testing

extension Fixtures {
    /// Loads `Fixtures/<file>` from this test target's bundle (the generators
    /// in Tests/Fixtures wrote it; see BeamlineTestSupport).
    static func load(_ file: String) throws -> Fixtures { try load(file, in: .module) }
}
