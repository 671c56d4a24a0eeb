import BeamlineTensor
import Foundation

// String members: `scipy.sparse.save_npz` stores the matrix format ("csr")
// as a 0-d NumPy byte-string array (`|S3`), and older SciPy as a Unicode
// one (`<U3`). Beamline has no string element type, so these two functions
// read and write exactly that kind of array and nothing more.

extension NumpyFile {
    /// The bytes of a `.npy` file holding one byte string as a 0-d `|S<n>`
    /// array: what `numpy.save(path, np.array(text.encode()))` writes
    /// (`n` is the UTF-8 length, at least 1).
    public static func encodeByteString(_ text: String) -> Data {
        let bytes = Array(text.utf8)
        let width = Swift.max(1, bytes.count)
        var header = "{'descr': '|S\(width)', 'fortran_order': False, 'shape': (), }"
        let unpadded = NumpyFormat.magic.count + 4 + header.utf8.count + 1
        header += String(repeating: " ", count: NumpyFormat.alignment - unpadded % NumpyFormat.alignment)
        header += "\n"
        var data = Data(NumpyFormat.magic + [1, 0])
        let length = header.utf8.count
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        data.append(contentsOf: bytes + [UInt8](repeating: 0, count: width - bytes.count))
        return data
    }

    /// Decodes a `.npy` file holding one string: a 0-d or one-element array
    /// of dtype `|S<n>` (bytes, decoded as UTF-8) or `<U<n>` / `>U<n>`
    /// (UTF-32). Trailing NUL padding is removed, as NumPy's `.item()` does.
    ///
    /// - Throws: the header errors of ``decode(_:source:)``, and
    ///   ``NumpyFileError/unsupportedDType(source:descr:)`` when the array
    ///   does not hold exactly one string.
    public static func decodeString(_ data: Data, source: String = "<memory>") throws(NumpyFileError) -> String {
        let result: Result<String, NumpyFileError> = data.withUnsafeBytes { bytes in
            Result { () throws(NumpyFileError) -> String in try decodeString(bytes, source: source) }
        }
        return try result.get()
    }

    static func decodeString(_ bytes: UnsafeRawBufferPointer, source: String) throws(NumpyFileError) -> String {
        let (literal, dataOffset) = try NumpyFormat.parseHeaderLiteral(bytes, source: source)
        guard case let .dict(pairs) = literal else {
            throw .malformedHeader(source: source, expected: "a dict", found: NumpyFormat.clipped(literal.repr))
        }
        var descr: String?
        var shape: [PythonLiteral]?
        for pair in pairs {
            guard case let .string(key) = pair.key else { continue }
            if key == "descr", case let .string(text) = pair.value { descr = text }
            if key == "shape", case let .tuple(axes) = pair.value { shape = axes }
        }
        guard let descr, let shape else {
            throw .malformedHeader(source: source, expected: "'descr' and 'shape' entries",
                                   found: NumpyFormat.clipped(literal.repr))
        }
        let oneElement = shape.allSatisfy { $0 == .integer("1") }
        var body = Substring(descr)
        var bigEndian = false
        if let first = body.first, "<>|=".contains(first) {
            bigEndian = first == ">"
            body = body.dropFirst()
        }
        guard oneElement, let kind = body.first, kind == "S" || kind == "U",
              let width = Int(body.dropFirst()), width >= 0, width <= 1 << 20 else {
            throw .unsupportedDType(source: source,
                                    descr: "'\(descr)' with shape \(PythonLiteral.tuple(shape).repr) (expected one |S<n> or <U<n> string)")
        }
        let byteCount = kind == "S" ? width : width * 4
        guard bytes.count - dataOffset >= byteCount else {
            throw .truncatedData(source: source, part: "array data", expected: byteCount,
                                 available: bytes.count - dataOffset)
        }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[dataOffset..<dataOffset + byteCount])
        if kind == "S" {
            var units = Array(payload)
            while units.last == 0 { units.removeLast() }
            return String(decoding: units, as: UTF8.self)
        }
        var scalars = String.UnicodeScalarView()
        for index in 0..<width {
            var code: UInt32 = 0
            for byte in 0..<4 {
                let value = UInt32(payload[index * 4 + byte])
                code |= bigEndian ? value << (8 * (3 - byte)) : value << (8 * byte)
            }
            if code == 0 { continue }
            scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
        }
        return String(scalars)
    }
}
