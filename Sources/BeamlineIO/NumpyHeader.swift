import BeamlineTensor

/// The parsed header of a `.npy` file: what NumPy's
/// `numpy.lib.format.read_array_header_*` returns.
struct NumpyHeader: Equatable {
    /// Element type of the tensor the file decodes to (`float32` for a
    /// `float16` file).
    var dtype: DType
    /// True when the file stores IEEE half-precision floats (`f2`), which
    /// are widened to `float32` on reading.
    var float16 = false
    /// True when the file stores multi-byte elements big-endian.
    var bigEndian: Bool
    /// True when the data is in column-major (Fortran) order.
    var fortranOrder: Bool
    /// Length of each axis.
    var shape: [Int]
    /// Number of elements.
    var count: Int
    /// Number of data bytes (`count * itemSize`).
    var byteCount: Int
    /// Offset of the first data byte from the start of the file.
    var dataOffset: Int

    /// Bytes per stored element (2 for `float16`, else `dtype.byteCount`).
    var itemSize: Int { float16 ? 2 : dtype.byteCount }
}

/// The `.npy` format: magic string, versions, header text, dtype strings.
enum NumpyFormat {
    /// `\x93NUMPY`.
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
    /// NumPy's `ARRAY_ALIGN`: the data starts at a multiple of this.
    static let alignment = 64
    /// NumPy's `GROWTH_AXIS_MAX_DIGITS`: spare header spaces for growing
    /// the first axis in place.
    static let growthAxisMaxDigits = 21

    /// The dtype string NumPy writes for `dtype` in little-endian order
    /// (`dtype.str`).
    static func descr(for dtype: DType) -> String {
        switch dtype {
        case .float32: return "<f4"
        case .float64: return "<f8"
        case .complex64: return "<c8"
        case .complex128: return "<c16"
        case .int32: return "<i4"
        case .int64: return "<i8"
        case .uint8: return "|u1"
        case .bool: return "|b1"
        case .int8: return "|i1"
        case .int16: return "<i2"
        case .uint16: return "<u2"
        case .uint32: return "<u4"
        case .uint64: return "<u8"
        }
    }

    /// True on a big-endian machine (what `=` and `|` mean in a dtype string).
    static var nativeBigEndian: Bool {
        #if _endian(big)
        return true
        #else
        return false
        #endif
    }

    /// Maps a dtype string (`<f8`, `>i4`, `|u1`, `=c16`, `<f2`, ...) to a
    /// dtype, whether the file stores `float16`, and whether it is
    /// big-endian (`=` and `|` mean the machine's order); nil for types
    /// Beamline does not read.
    static func dtype(fromDescr descr: String) -> (DType, float16: Bool, bigEndian: Bool)? {
        var body = Substring(descr)
        var bigEndian = nativeBigEndian
        if let first = body.first, "<>|=".contains(first) {
            if first == ">" { bigEndian = true } else if first == "<" { bigEndian = false }
            body = body.dropFirst()
        }
        if body == "f2" { return (.float32, true, bigEndian) }
        let dtype: DType
        switch body {
        case "f4": dtype = .float32
        case "f8": dtype = .float64
        case "c8": dtype = .complex64
        case "c16": dtype = .complex128
        case "i4": dtype = .int32
        case "i8": dtype = .int64
        case "u1": dtype = .uint8
        case "b1": dtype = .bool
        case "i1": dtype = .int8
        case "i2": dtype = .int16
        case "u2": dtype = .uint16
        case "u4": dtype = .uint32
        case "u8": dtype = .uint64
        default: return nil
        }
        return (dtype, false, bigEndian && dtype.byteCount > 1)
    }

    /// The header bytes (magic, version, length, dict text, padding and
    /// newline) that `numpy.save` writes for an array of `dtype` and
    /// `shape` in C order: version 1.0, or 2.0 when the header is longer
    /// than 65535 bytes.
    static func headerBytes(dtype: DType, shape: [Int]) -> [UInt8] {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var text = "{'descr': '\(descr(for: dtype))', 'fortran_order': False, 'shape': \(shapeText), }"
        if let first = shape.first {
            text += String(repeating: " ", count: max(0, growthAxisMaxDigits - String(first).count))
        }
        let body = Array(text.utf8)
        for (major, lengthBytes) in [(UInt8(1), 2), (UInt8(2), 4)] {
            let unpadded = magic.count + 2 + lengthBytes + body.count + 1
            let padding = alignment - unpadded % alignment
            let headerLength = body.count + 1 + padding
            if lengthBytes == 2 && headerLength > Int(UInt16.max) { continue }
            var bytes = magic + [major, 0]
            for index in 0..<lengthBytes { bytes.append(UInt8(truncatingIfNeeded: headerLength >> (8 * index))) }
            bytes += body
            bytes += [UInt8](repeating: 0x20, count: padding)
            bytes.append(0x0A)
            return bytes
        }
        fatalError("unreachable: a version 2.0 header length always fits in 32 bits")
    }

    /// Parses the magic string, version and header at the start of `bytes`
    /// and checks that the data they announce is all there.
    static func parseHeader(_ bytes: UnsafeRawBufferPointer, source: String) throws(NumpyFileError) -> NumpyHeader {
        let (literal, dataOffset) = try parseHeaderLiteral(bytes, source: source)
        var header = try interpret(literal, source: source)
        header.dataOffset = dataOffset
        let dataAvailable = bytes.count - header.dataOffset
        guard dataAvailable >= header.byteCount else {
            throw .truncatedData(source: source, part: "array data", expected: header.byteCount, available: dataAvailable)
        }
        return header
    }

    /// Parses the magic string, version and header dict at the start of
    /// `bytes`; returns the dict literal and the offset of the first data
    /// byte (shared by numeric and string arrays).
    static func parseHeaderLiteral(_ bytes: UnsafeRawBufferPointer,
                                   source: String) throws(NumpyFileError) -> (PythonLiteral, dataOffset: Int) {
        let available = bytes.count
        let prefixCount = min(available, magic.count)
        guard (0..<prefixCount).allSatisfy({ bytes[$0] == magic[$0] }) else {
            throw .badMagic(source: source, found: Array(bytes[0..<prefixCount]))
        }
        guard available >= magic.count + 2 else {
            throw .truncatedData(source: source, part: "magic string", expected: magic.count + 2, available: available)
        }
        let major = bytes[6], minor = bytes[7]
        let lengthBytes: Int
        switch (major, minor) {
        case (1, 0): lengthBytes = 2
        case (2, 0), (3, 0): lengthBytes = 4
        default: throw .unsupportedVersion(source: source, major: major, minor: minor)
        }
        guard available >= 8 + lengthBytes else {
            throw .truncatedData(source: source, part: "header length", expected: 8 + lengthBytes, available: available)
        }
        var headerLength = 0
        for index in 0..<lengthBytes { headerLength |= Int(bytes[8 + index]) << (8 * index) }
        let headerStart = 8 + lengthBytes
        guard available - headerStart >= headerLength else {
            throw .truncatedData(source: source, part: "header", expected: headerLength,
                                 available: available - headerStart)
        }
        let text = Array(bytes[headerStart..<headerStart + headerLength])
        let literal: PythonLiteral
        do {
            literal = try PythonLiteralParser.parse(text, utf8: major == 3)
        } catch {
            throw .malformedHeader(source: source, expected: error.expected, found: error.found)
        }
        return (literal, headerStart + headerLength)
    }

    /// Checks the header dict and turns it into a ``NumpyHeader``.
    static func interpret(_ literal: PythonLiteral, source: String) throws(NumpyFileError) -> NumpyHeader {
        let keysText = "a dict with exactly the keys 'descr', 'fortran_order' and 'shape'"
        guard case let .dict(pairs) = literal else {
            throw .malformedHeader(source: source, expected: keysText, found: clipped(literal.repr))
        }
        var values: [String: PythonLiteral] = [:]
        for pair in pairs {
            guard case let .string(key) = pair.key else {
                throw .malformedHeader(source: source, expected: keysText, found: "key \(clipped(pair.key.repr))")
            }
            values[key] = pair.value
        }
        guard values.count == 3, let descr = values["descr"], let fortran = values["fortran_order"],
              let shapeLiteral = values["shape"] else {
            throw .malformedHeader(source: source, expected: keysText,
                                   found: "keys " + values.keys.sorted().map { "'\($0)'" }.joined(separator: ", "))
        }
        guard case let .boolean(fortranOrder) = fortran else {
            throw .malformedHeader(source: source, expected: "'fortran_order': True or False",
                                   found: clipped(fortran.repr))
        }
        guard case let .tuple(axes) = shapeLiteral else {
            throw .malformedHeader(source: source, expected: "'shape': a tuple of integers",
                                   found: clipped(shapeLiteral.repr))
        }
        var shape: [Int] = []
        for axis in axes {
            guard case let .integer(text) = axis else {
                throw .malformedHeader(source: source, expected: "'shape': a tuple of integers",
                                       found: clipped(shapeLiteral.repr))
            }
            guard let length = Int(text) else {
                throw .shapeOverflow(source: source, shape: clipped(shapeLiteral.repr))
            }
            guard length >= 0 else {
                throw .malformedHeader(source: source, expected: "'shape': non-negative axis lengths",
                                       found: clipped(shapeLiteral.repr))
            }
            shape.append(length)
        }
        guard case let .string(descrText) = descr,
              let (dtype, float16, bigEndian) = dtype(fromDescr: descrText) else {
            throw .unsupportedDType(source: source, descr: clipped(descr.repr))
        }
        var count = 1
        for length in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: length)
            guard !overflow else { throw .shapeOverflow(source: source, shape: shapeLiteral.repr) }
            count = product
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: float16 ? 2 : dtype.byteCount)
        guard !overflow else { throw .shapeOverflow(source: source, shape: shapeLiteral.repr) }
        return NumpyHeader(dtype: dtype, float16: float16, bigEndian: bigEndian, fortranOrder: fortranOrder,
                           shape: shape, count: count, byteCount: byteCount, dataOffset: 0)
    }

    /// `text`, cut to 200 characters for messages.
    static func clipped(_ text: String) -> String {
        text.count <= 200 ? text : String(text.prefix(200)) + "..."
    }
}
