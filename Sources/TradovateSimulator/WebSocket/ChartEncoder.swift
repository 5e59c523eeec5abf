import Foundation

/// Writes prices that are whole multiples of a tick size as exact decimal JSON numbers (`21334.25`, `2333`).
struct PriceFormatter: Sendable {
    private let decimals: Int
    private let scale: Int64
    private let power: Int64
    private let tickSize: Double

    init(tickSize: Double) {
        self.tickSize = tickSize
        var found: (Int, Int64)? = nil
        var power: Int64 = 1
        for d in 0...9 {
            let scaled = tickSize * Double(power)
            if abs(scaled - scaled.rounded()) < 1e-9 * Double(power), scaled.rounded() >= 1 {
                found = (d, Int64(scaled.rounded()))
                break
            }
            power *= 10
        }
        self.decimals = found?.0 ?? -1
        self.scale = found?.1 ?? 0
        self.power = found == nil ? 1 : power
    }

    @inline(__always)
    func append(ticks: Int64, to bytes: inout [UInt8]) {
        guard decimals >= 0 else {
            bytes.append(contentsOf: Array(String(Double(ticks) * tickSize).utf8))
            return
        }
        var value = ticks * scale
        if value < 0 {
            bytes.append(45)
            value = -value
        }
        ChartEncoder.appendInteger(value / power, to: &bytes)
        var fraction = value % power
        guard fraction != 0 else { return }
        bytes.append(46)
        var digits = decimals
        var divisor = power / 10
        while digits > 0 && fraction != 0 {
            bytes.append(UInt8(48 + fraction / divisor))
            fraction %= divisor
            divisor /= 10
            digits -= 1
        }
    }
}

/// Builds chart packets as JSON bytes, fast (history is the simulator's hot path).
enum ChartEncoder {
    @inline(__always)
    static func appendInteger(_ value: Int64, to bytes: inout [UInt8]) {
        if value < 0 {
            bytes.append(45)
            appendInteger(-value, to: &bytes)
            return
        }
        if value < 10 {
            bytes.append(UInt8(48 + value))
            return
        }
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var v = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            while v > 0 {
                buffer[count] = UInt8(48 + v % 10)
                v /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[i]) }
        }
    }

    @inline(__always)
    private static func append(_ text: StaticString, to bytes: inout [UInt8]) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends one bar object.
    @inline(__always)
    static func appendBar(_ bar: AggregateBar, price: PriceFormatter, to bytes: inout [UInt8]) {
        append("{\"timestamp\":\"", to: &bytes)
        ISOTime.append(millis: bar.start * 60_000, to: &bytes)
        append("\",\"open\":", to: &bytes)
        price.append(ticks: bar.open, to: &bytes)
        append(",\"high\":", to: &bytes)
        price.append(ticks: bar.high, to: &bytes)
        append(",\"low\":", to: &bytes)
        price.append(ticks: bar.low, to: &bytes)
        append(",\"close\":", to: &bytes)
        price.append(ticks: bar.close, to: &bytes)
        append(",\"upVolume\":", to: &bytes)
        appendInteger(bar.upVolume, to: &bytes)
        append(",\"downVolume\":", to: &bytes)
        appendInteger(bar.downVolume, to: &bytes)
        append(",\"upTicks\":", to: &bytes)
        appendInteger(bar.upTicks, to: &bytes)
        append(",\"downTicks\":", to: &bytes)
        appendInteger(bar.downTicks, to: &bytes)
        append(",\"bidVolume\":", to: &bytes)
        appendInteger(bar.downVolume, to: &bytes)
        append(",\"offerVolume\":", to: &bytes)
        appendInteger(bar.upVolume, to: &bytes)
        bytes.append(125)
    }

    /// Chart items `{"id":…,"td":…,"bars":[…]}` for `bars` (ascending), one item per trade date.
    static func items(id: Int, bars: ArraySlice<AggregateBar>, price: PriceFormatter) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var index = bars.startIndex
        while index < bars.endIndex {
            let tradeDate = bars[index].tradeDate
            var bytes: [UInt8] = []
            bytes.reserveCapacity(64 + 240 * min(bars.endIndex - index, 2_000))
            append("{\"id\":", to: &bytes)
            appendInteger(Int64(id), to: &bytes)
            append(",\"td\":", to: &bytes)
            appendInteger(Int64(tradeDate), to: &bytes)
            append(",\"bars\":[", to: &bytes)
            var first = true
            while index < bars.endIndex && bars[index].tradeDate == tradeDate {
                if !first { bytes.append(44) }
                first = false
                appendBar(bars[index], price: price, to: &bytes)
                index += 1
            }
            append("]}", to: &bytes)
            result.append(bytes)
        }
        return result
    }

    /// The end-of-history item `{"id":…,"eoh":true}`.
    static func endOfHistory(id: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        append("{\"id\":", to: &bytes)
        appendInteger(Int64(id), to: &bytes)
        append(",\"eoh\":true}", to: &bytes)
        return bytes
    }
}
