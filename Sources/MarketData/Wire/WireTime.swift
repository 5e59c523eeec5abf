internal import CandleCore
internal import Collectors

/// ISO-8601 timestamps ↔ Unix epoch milliseconds, by hand (proleptic Gregorian calendar by CandleCore's `CivilDate`):
/// no `DateFormatter`, no allocation on the parse path.
enum WireTime {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (the fraction has 1–9 digits; digits past milliseconds are
    /// truncated) into epoch milliseconds; `nil` for anything else, including out-of-range fields (month 13, day 31
    /// of a 30-day month, 24:00:00, leap second 60).
    @inline(__always)
    static func parse(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int64? {
        guard n >= 20 else { return nil }
        @inline(__always) func digit(_ k: Int) -> Int64? {
            let d = p[k] &- 48
            return d < 10 ? Int64(d) : nil
        }
        @inline(__always) func two(_ k: Int) -> Int64? {
            guard let a = digit(k), let b = digit(k + 1) else { return nil }
            return a * 10 + b
        }
        guard let y1 = two(0), let y2 = two(2), p[4] == 0x2D, let month = two(5), p[7] == 0x2D, let day = two(8),
            p[10] == 0x54, let hour = two(11), p[13] == 0x3A, let minute = two(14), p[16] == 0x3A,
            let second = two(17)
        else { return nil }
        let year = y1 * 100 + y2
        guard month >= 1 && month <= 12, day >= 1, day <= CivilDate.daysInMonth(year: Int(year), month: Int(month)),
            hour < 24, minute < 60,
            second < 60
        else { return nil }
        var k = 19
        var millis: Int64 = 0
        if p[k] == 0x2E {
            k += 1
            var digits = 0
            while k < n, let d = digit(k) {
                if digits < 3 { millis = millis * 10 + d }
                digits += 1
                k += 1
            }
            guard digits >= 1 && digits <= 9 else { return nil }
            for _ in digits..<max(digits, 3) { millis *= 10 }
        }
        guard k < n else { return nil }
        var offsetMinutes: Int64 = 0
        switch p[k] {
        case 0x5A:  // Z
            k += 1
        case 0x2B, 0x2D:  // + -
            guard n - k == 6, let oh = two(k + 1), p[k + 3] == 0x3A, let om = two(k + 4), oh < 24, om < 60 else {
                return nil
            }
            offsetMinutes = (oh * 60 + om) * (p[k] == 0x2D ? -1 : 1)
            k += 6
        default:
            return nil
        }
        guard k == n else { return nil }
        let days = Int64(CivilDate.days(year: Int(year), month: Int(month), day: Int(day)))
        return ((days * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + second * 1000 + millis
    }

    /// `2017-04-13T11:00:00.000Z` for epoch milliseconds (years 0…9999 print as four digits).
    static func format(milliseconds: Int64) -> String {
        let days = CivilDate.floorDivide(milliseconds, 86_400_000)
        let ms = milliseconds - days * 86_400_000
        let date = CivilDate.date(days: Int(days))
        let (year, month, day) = (Int64(date.year), Int64(date.month), Int64(date.day))
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value.magnitude)
            let padded = String(repeating: "0", count: max(0, width - text.count)) + text
            return value < 0 ? "-" + padded : padded
        }
        let hour = ms / 3_600_000
        let minute = ms / 60_000 % 60
        let second = ms / 1000 % 60
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))."
            + "\(pad(ms % 1000, 3))Z"
    }
}
