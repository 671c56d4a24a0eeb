/// Memory that owns one column in the scaler's row order, shared by copies
/// of a scaler; written only while the scaler that created it is built.
final class Column<Element>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Element>
    let count: Int

    init(_ values: [Element]) {
        count = values.count
        pointer = UnsafeMutablePointer<Element>.allocate(capacity: Swift.max(1, count))
        values.withUnsafeBufferPointer { b in
            if let base = b.baseAddress { pointer.initialize(from: base, count: count) }
        }
    }

    subscript(i: Int) -> Element { pointer[i] }

    var array: [Element] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    deinit {
        pointer.deinitialize(count: count)
        pointer.deallocate()
    }
}
