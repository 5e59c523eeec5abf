internal import CandleCore

/// Fast, allocation-free text encoding and decoding of the values sinks write: integers, prices, UTC instants.
///
/// `Double.description` and date formatters cost about a microsecond per value; the file sink's goal of a million
/// candles per second leaves less than that per candle, so prices and times are formatted by hand here.
package enum CandleText {
    package static let zero = UInt8(ascii: "0")

    // MARK: Integers

    package static func appendInt(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            if value == .min {
                out.append(contentsOf: Array(String(value).utf8.dropFirst()))
                return
            }
            appendUnsigned(UInt64(-value), to: &out)
        } else {
            appendUnsigned(UInt64(value), to: &out)
        }
    }

    package static func appendUnsigned(_ value: UInt64, to out: inout [UInt8]) {
        if value < 10 {
            out.append(zero + UInt8(value))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var index = buffer.count
            var rest = value
            while rest > 0 {
                index -= 1
                buffer[index] = zero + UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[index...]))
        }
    }

    // MARK: Prices

    /// `value` × 10⁴ when that is a whole number that divides back to exactly `value` (so printing it with at most
    /// four decimals round-trips), else `nil`.
    package static func exactScaled4(_ value: Double) -> Int64? {
        let scaled = (value * 10_000).rounded()
        guard scaled.magnitude < 9.0e15, scaled / 10_000 == value else { return nil }
        return Int64(scaled)
    }

    /// `value` rounded to four decimals, × 10⁴, when that is within a rounding error of `value` (relative 10⁻¹²),
    /// else `nil`: what PostgreSQL's `decimal(12,4)` can hold without changing the price.
    package static func roundedScaled4(_ value: Double) -> Int64? {
        guard value.isFinite else { return nil }
        let scaled = (value * 10_000).rounded()
        guard scaled.magnitude < 9.0e15 else { return nil }
        guard (scaled / 10_000 - value).magnitude <= 1e-12 * max(1, value.magnitude) else { return nil }
        return Int64(scaled)
    }

    /// Writes a number scaled by 10⁴ as a decimal with up to four fraction digits, trailing zeros dropped
    /// (`210002500` → `21000.25`).
    package static func appendScaled4(_ scaled: Int64, to out: inout [UInt8]) {
        var magnitude = scaled.magnitude
        if scaled < 0 {
            out.append(UInt8(ascii: "-"))
        }
        let whole = magnitude / 10_000
        magnitude %= 10_000
        appendUnsigned(whole, to: &out)
        guard magnitude != 0 else { return }
        out.append(UInt8(ascii: "."))
        var divisor: UInt64 = 1000
        while magnitude != 0 {
            out.append(zero + UInt8(magnitude / divisor))
            magnitude %= divisor
            divisor /= 10
        }
    }

    /// Writes a price so that parsing it gives back exactly `value`: up to four decimals when that is exact,
    /// otherwise Swift's shortest round-trip form.
    package static func appendPrice(_ value: Double, to out: inout [UInt8]) {
        if let scaled = exactScaled4(value) {
            appendScaled4(scaled, to: &out)
        } else {
            out.append(contentsOf: Array(value.description.utf8))
        }
    }

    // MARK: Instants

    /// How a UTC instant is written.
    package enum TimeStyle {
        /// `2025-01-02T14:30:00Z` (files).
        case iso8601
        /// `2025-01-02 14:30:00+00` (PostgreSQL text input for `timestamptz`).
        case postgres
    }

    /// Writes whole seconds since 1970 as a UTC date and time.
    package static func appendTime(_ seconds: Int64, style: TimeStyle, to out: inout [UInt8]) {
        let days = CivilDate.floorDivide(seconds, 86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = CivilDate.date(days: Int(days))
        guard (0...9999).contains(year) else {
            func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
            let clock = "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))"
            let text =
                "\(year)-\(two(month))-\(two(day))" + (style == .iso8601 ? "T\(clock)Z" : " \(clock)+00")
            out.append(contentsOf: Array(text.utf8))
            return
        }
        // YYYY-MM-DDTHH:MM:SSZ (20 bytes) or YYYY-MM-DD HH:MM:SS+00 (22 bytes), written in one append.
        var text: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let length = style == .iso8601 ? 20 : 22
        withUnsafeMutableBytes(of: &text) { buffer in
            func put(_ value: Int, _ width: Int, at position: Int) {
                var rest = value
                for index in stride(from: position + width - 1, through: position, by: -1) {
                    buffer[index] = zero + UInt8(rest % 10)
                    rest /= 10
                }
            }
            put(year, 4, at: 0)
            buffer[4] = UInt8(ascii: "-")
            put(month, 2, at: 5)
            buffer[7] = UInt8(ascii: "-")
            put(day, 2, at: 8)
            buffer[10] = style == .iso8601 ? UInt8(ascii: "T") : UInt8(ascii: " ")
            put(secondOfDay / 3600, 2, at: 11)
            buffer[13] = UInt8(ascii: ":")
            put(secondOfDay / 60 % 60, 2, at: 14)
            buffer[16] = UInt8(ascii: ":")
            put(secondOfDay % 60, 2, at: 17)
            if style == .iso8601 {
                buffer[19] = UInt8(ascii: "Z")
            } else {
                buffer[19] = UInt8(ascii: "+")
                buffer[20] = zero
                buffer[21] = zero
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<length]))
        }
    }

    /// The text of ``appendTime(_:style:to:)`` as a `String`.
    package static func time(_ seconds: Int64, style: TimeStyle) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendTime(seconds, style: style, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Parsing

    /// Parses `YYYY-MM-DDTHH:MM:SSZ` (also `+00:00` / `+00` instead of `Z`, and a space instead of `T`) into whole
    /// seconds since 1970; `nil` for anything else.
    package static func parseTime(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard text.count >= 20 else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for index in from..<(from + count) {
                let digit = Int(text[index]) - Int(zero)
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard text[4] == UInt8(ascii: "-"), text[7] == UInt8(ascii: "-"),
            text[10] == UInt8(ascii: "T") || text[10] == UInt8(ascii: " "),
            text[13] == UInt8(ascii: ":"), text[16] == UInt8(ascii: ":"),
            let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
            let minute = number(14, 2), let second = number(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60
        else { return nil }
        let zone = text.count - 19
        let isUTC =
            (zone == 1 && text[19] == UInt8(ascii: "Z"))
            || ((zone == 3 || zone == 6) && text[19] == UInt8(ascii: "+") && text[20] == zero && text[21] == zero
                && (zone == 3 || (text[22] == UInt8(ascii: ":") && text[23] == zero && text[24] == zero)))
        guard isUTC else { return nil }
        let days = Int64(CivilDate.days(year: year, month: month, day: day))
        return days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// Parses an optionally negative decimal integer.
    package static func parseInt(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard !text.isEmpty else { return nil }
        var index = 0
        let negative = text[0] == UInt8(ascii: "-")
        if negative {
            index = 1
            guard text.count > 1 else { return nil }
        }
        var value: Int64 = 0
        while index < text.count {
            let digit = Int64(text[index]) - Int64(zero)
            guard (0...9).contains(digit) else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = times10.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = next
            index += 1
        }
        return negative ? -value : value
    }

    /// Parses a decimal number. Plain decimals with up to 15 significant digits take an exact fast path
    /// (one correctly rounded division, the same result as `strtod`); anything else goes through `Double(_:)`.
    package static func parseDouble(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        guard !text.isEmpty else { return nil }
        var index = 0
        let negative = text[0] == UInt8(ascii: "-")
        if negative { index = 1 }
        var mantissa: Int64 = 0
        var digits = 0
        var fractionDigits = 0
        var seenPoint = false
        var simple = index < text.count
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: ".") && !seenPoint {
                seenPoint = true
            } else if byte >= zero && byte <= zero + 9 {
                mantissa = mantissa * 10 + Int64(byte - zero)
                digits += 1
                if seenPoint { fractionDigits += 1 }
                if digits > 15 || fractionDigits > 8 {
                    simple = false
                    break
                }
            } else {
                simple = false
                break
            }
            index += 1
        }
        if simple && digits > 0 {
            let value = Double(mantissa) / powersOfTen[fractionDigits]
            return negative ? -value : value
        }
        return Double(String(decoding: text, as: UTF8.self))
    }

    private static let powersOfTen: [Double] = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8]
}
