/// Conversions of real values between `Float`, `Double` and any other
/// ``RealElement`` with no closure call per element.
///
/// `values.map { Double($0) }` inside generic code that the compiler did not
/// specialise converts through a closure and a generic initialiser per
/// element (and allocates for each on this toolchain). These functions check
/// the element type once and run a typed loop, so they are fast from
/// specialised and unspecialised callers alike. `Float → Double` is exact;
/// `Double → Float` rounds to nearest, as `Float(_:)`.
public enum RealConversion {
    /// `values` as `Double` (the same array, not a copy, when `S` is `Double`).
    @inlinable
    public static func doubles<S: RealElement>(_ values: [S]) -> [Double] {
        if S.self == Double.self { return unsafeBitCast(values, to: [Double].self) }
        if S.self == Float.self { return widened(unsafeBitCast(values, to: [Float].self)) }
        return [Double](unsafeUninitializedCapacity: values.count) { buffer, initialized in
            for i in values.indices { buffer[i] = Double(values[i]) }
            initialized = values.count
        }
    }

    /// `values` as `S` (the same array, not a copy, when `S` is `Double`).
    @inlinable
    public static func values<S: RealElement>(_ values: [Double], as type: S.Type = S.self) -> [S] {
        if S.self == Double.self { return unsafeBitCast(values, to: [S].self) }
        if S.self == Float.self { return unsafeBitCast(narrowed(values), to: [S].self) }
        return [S](unsafeUninitializedCapacity: values.count) { buffer, initialized in
            for i in values.indices { buffer[i] = S(values[i]) }
            initialized = values.count
        }
    }

    @usableFromInline
    static func widened(_ values: [Float]) -> [Double] {
        [Double](unsafeUninitializedCapacity: values.count) { buffer, initialized in
            values.withUnsafeBufferPointer { source in
                for i in source.indices { buffer[i] = Double(source[i]) }
            }
            initialized = values.count
        }
    }

    @usableFromInline
    static func narrowed(_ values: [Double]) -> [Float] {
        [Float](unsafeUninitializedCapacity: values.count) { buffer, initialized in
            values.withUnsafeBufferPointer { source in
                for i in source.indices { buffer[i] = Float(source[i]) }
            }
            initialized = values.count
        }
    }
}
