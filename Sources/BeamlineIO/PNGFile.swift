import BeamlineTensor
import Foundation

/// A minimal PNG writer for previews: 8-bit greyscale or RGB, no
/// compression (zlib "stored" deflate blocks), with its own CRC-32 and
/// Adler-32, so no image library is needed. Files are valid PNG that every
/// viewer opens.
///
/// ``writePreview(_:to:low:high:colorMap:minimumSize:)`` turns a 2-d real
/// tensor into a preview a person can look at: values scaled to the colour
/// map's 256 entries, and small images enlarged by an integer factor
/// (nearest neighbour, every data pixel a square block) to at least 512
/// pixels on the long side.
public enum PNGFile {
    /// How preview values map to colours: 256 entries, low values first.
    public enum ColorMap: String, Sendable, CaseIterable {
        /// Black to white (an 8-bit greyscale PNG).
        case grey
        /// matplotlib's perceptually uniform `viridis` (dark blue, green,
        /// yellow), an RGB PNG.
        case viridis
        /// matplotlib's `magma` (black, purple, orange, pale yellow), an
        /// RGB PNG.
        case magma

        /// The 8-bit `(r, g, b)` colour of entry `index` (0...255); for
        /// `viridis` and `magma`, matplotlib's colour rounded to 8 bits
        /// (tables generated from matplotlib by scripts/generate_colormaps.py).
        public func color(at index: UInt8) -> (red: UInt8, green: UInt8, blue: UInt8) {
            let i = Int(index) * 3
            switch self {
            case .grey: return (index, index, index)
            case .viridis: return (ColorMapTables.viridis[i], ColorMapTables.viridis[i + 1], ColorMapTables.viridis[i + 2])
            case .magma: return (ColorMapTables.magma[i], ColorMapTables.magma[i + 1], ColorMapTables.magma[i + 2])
            }
        }
    }

    /// PNG bytes of a `height × width` greyscale image (row-major pixels).
    ///
    /// - Throws: ``PNGError`` for a bad size or pixel count.
    public static func encodeGrayscale(_ pixels: [UInt8], width: Int, height: Int) throws(PNGError) -> Data {
        try encode(pixels, width: width, height: height, channels: 1)
    }

    /// PNG bytes of a `height × width` RGB image (row-major pixels, three
    /// bytes `r, g, b` each).
    ///
    /// - Throws: ``PNGError`` for a bad size or byte count.
    public static func encodeRGB(_ pixels: [UInt8], width: Int, height: Int) throws(PNGError) -> Data {
        try encode(pixels, width: width, height: height, channels: 3)
    }

    /// PNG bytes of 8-bit greyscale (1 channel) or RGB (3 channels) pixels.
    static func encode(_ pixels: [UInt8], width: Int, height: Int, channels: Int) throws(PNGError) -> Data {
        guard width > 0, height > 0, width <= 1 << 24, height <= 1 << 24 else {
            throw .invalidSize(width: width, height: height)
        }
        let rowBytes = width * channels
        guard pixels.count == rowBytes * height else {
            throw .pixelCountMismatch(expected: rowBytes * height, received: pixels.count)
        }
        // Raw scanlines: a filter byte (0, none) before each row.
        var raw = [UInt8](); raw.reserveCapacity((rowBytes + 1) * height)
        for row in 0..<height {
            raw.append(0)
            raw.append(contentsOf: pixels[(row * rowBytes)..<((row + 1) * rowBytes)])
        }
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let length = Swift.min(65535, raw.count - offset)
            let final: UInt8 = offset + length >= raw.count ? 1 : 0
            zlib.append(final)
            zlib.append(UInt8(length & 0xFF)); zlib.append(UInt8(length >> 8))
            zlib.append(UInt8(~length & 0xFF)); zlib.append(UInt8((~length >> 8) & 0xFF))
            zlib.append(contentsOf: raw[offset..<(offset + length)])
            offset += length
        } while offset < raw.count
        appendBigEndian(&zlib, adler32(raw))
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header: [UInt8] = []
        appendBigEndian(&header, UInt32(width)); appendBigEndian(&header, UInt32(height))
        // Bit depth 8, colour type 0 (greyscale) or 2 (RGB), deflate, adaptive filtering, no interlace.
        header += [8, channels == 3 ? 2 : 0, 0, 0, 0]
        chunk(&png, "IHDR", header)
        chunk(&png, "IDAT", zlib)
        chunk(&png, "IEND", [])
        return Data(png)
    }

    /// The integer factor by which a `rows × columns` preview is enlarged:
    /// the smallest that makes the long side at least `minimumSize` pixels
    /// (1 when it already is, or when `minimumSize` ≤ 0).
    public static func scaleFactor(rows: Int, columns: Int, minimumSize: Int) -> Int {
        let long = Swift.max(rows, columns)
        guard long > 0, minimumSize > long else { return 1 }
        return (minimumSize + long - 1) / long
    }

    /// The PNG bytes of a preview of a 2-d real tensor: `[low, high]`
    /// (default: the finite minimum and maximum) mapped linearly onto the
    /// 256 entries of `colorMap` (values outside clamp to the ends; NaN and
    /// infinities are black), each pixel repeated as a
    /// `factor × factor` block, with `factor` =
    /// ``scaleFactor(rows:columns:minimumSize:)``, so that the long side
    /// has at least `minimumSize` pixels (default 512; 0 keeps the size).
    ///
    /// - Throws: ``PNGError/invalidSize(width:height:)`` when the tensor is
    ///   not 2-d, is empty, or would exceed 2²⁴ pixels a side.
    public static func preview<T: RealElement>(_ image: Tensor<T>, low: Double? = nil, high: Double? = nil,
                                               colorMap: ColorMap = .grey,
                                               minimumSize: Int = 512) throws(PNGError) -> Data {
        guard image.rank == 2 else { throw .invalidSize(width: image.shape.last ?? 0, height: image.rank) }
        let rows = image.shape[0], columns = image.shape[1]
        guard rows > 0, columns > 0 else { throw .invalidSize(width: columns, height: rows) }
        let values = RealConversion.doubles(image.elements)
        let finite = values.filter(\.isFinite)
        let lo = low ?? finite.min() ?? 0, hi = high ?? finite.max() ?? 1
        let span = hi > lo ? hi - lo : 1
        // nil marks a non-finite value (drawn black).
        let levels = values.map { v -> UInt8? in
            guard v.isFinite else { return nil }
            return UInt8(Swift.max(0, Swift.min(255, ((v - lo) / span * 255).rounded())))
        }
        let factor = scaleFactor(rows: rows, columns: columns, minimumSize: minimumSize)
        guard rows * factor <= 1 << 24, columns * factor <= 1 << 24 else {
            throw .invalidSize(width: columns * factor, height: rows * factor)
        }
        let channels = colorMap == .grey ? 1 : 3
        let width = columns * factor, height = rows * factor
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        for row in 0..<rows {
            // Build one enlarged output row, then repeat it `factor` times.
            var line = [UInt8](repeating: 0, count: width * channels)
            for column in 0..<columns {
                guard let level = levels[row * columns + column] else { continue }
                let color = colorMap.color(at: level)
                for k in 0..<factor {
                    let at = (column * factor + k) * channels
                    if channels == 1 {
                        line[at] = level
                    } else {
                        line[at] = color.red; line[at + 1] = color.green; line[at + 2] = color.blue
                    }
                }
            }
            for k in 0..<factor {
                let start = ((row * factor + k) * width) * channels
                pixels.replaceSubrange(start..<(start + line.count), with: line)
            }
        }
        return try encode(pixels, width: width, height: height, channels: channels)
    }

    /// Writes ``preview(_:low:high:colorMap:minimumSize:)`` of a 2-d real
    /// tensor to `url`, atomically: by default greyscale, enlarged to at
    /// least 512 pixels on the long side.
    ///
    /// - Throws: ``PNGError``: a tensor that is not 2-d or is empty, or a
    ///   file that cannot be written.
    public static func writePreview<T: RealElement>(_ image: Tensor<T>, to url: URL, low: Double? = nil,
                                                    high: Double? = nil, colorMap: ColorMap = .grey,
                                                    minimumSize: Int = 512) throws(PNGError) {
        let data = try preview(image, low: low, high: high, colorMap: colorMap, minimumSize: minimumSize)
        do { try FileIO.writeAtomically(data, to: url) } catch {
            if case let .ioFailure(_, operation, reason) = error {
                throw .file(path: url.path, problem: "\(operation) failed: \(reason)")
            }
            throw .file(path: url.path, problem: error.description)
        }
    }

    /// CRC-32 (ISO 3309, as PNG uses).
    public static func crc32<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// Adler-32 (RFC 1950).
    public static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in bytes { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return (b << 16) | a
    }

    static func appendBigEndian(_ bytes: inout [UInt8], _ value: UInt32) {
        bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    static func chunk(_ png: inout [UInt8], _ type: String, _ body: [UInt8]) {
        appendBigEndian(&png, UInt32(body.count))
        let typed = Array(type.utf8) + body
        png += typed
        appendBigEndian(&png, crc32(typed))
    }
}

/// Errors of ``PNGFile``.
public enum PNGError: Error, ArgumentErrorWrapping, Equatable, Sendable, CustomStringConvertible {
    /// An argument that the entry point cannot use (its shape, its values
    /// or a parameter); see `ArgumentError`.
    case argument(ArgumentError)
    /// Width or height is zero, negative or too large (more than 2²⁴), or
    /// the image is not 2-d.
    case invalidSize(width: Int, height: Int)
    /// The byte count is not width × height (× 3 for RGB).
    case pixelCountMismatch(expected: Int, received: Int)
    /// The file could not be written.
    case file(path: String, problem: String)

    /// A one-line message.
    public var description: String {
        switch self {
        case let .argument(error):
            return error.description
        case let .invalidSize(width, height): return "PNG: invalid image size \(width)×\(height)"
        case let .pixelCountMismatch(expected, received): return "PNG: expected \(expected) pixel bytes, received \(received)"
        case let .file(path, problem): return "\(path): \(problem)"
        }
    }
}
