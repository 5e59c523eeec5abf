public import Foundation

/// A parsed cron schedule in the 5-field syntax of pg_cron and Vixie cron.
///
/// ```
/// ┌──────── minute        0–59
/// │ ┌────── hour          0–23
/// │ │ ┌──── day-of-month  1–31
/// │ │ │ ┌── month         1–12 or JAN–DEC
/// │ │ │ │ ┌ day-of-week   0–7 or SUN–SAT (0 and 7 are Sunday)
/// * * * * *
/// ```
///
/// Each field is `*`, a number, a range `1-5`, a stepped `*/15` or `10-50/20`, or a comma-separated list of those.
/// Names are three-letter and case-insensitive. The macros `@hourly`, `@daily`, `@midnight`, `@weekly`, `@monthly`,
/// `@yearly` and `@annually` are accepted. When both day fields are restricted (neither starts with `*`), a day
/// matches if **either** matches (the Vixie rule); otherwise it must match both.
///
/// Firing times are computed by ``next(after:in:)`` in a time zone (UTC by default, as pg_cron does) and
/// ``lint(in:)`` explains pitfalls in plain English. See `Docs/cron.md`.
///
/// Equality, hashing and `Codable` use the normalised ``expression``: `0 9 * * mon` equals `0 9 * * MON` but not
/// `0 9 * * 1`, and a schedule encodes as that single string.
public struct CronSchedule: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The normalised expression: fields separated by single spaces, names upper-cased (`0 9 * * MON-FRI`), or the
    /// macro in lower case (`@hourly`).
    public let expression: String

    let minuteSet: CronFieldSet
    let hourSet: CronFieldSet
    let dayOfMonthSet: CronFieldSet
    let monthSet: CronFieldSet
    let dayOfWeekSet: CronFieldSet

    /// How far ahead ``next(after:in:)`` searches, in years: one full 400-year Gregorian cycle, after which the
    /// calendar repeats. Schedules that can never fire (such as `0 0 30 2 *`) are recognised before any search.
    public static let searchHorizonInYears = 400

    /// Parses a cron expression.
    ///
    /// - Parameter expression: five whitespace-separated fields, or one of the supported macros.
    /// - Throws: ``CronParseError`` naming the field, its position and the reason, for example
    ///   `minute field '75': value 75 is out of range 0–59`.
    public init(_ expression: String) throws(CronParseError) {
        let result = try CronParser.parse(expression)
        self.expression = result.normalised
        minuteSet = result.fields[0]
        hourSet = result.fields[1]
        dayOfMonthSet = result.fields[2]
        monthSet = result.fields[3]
        dayOfWeekSet = result.fields[4]
    }

    /// The normalised expression; see ``expression``.
    public var description: String { expression }

    /// The minutes (0–59) the schedule fires at, ascending.
    public var minutes: [Int] { minuteSet.values }
    /// The hours (0–23) the schedule fires at, ascending.
    public var hours: [Int] { hourSet.values }
    /// The days of the month (1–31) the day-of-month field lists, ascending.
    public var daysOfMonth: [Int] { dayOfMonthSet.values }
    /// The months (1–12) the schedule fires in, ascending.
    public var months: [Int] { monthSet.values }
    /// The weekdays the day-of-week field lists, ascending, as 0–6 with Sunday as 0 (a written 7 appears as 0).
    public var daysOfWeek: [Int] { dayOfWeekSet.values }

    /// The normalised text of one field (for a macro, of the field in its 5-field equivalent).
    public func text(of field: CronField) -> String { set(for: field).text }

    /// Whether a day matches when **either** day field matches (the Vixie rule), which happens when neither the
    /// day-of-month nor the day-of-week field starts with `*`. When `false`, a day must match both fields.
    public var matchesEitherDayField: Bool { !dayOfMonthSet.isStarPrefixed && !dayOfWeekSet.isStarPrefixed }

    /// Whether the wall-clock minute containing `date`, read in `timeZone`, matches all five fields.
    ///
    /// This is the plain field test. It does not apply the daylight-saving rules of ``next(after:in:)``, under which
    /// a fixed-time job whose local time is skipped by a spring-forward jump fires at the jump instead.
    public func matches(_ date: Date, in timeZone: TimeZone = .gmt) -> Bool {
        let zone = CronZone(timeZone: timeZone)
        let wall = zone.wallTime(at: Int(date.timeIntervalSince1970.rounded(.down)))
        let weekday = CivilDate.weekday(days: CivilDate.days(year: wall.year, month: wall.month, day: wall.day))
        return minuteSet.contains(wall.minute) && hourSet.contains(wall.hour) && monthSet.contains(wall.month)
            && dayMatches(day: wall.day, weekday: weekday)
    }

    // MARK: Codable

    /// Decodes a schedule from a single string holding the expression.
    ///
    /// - Throws: `DecodingError.dataCorrupted` with the ``CronParseError`` description when the string is not a
    ///   valid expression.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try CronSchedule(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    /// Encodes the schedule as a single string: its normalised ``expression``.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(expression)
    }

    // MARK: Internals

    func set(for field: CronField) -> CronFieldSet {
        switch field {
        case .minute: minuteSet
        case .hour: hourSet
        case .dayOfMonth: dayOfMonthSet
        case .month: monthSet
        case .dayOfWeek: dayOfWeekSet
        }
    }

    /// The Vixie day rule: either field when both are restricted, otherwise both.
    func dayMatches(day: Int, weekday: Int) -> Bool {
        let byDay = dayOfMonthSet.contains(day)
        let byWeekday = dayOfWeekSet.contains(weekday)
        return matchesEitherDayField ? (byDay || byWeekday) : (byDay && byWeekday)
    }

    /// Vixie cron's "wildcard job": the minute or hour field starts with `*`. Such jobs follow real time across
    /// daylight-saving changes; the others are "fixed-time" jobs.
    var isWildcardJob: Bool { minuteSet.isStarPrefixed || hourSet.isStarPrefixed }

    /// Whether any calendar day can ever match. With the either-day rule every month has every weekday, so it
    /// always can; otherwise some listed month must have some listed day (February counting its 29th). A
    /// restricted day-of-week never makes a schedule impossible, because every date falls on every weekday within
    /// one 400-year cycle.
    var canEverFire: Bool {
        if matchesEitherDayField { return true }
        let smallestDay = dayOfMonthSet.next(atOrAfter: 1) ?? 32
        return monthSet.values.contains { CivilDate.maximumDays(month: $0) >= smallestDay }
    }
}
