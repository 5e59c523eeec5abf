/// JSON string literals without `JSONEncoder`: written for hand-written JSON (log lines, wire frames), and the escapes
/// that hand-written JSON readers (the market-data scanner, the JSON Lines file format) decode.
package enum JSONString {
    /// `text` as a JSON string literal: quoted, with quotes, backslashes and control characters escaped.
    package static func literal(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 2)
        append(text, to: &out)
        return out
    }

    /// The byte a one-character escape `\` + `letter` stands for (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`);
    /// `nil` for `u` (four hex digits follow) and for anything JSON does not allow after a backslash.
    @inlinable
    package static func unescaped(_ letter: UInt8) -> UInt8? {
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): letter
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
    }

    /// Appends `text` as a JSON string literal to `out`.
    package static func append(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
