import BeamlineTensor
import Foundation

/// A minimal PNG writer for previews: 8-bit greyscale, no compression
/// (zlib "stored" deflate blocks), with its own CRC-32 and Adler-32, so no
/// image library is needed. Files are valid PNG that every viewer opens.
public enum PNGFile {
    /// PNG bytes of a `height × width` greyscale image (row-major pixels).
    ///
    /// - Throws: ``PNGError`` for a bad size or pixel count.
    public static func encodeGrayscale(_ pixels: [UInt8], width: Int, height: Int) throws(PNGError) -> Data {
        guard width > 0, height > 0, width <= 1 << 24, height <= 1 << 24 else {
            throw .invalidSize(width: width, height: height)
        }
        guard pixels.count == width * height else { throw .pixelCountMismatch(expected: width * height, received: pixels.count) }
        // Raw scanlines: a filter byte (0, none) before each row.
        var raw = [UInt8](); raw.reserveCapacity((width + 1) * height)
        for row in 0..<height {
            raw.append(0)
            raw.append(contentsOf: pixels[(row * width)..<((row + 1) * width)])
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
        header += [8, 0, 0, 0, 0]  // bit depth 8, greyscale, deflate, adaptive filtering, no interlace
        chunk(&png, "IHDR", header)
        chunk(&png, "IDAT", zlib)
        chunk(&png, "IEND", [])
        return Data(png)
    }

    /// Writes a 2-d real tensor as a greyscale PNG, mapping `[low, high]`
    /// (default: the tensor's minimum and maximum) to 0...255; NaN is black.
    /// The file is written atomically.
    public static func writePreview<T: RealElement>(_ image: Tensor<T>, to url: URL, low: Double? = nil,
                                                    high: Double? = nil) throws(PNGError) {
        guard image.rank == 2 else { throw .invalidSize(width: image.shape.last ?? 0, height: image.rank) }
        let values = image.elements.map { Double($0) }
        let finite = values.filter(\.isFinite)
        let lo = low ?? finite.min() ?? 0, hi = high ?? finite.max() ?? 1
        let span = hi > lo ? hi - lo : 1
        let pixels = values.map { v -> UInt8 in
            guard v.isFinite else { return 0 }
            return UInt8(Swift.max(0, Swift.min(255, ((v - lo) / span * 255).rounded())))
        }
        let data = try encodeGrayscale(pixels, width: image.shape[1], height: image.shape[0])
        do { try data.write(to: url, options: .atomic) } catch {
            throw .file(path: url.path, problem: error.localizedDescription)
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
    /// Width or height is zero, negative or too large, or the image is not 2-d.
    case invalidSize(width: Int, height: Int)
    /// The pixel count is not width × height.
    case pixelCountMismatch(expected: Int, received: Int)
    /// The file could not be written.
    case file(path: String, problem: String)

    /// A one-line message.
    public var description: String {
        switch self {
        case let .argument(error):
            return error.description
        case let .invalidSize(width, height): return "PNG: invalid image size \(width)×\(height)"
        case let .pixelCountMismatch(expected, received): return "PNG: expected \(expected) pixels, received \(received)"
        case let .file(path, problem): return "\(path): \(problem)"
        }
    }
}
