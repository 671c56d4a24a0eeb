import BeamlineTensor
import CHDF5

/// The element type stored in an HDF5 dataset or attribute, named as h5py
/// (NumPy) names it.
public enum HDF5ElementType: Sendable, Equatable, CustomStringConvertible {
    /// An integer of `bytes` bytes (1, 2, 4 or 8), signed or not.
    case integer(signed: Bool, bytes: Int)
    /// An IEEE float of `bytes` bytes (2, 4 or 8).
    case float(bytes: Int)
    /// A complex number stored as h5py stores it: a compound `{r, i}` of two
    /// floats; `bytes` is the whole element (8 for `complex64`).
    case complex(bytes: Int)
    /// h5py's Boolean: an 8-bit enum `{FALSE = 0, TRUE = 1}`.
    case bool
    /// A fixed- or variable-length string.
    case string
    /// Anything else (other compounds and enums, references, opaque, ...),
    /// described in words.
    case other(String)

    /// h5py's (NumPy's) name: `"uint16"`, `"float32"`, `"complex64"`,
    /// `"bool"`, `"string"`, ...
    public var description: String {
        switch self {
        case let .integer(signed, bytes): return "\(signed ? "int" : "uint")\(bytes * 8)"
        case let .float(bytes): return "float\(bytes * 8)"
        case let .complex(bytes): return "complex\(bytes * 8)"
        case .bool: return "bool"
        case .string: return "string"
        case let .other(text): return text
        }
    }

    /// The Beamline element type that ``HDF5File/read(_:selection:)``
    /// returns for this stored type, or `nil` when there is none.
    ///
    /// Stored types with a Beamline element type of their own keep it.
    /// The others are widened, exactly: `int8`, `int16` and `uint16` to
    /// `int32`; `uint32` to `int64`; `float16` to `float32`. `uint64` is
    /// read as `int64`, values above `Int64.max` saturating (libhdf5's
    /// conversion).
    public var naturalDType: DType? {
        switch self {
        case let .integer(signed, bytes):
            switch (signed, bytes) {
            case (true, 1): return .int8
            case (true, 2): return .int16
            case (true, 4): return .int32
            case (true, 8): return .int64
            case (false, 1): return .uint8
            case (false, 2): return .uint16
            case (false, 4): return .uint32
            case (false, 8): return .uint64
            default: return nil
            }
        case let .float(bytes):
            return bytes <= 4 ? .float32 : (bytes == 8 ? .float64 : nil)
        case let .complex(bytes):
            return bytes == 8 ? .complex64 : (bytes == 16 ? .complex128 : nil)
        case .bool:
            return .bool
        case .string, .other:
            return nil
        }
    }

    /// True for integers and floats (what libhdf5 converts between).
    var isReal: Bool {
        switch self {
        case .integer, .float: return true
        default: return false
        }
    }

    /// Classifies the datatype `type` (lock held).
    static func classify(_ type: hid_t) -> HDF5ElementType {
        let typeClass = H5Tget_class(type)
        let size = H5Tget_size(type)
        switch typeClass {
        case H5T_INTEGER:
            return .integer(signed: H5Tget_sign(type) == H5T_SGN_2, bytes: size)
        case H5T_FLOAT:
            return .float(bytes: size)
        case H5T_STRING:
            return .string
        case H5T_ENUM:
            if size == 1 && H5Tget_nmembers(type) == 2,
               memberName(type, 0) == "FALSE", memberName(type, 1) == "TRUE" {
                return .bool
            }
            return .other("enum")
        case H5T_COMPOUND:
            guard H5Tget_nmembers(type) == 2, memberName(type, 0) == "r", memberName(type, 1) == "i" else {
                return .other("compound")
            }
            let real = H5Tget_member_type(type, 0), imaginary = H5Tget_member_type(type, 1)
            defer { _ = H5Tclose(real); _ = H5Tclose(imaginary) }
            guard H5Tget_class(real) == H5T_FLOAT, H5Tget_class(imaginary) == H5T_FLOAT,
                  H5Tget_size(real) == H5Tget_size(imaginary) else { return .other("compound") }
            return .complex(bytes: 2 * H5Tget_size(real))
        case H5T_BITFIELD: return .other("bitfield")
        case H5T_OPAQUE: return .other("opaque")
        case H5T_REFERENCE: return .other("reference")
        case H5T_VLEN: return .other("variable-length sequence")
        case H5T_ARRAY: return .other("array")
        case H5T_TIME: return .other("time")
        default:
            HDF5Library.clearErrors()
            return .other("unknown type")
        }
    }

    /// The name of member `index` of a compound or enum type.
    private static func memberName(_ type: hid_t, _ index: UInt32) -> String? {
        guard let name = H5Tget_member_name(type, index) else { HDF5Library.clearErrors(); return nil }
        defer { H5free_memory(name) }
        return String(cString: name)
    }
}

/// A filter in a dataset's pipeline (compression, shuffling, checksums):
/// its registered id, its name and its parameters (`cd_values`).
public struct HDF5Filter: Sendable, Equatable, CustomStringConvertible {
    /// The filter id registered with the HDF Group (1 deflate, 2 shuffle,
    /// 32004 LZ4, 32008 bitshuffle, ...).
    public var id: Int
    /// The filter's name (the well-known short name where Beamline knows
    /// the id, else the name stored in the file).
    public var name: String
    /// The filter's parameters (`cd_values`).
    public var parameters: [UInt32]

    /// A filter with explicit parameters.
    public init(id: Int, name: String, parameters: [UInt32] = []) {
        self.id = id
        self.name = name
        self.parameters = parameters
    }

    /// gzip (deflate) at `level` 0-9, the filter h5py's
    /// `compression="gzip"` uses.
    public static func deflate(level: Int = 4) -> HDF5Filter {
        HDF5Filter(id: 1, name: "deflate", parameters: [UInt32(max(0, min(9, level)))])
    }

    /// The byte shuffle (h5py's `shuffle=True`).
    public static let shuffle = HDF5Filter(id: 2, name: "shuffle")

    /// Bitshuffle with LZ4 compression (filter 32008 with parameters
    /// `[0, 2]`: automatic block size, LZ4), as
    /// `hdf5plugin.Bitshuffle(cname="lz4")` writes it. Detector data
    /// (Eiger, Pilatus 4) comes compressed with it.
    public static let bitshuffleLZ4 = HDF5Filter(id: 32008, name: "bitshuffle", parameters: [0, 2])

    /// LZ4 (filter 32004, Debian's hdf5-filter-plugin), as
    /// `hdf5plugin.LZ4()` writes it.
    public static let lz4 = HDF5Filter(id: 32004, name: "lz4")

    /// `name (id) [parameters]`.
    public var description: String {
        parameters.isEmpty ? "\(name) (\(id))" : "\(name) (\(id)) \(parameters)"
    }
}

/// How a dataset is laid out in the file: contiguous, or in chunks that
/// pass through a filter pipeline (shuffle, then compression).
///
/// ```swift
/// let storage = HDF5Storage.chunked([1, 512, 512], deflate: 4, shuffle: true)
/// let detector = HDF5Storage.chunked([1, 1024, 1024], filters: [.bitshuffleLZ4])
/// ```
public struct HDF5Storage: Sendable, Equatable {
    /// The chunk shape (`nil`: contiguous).
    public var chunkShape: [Int]?
    /// The filters, in the order they are applied when writing.
    public var filters: [HDF5Filter]

    /// A layout with explicit chunking and filters (filters need chunks).
    public init(chunkShape: [Int]?, filters: [HDF5Filter] = []) {
        self.chunkShape = chunkShape
        self.filters = filters
    }

    /// One contiguous block, no filters (h5py's default).
    public static let contiguous = HDF5Storage(chunkShape: nil)

    /// Chunks of `shape`, optionally byte-shuffled and gzip-compressed at
    /// `deflate` (0-9), as h5py's `chunks=..., compression="gzip",
    /// compression_opts=level, shuffle=...`.
    public static func chunked(_ shape: [Int], deflate level: Int? = nil, shuffle: Bool = false) -> HDF5Storage {
        var filters: [HDF5Filter] = []
        if shuffle { filters.append(.shuffle) }
        if let level { filters.append(.deflate(level: level)) }
        return HDF5Storage(chunkShape: shape, filters: filters)
    }

    /// Chunks of `shape` through `filters` (for example
    /// ``HDF5Filter/bitshuffleLZ4``), each of which must be available
    /// (``HDF5Library/isFilterAvailable(_:)``).
    public static func chunked(_ shape: [Int], filters: [HDF5Filter]) -> HDF5Storage {
        HDF5Storage(chunkShape: shape, filters: filters)
    }
}

/// The layout and type of a dataset, read without reading its elements.
public struct HDF5DatasetInfo: Sendable, Equatable {
    /// The dataset's absolute path.
    public var path: String
    /// Length of each axis (empty for a scalar dataset).
    public var shape: [Int]
    /// The stored element type.
    public var elementType: HDF5ElementType
    /// The chunk shape, or `nil` for a contiguous or compact dataset.
    public var chunkShape: [Int]?
    /// The filter pipeline, in the order applied when writing.
    public var filters: [HDF5Filter]
}

/// Memory and file datatypes for Beamline's element types (lock held).
enum HDF5TypeMapping {
    /// A new little-endian file datatype for a stored integer or float
    /// type (`float32`/`float64`, any integer), or `nil` for other types.
    static func make(stored: HDF5ElementType) -> hid_t? {
        switch stored {
        case let .integer(signed, bytes):
            switch (signed, bytes) {
            case (true, 1): return H5Tcopy(beamline_h5t_std_i8le())
            case (true, 2): return H5Tcopy(beamline_h5t_std_i16le())
            case (true, 4): return H5Tcopy(beamline_h5t_std_i32le())
            case (true, 8): return H5Tcopy(beamline_h5t_std_i64le())
            case (false, 1): return H5Tcopy(beamline_h5t_std_u8le())
            case (false, 2): return H5Tcopy(beamline_h5t_std_u16le())
            case (false, 4): return H5Tcopy(beamline_h5t_std_u32le())
            case (false, 8): return H5Tcopy(beamline_h5t_std_u64le())
            default: return nil
            }
        case .float(4): return H5Tcopy(beamline_h5t_ieee_f32le())
        case .float(8): return H5Tcopy(beamline_h5t_ieee_f64le())
        default: return nil
        }
    }

    /// A new datatype id (to be closed by the caller) describing `dtype`
    /// in memory (`file` false) or little-endian in a file (`file` true).
    static func make(_ dtype: DType, file: Bool) -> hid_t {
        switch dtype {
        case .float32: return H5Tcopy(file ? beamline_h5t_ieee_f32le() : beamline_h5t_native_float())
        case .float64: return H5Tcopy(file ? beamline_h5t_ieee_f64le() : beamline_h5t_native_double())
        case .int32: return H5Tcopy(file ? beamline_h5t_std_i32le() : beamline_h5t_native_int32())
        case .int64: return H5Tcopy(file ? beamline_h5t_std_i64le() : beamline_h5t_native_int64())
        case .uint8: return H5Tcopy(file ? beamline_h5t_std_u8le() : beamline_h5t_native_uint8())
        case .int8: return H5Tcopy(file ? beamline_h5t_std_i8le() : beamline_h5t_native_int8())
        case .int16: return H5Tcopy(file ? beamline_h5t_std_i16le() : beamline_h5t_native_int16())
        case .uint16: return H5Tcopy(file ? beamline_h5t_std_u16le() : beamline_h5t_native_uint16())
        case .uint32: return H5Tcopy(file ? beamline_h5t_std_u32le() : beamline_h5t_native_uint32())
        case .uint64: return H5Tcopy(file ? beamline_h5t_std_u64le() : beamline_h5t_native_uint64())
        case .bool:
            // h5py's bool: an enum over int8 with FALSE = 0, TRUE = 1.
            let type = H5Tenum_create(file ? beamline_h5t_std_i8le() : beamline_h5t_native_int8())
            var no: Int8 = 0, yes: Int8 = 1
            _ = H5Tenum_insert(type, "FALSE", &no)
            _ = H5Tenum_insert(type, "TRUE", &yes)
            return type
        case .complex64, .complex128:
            let single = dtype == .complex64
            let component = single
                ? (file ? beamline_h5t_ieee_f32le() : beamline_h5t_native_float())
                : (file ? beamline_h5t_ieee_f64le() : beamline_h5t_native_double())
            let size = single ? 4 : 8
            let type = H5Tcreate(H5T_COMPOUND, 2 * size)
            _ = H5Tinsert(type, "r", 0, component)
            _ = H5Tinsert(type, "i", size, component)
            return type
        }
    }
}
