import CandleCore
import Foundation

/// A small JSON value for request bodies and REST responses (bars use the faster ``ChartEncoder``).
enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses JSON text; `nil` when it is not valid JSON.
    static func parse(_ text: String) -> JSONValue? {
        guard let data = text.data(using: .utf8) else { return nil }
        return try? JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// Parses JSON bytes; `nil` when they are not valid JSON.
    static func parse(_ data: Data) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// The member `key` of an object; with `caseInsensitive` the first member whose name matches ignoring case.
    func member(_ key: String, caseInsensitive: Bool = false) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        if let exact = members[key] { return exact }
        guard caseInsensitive else { return nil }
        let lowered = key.lowercased()
        return members.first { $0.key.lowercased() == lowered }?.value
    }

    subscript(_ key: String) -> JSONValue? { member(key) }

    var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// An integer, also from a whole double or a numeric string.
    var intValue: Int? {
        switch self {
        case .int(let value): return value
        case .double(let value) where value.rounded() == value && abs(value) < 1e15: return Int(value)
        case .string(let value): return Int(value)
        default: return nil
        }
    }

    var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// Compact JSON text with object keys sorted.
    var serialized: String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .double(let value):
            if value.isFinite {
                out += value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
            } else {
                out += "null"
            }
        case .string(let value): JSONString.append(value, to: &out)
        case .array(let values):
            out += "["
            for (i, value) in values.enumerated() {
                if i > 0 { out += "," }
                value.write(into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, key) in members.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                JSONString.append(key, to: &out)
                out += ":"
                members[key]!.write(into: &out)
            }
            out += "}"
        }
    }
}

extension JSONValue: Decodable {
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .int(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
}

/// Fast, allocation-light ISO-8601 formatting and lenient parsing of UTC instants.
enum ISOTime {
    /// `2017-04-13T11:00:00.000Z` for an epoch-millisecond instant.
    static func format(millis: Int64) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(24)
        append(millis: millis, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `2017-04-13T11:00:00.000Z` for a date (milliseconds truncated).
    static func format(_ date: Date) -> String {
        format(millis: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// Appends the 24 bytes of `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    @inline(__always)
    static func append(millis: Int64, to bytes: inout [UInt8]) {
        let days = CivilDate.floorDivide(millis, 86_400_000)
        let msOfDay = Int(millis - days * 86_400_000)
        let (year, month, day) = CivilDate.date(days: Int(days))
        func two(_ v: Int) {
            bytes.append(UInt8(48 + v / 10))
            bytes.append(UInt8(48 + v % 10))
        }
        two(year / 100)
        two(year % 100)
        bytes.append(45)
        two(month)
        bytes.append(45)
        two(day)
        bytes.append(84)
        two(msOfDay / 3_600_000)
        bytes.append(58)
        two(msOfDay / 60_000 % 60)
        bytes.append(58)
        two(msOfDay / 1000 % 60)
        bytes.append(46)
        let ms = msOfDay % 1000
        bytes.append(UInt8(48 + ms / 100))
        bytes.append(UInt8(48 + ms / 10 % 10))
        bytes.append(UInt8(48 + ms % 10))
        bytes.append(90)
    }

    /// Parses `2024-01-15T09:30:00Z`, with optional fractional seconds, or a numeric offset instead of `Z`.
    static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let date = try? Date(trimmed, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
            return date
        }
        return try? Date(trimmed, strategy: Date.ISO8601FormatStyle())
    }
}
