internal import Collectors
/// Exact powers of ten representable as `Double` (10^0 … 10^22).
private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
    1e20, 1e21, 1e22,
]

/// Number scanning of ``WireScanner``: integers and doubles, exact on the fast path, via the standard library
/// otherwise.
extension WireScanner {
    // MARK: Numbers

    /// What ``scanNumber()`` found.
    struct NumberScan {
        /// The first byte of the number.
        var start: Int
        /// The significant digits as an integer, valid when ``fastDigits`` is true.
        var mantissa: UInt64
        /// Whether the number has at most 15 significant digits (so ``mantissa`` is exact in a `Double`).
        var fastDigits: Bool
        /// Digits after the decimal point.
        var fractionDigits: Int
        /// Whether an exponent part is present.
        var hasExponent: Bool
        /// Whether the number starts with `-`.
        var negative: Bool
    }

    /// Consumes one number, checking the JSON grammar.
    @inline(__always)
    mutating func scanNumber() throws(MarketDataProtocolError) -> NumberScan {
        let start = pos
        var negative = false
        if peek() == ASCII.minus {
            negative = true
            pos += 1
        }
        var mantissa: UInt64 = 0
        var significant = 0
        var c = peek()
        if c == ASCII.zero {
            pos += 1
            c = peek()
        } else if c > ASCII.zero && c <= ASCII.nine {
            repeat {
                if significant < 19 { mantissa = mantissa &* 10 &+ UInt64(c &- ASCII.zero) }
                significant += 1
                pos += 1
                c = peek()
            } while c >= ASCII.zero && c <= ASCII.nine
        } else {
            throw unexpected("a digit")
        }
        var fractionDigits = 0
        if c == ASCII.dot {
            pos += 1
            c = peek()
            guard c >= ASCII.zero && c <= ASCII.nine else { throw unexpected("a digit after '.'") }
            repeat {
                if mantissa != 0 || c != ASCII.zero {
                    if significant < 19 { mantissa = mantissa &* 10 &+ UInt64(c &- ASCII.zero) }
                    significant += 1
                }
                fractionDigits += 1
                pos += 1
                c = peek()
            } while c >= ASCII.zero && c <= ASCII.nine
        }
        var hasExponent = false
        if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            hasExponent = true
            pos += 1
            c = peek()
            if c == ASCII.plus || c == ASCII.minus {
                pos += 1
                c = peek()
            }
            guard c >= ASCII.zero && c <= ASCII.nine else { throw unexpected("a digit in the exponent") }
            repeat {
                pos += 1
                c = peek()
            } while c >= ASCII.zero && c <= ASCII.nine
        }
        return NumberScan(
            start: start, mantissa: mantissa, fastDigits: significant <= 15, fractionDigits: fractionDigits,
            hasExponent: hasExponent, negative: negative)
    }

    /// Reads a number as a `Double`, equal to `Double(String)` of its text: short decimals exactly by one division
    /// (both operands exact, so the quotient is correctly rounded), anything else through the standard library.
    @inline(__always)
    mutating func readDouble(_ field: String) throws(MarketDataProtocolError) -> Double {
        let c = peek()
        guard c == ASCII.minus || (c >= ASCII.zero && c <= ASCII.nine) else {
            throw shapeError("\(field) must be a number")
        }
        let n = try scanNumber()
        if n.fastDigits && !n.hasExponent && n.fractionDigits <= 22 {
            let value = Double(n.mantissa) / exactPowersOfTen[n.fractionDigits]
            return n.negative ? -value : value
        }
        return try slowDouble(n, field)
    }

    @inline(never)
    private func slowDouble(_ n: NumberScan, _ field: String) throws(MarketDataProtocolError) -> Double {
        let text = String(decoding: UnsafeBufferPointer(start: base + n.start, count: pos - n.start), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw fail(.invalidValue, "\(field) \(text) is not a finite number", at: n.start)
        }
        return value
    }

    /// Reads an integer (`4712`, `-3`, also `4.712e3` when the value is a whole number that fits in 64 bits).
    @inline(__always)
    mutating func readInt64(_ field: String) throws(MarketDataProtocolError) -> Int64 {
        let c = peek()
        guard c == ASCII.minus || (c >= ASCII.zero && c <= ASCII.nine) else {
            throw shapeError("\(field) must be an integer")
        }
        let n = try scanNumber()
        if n.fastDigits && n.fractionDigits == 0 && !n.hasExponent {
            let value = Int64(n.mantissa)
            return n.negative ? -value : value
        }
        return try slowInt64(n, field)
    }

    @inline(never)
    private func slowInt64(_ n: NumberScan, _ field: String) throws(MarketDataProtocolError) -> Int64 {
        let text = String(decoding: UnsafeBufferPointer(start: base + n.start, count: pos - n.start), as: UTF8.self)
        if n.fractionDigits == 0 && !n.hasExponent, let value = Int64(text) {
            return value
        }
        guard let double = Double(text), let value = Int64(exactly: double) else {
            throw fail(.invalidValue, "\(field) \(text) is not an integer that fits in 64 bits", at: n.start)
        }
        return value
    }

    /// Reads an integer as `Int`.
    @inline(__always)
    mutating func readInt(_ field: String) throws(MarketDataProtocolError) -> Int {
        let start = pos
        let value = try readInt64(field)
        guard let result = Int(exactly: value) else {
            throw fail(.invalidValue, "\(field) \(value) does not fit in Int", at: start)
        }
        return result
    }
}
