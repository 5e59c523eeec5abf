/// Proleptic Gregorian calendar arithmetic on day numbers (1970-01-01 is day 0, earlier days are negative), after
/// Howard Hinnant's `days_from_civil` / `civil_from_days`: exact, allocation-free and free of time zones.
///
/// The one implementation the package uses wherever a date is computed without Foundation's `Calendar` (cron
/// schedules, holiday tables, candle text, log timestamps, the simulator's New York clock).
package enum CivilDate {
    /// Days from 1970-01-01 to `year-month-day` (negative before it). `month` is 1…12; `day` may overflow the month.
    @inlinable
    package static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` days after 1970-01-01.
    @inlinable
    package static func date(days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// The weekday of a day number, 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday).
    @inlinable
    package static func weekday(days: Int) -> Int { (days % 7 + 11) % 7 }

    /// Whether `year` has a February 29.
    @inlinable
    package static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// The number of days in `month` (1…12) of `year`.
    @inlinable
    package static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The longest `month` (1…12) can be in any year (February: 29).
    @inlinable
    package static func maximumDays(month: Int) -> Int { month == 2 ? 29 : daysInMonth(year: 2001, month: month) }

    /// `value / divisor` rounded towards negative infinity (e.g. the day number of a second count before 1970).
    @inlinable
    package static func floorDivide<Value: BinaryInteger>(_ value: Value, _ divisor: Value) -> Value {
        let quotient = value / divisor
        return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
