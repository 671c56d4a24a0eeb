import BeamlineIO
import BeamlineTensor
import Foundation
import Testing

/// Decodes the PNGs PNGFile writes (one IDAT of stored deflate blocks,
/// filter 0 on every row): width, height, colour type and the pixel bytes.
func decodeStoredPNG(_ data: Data) throws -> (width: Int, height: Int, colorType: UInt8, pixels: [UInt8]) {
    let bytes = [UInt8](data)
    func be32(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
    try #require(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    let width = be32(16), height = be32(20), colorType = bytes[25]
    var offset = 8, zlib: [UInt8] = []
    while offset < bytes.count {
        let length = be32(offset), type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
        if type == "IDAT" { zlib += bytes[offset + 8..<offset + 8 + length] }
        offset += 12 + length
    }
    var raw: [UInt8] = [], at = 2
    while at < zlib.count - 4 {
        let final = zlib[at] & 1, length = Int(zlib[at + 1]) | Int(zlib[at + 2]) << 8
        raw += zlib[at + 5..<at + 5 + length]
        at += 5 + length
        if final == 1 { break }
    }
    #expect(PNGFile.adler32(raw) == zlib.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
    let rowBytes = width * (colorType == 2 ? 3 : 1)
    var pixels: [UInt8] = []
    for row in 0..<height {
        #expect(raw[row * (rowBytes + 1)] == 0)
        pixels += raw[row * (rowBytes + 1) + 1..<(row + 1) * (rowBytes + 1)]
    }
    return (width, height, colorType, pixels)
}

@Suite("PNG previews: enlarged and colour-mapped")
struct PNGPreviewTests {
    @Test("small images are enlarged by an integer factor to at least 512 px")
    func sizes() throws {
        #expect(PNGFile.scaleFactor(rows: 12, columns: 26, minimumSize: 512) == 20)  // 26 × 20 = 520
        #expect(PNGFile.scaleFactor(rows: 512, columns: 100, minimumSize: 512) == 1)
        #expect(PNGFile.scaleFactor(rows: 1, columns: 1, minimumSize: 512) == 512)
        #expect(PNGFile.scaleFactor(rows: 300, columns: 200, minimumSize: 512) == 2)
        #expect(PNGFile.scaleFactor(rows: 3, columns: 4, minimumSize: 0) == 1)
        for (shape, expected) in [([12, 26], (520, 240)), ([64, 64], (512, 512)), ([600, 20], (20, 600)),
                                  ([3, 5], (515, 309))] {
            let image = Tensor<Double>(shape: shape, elements: (0..<(shape[0] * shape[1])).map(Double.init))
            let png = try decodeStoredPNG(PNGFile.preview(image))
            #expect(png.width == expected.0 && png.height == expected.1, "\(shape)")
            #expect(png.colorType == 0)
        }
        // minimumSize 0 keeps the size.
        let png = try decodeStoredPNG(PNGFile.preview(Tensor<Float>(shape: [2, 3], repeating: 1), minimumSize: 0))
        #expect(png.width == 3 && png.height == 2)
    }

    @Test("nearest-neighbour blocks and grey levels")
    func blocks() throws {
        // [[0, 1], [NaN, 0.5]] with the range 0...1: 0, 255, black, 128.
        let image = Tensor<Double>(shape: [2, 2], elements: [0, 1, .nan, 0.5])
        let png = try decodeStoredPNG(PNGFile.preview(image, low: 0, high: 1, minimumSize: 8))
        #expect(png.width == 8 && png.height == 8)
        for y in 0..<8 {
            for x in 0..<8 {
                let expected: UInt8 = y < 4 ? (x < 4 ? 0 : 255) : (x < 4 ? 0 : 128)
                #expect(png.pixels[y * 8 + x] == expected, "(\(y), \(x))")
            }
        }
    }

    /// viridis runs from #440154 to #fde725, magma from #000004 to #fcfdbf
    /// (matplotlib's published end colours); the middle entry 128 of
    /// viridis is (33, 145, 140) (`matplotlib.colormaps["viridis"](128/255)`
    /// × 255, rounded).
    @Test("colour maps")
    func colors() throws {
        #expect(PNGFile.ColorMap.viridis.color(at: 0) == (0x44, 0x01, 0x54))
        #expect(PNGFile.ColorMap.viridis.color(at: 255) == (0xFD, 0xE7, 0x25))
        #expect(PNGFile.ColorMap.viridis.color(at: 128) == (33, 145, 140))
        #expect(PNGFile.ColorMap.magma.color(at: 0) == (0x00, 0x00, 0x04))
        #expect(PNGFile.ColorMap.magma.color(at: 255) == (0xFC, 0xFD, 0xBF))
        #expect(PNGFile.ColorMap.grey.color(at: 77) == (77, 77, 77))

        let image = Tensor<Float>(shape: [1, 3], elements: [-1, 3, .infinity])
        let png = try decodeStoredPNG(PNGFile.preview(image, colorMap: .viridis))
        #expect(png.colorType == 2 && png.width == 513 && png.height == 171)
        let row = png.pixels.prefix(513 * 3)
        #expect(Array(row[0..<3]) == [0x44, 0x01, 0x54])              // the minimum
        #expect(Array(row[170 * 3..<171 * 3]) == [0x44, 0x01, 0x54])   // still the first block
        #expect(Array(row[171 * 3..<172 * 3]) == [0xFD, 0xE7, 0x25])   // the maximum
        #expect(Array(row[342 * 3..<343 * 3]) == [0, 0, 0])            // infinity is black
    }

    @Test("writePreview writes the preview atomically; bad input is a typed error")
    func writing() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("p.png")
        let image = Tensor<Double>(shape: [4, 8], elements: (0..<32).map(Double.init))
        try PNGFile.writePreview(image, to: url, colorMap: .magma)
        #expect(try Data(contentsOf: url) == PNGFile.preview(image, colorMap: .magma))
        #expect(throws: PNGError.invalidSize(width: 3, height: 1)) {
            try PNGFile.preview(Tensor<Double>([1, 2, 3]))
        }
        #expect(throws: PNGError.invalidSize(width: 0, height: 4)) {
            try PNGFile.preview(Tensor<Double>(shape: [4, 0], elements: []))
        }
        #expect(throws: PNGError.pixelCountMismatch(expected: 12, received: 4)) {
            try PNGFile.encodeRGB([1, 2, 3, 4], width: 2, height: 2)
        }
        #expect(throws: PNGError.self) {
            try PNGFile.writePreview(image, to: directory.appendingPathComponent("missing/p.png"))
        }
    }
}
