/// A value of the small Python literal language that `.npy` headers use
/// (what `ast.literal_eval` accepts for them): strings, integers, `True`,
/// `False`, `None`, tuples, lists and dicts.
indirect enum PythonLiteral: Equatable {
    case string(String)
    /// An integer as written (sign and digits), so that values too large
    /// for `Int` can still be reported.
    case integer(String)
    case boolean(Bool)
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case dict([Pair])

    struct Pair: Equatable {
        var key: PythonLiteral
        var value: PythonLiteral
    }

    /// The value as Python's `repr` would print it (close enough for
    /// error messages).
    var repr: String {
        switch self {
        case let .string(s):
            var escaped = ""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\\": escaped += "\\\\"
                case "'": escaped += "\\'"
                case "\n": escaped += "\\n"
                case "\t": escaped += "\\t"
                default:
                    if scalar.value < 0x20 || scalar.value == 0x7f {
                        let hex = String(scalar.value, radix: 16)
                        escaped += "\\x" + (hex.count == 1 ? "0" + hex : hex)
                    } else {
                        escaped.unicodeScalars.append(scalar)
                    }
                }
            }
            return "'" + escaped + "'"
        case let .integer(text): return text
        case let .boolean(b): return b ? "True" : "False"
        case .none: return "None"
        case let .tuple(items):
            if items.count == 1 { return "(" + items[0].repr + ",)" }
            return "(" + items.map(\.repr).joined(separator: ", ") + ")"
        case let .list(items): return "[" + items.map(\.repr).joined(separator: ", ") + "]"
        case let .dict(pairs): return "{" + pairs.map { $0.key.repr + ": " + $0.value.repr }.joined(separator: ", ") + "}"
        }
    }
}

/// A parse failure: what the parser expected and where.
struct PythonLiteralError: Error, Equatable {
    var expected: String
    var found: String
}

/// A recursive-descent parser for ``PythonLiteral`` over the header bytes.
///
/// It never traps: every malformed input ends in a ``PythonLiteralError``,
/// nesting deeper than ``maximumDepth`` is rejected, and strings are decoded
/// as Latin-1 (format 1.0 and 2.0) or UTF-8 (format 3.0).
struct PythonLiteralParser {
    /// Deepest nesting of containers accepted (headers use 2).
    static let maximumDepth = 32

    private let bytes: [UInt8]
    private let utf8: Bool
    private var position = 0
    private var depth = 0

    init(_ bytes: [UInt8], utf8: Bool) {
        self.bytes = bytes
        self.utf8 = utf8
    }

    /// Parses one literal that must fill the input, apart from whitespace.
    static func parse(_ bytes: [UInt8], utf8: Bool) throws(PythonLiteralError) -> PythonLiteral {
        var parser = PythonLiteralParser(bytes, utf8: utf8)
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.position < bytes.count {
            throw parser.failure("end of header after the closing brace")
        }
        return value
    }

    private func failure(_ expected: String) -> PythonLiteralError {
        guard position < bytes.count else {
            return PythonLiteralError(expected: expected, found: "end of header at header byte \(position)")
        }
        let end = min(bytes.count, position + 16)
        let snippet = String(decoding: bytes[position..<end], as: UTF8.self)
            .unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "?" : String($0) }.joined()
        return PythonLiteralError(expected: expected, found: "\"\(snippet)\" at header byte \(position)")
    }

    private mutating func skipWhitespace() {
        while position < bytes.count, [0x20, 0x09, 0x0a, 0x0d, 0x0c].contains(bytes[position]) {
            position += 1
        }
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func parseValue() throws(PythonLiteralError) -> PythonLiteral {
        skipWhitespace()
        guard let byte = current else { throw failure("a value") }
        switch byte {
        case UInt8(ascii: "{"): return try parseContainer(close: UInt8(ascii: "}"), kind: "dict")
        case UInt8(ascii: "("): return try parseContainer(close: UInt8(ascii: ")"), kind: "tuple")
        case UInt8(ascii: "["): return try parseContainer(close: UInt8(ascii: "]"), kind: "list")
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return try parseString()
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            if position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "'") || bytes[position + 1] == UInt8(ascii: "\"") {
                position += 1
                return try parseString()
            }
            return try parseName()
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseInteger()
        default:
            return try parseName()
        }
    }

    private mutating func parseName() throws(PythonLiteralError) -> PythonLiteral {
        let start = position
        while let byte = current, (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || byte == UInt8(ascii: "_") {
            position += 1
        }
        switch String(decoding: bytes[start..<position], as: UTF8.self) {
        case "True": return .boolean(true)
        case "False": return .boolean(false)
        case "None": return .none
        default:
            position = start
            throw failure("a string, integer, True, False, None, tuple, list or dict")
        }
    }

    private mutating func parseInteger() throws(PythonLiteralError) -> PythonLiteral {
        var text = ""
        if let sign = current, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            if sign == UInt8(ascii: "-") { text = "-" }
            position += 1
            skipWhitespace()
        }
        let start = position
        while let byte = current, byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") { position += 1 }
        guard position > start else { throw failure("digits") }
        var digits = String(decoding: bytes[start..<position], as: UTF8.self)
        while digits.count > 1, digits.hasPrefix("0") { digits.removeFirst() }
        // Python 2 wrote long integers with an L suffix (numpy accepts it).
        if let byte = current, byte == UInt8(ascii: "L") || byte == UInt8(ascii: "l") { position += 1 }
        if let byte = current, byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
            || byte == UInt8(ascii: "x") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "j") {
            throw failure("a decimal integer")
        }
        return .integer(digits == "0" ? "0" : text + digits)
    }

    private mutating func parseString() throws(PythonLiteralError) -> PythonLiteral {
        guard let quote = current else { throw failure("a string") }
        let openedAt = position
        position += 1
        var raw: [UInt8] = []
        while true {
            guard let byte = current else {
                position = openedAt
                throw failure("a closing quote for the string")
            }
            position += 1
            if byte == quote { break }
            if byte == 0x0a {
                position = openedAt
                throw failure("a closing quote before the end of the line")
            }
            guard byte == UInt8(ascii: "\\") else { raw.append(byte); continue }
            guard let escape = current else { continue }
            position += 1
            switch escape {
            case UInt8(ascii: "n"): raw.append(0x0a)
            case UInt8(ascii: "t"): raw.append(0x09)
            case UInt8(ascii: "r"): raw.append(0x0d)
            case UInt8(ascii: "0"): raw.append(0)
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): raw.append(escape)
            case UInt8(ascii: "x"):
                guard position + 2 <= bytes.count,
                      let value = UInt8(String(decoding: bytes[position..<position + 2], as: UTF8.self), radix: 16) else {
                    throw failure("two hexadecimal digits after \\x")
                }
                position += 2
                // \xNN names a code point; encode it the way the text is encoded.
                if utf8 { raw.append(contentsOf: Array(String(UnicodeScalar(value)).utf8)) } else { raw.append(value) }
            default: raw.append(UInt8(ascii: "\\")); raw.append(escape)
            }
        }
        if utf8 {
            guard let text = String(validating: raw, as: UTF8.self) else {
                position = openedAt
                throw failure("a string of valid UTF-8")
            }
            return .string(text)
        }
        var text = ""
        text.unicodeScalars.append(contentsOf: raw.map { UnicodeScalar($0) })   // Latin-1
        return .string(text)
    }

    private mutating func parseContainer(close: UInt8, kind: String) throws(PythonLiteralError) -> PythonLiteral {
        guard depth < Self.maximumDepth else { throw failure("at most \(Self.maximumDepth) nested containers") }
        depth += 1
        defer { depth -= 1 }
        position += 1   // the opening bracket
        var items: [PythonLiteral] = []
        var pairs: [PythonLiteral.Pair] = []
        var sawComma = false
        while true {
            skipWhitespace()
            if current == close { position += 1; break }
            if !(items.isEmpty && pairs.isEmpty) && !sawComma {
                throw failure("',' or '\(String(UnicodeScalar(close)))' in the \(kind)")
            }
            let value = try parseValue()
            if kind == "dict" {
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw failure("':' after a dict key") }
                position += 1
                pairs.append(PythonLiteral.Pair(key: value, value: try parseValue()))
            } else {
                items.append(value)
            }
            skipWhitespace()
            sawComma = current == UInt8(ascii: ",")
            if sawComma { position += 1 }
        }
        switch kind {
        case "dict": return .dict(pairs)
        case "list": return .list(items)
        default:
            // `(x)` is just x in Python; `(x,)` and `(x, y)` are tuples.
            if items.count == 1 && !sawComma { return items[0] }
            return .tuple(items)
        }
    }
}
