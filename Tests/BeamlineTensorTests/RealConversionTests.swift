import BeamlineTensor
import Testing

/// RealConversion against Swift's own `Double(_:)` and `Float(_:)`
/// initialisers (the reference: IEEE 754 widening is exact, narrowing rounds
/// to nearest even), from specialised and unspecialised callers.
@Suite struct RealConversionTests {
    static let samples: [Double] = [0, -0.0, 1, -2.5, 1.0 / 3.0, 0x1.fffffep127, 1e-45, 3.4028235677973366e38,
                                    .infinity, -.infinity, 16_777_217, 0.1]

    @Test func floatsWidenExactly() {
        let floats = Self.samples.map { Float($0) }
        #expect(RealConversion.doubles(floats) == floats.map { Double($0) })
    }

    @Test func doublesNarrowToNearest() {
        let narrowed: [Float] = RealConversion.values(Self.samples, as: Float.self)
        #expect(narrowed == Self.samples.map { Float($0) })
        #expect(narrowed[10] == 16_777_216)  // 2²⁴ + 1 rounds to even
    }

    @Test func doublesPassThrough() {
        #expect(RealConversion.doubles(Self.samples).elementsEqual(Self.samples) { $0.bitPattern == $1.bitPattern })
        #expect(RealConversion.values(Self.samples, as: Double.self).elementsEqual(Self.samples) { $0.bitPattern == $1.bitPattern })
    }

    @Test func nanStaysNaN() {
        #expect(RealConversion.doubles([Float.nan])[0].isNaN)
        #expect(RealConversion.values([Double.nan], as: Float.self)[0].isNaN)
    }

    /// Through a generic function the optimiser cannot specialise here
    /// (called through a generic parameter), as the library's generic code.
    @Test func unspecialisedCallersGetTheSameValues() {
        @inline(never) func roundTrip<S: RealElement>(_ values: [Double], _ type: S.Type) -> [Double] {
            RealConversion.doubles(RealConversion.values(values, as: type))
        }
        #expect(roundTrip(Self.samples, Float.self) == Self.samples.map { Double(Float($0)) })
        #expect(roundTrip([], Float.self).isEmpty)
    }
}
