internal import CandleCore

/// Closed-form America/New_York offsets (US rules since 2007: daylight time from the second Sunday of March 02:00 to
/// the first Sunday of November 02:00 local), so the hot path of the market model never touches Foundation's
/// `TimeZone`. Used only for the intraday volume and volatility profile; the trading calendar itself still comes from
/// CandleCore's `TradingCalendar`.
enum NewYorkTime {
    /// (year, month, day) of a day count since 1970-01-01 (the simulator's JSON timestamps).
    static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let date = CivilDate.date(days: Int(days))
        return (Int64(date.year), Int64(date.month), Int64(date.day))
    }

    /// The UTC minutes of the daylight-time start and end in `year`.
    static func daylightBounds(year: Int64) -> (start: Int64, end: Int64) {
        let march1 = CivilDate.days(year: Int(year), month: 3, day: 1)
        let secondSunday = Int64(march1 + (7 - CivilDate.weekday(days: march1)) % 7 + 7)
        let november1 = CivilDate.days(year: Int(year), month: 11, day: 1)
        let firstSunday = Int64(november1 + (7 - CivilDate.weekday(days: november1)) % 7)
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
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { CivilDate.floorDivide(a, b) }
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
