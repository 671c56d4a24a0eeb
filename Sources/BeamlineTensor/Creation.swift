import RealModule

extension Tensor {
    /// A tensor of zeros (`numpy.zeros`).
    @inlinable
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: ._zeroValue) }

    /// A tensor of ones (`numpy.ones`).
    @inlinable
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: ._oneValue) }

    /// A tensor filled with `value` (`numpy.full`).
    @inlinable
    public static func full(_ shape: [Int], _ value: Element) -> Tensor { Tensor(shape: shape, repeating: value) }

    /// A tensor of zeros with the shape of `other` (`numpy.zeros_like`).
    @inlinable
    public static func zeros<Other>(like other: Tensor<Other>) -> Tensor { zeros(other.shape) }
}

extension Tensor where Element: ArithmeticElement {
    /// The `n`×`n` identity matrix (`numpy.eye(n)`).
    @inlinable
    public static func identity(_ n: Int) -> Tensor {
        precondition(n >= 0, "Tensor.identity: negative size \(n)")
        var result = zeros([n, n])
        result.withUnsafeMutableBufferPointer { buffer in
            for i in 0..<n { buffer[i * n + i] = ._oneValue }
        }
        return result
    }
}

extension Tensor where Element: RealElement {
    /// Evenly spaced values in `[start, stop)` with spacing `step`
    /// (`numpy.arange`). The count is `ceil((stop - start) / step)` (0 when
    /// negative); as in NumPy, element `i ≥ 2` is `start + i * δ` with
    /// `δ = (start + step) - start`, so the values agree with NumPy's bit for bit.
    @inlinable
    public static func arange(_ start: Element, _ stop: Element, step: Element = 1) -> Tensor {
        precondition(step != 0 && step.isFinite, "Tensor.arange: step must be finite and non-zero, received \(step)")
        let n = Swift.max(0, Int(((stop - start) / step).rounded(.up)))
        return Tensor(unsafeUninitializedShape: [n]) { buffer in
            guard n > 0 else { return }
            buffer[0] = start
            let second = start + step
            let delta = second - start
            if n > 1 { buffer[1] = second }
            for i in Swift.min(2, n)..<n { buffer[i] = start + Element(i) * delta }
        }
    }

    /// `count` evenly spaced values from `start` to `stop` (`numpy.linspace`,
    /// with its formula: `start + i * step`, the last value set to `stop`
    /// exactly when `endpoint` is true).
    @inlinable
    public static func linspace(_ start: Element, _ stop: Element, count: Int, endpoint: Bool = true) -> Tensor {
        precondition(count >= 0, "Tensor.linspace: negative count \(count)")
        let divisions = endpoint ? count - 1 : count
        let step = divisions > 0 ? (stop - start) / Element(divisions) : 0
        return Tensor(unsafeUninitializedShape: [count]) { buffer in
            for i in 0..<count { buffer[i] = start + Element(i) * step }
            if endpoint && count > 1 { buffer[count - 1] = stop }
        }
    }
}

extension Tensor where Element: ArithmeticElement {
    /// `0, 1, ..., n - 1` (`numpy.arange(n)`) for any arithmetic element type.
    @inlinable
    public static func arange(_ n: Int) -> Tensor {
        precondition(n >= 0, "Tensor.arange: negative count \(n)")
        return Tensor(unsafeUninitializedShape: [n]) { buffer in
            for i in 0..<n { buffer[i] = Element(_castingInt64: Int64(i)) }
        }
    }
}

// MARK: - Random numbers

/// The seeded generator behind ``Tensor/uniform(_:in:seed:)`` and
/// ``Tensor/normal(_:mean:standardDeviation:seed:)``: xoshiro256** (Blackman
/// and Vigna, 2018) with its state filled from the seed by SplitMix64.
///
/// The same seed gives the same numbers on every platform and thread count.
/// Uniform doubles are `(next() >> 11) * 2⁻⁵³` in `[0, 1)`; normal values use
/// the Box–Muller transform. The streams differ from NumPy's (PCG64).
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    @usableFromInline var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator seeded with `seed`.
    @inlinable
    public init(seed: UInt64) {
        var z = seed
        func splitMix() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var x = z
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            return x ^ (x >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = state.3 << 45 | state.3 >> 19
        return result
    }

    /// A double uniformly distributed in `[0, 1)`.
    @inlinable
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal double (Box–Muller, one value per call).
    @inlinable
    public mutating func nextStandardNormal() -> Double {
        let u1 = 1 - nextUnitDouble()  // (0, 1]
        let u2 = nextUnitDouble()
        return (-2 * Double.log(u1)).squareRoot() * Double.cos(2 * Double.pi * u2)
    }
}

extension Tensor where Element: RealElement {
    /// Uniform random values in `range` from ``Xoshiro256StarStar`` seeded
    /// with `seed`.
    @inlinable
    public static func uniform(_ shape: [Int], in range: Range<Element> = 0..<1, seed: UInt64) -> Tensor {
        var generator = Xoshiro256StarStar(seed: seed)
        let low = Double(range.lowerBound), width = Double(range.upperBound) - low
        return Tensor(unsafeUninitializedShape: shape) { buffer in
            for i in buffer.indices { buffer[i] = Element(low + width * generator.nextUnitDouble()) }
        }
    }

    /// Normal random values from ``Xoshiro256StarStar`` seeded with `seed`.
    @inlinable
    public static func normal(_ shape: [Int], mean: Element = 0, standardDeviation: Element = 1,
                              seed: UInt64) -> Tensor {
        var generator = Xoshiro256StarStar(seed: seed)
        let m = Double(mean), s = Double(standardDeviation)
        return Tensor(unsafeUninitializedShape: shape) { buffer in
            for i in buffer.indices { buffer[i] = Element(m + s * generator.nextStandardNormal()) }
        }
    }
}
