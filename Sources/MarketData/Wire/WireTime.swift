/// ISO-8601 timestamps ↔ Unix epoch milliseconds, by hand (proleptic Gregorian calendar, Howard Hinnant's
/// days-from-civil algorithm): no `DateFormatter`, no allocation on the parse path.
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
        guard month >= 1 && month <= 12, day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60,
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
        let days = daysFromCivil(year: year, month: month, day: day)
        return ((days * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + second * 1000 + millis
    }

    /// Days in `month` of `year` (Gregorian).
    @inline(__always)
    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return leap ? 29 : 28
        case 4, 6, 9, 11:
            return 30
        default:
            return 31
        }
    }

    /// Days since 1970-01-01 of a civil date.
    @inline(__always)
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day count since 1970-01-01.
    static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// `2017-04-13T11:00:00.000Z` for epoch milliseconds (years 0…9999 print as four digits).
    static func format(milliseconds: Int64) -> String {
        let ms = milliseconds.modulo(86_400_000)
        let days = (milliseconds - ms) / 86_400_000
        let (year, month, day) = civilFromDays(days)
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

extension Int64 {
    /// The non-negative remainder of division by `divisor` (> 0).
    fileprivate func modulo(_ divisor: Int64) -> Int64 {
        let r = self % divisor
        return r < 0 ? r + divisor : r
    }
}
