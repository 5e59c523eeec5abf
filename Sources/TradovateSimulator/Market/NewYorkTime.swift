/// Closed-form America/New_York offsets (US rules since 2007: daylight time from the second Sunday of March 02:00 to
/// the first Sunday of November 02:00 local), so the hot path of the market model never touches Foundation's
/// `TimeZone`. Used only for the intraday volume and volatility profile; the trading calendar itself still comes from
/// CandleCore's `TradingCalendar`.
enum NewYorkTime {
    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// (year, month, day) of a day count since 1970-01-01 (`civil_from_days`).
    static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Weekday of a day count since 1970-01-01: 0 = Sunday … 6 = Saturday.
    static func weekday(_ days: Int64) -> Int64 {
        let w = (days + 4) % 7
        return w >= 0 ? w : w + 7
    }

    /// The UTC minutes of the daylight-time start and end in `year`.
    static func daylightBounds(year: Int64) -> (start: Int64, end: Int64) {
        let march1 = daysFromCivil(year: year, month: 3, day: 1)
        let secondSunday = march1 + (7 - weekday(march1)) % 7 + 7
        let november1 = daysFromCivil(year: year, month: 11, day: 1)
        let firstSunday = november1 + (7 - weekday(november1)) % 7
        // 02:00 EST = 07:00 UTC; 02:00 EDT = 06:00 UTC.
        return (secondSunday * 1440 + 7 * 60, firstSunday * 1440 + 6 * 60)
    }

    /// The New York offset from UTC in minutes (−240 in summer, −300 in winter) at a UTC epoch minute.
    static func offsetMinutes(epochMinute: Int64) -> Int64 {
        let days = floorDiv(epochMinute, 1440)
        let year = civilFromDays(days).year
        let bounds = daylightBounds(year: year)
        return epochMinute >= bounds.start && epochMinute < bounds.end ? -240 : -300
    }

    /// Minutes since New York midnight at a UTC epoch minute.
    static func minuteOfDay(epochMinute: Int64) -> Int {
        let local = epochMinute + offsetMinutes(epochMinute: epochMinute)
        return Int(local - floorDiv(local, 1440) * 1440)
    }

    @inline(__always)
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

/// A cache of one day's New York offset, for loops that walk minutes in order.
struct NewYorkDayCache {
    private var day: Int64 = .min
    private var bounds: (start: Int64, end: Int64) = (0, 0)

    /// Minutes since New York midnight at a UTC epoch minute.
    mutating func minuteOfDay(epochMinute: Int64) -> Int {
        let d = NewYorkTime.floorDiv(epochMinute, 1440)
        if d != day {
            day = d
            bounds = NewYorkTime.daylightBounds(year: NewYorkTime.civilFromDays(d).year)
        }
        let offset: Int64 = epochMinute >= bounds.start && epochMinute < bounds.end ? -240 : -300
        let local = epochMinute + offset
        return Int(local - NewYorkTime.floorDiv(local, 1440) * 1440)
    }
}
