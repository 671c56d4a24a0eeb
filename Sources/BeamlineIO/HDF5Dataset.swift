import BeamlineTensor
import CHDF5
import ComplexModule
import Foundation

/// A hyperslab: per axis, the first position, the step and the count
/// (what `H5Sselect_hyperslab` takes), and which axes an integer index
/// removes from the result.
struct HDF5Hyperslab: Equatable {
    var start: [UInt64]
    var stride: [UInt64]
    var count: [UInt64]
    /// The shape of the result (the counts of the axes that are kept).
    var resultShape: [Int]
    /// True when the selection is the whole dataset.
    var isAll: Bool

    /// Resolves `selection` (one `TensorIndex` per axis, fewer leaving
    /// the trailing axes whole, `.ellipsis` standing for as many whole
    /// axes as needed) against `shape`, with Python's rules: negative
    /// indices and bounds count from the end, slice bounds are clamped,
    /// an integer index outside the axis is an error. Steps must be
    /// positive (as in h5py); `.newAxis` is not accepted.
    static func resolve(_ selection: [TensorIndex], shape: [Int],
                        fail: (String) -> HDF5Error) throws(HDF5Error) -> HDF5Hyperslab {
        var indices = selection
        if let position = indices.firstIndex(of: .ellipsis) {
            guard indices.filter({ $0 == .ellipsis }).count == 1 else { throw fail("more than one ellipsis (...)") }
            let fill = shape.count - (indices.count - 1)
            guard fill >= 0 else {
                throw fail("\(indices.count - 1) indices for \(shape.count) axes")
            }
            indices.replaceSubrange(position...position, with: Array(repeating: .all, count: fill))
        }
        guard indices.count <= shape.count else {
            throw fail("\(indices.count) indices for \(shape.count) axes")
        }
        indices += Array(repeating: .all, count: shape.count - indices.count)
        var slab = HDF5Hyperslab(start: [], stride: [], count: [], resultShape: [], isAll: true)
        for (axis, (index, length)) in zip(indices, shape).enumerated() {
            var first = 0, step = 1, count = length, keep = true
            switch index {
            case .all:
                break
            case let .index(position):
                let resolved = position < 0 ? position + length : position
                guard resolved >= 0 && resolved < length else {
                    throw fail("index \(position) is out of range for axis \(axis) of length \(length)")
                }
                first = resolved; count = 1; keep = false
            case let .range(range):
                guard range.lowerBound >= 0 && range.upperBound <= length else {
                    throw fail("range \(range) is out of range for axis \(axis) of length \(length)")
                }
                first = range.lowerBound; count = range.count
            case let .slice(start, stop, step: rawStep):
                let stepValue = rawStep == 0 ? 1 : rawStep
                guard stepValue > 0 else {
                    throw fail("step \(stepValue) on axis \(axis): steps must be positive (as in h5py)")
                }
                func clamp(_ value: Int?, _ fallback: Int) -> Int {
                    guard let value else { return fallback }
                    let resolved = value < 0 ? value + length : value
                    return min(max(resolved, 0), length)
                }
                let lower = clamp(start, 0), upper = clamp(stop, length)
                first = lower; step = stepValue
                count = upper > lower ? (upper - lower + stepValue - 1) / stepValue : 0
            case .newAxis:
                throw fail("a new axis cannot be read from a file (axis \(axis))")
            case .ellipsis:
                throw fail("more than one ellipsis (...)")
            }
            if first != 0 || step != 1 || count != length || !keep { slab.isAll = false }
            slab.start.append(UInt64(first))
            slab.stride.append(UInt64(step))
            slab.count.append(UInt64(count))
            if keep { slab.resultShape.append(count) }
        }
        return slab
    }
}

extension HDF5File {
    // MARK: - Dataset information

    /// The shape, stored element type, chunk shape and filters of the
    /// dataset at `path`, without reading its elements.
    ///
    /// - Throws: ``HDF5Error/missingObject(file:path:)``,
    ///   ``HDF5Error/notADataset(file:path:found:)``.
    public func datasetInfo(_ path: String) throws(HDF5Error) -> HDF5DatasetInfo {
        let path = HDF5File.normalise(path)
        return try HDF5Library.withLock { () throws(HDF5Error) -> HDF5DatasetInfo in
            let dataset = try openDataset(path)
            defer { _ = H5Dclose(dataset) }
            return try info(dataset, path: path)
        }
    }

    /// The shape of the dataset at `path`.
    public func shape(of path: String) throws(HDF5Error) -> [Int] {
        try datasetInfo(path).shape
    }

    /// Opens the dataset at the normalised `path` (lock held).
    func openDataset(_ path: String) throws(HDF5Error) -> hid_t {
        let found = try kind(path)
        guard found == .dataset else { throw .notADataset(file: self.path, path: path, found: found.description) }
        let dataset = H5Dopen2(id, path, beamline_h5p_default())
        guard dataset >= 0 else { throw .corruptFile(file: self.path, path: path, reason: HDF5Library.lastError()) }
        return dataset
    }

    /// The dimensions of a dataspace (lock held).
    func dimensions(_ space: hid_t, path: String) throws(HDF5Error) -> [Int] {
        let rank = H5Sget_simple_extent_ndims(space)
        guard rank >= 0 else { throw .corruptFile(file: self.path, path: path, reason: HDF5Library.lastError()) }
        var dims = [UInt64](repeating: 0, count: Int(rank))
        if rank > 0 { _ = H5Sget_simple_extent_dims(space, &dims, nil) }
        if H5Sget_simple_extent_type(space) == H5S_NULL { return [0] }
        return dims.map { Int($0) }
    }

    /// The information of an open dataset (lock held).
    func info(_ dataset: hid_t, path: String) throws(HDF5Error) -> HDF5DatasetInfo {
        let type = H5Dget_type(dataset)
        let space = H5Dget_space(dataset)
        let plist = H5Dget_create_plist(dataset)
        defer { _ = H5Tclose(type); _ = H5Sclose(space); _ = H5Pclose(plist) }
        guard type >= 0, space >= 0, plist >= 0 else {
            throw .corruptFile(file: self.path, path: path, reason: HDF5Library.lastError())
        }
        let shape = try dimensions(space, path: path)
        var chunkShape: [Int]?
        if H5Pget_layout(plist) == H5D_CHUNKED {
            var chunk = [UInt64](repeating: 0, count: max(shape.count, 1))
            let rank = H5Pget_chunk(plist, Int32(chunk.count), &chunk)
            if rank > 0 { chunkShape = chunk.prefix(Int(rank)).map { Int($0) } }
        }
        var filters: [HDF5Filter] = []
        let filterCount = H5Pget_nfilters(plist)
        for index in 0..<max(filterCount, 0) {
            var flags: UInt32 = 0
            var count = 16
            var values = [UInt32](repeating: 0, count: count)
            var name = [CChar](repeating: 0, count: 256)
            var config: UInt32 = 0
            let filterID = H5Pget_filter2(plist, UInt32(index), &flags, &count, &values, name.count, &name, &config)
            guard filterID >= 0 else { HDF5Library.clearErrors(); continue }
            let stored = HDF5Library.string(name)
            let known = HDF5FilterNames.name(of: Int(filterID))
            filters.append(HDF5Filter(id: Int(filterID), name: known ?? (stored.isEmpty ? "unknown" : stored),
                                      parameters: Array(values.prefix(min(count, values.count)))))
        }
        HDF5Library.clearErrors()
        return HDF5DatasetInfo(path: path, shape: shape, elementType: HDF5ElementType.classify(type),
                               chunkShape: chunkShape, filters: filters)
    }

    // MARK: - Reading

    /// Reads the dataset at `path`, or the part of it that `selection`
    /// picks, into the Beamline element type that fits the stored type
    /// (``HDF5ElementType/naturalDType``: `uint16` becomes `int32`,
    /// `float16` becomes `float32`, ...).
    ///
    /// `selection` holds one index per axis, as the tensor subscript takes
    /// them (fewer leave the trailing axes whole), with Python's slice
    /// rules as in h5py: `[.slice(10, 20)]` is `dset[10:20]`,
    /// `[5, .all, .slice(100, 200)]` is `dset[5, :, 100:200]` (an integer
    /// index removes its axis; negative values count from the end; slice
    /// bounds are clamped; steps must be positive). Only
    /// the selected elements are read from the file (a hyperslab), so one
    /// frame of a large stack costs one frame's I/O (plus the chunks it
    /// touches, for a chunked dataset).
    ///
    /// - Throws: ``HDF5Error`` naming the file and `path`: missing object,
    ///   not a dataset, unsupported stored type, selection out of range,
    ///   missing compression filter, or a read failure (corrupt data).
    public func read(_ path: String, selection: [any TensorIndexExpression] = []) throws(HDF5Error) -> AnyTensor {
        try readAny(HDF5File.normalise(path), selection: selection.map(\.tensorIndex), as: nil)
    }

    /// Reads the dataset at `path` (or the `selection` of it, see
    /// ``read(_:selection:)``) as a `Tensor<T>`.
    ///
    /// As ``NumpyFile`` does, the default
    /// ``DTypeConversion/valuePreserving`` reads only where no value can
    /// change (uint16 or float16 as `Float`, int32 or float32 as `Double`,
    /// …) and otherwise throws ``HDF5Error/conversionChangesValues(file:path:stored:requested:)``;
    /// ``DTypeConversion/exact`` asks for the stored type itself; and
    /// ``DTypeConversion/numpyCast`` lets libhdf5 convert any stored
    /// integer or float type, as h5py's `read_direct` does: floats round to
    /// nearest, integers outside `T`'s range saturate (where NumPy's
    /// `astype` wraps), floats read as integers round toward zero. A stored
    /// Boolean reads as any numeric type (0 or 1); `Bool` reads any number
    /// as `value != 0`; complex data (h5py's `{r, i}` compound) reads only
    /// as a complex `T`.
    ///
    /// ```swift
    /// let counts = try file.read(Double.self, from: "/entry/data/data")  // uint32 on disk: exact
    /// let frames = try file.read(Float.self, from: "/entry/data/data",
    ///                            selection: [.slice(0, 10)], conversion: .numpyCast)  // rounds above 2^24
    /// ```
    public func read<T: TensorElement>(_ type: T.Type, from path: String,
                                       selection: [any TensorIndexExpression] = [],
                                       conversion: DTypeConversion = .valuePreserving) throws(HDF5Error) -> Tensor<T> {
        try readAny(HDF5File.normalise(path), selection: selection.map(\.tensorIndex), as: T.dtype,
                    conversion: conversion).cast(to: type)
    }

    /// Reads into the element type `dtype` (or the natural one), refusing a
    /// conversion that `conversion` does not allow.
    func readAny(_ path: String, selection: [TensorIndex], as dtype: DType?,
                 conversion: DTypeConversion = .numpyCast) throws(HDF5Error) -> AnyTensor {
        try HDF5Library.withLock { () throws(HDF5Error) -> AnyTensor in
            let dataset = try openDataset(path)
            defer { _ = H5Dclose(dataset) }
            let details = try info(dataset, path: path)
            let stored = details.elementType
            let target = try HDF5File.readType(stored: stored, requested: dtype) {
                .typeNotSupported(file: self.path, path: path, stored: stored.description,
                                  requested: dtype?.description ?? "a Beamline element type")
            }
            if let dtype, let natural = stored.naturalDType {
                let allowed = switch conversion {
                case .exact: natural == dtype
                case .valuePreserving: natural.isValuePreserving(to: dtype)
                case .numpyCast: true
                }
                guard allowed else {
                    throw .conversionChangesValues(file: self.path, path: path, stored: stored.description,
                                                   requested: dtype.description)
                }
            }
            let slab = try HDF5Hyperslab.resolve(selection, shape: details.shape) { reason in
                .hyperslabOutOfRange(file: self.path, path: path, shape: details.shape, reason: reason)
            }
            try checkFilters(details)
            try checkSize(dataset, details, slab: slab, as: target)
            return try readSlab(dataset, path: path, stored: stored, chunkRows: details.chunkShape?.first,
                                slab: slab, as: target, finalType: dtype ?? target)
        }
    }

    /// The element type to read `stored` data as, given the `requested`
    /// one (nil: natural): the requested type itself where libhdf5 can
    /// convert, otherwise a type that `AnyTensor.cast` converts from.
    static func readType(stored: HDF5ElementType, requested: DType?,
                         fail: () -> HDF5Error) throws(HDF5Error) -> DType {
        guard let natural = stored.naturalDType else { throw fail() }
        guard let requested else { return natural }
        switch (stored, requested) {
        case (.complex, .complex64), (.complex, .complex128): return requested
        case (.complex, _): throw fail()
        case (_, .complex64), (_, .complex128): throw fail()
        case (.bool, _): return .bool            // then cast: 0 or 1
        case (_, .bool): return .float64         // then cast: value != 0
        default: return requested                // libhdf5 converts
        }
    }

    /// Checks, before anything is allocated, that reading `slab` as
    /// `dtype` fits in memory and that an unfiltered contiguous dataset's
    /// storage lies inside the file (a header claiming a huge shape in a
    /// small file is corrupt, not a request for gigabytes) (lock held).
    func checkSize(_ dataset: hid_t, _ details: HDF5DatasetInfo, slab: HDF5Hyperslab, as dtype: DType) throws(HDF5Error) {
        var count = 1
        var overflow = false
        for length in slab.resultShape where !overflow {
            (count, overflow) = count.multipliedReportingOverflow(by: length)
        }
        let (bytes, byteOverflow) = count.multipliedReportingOverflow(by: dtype.byteCount)
        let limit = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        guard !overflow && !byteOverflow && bytes <= limit else {
            throw .readFailure(file: path, path: details.path,
                               reason: "the selection of shape \(slab.resultShape) needs "
                                   + (overflow || byteOverflow ? "more bytes than an Int can count" : "\(bytes) bytes")
                                   + ", more than this machine's memory (\(limit) bytes)")
        }
        guard details.chunkShape == nil, details.filters.isEmpty else { return }
        let offset = UInt64(H5Dget_offset(dataset))
        HDF5Library.clearErrors()
        guard offset != UInt64.max else { return }   // HADDR_UNDEF: never written, reads fill values
        let storage = H5Dget_storage_size(dataset)
        var status = stat()
        guard stat(temporaryPath ?? url.path, &status) == 0 else { return }
        let fileSize = UInt64(max(0, status.st_size))
        let (end, endOverflow) = offset.addingReportingOverflow(storage)
        guard !endOverflow && end <= fileSize else {
            throw .corruptFile(file: path, path: details.path,
                               reason: "the dataset's \(storage) bytes at offset \(offset) extend beyond the end of the file (\(fileSize) bytes)")
        }
    }

    /// Fails with ``HDF5Error/missingFilter(file:path:id:name:)`` when a
    /// filter of the dataset cannot be loaded (lock held).
    func checkFilters(_ details: HDF5DatasetInfo) throws(HDF5Error) {
        for filter in details.filters where H5Zfilter_avail(H5Z_filter_t(filter.id)) <= 0 {
            HDF5Library.clearErrors()
            throw .missingFilter(file: path, path: details.path, id: filter.id, name: filter.name)
        }
    }

    /// Reads `slab` of an open dataset whose stored type is `stored` as
    /// `dtype`, cast to `finalType`.
    func readSlab(_ dataset: hid_t, path: String, stored: HDF5ElementType, chunkRows: Int?, slab: HDF5Hyperslab,
                  as dtype: DType, finalType: DType) throws(HDF5Error) -> AnyTensor {
        func load<E: TensorElement>(_ type: E.Type) throws(HDF5Error) -> Tensor<E> {
            try Tensor<E>(unsafeUninitializedShape: slab.resultShape) { (buffer) throws(HDF5Error) in
                guard let base = buffer.baseAddress, buffer.count > 0 else { return }
                let destination = UnsafeMutableRawPointer(base)
                // Integers into floats at least as wide: read the stored integers
                // unconverted into the front of the buffer and widen them in place
                // (faster than libhdf5's conversion pipeline, same rounding).
                if case let .integer(signed, bytes) = stored, dtype == .float32 || dtype == .float64,
                   bytes <= MemoryLayout<E>.size, let rawType = HDF5Widening.memoryType(signed: signed, bytes: bytes) {
                    try readWidened(dataset, path: path, slab: slab, chunkRows: chunkRows, rawType: rawType,
                                    signed: signed, bytes: bytes, double: dtype == .float64,
                                    into: destination, count: buffer.count)
                    return
                }
                try readElements(dataset, path: path, slab: slab, dtype: dtype, into: destination)
            }
        }
        let result: AnyTensor
        switch dtype {
        case .float32: result = .float32(try load(Float.self))
        case .float64: result = .float64(try load(Double.self))
        case .complex64: result = .complex64(try load(Complex<Float>.self))
        case .complex128: result = .complex128(try load(Complex<Double>.self))
        case .int32: result = .int32(try load(Int32.self))
        case .int64: result = .int64(try load(Int64.self))
        case .uint8: result = .uint8(try load(UInt8.self))
        case .int8: result = .int8(try load(Int8.self))
        case .int16: result = .int16(try load(Int16.self))
        case .uint16: result = .uint16(try load(UInt16.self))
        case .uint32: result = .uint32(try load(UInt32.self))
        case .uint64: result = .uint64(try load(UInt64.self))
        case .bool: result = .bool(try load(UInt8.self).map { $0 != 0 })
        }
        if result.dtype == finalType { return result }
        switch finalType {
        case .float32: return .float32(result.cast(to: Float.self))
        case .float64: return .float64(result.cast(to: Double.self))
        case .complex64: return .complex64(result.cast(to: Complex<Float>.self))
        case .complex128: return .complex128(result.cast(to: Complex<Double>.self))
        case .int32: return .int32(result.cast(to: Int32.self))
        case .int64: return .int64(result.cast(to: Int64.self))
        case .uint8: return .uint8(result.cast(to: UInt8.self))
        case .int8: return .int8(result.cast(to: Int8.self))
        case .int16: return .int16(result.cast(to: Int16.self))
        case .uint16: return .uint16(result.cast(to: UInt16.self))
        case .uint32: return .uint32(result.cast(to: UInt32.self))
        case .uint64: return .uint64(result.cast(to: UInt64.self))
        case .bool: return .bool(result.cast(to: Bool.self))
        }
    }

    /// `H5Dread` of `slab` into `destination` with the memory type of
    /// `dtype` (`.bool` reads bytes through h5py's enum) (lock held).
    func readElements(_ dataset: hid_t, path: String, slab: HDF5Hyperslab, dtype: DType,
                      into destination: UnsafeMutableRawPointer) throws(HDF5Error) {
        let memoryType = HDF5TypeMapping.make(dtype, file: false)
        defer { _ = H5Tclose(memoryType) }
        try readElements(dataset, path: path, slab: slab, memoryType: memoryType, into: destination)
    }

    /// `H5Dread` of `slab` into `destination` with `memoryType` (lock held).
    func readElements(_ dataset: hid_t, path: String, slab: HDF5Hyperslab, memoryType: hid_t,
                      into destination: UnsafeMutableRawPointer) throws(HDF5Error) {
        var fileSpace = beamline_h5s_all(), memorySpace = beamline_h5s_all()
        if !slab.isAll {
            fileSpace = H5Dget_space(dataset)
            guard H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, slab.start, slab.stride, slab.count, nil) >= 0 else {
                let reason = HDF5Library.lastError()
                _ = H5Sclose(fileSpace)
                throw .hyperslabOutOfRange(file: self.path, path: path, shape: [], reason: reason)
            }
            memorySpace = H5Screate_simple(Int32(slab.count.count), slab.count, nil)
        }
        defer {
            if fileSpace != beamline_h5s_all() { _ = H5Sclose(fileSpace) }
            if memorySpace != beamline_h5s_all() { _ = H5Sclose(memorySpace) }
        }
        if H5Dread(dataset, memoryType, memorySpace, fileSpace, beamline_h5p_default(), destination) < 0 {
            let reason = HDF5Library.lastError()
            if reason.localizedCaseInsensitiveContains("filter") && reason.localizedCaseInsensitiveContains("not") {
                throw .missingFilter(file: self.path, path: path, id: -1, name: reason)
            }
            throw .readFailure(file: self.path, path: path, reason: reason)
        }
    }

    /// Reads the stored integers of `slab` unconverted (`rawType`) and
    /// widens them in place to `Float` (or `Double`), a block of first-axis
    /// rows at a time: a chunk's rows (pieces aligned to the chunks, so no
    /// chunk is decompressed twice) or about 4 MiB, so that each block is
    /// widened while it is still in cache (lock held).
    func readWidened(_ dataset: hid_t, path: String, slab: HDF5Hyperslab, chunkRows: Int?, rawType: hid_t,
                     signed: Bool, bytes: Int, double: Bool,
                     into destination: UnsafeMutableRawPointer, count: Int) throws(HDF5Error) {
        func widen(_ start: UnsafeMutableRawPointer, _ elements: Int) {
            if double {
                HDF5Widening.widen(start, count: elements, signed: signed, bytes: bytes, to: Double.self)
            } else {
                HDF5Widening.widen(start, count: elements, signed: signed, bytes: bytes, to: Float.self)
            }
        }
        let rows = slab.count.isEmpty ? 1 : Int(slab.count[0])
        guard rows > 1 else {
            try readElements(dataset, path: path, slab: slab, memoryType: rawType, into: destination)
            widen(destination, count)
            return
        }
        let perRow = count / rows
        let floatSize = double ? 8 : 4
        let first = Int(slab.start[0]), step = Int(slab.stride[0])
        let rowsPerPiece = Swift.max(1, chunkRows ?? ((4 << 20) / Swift.max(1, perRow * bytes)))
        var row = 0
        while row < rows {
            var length = rowsPerPiece
            if step == 1, let chunkRows, chunkRows > 0 { length = chunkRows - (first + row) % chunkRows }
            length = Swift.min(length, rows - row)
            var piece = slab
            piece.start[0] = UInt64(first + row * step)
            piece.count[0] = UInt64(length)
            piece.isAll = false
            let start = destination + row * perRow * floatSize
            try readElements(dataset, path: path, slab: piece, memoryType: rawType, into: start)
            widen(start, length * perRow)
            row += length
        }
    }

    /// Reads the frames `frames` (a range of the first axis) of the
    /// dataset at `path` as `Float` into `destination`, which must hold
    /// them (for the NXtomo reader; lock held).
    func readFrames(_ dataset: hid_t, path: String, shape: [Int], stored: HDF5ElementType, frames: Range<Int>,
                    into destination: UnsafeMutableRawPointer) throws(HDF5Error) {
        guard !frames.isEmpty else { return }
        let slab = try HDF5Hyperslab.resolve([.range(frames)], shape: shape) { reason in
            .hyperslabOutOfRange(file: self.path, path: path, shape: shape, reason: reason)
        }
        if case let .integer(signed, bytes) = stored, bytes <= 4,
           let rawType = HDF5Widening.memoryType(signed: signed, bytes: bytes) {
            try readWidened(dataset, path: path, slab: slab, chunkRows: nil, rawType: rawType, signed: signed,
                            bytes: bytes, double: false, into: destination, count: slab.resultShape.reduce(1, *))
            return
        }
        try readElements(dataset, path: path, slab: slab, dtype: .float32, into: destination)
    }

    // MARK: - Writing

    /// Writes `tensor` as a new dataset at `path`, creating missing groups
    /// above it, with the layout `storage` (contiguous by default; chunked
    /// with gzip, shuffle, or a plugin filter such as bitshuffle/LZ4).
    /// Elements are stored little-endian with h5py's types (`Bool` as
    /// h5py's enum, complex as the `{r, i}` compound), so h5py reads the
    /// dataset back as the same NumPy array.
    ///
    /// - Parameters:
    ///   - tensor: the elements (any layout; written in row-major order).
    ///   - path: the dataset's absolute path.
    ///   - storage: contiguous (the default) or chunked, with filters.
    ///   - storedType: the element type in the file, when it should differ
    ///     from `T`'s (h5py's `create_dataset(..., dtype=...)`): any integer
    ///     or `float32`/`float64` for a real `T`, converted by libhdf5
    ///     (saturating), for example detector counts held as `Int32` and
    ///     stored as `uint16` or `uint32`.
    ///   - overwrite: replace an existing dataset at `path` (otherwise
    ///     ``HDF5Error/alreadyExists(file:path:)``).
    /// - Throws: ``HDF5Error/missingFilter(file:path:id:name:)`` when a
    ///   filter of `storage` is not available, an argument error for a
    ///   chunk shape that does not fit,
    ///   ``HDF5Error/typeNotSupported(file:path:stored:requested:)`` for a
    ///   `storedType` libhdf5 cannot convert to,
    ///   ``HDF5Error/writeFailure(file:path:reason:)``.
    public func write<T: TensorElement>(_ tensor: Tensor<T>, to path: String,
                                        storage: HDF5Storage = .contiguous,
                                        storedType: HDF5ElementType? = nil,
                                        overwrite: Bool = false) throws(HDF5Error) {
        let path = HDF5File.normalise(path)
        try tensor.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in
            try writeElements(UnsafeRawPointer(buffer.baseAddress), dtype: T.dtype, shape: tensor.shape,
                              to: path, storage: storage, storedType: storedType, overwrite: overwrite)
        }
    }

    /// Writes a type-erased tensor as a new dataset (see
    /// ``write(_:to:storage:storedType:overwrite:)``).
    public func write(_ tensor: AnyTensor, to path: String, storage: HDF5Storage = .contiguous,
                      overwrite: Bool = false) throws(HDF5Error) {
        switch tensor {
        case let .float32(t): try write(t, to: path, storage: storage, overwrite: overwrite)
        case let .float64(t): try write(t, to: path, storage: storage, overwrite: overwrite)
        case let .complex64(t): try write(t, to: path, storage: storage, overwrite: overwrite)
        case let .complex128(t): try write(t, to: path, storage: storage, overwrite: overwrite)
        case let .int32(t): try write(t, to: path, storage: storage, overwrite: overwrite)
        case let .int64(t): try write(t, to: path, storage: storage, overwrite: overwrite)
        case let .uint8(t): try write(t, to: path, storage: storage, overwrite: overwrite)
        case let .int8(t): try write(t, to: path, storage: storage, overwrite: overwrite)
        case let .int16(t): try write(t, to: path, storage: storage, overwrite: overwrite)
        case let .uint16(t): try write(t, to: path, storage: storage, overwrite: overwrite)
        case let .uint32(t): try write(t, to: path, storage: storage, overwrite: overwrite)
        case let .uint64(t): try write(t, to: path, storage: storage, overwrite: overwrite)
        case let .bool(t): try write(t, to: path, storage: storage, overwrite: overwrite)
        }
    }

    /// Creates the dataset and writes the C-ordered elements at `base`.
    func writeElements(_ base: UnsafeRawPointer?, dtype: DType, shape: [Int], to path: String,
                       storage: HDF5Storage, storedType: HDF5ElementType? = nil,
                       overwrite: Bool) throws(HDF5Error) {
        if let chunk = storage.chunkShape {
            guard chunk.count == shape.count, !shape.isEmpty,
                  zip(chunk, shape).allSatisfy({ $0 >= 1 && $0 <= max($1, 1) }) else {
                throw .invalidArgument(name: "chunkShape", expected: "one length in 1...n for each axis of \(shape)",
                                       received: "\(chunk)")
            }
        } else if !storage.filters.isEmpty {
            throw .invalidArgument(name: "storage", expected: "a chunk shape for filters",
                                   received: "contiguous with \(storage.filters.map(\.name))")
        }
        try HDF5Library.withLock { () throws(HDF5Error) in
            let file = try openID(path)
            guard path != "/" else { throw .alreadyExists(file: self.path, path: path) }
            for filter in storage.filters where H5Zfilter_avail(H5Z_filter_t(filter.id)) <= 0 {
                HDF5Library.clearErrors()
                throw .missingFilter(file: self.path, path: path, id: filter.id, name: filter.name)
            }
            if beamline_h5_link_type(file, path) >= 0 {
                guard overwrite else { throw .alreadyExists(file: self.path, path: path) }
                let found = try kind(path)
                guard found == .dataset else { throw .alreadyExists(file: self.path, path: path) }
                guard H5Ldelete(file, path, beamline_h5p_default()) >= 0 else {
                    throw .writeFailure(file: self.path, path: path, reason: HDF5Library.lastError())
                }
            }
            HDF5Library.clearErrors()
            try requireGroup(HDF5File.parent(of: path))

            let fileType: hid_t
            if let storedType {
                let real: Set<DType> = [.float32, .float64, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64]
                guard real.contains(dtype), let made = HDF5TypeMapping.make(stored: storedType) else {
                    throw .typeNotSupported(file: self.path, path: path, stored: storedType.description,
                                            requested: dtype.description)
                }
                fileType = made
            } else {
                fileType = HDF5TypeMapping.make(dtype, file: true)
            }
            let memoryType = HDF5TypeMapping.make(dtype, file: false)
            let dims = shape.map { UInt64($0) }
            let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), dims, nil)
            let plist = H5Pcreate(beamline_h5p_dataset_create())
            defer { _ = H5Tclose(fileType); _ = H5Tclose(memoryType); _ = H5Sclose(space); _ = H5Pclose(plist) }
            if let chunk = storage.chunkShape {
                var chunkDims = chunk.map { UInt64($0) }
                var status = H5Pset_chunk(plist, Int32(chunkDims.count), &chunkDims)
                for filter in storage.filters where status >= 0 {
                    switch filter.id {
                    case 1: status = H5Pset_deflate(plist, filter.parameters.first ?? 4)
                    case 2: status = H5Pset_shuffle(plist)
                    default:
                        status = H5Pset_filter(plist, H5Z_filter_t(filter.id), UInt32(H5Z_FLAG_MANDATORY),
                                               filter.parameters.count, filter.parameters)
                    }
                }
                guard status >= 0 else {
                    throw .writeFailure(file: self.path, path: path, reason: HDF5Library.lastError())
                }
            }
            let dataset = H5Dcreate2(file, path, fileType, space, beamline_h5p_default(), plist, beamline_h5p_default())
            guard dataset >= 0 else { throw .writeFailure(file: self.path, path: path, reason: HDF5Library.lastError()) }
            defer { _ = H5Dclose(dataset) }
            guard let base, shape.reduce(1, *) > 0 else { return }
            if H5Dwrite(dataset, memoryType, beamline_h5s_all(), beamline_h5s_all(), beamline_h5p_default(), base) < 0 {
                let reason = HDF5Library.lastError()
                _ = H5Ldelete(file, path, beamline_h5p_default())
                HDF5Library.clearErrors()
                throw .writeFailure(file: self.path, path: path, reason: reason)
            }
        }
    }
}

/// In-place widening of integers read unconverted into a float buffer.
enum HDF5Widening {
    /// libhdf5's native integer type of this size and sign (predefined,
    /// not to be closed), or nil.
    static func memoryType(signed: Bool, bytes: Int) -> hid_t? {
        switch (signed, bytes) {
        case (true, 1): return beamline_h5t_native_int8()
        case (true, 2): return beamline_h5t_native_int16()
        case (true, 4): return beamline_h5t_native_int32()
        case (true, 8): return beamline_h5t_native_int64()
        case (false, 1): return beamline_h5t_native_uint8()
        case (false, 2): return beamline_h5t_native_uint16()
        case (false, 4): return beamline_h5t_native_uint32()
        case (false, 8): return beamline_h5t_native_uint64()
        default: return nil
        }
    }

    /// A pointer that may cross into `Parallel`'s workers (each writes its
    /// own range).
    struct Pointer: @unchecked Sendable { let base: UnsafeMutableRawPointer }

    /// Turns the `count` integers (`bytes` wide) at the front of `buffer`
    /// into `F` values filling it (`MemoryLayout<F>.size >= bytes`).
    static func widen<F: BinaryFloatingPoint & Sendable>(_ buffer: UnsafeMutableRawPointer, count: Int,
                                                         signed: Bool, bytes: Int, to type: F.Type) {
        switch (signed, bytes) {
        case (true, 1): widen(buffer, count, Int8.self, F.self)
        case (true, 2): widen(buffer, count, Int16.self, F.self)
        case (true, 4): widen(buffer, count, Int32.self, F.self)
        case (true, 8): widen(buffer, count, Int64.self, F.self)
        case (false, 1): widen(buffer, count, UInt8.self, F.self)
        case (false, 2): widen(buffer, count, UInt16.self, F.self)
        case (false, 4): widen(buffer, count, UInt32.self, F.self)
        default: widen(buffer, count, UInt64.self, F.self)
        }
    }

    /// Elements converted per block: the integers of a block are copied to
    /// a small scratch buffer, then written as floats over the block, so the
    /// conversion loop reads and writes distinct memory and vectorises.
    private static let block = 2048

    private static func widen<I: BinaryInteger & Sendable, F: BinaryFloatingPoint & Sendable>(
        _ buffer: UnsafeMutableRawPointer, _ count: Int, _ integer: I.Type, _ float: F.Type
    ) {
        // The buffer is the storage of a Tensor<F>: bound to F.
        let isize = MemoryLayout<I>.size
        if isize == MemoryLayout<F>.size {
            // Same width: element i stays at its position, so ranges are independent.
            let pointer = Pointer(base: buffer)
            Parallel.forEachChunk(count: count, minimumChunk: 1 << 16) { range in
                let scratch = UnsafeMutablePointer<I>.allocate(capacity: block)
                defer { scratch.deallocate() }
                let target = pointer.base.assumingMemoryBound(to: F.self)
                var start = range.lowerBound
                while start < range.upperBound {
                    let n = Swift.min(block, range.upperBound - start)
                    UnsafeMutableRawPointer(scratch).copyMemory(from: pointer.base + start * isize, byteCount: n * isize)
                    for k in 0..<n { target[start + k] = F(scratch[k]) }
                    start += n
                }
            }
        } else {
            // Narrower integers: blocks from the back, so no integer is overwritten
            // before it is read (block [s, e) of floats covers integers s·k ..< e·k,
            // k ≥ 1: those below e are in the scratch copy, the others are done).
            let scratch = UnsafeMutablePointer<I>.allocate(capacity: block)
            defer { scratch.deallocate() }
            let target = buffer.assumingMemoryBound(to: F.self)
            var end = count
            while end > 0 {
                let start = Swift.max(0, end - block), n = end - start
                UnsafeMutableRawPointer(scratch).copyMemory(from: buffer + start * isize, byteCount: n * isize)
                for k in 0..<n { target[start + k] = F(scratch[k]) }
                end = start
            }
        }
    }
}
