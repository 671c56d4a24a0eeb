import BeamlineTensor
import CHDF5
import ComplexModule
import Foundation

/// The value of an HDF5 attribute: a number, a string, or an array.
///
/// Reading gives ``integer(_:)`` for a scalar integer, ``number(_:)`` for
/// a scalar float, ``string(_:)`` for a scalar string (fixed or variable
/// length), ``strings(_:)`` for an array of strings and ``array(_:)`` for
/// everything numeric of rank 1 or more (and scalar Booleans and complex
/// numbers), in the element type ``HDF5ElementType/naturalDType`` names.
/// Writing stores what h5py stores for the same Python value: `int64`,
/// `float64`, a variable-length UTF-8 string, an array of them, or the
/// tensor's own type.
public enum HDF5Attribute: Sendable, Equatable, CustomStringConvertible {
    /// A scalar integer (`int64` when written).
    case integer(Int64)
    /// A scalar float (`float64` when written).
    case number(Double)
    /// A scalar string.
    case string(String)
    /// A one-dimensional array of strings.
    case strings([String])
    /// A numeric array (or a scalar that is neither an integer nor a float).
    case array(AnyTensor)

    /// The value as a `Double` (integers and floats; a one-element array),
    /// or `nil`.
    public var doubleValue: Double? {
        switch self {
        case let .integer(value): return Double(value)
        case let .number(value): return value
        case let .array(tensor) where tensor.count == 1:
            return tensor.cast(to: Double.self).withUnsafeBufferPointer { $0.first }
        default: return nil
        }
    }

    /// The value as a string (a scalar string, or a one-element string
    /// array), or `nil`.
    public var stringValue: String? {
        switch self {
        case let .string(value): return value
        case let .strings(values) where values.count == 1: return values[0]
        default: return nil
        }
    }

    /// The value as Python would print it.
    public var description: String {
        switch self {
        case let .integer(value): return "\(value)"
        case let .number(value): return "\(value)"
        case let .string(value): return "'\(value)'"
        case let .strings(values): return "[" + values.map { "'\($0)'" }.joined(separator: ", ") + "]"
        case let .array(tensor): return tensor.description
        }
    }
}

extension HDF5File {
    /// The names of the attributes of the object at `path`, in name order
    /// (as `list(obj.attrs)`).
    public func attributeNames(of path: String = "/") throws(HDF5Error) -> [String] {
        let path = HDF5File.normalise(path)
        return try HDF5Library.withLock { () throws(HDF5Error) -> [String] in
            _ = try kind(path)
            let object = H5Oopen(id, path, beamline_h5p_default())
            guard object >= 0 else { throw .readFailure(file: self.path, path: path, reason: HDF5Library.lastError()) }
            defer { _ = H5Oclose(object) }
            var names: [String] = []
            let count = H5Aget_num_attrs(object)
            for index in 0..<max(count, 0) {
                let length = H5Aget_name_by_idx(object, ".", H5_INDEX_NAME, H5_ITER_INC, UInt64(index), nil, 0,
                                                beamline_h5p_default())
                guard length >= 0 else { HDF5Library.clearErrors(); continue }
                var buffer = [CChar](repeating: 0, count: Int(length) + 1)
                _ = H5Aget_name_by_idx(object, ".", H5_INDEX_NAME, H5_ITER_INC, UInt64(index), &buffer, buffer.count,
                                       beamline_h5p_default())
                names.append(HDF5Library.string(buffer))
            }
            return names
        }
    }

    /// True when the object at `path` has an attribute `name`.
    public func hasAttribute(_ name: String, on path: String = "/") throws(HDF5Error) -> Bool {
        let path = HDF5File.normalise(path)
        return try HDF5Library.withLock { () throws(HDF5Error) -> Bool in
            _ = try kind(path)
            let result = H5Aexists_by_name(id, path, name, beamline_h5p_default())
            if result < 0 { throw .readFailure(file: self.path, path: path, reason: HDF5Library.lastError()) }
            return result > 0
        }
    }

    /// The attribute `name` of the object at `path` (`"/"`: the file's
    /// root group).
    ///
    /// - Throws: ``HDF5Error/missingObject(file:path:)``,
    ///   ``HDF5Error/missingAttribute(file:path:name:)``,
    ///   ``HDF5Error/typeNotSupported(file:path:stored:requested:)``.
    public func attribute(_ name: String, of path: String = "/") throws(HDF5Error) -> HDF5Attribute {
        let path = HDF5File.normalise(path)
        return try HDF5Library.withLock { () throws(HDF5Error) -> HDF5Attribute in
            guard try hasAttributeLocked(name, path) else {
                throw .missingAttribute(file: self.path, path: path, name: name)
            }
            let attribute = H5Aopen_by_name(id, path, name, beamline_h5p_default(), beamline_h5p_default())
            guard attribute >= 0 else { throw .readFailure(file: self.path, path: path, reason: HDF5Library.lastError()) }
            let type = H5Aget_type(attribute), space = H5Aget_space(attribute)
            defer { _ = H5Tclose(type); _ = H5Sclose(space); _ = H5Aclose(attribute) }
            let label = "\(path)@\(name)"
            let shape = try dimensions(space, path: label)
            let stored = HDF5ElementType.classify(type)
            if stored == .string {
                let values = try readStrings(attribute, type: type, space: space, count: shape.reduce(1, *), label: label)
                return shape.isEmpty && values.count == 1 ? .string(values[0]) : .strings(values)
            }
            guard let dtype = stored.naturalDType else {
                throw .typeNotSupported(file: self.path, path: label, stored: stored.description, requested: "a number")
            }
            let tensor = try readAttribute(attribute, dtype: dtype, shape: shape, label: label)
            if shape.isEmpty {
                switch tensor {
                case let .int32(t): return .integer(Int64(t.withUnsafeBufferPointer { $0[0] }))
                case let .int64(t): return .integer(t.withUnsafeBufferPointer { $0[0] })
                case let .uint8(t): return .integer(Int64(t.withUnsafeBufferPointer { $0[0] }))
                case let .int8(t): return .integer(Int64(t.withUnsafeBufferPointer { $0[0] }))
                case let .int16(t): return .integer(Int64(t.withUnsafeBufferPointer { $0[0] }))
                case let .uint16(t): return .integer(Int64(t.withUnsafeBufferPointer { $0[0] }))
                case let .uint32(t): return .integer(Int64(t.withUnsafeBufferPointer { $0[0] }))
                case let .uint64(t): return Int64(exactly: t.withUnsafeBufferPointer { $0[0] }).map { .integer($0) } ?? .array(tensor)
                case let .float32(t): return .number(Double(t.withUnsafeBufferPointer { $0[0] }))
                case let .float64(t): return .number(t.withUnsafeBufferPointer { $0[0] })
                default: return .array(tensor)
                }
            }
            return .array(tensor)
        }
    }

    /// ``hasAttribute(_:on:)`` with the lock held.
    private func hasAttributeLocked(_ name: String, _ path: String) throws(HDF5Error) -> Bool {
        _ = try kind(path)
        let result = H5Aexists_by_name(id, path, name, beamline_h5p_default())
        if result < 0 { throw .readFailure(file: self.path, path: path, reason: HDF5Library.lastError()) }
        return result > 0
    }

    /// Reads a numeric attribute as `dtype` (lock held).
    private func readAttribute(_ attribute: hid_t, dtype: DType, shape: [Int],
                               label: String) throws(HDF5Error) -> AnyTensor {
        func load<E: TensorElement>(_ type: E.Type) throws(HDF5Error) -> Tensor<E> {
            try Tensor<E>(unsafeUninitializedShape: shape) { (buffer) throws(HDF5Error) in
                guard let base = buffer.baseAddress, buffer.count > 0 else { return }
                let memoryType = HDF5TypeMapping.make(dtype, file: false)
                defer { _ = H5Tclose(memoryType) }
                guard H5Aread(attribute, memoryType, base) >= 0 else {
                    throw .readFailure(file: self.path, path: label, reason: HDF5Library.lastError())
                }
            }
        }
        switch dtype {
        case .float32: return .float32(try load(Float.self))
        case .float64: return .float64(try load(Double.self))
        case .complex64: return .complex64(try load(Complex<Float>.self))
        case .complex128: return .complex128(try load(Complex<Double>.self))
        case .int32: return .int32(try load(Int32.self))
        case .int64: return .int64(try load(Int64.self))
        case .uint8: return .uint8(try load(UInt8.self))
        case .int8: return .int8(try load(Int8.self))
        case .int16: return .int16(try load(Int16.self))
        case .uint16: return .uint16(try load(UInt16.self))
        case .uint32: return .uint32(try load(UInt32.self))
        case .uint64: return .uint64(try load(UInt64.self))
        case .bool: return .bool(try load(UInt8.self).map { $0 != 0 })
        }
    }

    /// Reads `count` strings (fixed or variable length) (lock held).
    private func readStrings(_ attribute: hid_t, type: hid_t, space: hid_t, count: Int,
                             label: String) throws(HDF5Error) -> [String] {
        let memoryType = H5Tcopy(beamline_h5t_c_s1())
        defer { _ = H5Tclose(memoryType) }
        _ = H5Tset_cset(memoryType, H5Tget_cset(type))
        if H5Tis_variable_str(type) > 0 {
            _ = H5Tset_size(memoryType, -1)  // H5T_VARIABLE
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            guard H5Aread(attribute, memoryType, &pointers) >= 0 else {
                throw .readFailure(file: self.path, path: label, reason: HDF5Library.lastError())
            }
            let values = pointers.map { $0.map { String(cString: $0) } ?? "" }
            _ = beamline_h5_reclaim(memoryType, space, &pointers)
            return values
        }
        // Fixed length: read the stored bytes as they are (no conversion,
        // which would cut a NUL-padded string to make room for a NUL).
        let size = H5Tget_size(type)
        let rawType = H5Tcopy(type)
        defer { _ = H5Tclose(rawType) }
        let spacePadded = H5Tget_strpad(type) == H5T_STR_SPACEPAD
        var bytes = [UInt8](repeating: 0, count: max(size * count, 1))
        guard H5Aread(attribute, rawType, &bytes) >= 0 else {
            throw .readFailure(file: self.path, path: label, reason: HDF5Library.lastError())
        }
        return (0..<count).map { index in
            let slice = bytes[index * size..<(index + 1) * size]
            var end = slice.firstIndex(of: 0) ?? slice.endIndex
            if spacePadded { while end > slice.startIndex && bytes[end - 1] == 0x20 { end -= 1 } }
            return String(decoding: slice[slice.startIndex..<end], as: UTF8.self)
        }
    }

    /// Sets the attribute `name` of the object at `path` to `value`,
    /// replacing an attribute of that name (as `obj.attrs[name] = value`).
    ///
    /// - Throws: ``HDF5Error/missingObject(file:path:)``,
    ///   ``HDF5Error/writeFailure(file:path:reason:)``.
    public func setAttribute(_ name: String, _ value: HDF5Attribute, on path: String = "/") throws(HDF5Error) {
        let path = HDF5File.normalise(path)
        try HDF5Library.withLock { () throws(HDF5Error) in
            let label = "\(path)@\(name)"
            if try hasAttributeLocked(name, path) {
                guard H5Adelete_by_name(id, path, name, beamline_h5p_default()) >= 0 else {
                    throw .writeFailure(file: self.path, path: label, reason: HDF5Library.lastError())
                }
            }
            switch value {
            case let .integer(number):
                try writeAttribute(name, on: path, label: label, tensor: .int64(Tensor(scalar: number)))
            case let .number(number):
                try writeAttribute(name, on: path, label: label, tensor: .float64(Tensor(scalar: number)))
            case let .string(text):
                try writeStrings(name, on: path, label: label, values: [text], scalar: true)
            case let .strings(texts):
                try writeStrings(name, on: path, label: label, values: texts, scalar: false)
            case let .array(tensor):
                try writeAttribute(name, on: path, label: label, tensor: tensor)
            }
        }
    }

    /// Creates and writes a numeric attribute (lock held).
    private func writeAttribute(_ name: String, on path: String, label: String,
                                tensor: AnyTensor) throws(HDF5Error) {
        func store<E: TensorElement>(_ t: Tensor<E>) throws(HDF5Error) {
            let dims = t.shape.map { UInt64($0) }
            let space = dims.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), dims, nil)
            let fileType = HDF5TypeMapping.make(E.dtype, file: true)
            let memoryType = HDF5TypeMapping.make(E.dtype, file: false)
            defer { _ = H5Sclose(space); _ = H5Tclose(fileType); _ = H5Tclose(memoryType) }
            let attribute = H5Acreate_by_name(id, path, name, fileType, space, beamline_h5p_default(),
                                              beamline_h5p_default(), beamline_h5p_default())
            guard attribute >= 0 else { throw .writeFailure(file: self.path, path: label, reason: HDF5Library.lastError()) }
            defer { _ = H5Aclose(attribute) }
            let status = t.withUnsafeBufferPointer { buffer in
                buffer.isEmpty ? 0 : H5Awrite(attribute, memoryType, buffer.baseAddress)
            }
            guard status >= 0 else { throw .writeFailure(file: self.path, path: label, reason: HDF5Library.lastError()) }
        }
        switch tensor {
        case let .float32(t): try store(t)
        case let .float64(t): try store(t)
        case let .complex64(t): try store(t)
        case let .complex128(t): try store(t)
        case let .int32(t): try store(t)
        case let .int64(t): try store(t)
        case let .uint8(t): try store(t)
        case let .int8(t): try store(t)
        case let .int16(t): try store(t)
        case let .uint16(t): try store(t)
        case let .uint32(t): try store(t)
        case let .uint64(t): try store(t)
        case let .bool(t): try store(t)
        }
    }

    /// Creates and writes variable-length UTF-8 strings (lock held).
    private func writeStrings(_ name: String, on path: String, label: String, values: [String],
                              scalar: Bool) throws(HDF5Error) {
        let type = H5Tcopy(beamline_h5t_c_s1())
        _ = H5Tset_size(type, -1)  // H5T_VARIABLE
        _ = H5Tset_cset(type, H5T_CSET_UTF8)
        var dims = [UInt64(values.count)]
        let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
        defer { _ = H5Tclose(type); _ = H5Sclose(space) }
        let attribute = H5Acreate_by_name(id, path, name, type, space, beamline_h5p_default(),
                                          beamline_h5p_default(), beamline_h5p_default())
        guard attribute >= 0 else { throw .writeFailure(file: self.path, path: label, reason: HDF5Library.lastError()) }
        defer { _ = H5Aclose(attribute) }
        let copies = values.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
        guard H5Awrite(attribute, type, &pointers) >= 0 else {
            throw .writeFailure(file: self.path, path: label, reason: HDF5Library.lastError())
        }
    }
}
