public import Foundation

/// A calendar day without a time or time zone, e.g. 2025-12-25. Used for holiday tables and trade dates.
public struct CalendarDay: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// The year, e.g. 2025.
    public let year: Int
    /// The month, 1…12.
    public let month: Int
    /// The day of the month, 1…31.
    public let day: Int

    /// Creates a day. The components are not normalised; use ``init(parsing:)`` to validate text.
    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`.
    ///
    /// - Throws: ``TradingCalendarError`` when the text is not a real date in that form.
    public init(parsing text: String) throws(TradingCalendarError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), (1...CivilDate.daysInMonth(year: year, month: month)).contains(day)
        else {
            throw TradingCalendarError(.invalidDay, "'\(text)' is not a date in the form YYYY-MM-DD")
        }
        self.init(year: year, month: month, day: day)
    }

    /// The day in `timeZone` that contains `instant`.
    public init(containing instant: Date, in timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day], from: instant)
        self.init(year: c.year!, month: c.month!, day: c.day!)
    }

    /// The `YYYY-MM-DD` text.
    public var description: String {
        let m = month < 10 ? "0\(month)" : "\(month)"
        let d = day < 10 ? "0\(day)" : "\(day)"
        return "\(year)-\(m)-\(d)"
    }

    /// The trade-date integer Tradovate sends as `td`: YYYYMMDD.
    public var yyyymmdd: Int { year * 10_000 + month * 100 + day }

    /// The day `count` days later (earlier for negative `count`).
    public func adding(days count: Int) -> CalendarDay {
        let date = CivilDate.date(days: epochDay + count)
        return CalendarDay(year: date.year, month: date.month, day: date.day)
    }

    /// The weekday, 1 = Sunday … 7 = Saturday (Foundation's numbering).
    public var weekday: Int { CivilDate.weekday(days: epochDay) + 1 }

    /// The instant of `hour:minute` on this day in `timeZone`. Times that do not exist (a spring-forward gap) resolve to
    /// the instant after the gap, as Foundation does.
    public func instant(hour: Int, minute: Int, in timeZone: TimeZone) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
    }

    /// Days since 1970-01-01.
    private var epochDay: Int { CivilDate.days(year: year, month: month, day: day) }

    public static func < (lhs: CalendarDay, rhs: CalendarDay) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(parsing: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
