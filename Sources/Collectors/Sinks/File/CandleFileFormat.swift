import CandleCore
import Foundation

/// How the file sink writes bars: CSV with a header (the default) or JSON Lines.
///
/// Both hold one bar per line with the same fields, times in UTC ISO-8601 (`2025-01-02T14:30:00Z`):
/// `symbol, start, open, high, low, close, volume, up_volume, down_volume, up_ticks, down_ticks, bid_volume,
/// offer_volume, is_final` (`volume` = up + down, written for readers' convenience and ignored when reading;
/// `bid_volume` / `offer_volume` are empty in CSV and `null` in JSON when the source did not report them).
public struct CandleFileFormat: Sendable, Hashable, CustomStringConvertible {
    private enum Base: String, Sendable, Hashable {
        case csv
        case jsonLines
    }

    private let base: Base

    private init(_ base: Base) {
        self.base = base
    }

    /// Comma-separated values with a header line; files end in `.csv`.
    public static let csv = CandleFileFormat(.csv)
    /// One JSON object per line, no header; files end in `.jsonl`.
    public static let jsonLines = CandleFileFormat(.jsonLines)

    /// `csv` or `jsonl`.
    public var fileExtension: String { base == .csv ? "csv" : "jsonl" }

    public var description: String { base.rawValue }

    var isCSV: Bool { base == .csv }
}

/// Where the file sink keeps each series: `<directory>/<ROOT>/<timeframe label>.<csv|jsonl>`, e.g.
/// `data/NQ/5min.csv`. The contract symbol is a column, so one file holds the whole series across rolls.
enum CandleFileLayout {
    static func path(directory: String, series: Series, format: CandleFileFormat) -> String {
        "\(directory)/\(series.instrument.root)/\(series.timeframe.label).\(format.fileExtension)"
    }

    static func directory(of url: URL) -> String {
        let path = url.path(percentEncoded: false)
        return path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }
}

/// Encodes and decodes the lines of a series file, and recovers a torn tail.
enum CandleFileCodec {
    static let csvHeader = Array(
        "symbol,start,open,high,low,close,volume,up_volume,down_volume,up_ticks,down_ticks,bid_volume,offer_volume,is_final\n"
            .utf8)

    static let newline = UInt8(ascii: "\n")
    private static let comma = UInt8(ascii: ",")
    private static let quote = UInt8(ascii: "\"")

    /// The bytes a new file starts with: the CSV header, or nothing for JSON Lines.
    static func header(_ format: CandleFileFormat) -> [UInt8] {
        format.isCSV ? csvHeader : []
    }

    // MARK: Encoding

    /// Appends one line (with its newline) for a bar.
    static func append(_ key: BarKey, _ values: BarValues, format: CandleFileFormat, to out: inout [UInt8]) {
        if format.isCSV {
            appendCSV(key, values, to: &out)
        } else {
            appendJSON(key, values, to: &out)
        }
    }

    private static func appendCSV(_ key: BarKey, _ values: BarValues, to out: inout [UInt8]) {
        let symbol = key.symbol.utf8
        if symbol.contains(where: { $0 == comma || $0 == quote || $0 == newline || $0 == UInt8(ascii: "\r") }) {
            out.append(quote)
            for byte in symbol {
                if byte == quote { out.append(quote) }
                out.append(byte)
            }
            out.append(quote)
        } else {
            out.append(contentsOf: symbol)
        }
        appendFields(key, values, csvSyntax, to: &out)
    }

    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)
    private static let nullBytes = Array("null".utf8)
    private static let jsonSymbolPrefix = Array("{\"symbol\":\"".utf8)

    private static func appendJSON(_ key: BarKey, _ values: BarValues, to out: inout [UInt8]) {
        out.append(contentsOf: jsonSymbolPrefix)
        for byte in key.symbol.utf8 {
            switch byte {
            case quote, UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default:
                out.append(byte)
            }
        }
        appendFields(key, values, jsonSyntax, to: &out)
    }

    /// How one format writes the fields after the symbol: the bytes before each of the 13 fields, the text of an
    /// absent volume, and the line's end.
    private struct FieldSyntax {
        let prefixes: [[UInt8]]
        let absent: [UInt8]
        let end: [UInt8]
    }

    private static let csvSyntax = FieldSyntax(
        prefixes: Array(repeating: [comma], count: 13), absent: [], end: [newline])

    private static let jsonSyntax = FieldSyntax(
        prefixes: [
            "\",\"start\":\"", "\",\"open\":", ",\"high\":", ",\"low\":", ",\"close\":", ",\"volume\":",
            ",\"up_volume\":", ",\"down_volume\":", ",\"up_ticks\":", ",\"down_ticks\":", ",\"bid_volume\":",
            ",\"offer_volume\":", ",\"is_final\":",
        ].map { Array($0.utf8) },
        absent: nullBytes, end: Array("}\n".utf8))

    /// Writes start, prices, volumes, ticks and `is_final` in file order, each after its prefix, then the line's end.
    private static func appendFields(_ key: BarKey, _ values: BarValues, _ syntax: FieldSyntax, to out: inout [UInt8]) {
        let prefixes = syntax.prefixes
        func optional(_ value: Int64?) {
            if let value { CandleText.appendInt(value, to: &out) } else { out.append(contentsOf: syntax.absent) }
        }
        out.append(contentsOf: prefixes[0])
        CandleText.appendTime(key.start, style: .iso8601, to: &out)
        out.append(contentsOf: prefixes[1])
        CandleText.appendPrice(values.open, to: &out)
        out.append(contentsOf: prefixes[2])
        CandleText.appendPrice(values.high, to: &out)
        out.append(contentsOf: prefixes[3])
        CandleText.appendPrice(values.low, to: &out)
        out.append(contentsOf: prefixes[4])
        CandleText.appendPrice(values.close, to: &out)
        out.append(contentsOf: prefixes[5])
        CandleText.appendInt(values.upVolume &+ values.downVolume, to: &out)
        out.append(contentsOf: prefixes[6])
        CandleText.appendInt(values.upVolume, to: &out)
        out.append(contentsOf: prefixes[7])
        CandleText.appendInt(values.downVolume, to: &out)
        out.append(contentsOf: prefixes[8])
        CandleText.appendInt(values.upTicks, to: &out)
        out.append(contentsOf: prefixes[9])
        CandleText.appendInt(values.downTicks, to: &out)
        out.append(contentsOf: prefixes[10])
        optional(values.bidVolume)
        out.append(contentsOf: prefixes[11])
        optional(values.offerVolume)
        out.append(contentsOf: prefixes[12])
        out.append(contentsOf: values.isFinal ? trueBytes : falseBytes)
        out.append(contentsOf: syntax.end)
    }

    // MARK: Decoding

    /// The readable content of a file.
    struct Contents {
        /// Every well-formed line, in file order (a key may repeat: the last line wins).
        var lines: [(key: BarKey, values: BarValues)] = []
        /// Bytes up to the end of the last good line: what a writer keeps when it cuts a torn tail.
        var validLength = 0
        /// Whether the file lacks its header (empty, or torn before the header's newline).
        var needsHeader = false

        /// The bars of the lines by key (a later line of a key wins).
        /// - Throws: `corruptData` when a bar is off the grid of `series`.
        func bars(of series: Series, path: String) throws(CandleSinkError) -> BarIndex {
            var bars = BarIndex(barSeconds: series.timeframe.seconds)
            for line in lines {
                guard line.key.start % bars.barSeconds == 0 else {
                    throw CandleSinkError(
                        .corruptData, series: series,
                        "\(path) holds a bar at \(CandleText.time(line.key.start, style: .iso8601)), off the"
                            + " \(series.timeframe.label) grid")
                }
                bars[line.key] = line.values
            }
            return bars
        }
    }

    /// A file that cannot be read as a whole: a malformed header, or a malformed line followed by good ones.
    struct Corruption: Error, CustomStringConvertible {
        let path: String
        let line: Int
        let reason: String
        var description: String { "\(path) line \(line): \(reason)" }
    }

    /// Parses a whole file. A run of malformed or unterminated lines at the end is a **torn tail** (the remains of
    /// an interrupted write): it is left out and `validLength` stops before it. A malformed line *followed by* a
    /// good one is corruption, reported rather than guessed around.
    static func parse(_ bytes: [UInt8], format: CandleFileFormat, path: String) throws(Corruption) -> Contents {
        var contents = Contents()
        var firstBad: (offset: Int, line: Int, reason: String)?
        var lineNumber = 0
        var fieldEnds = [Int](repeating: 0, count: 16)
        var failure: Corruption?
        bytes.withUnsafeBufferPointer { buffer in
            var start = 0
            if format.isCSV {
                guard let end = buffer.firstIndex(of: newline) else {
                    contents.needsHeader = true
                    return
                }
                lineNumber = 1
                let header = Array(buffer[0...end])
                guard header == csvHeader || header == Array(csvHeader.dropLast()) + [UInt8(ascii: "\r"), newline]
                else {
                    failure = Corruption(path: path, line: 1, reason: "not an Orca candle CSV header")
                    return
                }
                start = end + 1
                contents.validLength = start
            }
            contents.lines.reserveCapacity(bytes.count / 80)
            while start < buffer.count {
                lineNumber += 1
                guard let end = buffer[start...].firstIndex(of: newline) else {
                    // Unterminated last line: torn.
                    if firstBad == nil { firstBad = (start, lineNumber, "unterminated last line") }
                    break
                }
                var lineEnd = end
                if lineEnd > start && buffer[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
                let line = UnsafeBufferPointer(rebasing: buffer[start..<lineEnd])
                if line.isEmpty {
                    if firstBad == nil { contents.validLength = end + 1 }
                    start = end + 1
                    continue
                }
                let decoded =
                    format.isCSV ? decodeCSV(line, fieldEnds: &fieldEnds) : decodeJSON(line)
                if let decoded {
                    if let bad = firstBad {
                        failure = Corruption(
                            path: path, line: bad.line, reason: "malformed line followed by good lines (\(bad.reason))")
                        return
                    }
                    contents.lines.append(decoded)
                    contents.validLength = end + 1
                } else if firstBad == nil {
                    firstBad = (start, lineNumber, "malformed line")
                }
                start = end + 1
            }
        }
        if let failure { throw failure }
        return contents
    }

    /// Splits a CSV line into its 14 fields (a quoted first field is allowed) and decodes them.
    private static func decodeCSV(
        _ line: UnsafeBufferPointer<UInt8>, fieldEnds: inout [Int]
    ) -> (key: BarKey, values: BarValues)? {
        var symbol: String
        var index = 0
        if line.first == quote {
            var bytes: [UInt8] = []
            index = 1
            while true {
                guard index < line.count else { return nil }
                if line[index] == quote {
                    if index + 1 < line.count && line[index + 1] == quote {
                        bytes.append(quote)
                        index += 2
                        continue
                    }
                    index += 1
                    break
                }
                bytes.append(line[index])
                index += 1
            }
            guard index < line.count, line[index] == comma else { return nil }
            symbol = String(decoding: bytes, as: UTF8.self)
        } else {
            guard let end = line.firstIndex(of: comma) else { return nil }
            symbol = String(decoding: UnsafeBufferPointer(rebasing: line[0..<end]), as: UTF8.self)
            index = end
        }
        guard !symbol.isEmpty else { return nil }
        // index sits on the comma after the symbol; collect the remaining 13 field boundaries.
        var count = 0
        var fieldStart = index + 1
        fieldEnds[0] = index
        var position = index + 1
        while position <= line.count {
            if position == line.count || line[position] == comma {
                count += 1
                guard count <= 13 else { return nil }
                fieldEnds[count] = position
                fieldStart = position + 1
            }
            position += 1
        }
        _ = fieldStart
        guard count == 13 else { return nil }
        func field(_ number: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: line[(fieldEnds[number - 1] + 1)..<fieldEnds[number]])
        }
        guard let start = CandleText.parseTime(field(1)),
            let open = CandleText.parseDouble(field(2)), let high = CandleText.parseDouble(field(3)),
            let low = CandleText.parseDouble(field(4)), let close = CandleText.parseDouble(field(5)),
            let upVolume = CandleText.parseInt(field(7)), let downVolume = CandleText.parseInt(field(8)),
            let upTicks = CandleText.parseInt(field(9)), let downTicks = CandleText.parseInt(field(10)),
            let isFinal = parseBool(field(13))
        else { return nil }
        let bid = field(11)
        let offer = field(12)
        var bidVolume: Int64?
        var offerVolume: Int64?
        if !bid.isEmpty {
            guard let value = CandleText.parseInt(bid) else { return nil }
            bidVolume = value
        }
        if !offer.isEmpty {
            guard let value = CandleText.parseInt(offer) else { return nil }
            offerVolume = value
        }
        return (
            BarKey(symbol: symbol, start: start),
            BarValues(
                open: open, high: high, low: low, close: close, upVolume: upVolume, downVolume: downVolume,
                upTicks: upTicks, downTicks: downTicks, bidVolume: bidVolume, offerVolume: offerVolume,
                isFinal: isFinal)
        )
    }

    private static func parseBool(_ text: UnsafeBufferPointer<UInt8>) -> Bool? {
        if text.elementsEqual(trueBytes) { return true }
        if text.elementsEqual(falseBytes) { return false }
        return nil
    }

    /// Decodes one flat JSON object of the format above, in any key order. Unknown keys and `volume` are ignored.
    private static func decodeJSON(_ line: UnsafeBufferPointer<UInt8>) -> (key: BarKey, values: BarValues)? {
        var symbol: String?
        var start: Int64?
        var prices: (open: Double?, high: Double?, low: Double?, close: Double?) = (nil, nil, nil, nil)
        var counts: (up: Int64?, down: Int64?, upTicks: Int64?, downTicks: Int64?) = (nil, nil, nil, nil)
        var bidVolume: Int64?
        var offerVolume: Int64?
        var isFinal: Bool?
        var malformed = false
        var scanner = FlatJSONScanner(line)
        let complete = scanner.forEachField { key, value in
            func price() -> Double? {
                guard case .number(let text) = value, let number = CandleText.parseDouble(text) else {
                    malformed = true
                    return nil
                }
                return number
            }
            func integer(nullable: Bool = false) -> Int64? {
                if nullable, case .null = value { return nil }
                guard case .number(let text) = value, let number = CandleText.parseInt(text) else {
                    malformed = true
                    return nil
                }
                return number
            }
            switch JSONKey(key) {
            case .symbol:
                symbol = value.text
                if symbol == nil { malformed = true }
            case .start:
                start = value.withText { CandleText.parseTime($0) }
                if start == nil { malformed = true }
            case .open: prices.open = price()
            case .high: prices.high = price()
            case .low: prices.low = price()
            case .close: prices.close = price()
            case .upVolume: counts.up = integer()
            case .downVolume: counts.down = integer()
            case .upTicks: counts.upTicks = integer()
            case .downTicks: counts.downTicks = integer()
            case .bidVolume: bidVolume = integer(nullable: true)
            case .offerVolume: offerVolume = integer(nullable: true)
            case .isFinal:
                if case .bool(let flag) = value { isFinal = flag } else { malformed = true }
            case .other:
                break
            }
        }
        guard complete, !malformed, let symbol, !symbol.isEmpty, let start, let open = prices.open,
            let high = prices.high, let low = prices.low, let close = prices.close, let upVolume = counts.up,
            let downVolume = counts.down, let upTicks = counts.upTicks, let downTicks = counts.downTicks,
            let isFinal
        else { return nil }
        return (
            BarKey(symbol: symbol, start: start),
            BarValues(
                open: open, high: high, low: low, close: close, upVolume: upVolume, downVolume: downVolume,
                upTicks: upTicks, downTicks: downTicks, bidVolume: bidVolume, offerVolume: offerVolume,
                isFinal: isFinal)
        )
    }

    /// The keys of a JSON Lines bar.
    private enum JSONKey {
        case symbol, start, open, high, low, close, upVolume, downVolume, upTicks, downTicks, bidVolume, offerVolume
        case isFinal, other

        private static let spelled: [(JSONKey, String)] = [
            (.symbol, "symbol"), (.start, "start"), (.open, "open"), (.high, "high"), (.low, "low"), (.close, "close"),
            (.upVolume, "up_volume"), (.downVolume, "down_volume"), (.upTicks, "up_ticks"),
            (.downTicks, "down_ticks"), (.bidVolume, "bid_volume"), (.offerVolume, "offer_volume"),
            (.isFinal, "is_final"),
        ]
        private static let names: [(JSONKey, [UInt8])] = spelled.map { ($0.0, Array($0.1.utf8)) }

        init(_ bytes: UnsafeBufferPointer<UInt8>) {
            self = Self.names.first { $0.1.count == bytes.count && $0.1.elementsEqual(bytes) }?.0 ?? .other
        }
    }
}

/// A scanner for one flat JSON object whose values are strings, numbers, booleans or null (no nesting); it hands
/// each field to a closure without building a dictionary.
private struct FlatJSONScanner {
    enum Value {
        /// A string without escapes, as its raw bytes.
        case raw(UnsafeBufferPointer<UInt8>)
        /// A string with escapes, decoded.
        case decoded(String)
        case number(UnsafeBufferPointer<UInt8>)
        case bool(Bool)
        case null

        /// The string value, if this is a string.
        var text: String? {
            switch self {
            case .raw(let bytes): String(decoding: bytes, as: UTF8.self)
            case .decoded(let string): string
            default: nil
            }
        }

        /// Calls `body` with the UTF-8 bytes of a string value; `nil` for other values.
        func withText<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result?) -> Result? {
            switch self {
            case .raw(let bytes): body(bytes)
            case .decoded(let string): Array(string.utf8).withUnsafeBufferPointer { body($0) }
            default: nil
            }
        }
    }

    private let text: UnsafeBufferPointer<UInt8>
    private var index = 0

    init(_ text: UnsafeBufferPointer<UInt8>) {
        self.text = text
    }

    /// Calls `visit(key, value)` for each field; `false` when the text is not one flat object.
    mutating func forEachField(_ visit: (UnsafeBufferPointer<UInt8>, Value) -> Void) -> Bool {
        skipSpaces()
        guard take(UInt8(ascii: "{")) else { return false }
        skipSpaces()
        if take(UInt8(ascii: "}")) { return finished() }
        while true {
            skipSpaces()
            guard let key = string() else { return false }
            skipSpaces()
            guard take(UInt8(ascii: ":")) else { return false }
            skipSpaces()
            guard let value = value() else { return false }
            switch key {
            case .raw(let bytes):
                visit(bytes, value)
            case .decoded(let string):
                Array(string.utf8).withUnsafeBufferPointer { visit($0, value) }
            default:
                return false
            }
            skipSpaces()
            if take(UInt8(ascii: ",")) { continue }
            guard take(UInt8(ascii: "}")) else { return false }
            return finished()
        }
    }

    private mutating func finished() -> Bool {
        skipSpaces()
        return index == text.count
    }

    private mutating func value() -> Value? {
        guard index < text.count else { return nil }
        switch text[index] {
        case UInt8(ascii: "\""):
            return string()
        case UInt8(ascii: "t"):
            return literal("true") ? .bool(true) : nil
        case UInt8(ascii: "f"):
            return literal("false") ? .bool(false) : nil
        case UInt8(ascii: "n"):
            return literal("null") ? .null : nil
        default:
            let start = index
            while index < text.count, text[index] != UInt8(ascii: ","), text[index] != UInt8(ascii: "}"),
                text[index] != UInt8(ascii: " ")
            {
                index += 1
            }
            return index > start ? .number(UnsafeBufferPointer(rebasing: text[start..<index])) : nil
        }
    }

    /// A string: its raw bytes when it has no escapes (the usual case), else decoded.
    private mutating func string() -> Value? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return .raw(UnsafeBufferPointer(rebasing: text[start..<(index - 1)]))
            }
            if byte == UInt8(ascii: "\\") { break }
            index += 1
        }
        index = start
        var bytes: [UInt8] = []
        while index < text.count {
            let byte = text[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return .decoded(String(decoding: bytes, as: UTF8.self))
            case UInt8(ascii: "\\"):
                guard index < text.count else { return nil }
                let escaped = text[index]
                index += 1
                if let byte = JSONString.unescaped(escaped) {
                    bytes.append(byte)
                } else {
                    guard escaped == UInt8(ascii: "u"), index + 4 <= text.count,
                        let code = UInt32(
                            String(decoding: UnsafeBufferPointer(rebasing: text[index..<(index + 4)]), as: UTF8.self),
                            radix: 16),
                        let scalar = Unicode.Scalar(code)
                    else { return nil }
                    bytes.append(contentsOf: Array(String(Character(scalar)).utf8))
                    index += 4
                }
            default:
                bytes.append(byte)
            }
        }
        return nil
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= text.count else { return false }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        guard text[index..<(index + count)].elementsEqual(expected) else { return false }
        index += count
        return true
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < text.count, text[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipSpaces() {
        while index < text.count, text[index] == UInt8(ascii: " ") || text[index] == UInt8(ascii: "\t") {
            index += 1
        }
    }
}
