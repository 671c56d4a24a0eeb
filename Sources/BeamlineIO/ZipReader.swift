import CBeamlineZlib
import Foundation

/// The bytes of a ZIP archive: an open file read with `pread`, or memory.
///
/// Every read names an offset and a length that the caller has checked
/// against ``size``; a short read is an error, never a loop.
final class ZipByteSource {
    private enum Backing {
        case file(descriptor: Int32)
        case memory(Data)
    }

    private let backing: Backing
    /// Length of the archive in bytes.
    let size: UInt64

    /// Opens `path` for reading; the descriptor stays open for the source's
    /// lifetime, so the archive can be read after the path is unlinked.
    init(path: String, size: UInt64) throws(NumpyFileError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .ioFailure(path: path, operation: "open", reason: String(cString: strerror(errno)))
        }
        backing = .file(descriptor: descriptor)
        self.size = size
    }

    /// Reads from `data`.
    init(data: Data) {
        backing = .memory(data)
        size = UInt64(data.count)
    }

    deinit {
        if case let .file(descriptor) = backing { close(descriptor) }
    }

    /// `count` bytes at `offset`, or `nil` when they do not all lie in the
    /// archive or cannot be read.
    func bytes(at offset: UInt64, count: Int) -> Data? {
        guard count >= 0, offset <= size, UInt64(count) <= size - offset else { return nil }
        switch backing {
        case let .memory(data):
            let start = data.startIndex + Int(offset)
            return data.subdata(in: start..<(start + count))
        case let .file(descriptor):
            var result = Data(count: count)
            let complete = result.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) -> Bool in
                var done = 0
                while done < count {
                    let got = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                    if got < 0, errno == EINTR { continue }
                    guard got > 0 else { return false }   // an error or the end of the file: never retried
                    done += got
                }
                return true
            }
            return complete ? result : nil
        }
    }
}

/// One member of a ZIP archive's central directory.
struct ZipMember {
    /// The member's path inside the archive.
    let path: String
    /// Compression method: 0 stored, 8 deflated.
    let method: UInt16
    /// General-purpose flags (bit 0: encrypted).
    let flags: UInt16
    /// CRC-32 of the uncompressed bytes.
    let checksum: UInt32
    let compressedSize: UInt64
    let uncompressedSize: UInt64
    /// Offset of the member's local file header.
    let localHeaderOffset: UInt64

    /// True for a deflated member.
    var isCompressed: Bool { method != 0 }
}

/// Why a ZIP structure could not be read.
struct ZipFormatError: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// A ZIP archive's central directory (with the ZIP64 extensions NumPy's
/// `savez` writes), read with every offset, count and size checked against
/// the archive's length before anything is read or allocated.
///
/// Sizes and offsets come from the central directory, as in Python's
/// `zipfile`; a local header is read only to find where its member's data
/// starts.
struct ZipDirectory {
    /// File members in central-directory order (directories left out).
    let members: [ZipMember]

    private static let endRecordSignature: UInt32 = 0x0605_4B50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    private static let zip64EndRecordSignature: UInt32 = 0x0606_4B50
    private static let centralHeaderSignature: UInt32 = 0x0201_4B50
    private static let localHeaderSignature: UInt32 = 0x0403_4B50
    private static let endRecordLength = 22
    private static let centralHeaderLength = 46
    private static let localHeaderLength = 30

    /// Reads the central directory of `source`.
    init(_ source: ZipByteSource) throws(ZipFormatError) {
        let (entryCount, directoryOffset, directorySize) = try Self.locateDirectory(source)
        guard directorySize <= source.size, directoryOffset <= source.size - directorySize else {
            throw ZipFormatError("the central directory (\(directorySize) bytes at \(directoryOffset)) runs past the end of the archive")
        }
        guard entryCount <= directorySize / UInt64(Self.centralHeaderLength) else {
            throw ZipFormatError("the central directory declares \(entryCount) entries, more than its \(directorySize) bytes can hold")
        }
        guard let directory = source.bytes(at: directoryOffset, count: Int(directorySize)) else {
            throw ZipFormatError("the central directory cannot be read")
        }
        var members: [ZipMember] = []
        members.reserveCapacity(Int(entryCount))
        var position = 0
        for index in 0..<Int(entryCount) {
            let member = try Self.centralEntry(in: directory, at: &position, index: index)
            if !member.path.hasSuffix("/") { members.append(member) }
        }
        self.members = members
    }

    /// Entry count, offset and size of the central directory, from the end
    /// record (the last one in the archive's final 64 kB) and, where a field
    /// is saturated, from the ZIP64 end record.
    private static func locateDirectory(_ source: ZipByteSource) throws(ZipFormatError) -> (UInt64, UInt64, UInt64) {
        guard source.size >= UInt64(endRecordLength) else {
            throw ZipFormatError("no end-of-central-directory record (the file has \(source.size) bytes)")
        }
        let tailLength = Int(min(source.size, UInt64(endRecordLength + 0xFFFF)))
        guard let tail = source.bytes(at: source.size - UInt64(tailLength), count: tailLength) else {
            throw ZipFormatError("the end of the archive cannot be read")
        }
        var found: Int?
        var candidate = tailLength - endRecordLength
        while candidate >= 0 {
            if tail.littleEndian(UInt32.self, at: candidate) == endRecordSignature { found = candidate; break }
            candidate -= 1
        }
        guard let end = found else { throw ZipFormatError("no end-of-central-directory record") }
        var entries = UInt64(tail.littleEndian(UInt16.self, at: end + 10))
        var size = UInt64(tail.littleEndian(UInt32.self, at: end + 12))
        var offset = UInt64(tail.littleEndian(UInt32.self, at: end + 16))
        guard entries == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF else { return (entries, offset, size) }

        // ZIP64: the locator sits just before the end record.
        let endOffset = source.size - UInt64(tailLength - end)
        guard endOffset >= 20, let locator = source.bytes(at: endOffset - 20, count: 20),
              locator.littleEndian(UInt32.self, at: 0) == zip64LocatorSignature else {
            throw ZipFormatError("saturated end-of-central-directory fields without a ZIP64 locator")
        }
        let recordOffset = locator.littleEndian(UInt64.self, at: 8)
        guard let record = source.bytes(at: recordOffset, count: 56),
              record.littleEndian(UInt32.self, at: 0) == zip64EndRecordSignature else {
            throw ZipFormatError("the ZIP64 end-of-central-directory record at \(recordOffset) is missing or unreadable")
        }
        entries = record.littleEndian(UInt64.self, at: 32)
        size = record.littleEndian(UInt64.self, at: 40)
        offset = record.littleEndian(UInt64.self, at: 48)
        return (entries, offset, size)
    }

    /// Parses the central-directory header at `position` and advances past it.
    private static func centralEntry(in directory: Data, at position: inout Int, index: Int) throws(ZipFormatError) -> ZipMember {
        guard directory.count - position >= centralHeaderLength,
              directory.littleEndian(UInt32.self, at: position) == centralHeaderSignature else {
            throw ZipFormatError("central-directory entry \(index) is missing or truncated")
        }
        let flags = directory.littleEndian(UInt16.self, at: position + 8)
        let method = directory.littleEndian(UInt16.self, at: position + 10)
        let checksum = directory.littleEndian(UInt32.self, at: position + 16)
        var compressed = UInt64(directory.littleEndian(UInt32.self, at: position + 20))
        var uncompressed = UInt64(directory.littleEndian(UInt32.self, at: position + 24))
        let nameLength = Int(directory.littleEndian(UInt16.self, at: position + 28))
        let extraLength = Int(directory.littleEndian(UInt16.self, at: position + 30))
        let commentLength = Int(directory.littleEndian(UInt16.self, at: position + 32))
        var localOffset = UInt64(directory.littleEndian(UInt32.self, at: position + 42))
        let nameStart = position + centralHeaderLength
        guard directory.count - nameStart >= nameLength + extraLength + commentLength else {
            throw ZipFormatError("central-directory entry \(index) runs past the end of the directory")
        }
        let start = directory.startIndex
        let path = String(decoding: directory[(start + nameStart)..<(start + nameStart + nameLength)], as: UTF8.self)

        // The ZIP64 extra field (id 1) holds, in this order, each 64-bit value
        // whose 32-bit field is saturated.
        var extra = nameStart + nameLength
        let extraEnd = extra + extraLength
        while extraEnd - extra >= 4 {
            let id = directory.littleEndian(UInt16.self, at: extra)
            let length = Int(directory.littleEndian(UInt16.self, at: extra + 2))
            let body = extra + 4
            guard extraEnd - body >= length else { break }
            if id == 1 {
                var field = body
                func next() throws(ZipFormatError) -> UInt64 {
                    guard body + length - field >= 8 else {
                        throw ZipFormatError("the ZIP64 field of central-directory entry \(index) ('\(path)') is too short")
                    }
                    defer { field += 8 }
                    return directory.littleEndian(UInt64.self, at: field)
                }
                if uncompressed == 0xFFFF_FFFF { uncompressed = try next() }
                if compressed == 0xFFFF_FFFF { compressed = try next() }
                if localOffset == 0xFFFF_FFFF { localOffset = try next() }
            }
            extra = body + length
        }
        position = extraEnd + commentLength
        return ZipMember(path: path, method: method, flags: flags, checksum: checksum, compressedSize: compressed,
                         uncompressedSize: uncompressed, localHeaderOffset: localOffset)
    }

    /// The compressed (or stored) bytes of `member`, located through its
    /// local header and checked to lie inside the archive.
    static func payload(of member: ZipMember, in source: ZipByteSource) throws(ZipFormatError) -> Data {
        guard let header = source.bytes(at: member.localHeaderOffset, count: localHeaderLength),
              header.littleEndian(UInt32.self, at: 0) == localHeaderSignature else {
            throw ZipFormatError("no local header at offset \(member.localHeaderOffset)")
        }
        let dataOffset = member.localHeaderOffset + UInt64(localHeaderLength)
            + UInt64(header.littleEndian(UInt16.self, at: 26)) + UInt64(header.littleEndian(UInt16.self, at: 28))
        guard dataOffset <= source.size, member.compressedSize <= source.size - dataOffset,
              let data = source.bytes(at: dataOffset, count: Int(member.compressedSize)) else {
            throw ZipFormatError("its \(member.compressedSize) data bytes at offset \(dataOffset) run past the end of the archive")
        }
        return data
    }
}

/// Raw deflate (RFC 1951) decoding with zlib, over input held in memory.
enum Inflate {
    /// Why a deflate stream could not be decoded.
    enum Failure: Error {
        /// The stream needs more input than it has: it does not end.
        case truncated
        /// The stream decodes to more than `limit` bytes.
        case overrun(limit: UInt64)
        /// zlib rejected the stream; its message.
        case corrupt(String)
    }

    /// Decodes the whole of `input`, producing at most `limit` bytes; the
    /// result grows in chunks as it is produced, so a stream that declares
    /// more than it holds allocates no more than it decodes.
    ///
    /// Every zlib call either consumes input or produces output, or the
    /// loop stops: a stream that runs past its input is ``Failure/truncated``
    /// (ZIPFoundation 0.9's loop reads empty chunks forever there).
    static func raw(_ input: Data, limit: UInt64) throws(Failure) -> Data {
        var stream = z_stream()
        guard beamline_inflate_init_raw(&stream) == Z_OK else { throw .corrupt("zlib could not start a stream") }
        defer { inflateEnd(&stream) }
        var output = Data()
        let chunk = 1 << 20
        var status = Z_OK
        var failure: Failure?
        input.withUnsafeBytes { (source: UnsafeRawBufferPointer) in
            var consumed = 0
            var buffer = [UInt8](repeating: 0, count: chunk)
            while status != Z_STREAM_END {
                let available = min(source.count - consumed, Int(UInt32.max))
                stream.next_in = available > 0
                    ? UnsafeMutablePointer(mutating: source.baseAddress!.assumingMemoryBound(to: UInt8.self) + consumed) : nil
                stream.avail_in = UInt32(available)
                let produced: Int = buffer.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(chunk)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return chunk - Int(stream.avail_out)
                }
                consumed += available - Int(stream.avail_in)
                if status == Z_DATA_ERROR || status == Z_NEED_DICT || status == Z_MEM_ERROR || status == Z_STREAM_ERROR {
                    failure = .corrupt(stream.msg.map { String(cString: $0) } ?? "invalid deflate data")
                    return
                }
                guard UInt64(output.count + produced) <= limit else { failure = .overrun(limit: limit); return }
                output.append(contentsOf: buffer[0..<produced])
                // Z_BUF_ERROR: no progress was possible, and with every input
                // byte offered that means the stream wants more than there is.
                if status == Z_BUF_ERROR || (produced == 0 && consumed == source.count && status != Z_STREAM_END) {
                    failure = .truncated
                    return
                }
            }
        }
        if let failure { throw failure }
        return output
    }

    /// zlib's CRC-32 of `data`.
    static func checksum(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { bytes -> UInt32 in
            var crc = crc32(0, nil, 0)
            var offset = 0
            while offset < bytes.count {
                let count = min(bytes.count - offset, Int(UInt32.max))
                crc = crc32(crc, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset, UInt32(count))
                offset += count
            }
            return UInt32(crc)
        }
    }
}

extension Data {
    /// The little-endian integer at byte `offset` (the caller has checked
    /// that it lies inside the data).
    fileprivate func littleEndian<T: FixedWidthInteger & UnsignedInteger>(_ type: T.Type, at offset: Int) -> T {
        var value: T = 0
        let first = startIndex + offset
        for k in 0..<MemoryLayout<T>.size { value |= T(self[first + k]) << (8 * k) }
        return value
    }
}
