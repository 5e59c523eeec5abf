internal import CandleCore

/// Closed-form America/New_York offsets (US rules since 2007: daylight time from the second Sunday of March 02:00 to
/// the first Sunday of November 02:00 local), so the hot path of the market model never touches Foundation's
/// `TimeZone`. Used only for the intraday volume and volatility profile; the trading calendar itself still comes from
/// CandleCore's `TradingCalendar`.
enum NewYorkTime {
    /// The UTC minutes of the daylight-time start and end in `year`.
    static func daylightBounds(year: Int) -> (start: Int64, end: Int64) {
        let march1 = CivilDate.days(year: year, month: 3, day: 1)
        let secondSunday = Int64(march1 + (7 - CivilDate.weekday(days: march1)) % 7 + 7)
        let november1 = CivilDate.days(year: year, month: 11, day: 1)
        let firstSunday = Int64(november1 + (7 - CivilDate.weekday(days: november1)) % 7)
        // 02:00 EST = 07:00 UTC; 02:00 EDT = 06:00 UTC.
        return (secondSunday * 1440 + 7 * 60, firstSunday * 1440 + 6 * 60)
    }

    /// The New York offset from UTC in minutes (−240 in summer, −300 in winter) at a UTC epoch minute.
    static func offsetMinutes(epochMinute: Int64) -> Int64 {
        let days = CivilDate.floorDivide(epochMinute, 1440)
        let year = CivilDate.date(days: Int(days)).year
        let bounds = daylightBounds(year: year)
        return epochMinute >= bounds.start && epochMinute < bounds.end ? -240 : -300
    }

    /// Minutes since New York midnight at a UTC epoch minute.
    static func minuteOfDay(epochMinute: Int64) -> Int {
        let local = epochMinute + offsetMinutes(epochMinute: epochMinute)
        return Int(local - CivilDate.floorDivide(local, 1440) * 1440)
    }
}

/// A cache of one day's New York offset, for loops that walk minutes in order.
struct NewYorkDayCache {
    private var day: Int64 = .min
    private var bounds: (start: Int64, end: Int64) = (0, 0)

    /// Minutes since New York midnight at a UTC epoch minute.
    mutating func minuteOfDay(epochMinute: Int64) -> Int {
        let d = CivilDate.floorDivide(epochMinute, 1440)
        if d != day {
            day = d
            bounds = NewYorkTime.daylightBounds(year: CivilDate.date(days: Int(d)).year)
        }
        let offset: Int64 = epochMinute >= bounds.start && epochMinute < bounds.end ? -240 : -300
        let local = epochMinute + offset
        return Int(local - CivilDate.floorDivide(local, 1440) * 1440)
    }
}
