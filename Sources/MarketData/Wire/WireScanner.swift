internal import CandleCore

/// The JSON member names the codec knows, matched on raw bytes without allocating. Everything else is ``unknown``.
enum WireKey {
    case i, s, d, e
    case id, td, bars, eoh, charts
    case timestamp, open, high, low, close, upVolume, downVolume, upTicks, downTicks, bidVolume, offerVolume
    case reasonCode, reason
    case pTicket, pTime, pCaptcha
    case historicalId, realtimeId, errorCode, errorText, mode
    case unknown

    /// The key spelled by the `count` bytes at `p`.
    @inline(__always)
    static func match(_ p: UnsafePointer<UInt8>, _ count: Int) -> WireKey {
        switch count {
        case 1:
            switch p[0] {
            case UInt8(ascii: "i"): return .i
            case UInt8(ascii: "s"): return .s
            case UInt8(ascii: "d"): return .d
            case UInt8(ascii: "e"): return .e
            default: return .unknown
            }
        case 2:
            if equal(p, "id") { return .id }
            if equal(p, "td") { return .td }
        case 3:
            if equal(p, "low") { return .low }
            if equal(p, "eoh") { return .eoh }
        case 4:
            if equal(p, "open") { return .open }
            if equal(p, "high") { return .high }
            if equal(p, "bars") { return .bars }
            if equal(p, "mode") { return .mode }
        case 5:
            if equal(p, "close") { return .close }
        case 6:
            if equal(p, "charts") { return .charts }
            if equal(p, "p-time") { return .pTime }
            if equal(p, "reason") { return .reason }
        case 7:
            if equal(p, "upTicks") { return .upTicks }
        case 8:
            if equal(p, "upVolume") { return .upVolume }
            if equal(p, "p-ticket") { return .pTicket }
        case 9:
            if equal(p, "timestamp") { return .timestamp }
            if equal(p, "downTicks") { return .downTicks }
            if equal(p, "bidVolume") { return .bidVolume }
            if equal(p, "errorCode") { return .errorCode }
            if equal(p, "errorText") { return .errorText }
            if equal(p, "p-captcha") { return .pCaptcha }
        case 10:
            if equal(p, "downVolume") { return .downVolume }
            if equal(p, "realtimeId") { return .realtimeId }
            if equal(p, "reasonCode") { return .reasonCode }
        case 11:
            if equal(p, "offerVolume") { return .offerVolume }
        case 12:
            if equal(p, "historicalId") { return .historicalId }
        default:
            break
        }
        return .unknown
    }

    /// Whether the bytes at `p` start with `name` (the caller checked the length).
    @inline(__always)
    private static func equal(_ p: UnsafePointer<UInt8>, _ name: StaticString) -> Bool {
        let q = name.utf8Start
        for k in 0..<name.utf8CodeUnitCount where p[k] != q[k] {
            return false
        }
        return true
    }
}

/// Byte constants.
enum ASCII {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let minus = UInt8(ascii: "-")
    static let plus = UInt8(ascii: "+")
    static let dot = UInt8(ascii: ".")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")
}

/// A strict JSON scanner over the UTF-8 bytes of one frame (RFC 8259 grammar). It never reads outside the buffer:
/// ``peek()`` answers 0 at the end, a byte that is never valid where the scanner looks for structure.
///
/// The buffer must stay valid while the scanner is used.
struct WireScanner {
    /// The frame's first byte.
    let base: UnsafePointer<UInt8>
    /// The frame's length in bytes.
    let count: Int
    /// The next byte to read.
    var pos: Int

    /// The deepest nesting ``skipValue(depth:)`` accepts (deeper input is refused, never a stack overflow).
    static let maximumDepth = 512

    init(base: UnsafePointer<UInt8>, count: Int, pos: Int = 0) {
        self.base = base
        self.count = count
        self.pos = pos
    }

    // MARK: Errors

    /// An error at `offset` (default: the current position) quoting at most 60 bytes of the frame around it.
    @inline(never)
    func fail(_ code: MarketDataProtocolError.Code, _ what: String, at offset: Int? = nil) -> MarketDataProtocolError {
        let at = min(max(offset ?? pos, 0), count)
        let from = max(0, at - 24)
        let to = min(count, from + 60)
        var excerpt = ""
        for scalar in String(decoding: UnsafeBufferPointer(start: base + from, count: to - from), as: UTF8.self)
            .unicodeScalars
        {
            excerpt.unicodeScalars.append(scalar.value < 0x20 || scalar.value == 0x7F ? "?" : scalar)
        }
        let prefix = from > 0 ? "…" : ""
        let suffix = to < count ? "…" : ""
        return MarketDataProtocolError(
            code, offset: at, "\(what) (at byte \(at) of \(count), near \"\(prefix)\(excerpt)\(suffix)\")")
    }

    /// The error for an unexpected byte (or the end) where `expected` should be.
    @inline(never)
    func unexpected(_ expected: String) -> MarketDataProtocolError {
        if pos >= count {
            return fail(.malformedJSON, "truncated frame: expected \(expected) but the frame ends")
        }
        let byte = base[pos]
        let shown =
            byte >= 0x20 && byte < 0x7F
            ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16, uppercase: true))"
        return fail(.malformedJSON, "expected \(expected), found \(shown)")
    }

    // MARK: Structure

    /// The next byte, or 0 at the end.
    @inline(__always)
    func peek() -> UInt8 {
        pos < count ? base[pos] : 0
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < count {
            let c = base[pos]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            pos += 1
        }
    }

    /// Consumes `byte` (after whitespace) or throws.
    @inline(__always)
    mutating func expect(_ byte: UInt8, _ name: String) throws(MarketDataProtocolError) {
        skipWhitespace()
        guard peek() == byte else { throw unexpected(name) }
        pos += 1
    }

    /// Whether the rest of the frame is whitespace only.
    mutating func atEnd() -> Bool {
        skipWhitespace()
        return pos == count
    }

    /// Consumes `{` (the caller checked it) and whitespace; `true` when a member follows, `false` after an empty `{}`.
    @inline(__always)
    mutating func beginObject() throws(MarketDataProtocolError) -> Bool {
        pos += 1
        skipWhitespace()
        if peek() == ASCII.closeBrace {
            pos += 1
            return false
        }
        return true
    }

    /// After a member's value: `true` when another member follows (`,` consumed), `false` at `}` (consumed).
    @inline(__always)
    mutating func nextMember() throws(MarketDataProtocolError) -> Bool {
        skipWhitespace()
        let c = peek()
        if c == ASCII.comma {
            pos += 1
            return true
        }
        if c == ASCII.closeBrace {
            pos += 1
            return false
        }
        throw unexpected("',' or '}' after an object member")
    }

    /// Consumes `[` (the caller checked it) and whitespace; `true` when an element follows, `false` after `[]`.
    @inline(__always)
    mutating func beginArray() throws(MarketDataProtocolError) -> Bool {
        pos += 1
        skipWhitespace()
        if peek() == ASCII.closeBracket {
            pos += 1
            return false
        }
        return true
    }

    /// After an element: `true` when another element follows (`,` consumed), `false` at `]` (consumed).
    @inline(__always)
    mutating func nextElement() throws(MarketDataProtocolError) -> Bool {
        skipWhitespace()
        let c = peek()
        if c == ASCII.comma {
            pos += 1
            skipWhitespace()
            return true
        }
        if c == ASCII.closeBracket {
            pos += 1
            return false
        }
        throw unexpected("',' or ']' after an array element")
    }

    /// Reads a member name and the `:` after it, leaving the scanner at the value (whitespace skipped).
    @inline(__always)
    mutating func readKey() throws(MarketDataProtocolError) -> WireKey {
        skipWhitespace()
        guard peek() == ASCII.quote else { throw unexpected("a member name in double quotes") }
        let start = pos + 1
        var end = start
        while end < count {
            let c = base[end]
            if c == ASCII.quote { break }
            if c == ASCII.backslash || c < 0x20 { end = -1; break }
            end += 1
        }
        let key: WireKey
        if end >= 0 && end < count {
            key = WireKey.match(base + start, end - start)
            pos = end + 1
        } else {
            // Escapes (or an error): decode the name, then match its bytes.
            let name = Array(try readString().utf8)
            key = name.withUnsafeBufferPointer { buffer in
                guard let address = buffer.baseAddress, !buffer.isEmpty else { return WireKey.unknown }
                return WireKey.match(address, buffer.count)
            }
        }
        skipWhitespace()
        guard peek() == ASCII.colon else { throw unexpected("':' after a member name") }
        pos += 1
        skipWhitespace()
        return key
    }

    // MARK: Values

    /// Consumes `null` when it is next (returns `true`); otherwise consumes nothing.
    @inline(__always)
    mutating func consumeNull() throws(MarketDataProtocolError) -> Bool {
        guard peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    /// Consumes exactly `word` or throws.
    mutating func literal(_ word: StaticString) throws(MarketDataProtocolError) {
        let n = word.utf8CodeUnitCount
        let w = word.utf8Start
        for k in 0..<n {
            guard pos + k < count, base[pos + k] == w[k] else {
                pos += k
                throw unexpected("'\(word)'")
            }
        }
        pos += n
    }

    /// Reads `true` or `false`.
    mutating func readBool(_ field: String) throws(MarketDataProtocolError) -> Bool {
        switch peek() {
        case UInt8(ascii: "t"):
            try literal("true")
            return true
        case UInt8(ascii: "f"):
            try literal("false")
            return false
        default:
            throw shapeError("\(field) must be true or false")
        }
    }

    /// A wrong-shape error naming the value's JSON type.
    @inline(never)
    func shapeError(_ what: String) -> MarketDataProtocolError {
        let kind: String
        switch peek() {
        case ASCII.quote: kind = "a string"
        case ASCII.openBrace: kind = "an object"
        case ASCII.openBracket: kind = "an array"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): kind = "a boolean"
        case UInt8(ascii: "n"): kind = "null"
        case ASCII.minus, ASCII.zero...ASCII.nine: kind = "a number"
        case 0: return unexpected("a value")
        default: return unexpected("a value")
        }
        return fail(.unexpectedShape, "\(what), found \(kind)")
    }

    /// Reads a string value, decoding escapes and checking UTF-8.
    mutating func readString() throws(MarketDataProtocolError) -> String {
        guard peek() == ASCII.quote else { throw shapeError("expected a string") }
        let start = pos + 1
        var p = start
        while p < count {
            let c = base[p]
            if c == ASCII.quote {
                guard
                    let text = String(
                        validating: UnsafeBufferPointer(start: base + start, count: p - start), as: UTF8.self)
                else {
                    throw fail(.malformedJSON, "a string is not valid UTF-8", at: start)
                }
                pos = p + 1
                return text
            }
            if c == ASCII.backslash { break }
            if c < 0x20 {
                throw fail(.malformedJSON, "a control character must be escaped inside a string", at: p)
            }
            p += 1
        }
        if p >= count {
            pos = count
            throw fail(.malformedJSON, "truncated frame: a string is not terminated")
        }
        return try readEscapedString(start: start, firstEscape: p)
    }

    /// The slow path of ``readString()``: the string holds escapes from `firstEscape` on.
    private mutating func readEscapedString(start: Int, firstEscape: Int) throws(MarketDataProtocolError) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(firstEscape - start + 16)
        bytes.append(contentsOf: UnsafeBufferPointer(start: base + start, count: firstEscape - start))
        pos = firstEscape
        while true {
            guard pos < count else { throw fail(.malformedJSON, "truncated frame: a string is not terminated") }
            let c = base[pos]
            if c == ASCII.quote {
                pos += 1
                break
            }
            if c < 0x20 { throw fail(.malformedJSON, "a control character must be escaped inside a string") }
            if c != ASCII.backslash {
                bytes.append(c)
                pos += 1
                continue
            }
            pos += 1
            guard pos < count else { throw fail(.malformedJSON, "truncated frame: an escape is not complete") }
            let e = base[pos]
            pos += 1
            if let byte = JSONString.unescaped(e) {
                bytes.append(byte)
                continue
            }
            guard e == UInt8(ascii: "u") else {
                pos -= 1
                throw fail(.malformedJSON, "an invalid escape in a string")
            }
            var scalar = try readHex4()
            if scalar >= 0xD800 && scalar <= 0xDBFF {
                guard pos + 1 < count, base[pos] == ASCII.backslash, base[pos + 1] == UInt8(ascii: "u") else {
                    throw fail(.malformedJSON, "a high surrogate \\u escape is not followed by a low surrogate")
                }
                pos += 2
                let low = try readHex4()
                guard low >= 0xDC00 && low <= 0xDFFF else {
                    throw fail(.malformedJSON, "a high surrogate \\u escape is not followed by a low surrogate")
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                throw fail(.malformedJSON, "a lone low surrogate \\u escape")
            }
            appendUTF8(scalar, to: &bytes)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw fail(.malformedJSON, "a string is not valid UTF-8", at: start)
        }
        return text
    }

    /// Reads four hex digits of a `\u` escape.
    private mutating func readHex4() throws(MarketDataProtocolError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard pos < count else { throw fail(.malformedJSON, "truncated frame: a \\u escape is not complete") }
            let c = base[pos]
            let digit: UInt8
            switch c {
            case ASCII.zero...ASCII.nine: digit = c - ASCII.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: throw fail(.malformedJSON, "a \\u escape needs four hex digits")
            }
            value = value << 4 | UInt32(digit)
            pos += 1
        }
        return value
    }

    private func appendUTF8(_ scalar: UInt32, to bytes: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            bytes.append(UInt8(scalar))
        case 0x80..<0x800:
            bytes.append(UInt8(0xC0 | scalar >> 6))
            bytes.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            bytes.append(UInt8(0xE0 | scalar >> 12))
            bytes.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            bytes.append(UInt8(0x80 | scalar & 0x3F))
        default:
            bytes.append(UInt8(0xF0 | scalar >> 18))
            bytes.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            bytes.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            bytes.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Skips a string (at its opening quote), checking escapes and control characters.
    mutating func skipString() throws(MarketDataProtocolError) {
        pos += 1
        while pos < count {
            let c = base[pos]
            if c == ASCII.quote {
                pos += 1
                return
            }
            if c < 0x20 { throw fail(.malformedJSON, "a control character must be escaped inside a string") }
            if c == ASCII.backslash {
                pos += 1
                guard pos < count else { break }
                switch base[pos] {
                case ASCII.quote, ASCII.backslash, UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    pos += 1
                case UInt8(ascii: "u"):
                    pos += 1
                    _ = try readHex4()
                default:
                    throw fail(.malformedJSON, "an invalid escape in a string")
                }
                continue
            }
            pos += 1
        }
        throw fail(.malformedJSON, "truncated frame: a string is not terminated")
    }

    /// Skips any JSON value, checking its grammar; nesting deeper than ``maximumDepth`` is refused.
    mutating func skipValue(depth: Int = 0) throws(MarketDataProtocolError) {
        skipWhitespace()
        switch peek() {
        case ASCII.quote:
            try skipString()
        case ASCII.openBrace:
            guard depth < Self.maximumDepth else { throw fail(.malformedJSON, "JSON nested too deeply") }
            guard try beginObject() else { return }
            repeat {
                skipWhitespace()
                guard peek() == ASCII.quote else { throw unexpected("a member name in double quotes") }
                try skipString()
                try expect(ASCII.colon, "':' after a member name")
                try skipValue(depth: depth + 1)
            } while try nextMember()
        case ASCII.openBracket:
            guard depth < Self.maximumDepth else { throw fail(.malformedJSON, "JSON nested too deeply") }
            guard try beginArray() else { return }
            repeat {
                try skipValue(depth: depth + 1)
            } while try nextElement()
        case UInt8(ascii: "t"):
            try literal("true")
        case UInt8(ascii: "f"):
            try literal("false")
        case UInt8(ascii: "n"):
            try literal("null")
        case ASCII.minus, ASCII.zero...ASCII.nine:
            _ = try scanNumber()
        default:
            throw unexpected("a JSON value")
        }
    }

    // MARK: Timestamps

    /// Reads an ISO-8601 timestamp string as Unix epoch milliseconds (see ``WireTime/parse(_:_:)``).
    @inline(__always)
    mutating func readTimestamp(_ field: String) throws(MarketDataProtocolError) -> Int64 {
        guard peek() == ASCII.quote else { throw shapeError("\(field) must be an ISO-8601 string") }
        let start = pos + 1
        var end = start
        while end < count {
            let c = base[end]
            if c == ASCII.quote || c == ASCII.backslash || c < 0x20 { break }
            end += 1
        }
        if end < count && base[end] == ASCII.quote {
            guard let millis = WireTime.parse(base + start, end - start) else {
                throw fail(
                    .invalidValue, "\(field) is not an ISO-8601 UTC timestamp like 2017-04-13T11:00:00.000Z", at: start)
            }
            pos = end + 1
            return millis
        }
        let text = Array(try readString().utf8)
        let millis = text.withUnsafeBufferPointer { buffer -> Int64? in
            guard let address = buffer.baseAddress else { return nil }
            return WireTime.parse(address, buffer.count)
        }
        guard let millis else {
            throw fail(
                .invalidValue, "\(field) is not an ISO-8601 UTC timestamp like 2017-04-13T11:00:00.000Z", at: start)
        }
        return millis
    }
}
