/// A day on which the CME Globex schedule differs from the regular week.
///
/// Times are New York local times. The two kinds:
/// - ``Kind/closed``: no trading on that calendar day before the 18:00 reopen — the session that would have opened at
///   18:00 the evening before does not open, and the market reopens at 18:00 on the day itself (if that is a normal
///   open, i.e. Sunday–Thursday).
/// - ``Kind/earlyClose(hour:minute:)``: trading stops at that time and reopens at the regular 18:00.
public struct MarketHoliday: Sendable, Hashable, Codable, CustomStringConvertible {
    /// How the day differs from the regular schedule.
    public enum Kind: Sendable, Hashable, Codable {
        /// No trading from the previous evening's 18:00 until 18:00 on the day.
        case closed
        /// Trading stops at `hour:minute` New York time and resumes at 18:00.
        case earlyClose(hour: Int, minute: Int)
    }

    /// The New York calendar day.
    public var day: CalendarDay
    /// Closed or early close.
    public var kind: Kind
    /// The holiday's name, for reports.
    public var name: String

    /// Creates a holiday entry.
    public init(_ day: CalendarDay, _ kind: Kind, _ name: String) {
        self.day = day
        self.kind = kind
        self.name = name
    }

    public var description: String {
        switch kind {
        case .closed: return "\(day) \(name): closed"
        case .earlyClose(let h, let m): return "\(day) \(name): early close \(h):\(m < 10 ? "0" : "")\(m) ET"
        }
    }
}

extension [MarketHoliday] {
    /// CME Globex equity-index futures (ES, NQ, MES, MNQ) holiday schedule, 2024–2027, in New York time.
    ///
    /// Rules used (from CME's published holiday calendars; override the table for anything that differs):
    /// - New Year's Day, Good Friday and Christmas Day (or the weekday it is observed on): closed.
    /// - Martin Luther King Jr. Day, Presidents Day, Memorial Day, Juneteenth, Independence Day, Labor Day and
    ///   Thanksgiving (or the observed weekday): early close at 13:00 ET (12:00 CT), reopen 18:00 ET.
    /// - The day before Independence Day when it is a weekday session, the day after Thanksgiving, and Christmas Eve:
    ///   early close at 13:15 ET (12:15 CT).
    /// - 2025-01-09 (National Day of Mourning for President Carter): early close at 09:30 ET.
    /// Abbreviated Good Friday sessions that CME has sometimes held (e.g. 2024) are treated as closed.
    public static let cmeEquityIndex: [MarketHoliday] = {
        func d(_ y: Int, _ m: Int, _ day: Int) -> CalendarDay { CalendarDay(year: y, month: m, day: day) }
        let one: MarketHoliday.Kind = .earlyClose(hour: 13, minute: 0)
        let quarter: MarketHoliday.Kind = .earlyClose(hour: 13, minute: 15)
        return [
            // 2024
            .init(d(2024, 1, 1), .closed, "New Year's Day"),
            .init(d(2024, 1, 15), one, "Martin Luther King Jr. Day"),
            .init(d(2024, 2, 19), one, "Presidents Day"),
            .init(d(2024, 3, 29), .closed, "Good Friday"),
            .init(d(2024, 5, 27), one, "Memorial Day"),
            .init(d(2024, 6, 19), one, "Juneteenth"),
            .init(d(2024, 7, 3), quarter, "Independence Day eve"),
            .init(d(2024, 7, 4), one, "Independence Day"),
            .init(d(2024, 9, 2), one, "Labor Day"),
            .init(d(2024, 11, 28), one, "Thanksgiving"),
            .init(d(2024, 11, 29), quarter, "Day after Thanksgiving"),
            .init(d(2024, 12, 24), quarter, "Christmas Eve"),
            .init(d(2024, 12, 25), .closed, "Christmas Day"),
            // 2025
            .init(d(2025, 1, 1), .closed, "New Year's Day"),
            .init(d(2025, 1, 9), .earlyClose(hour: 9, minute: 30), "National Day of Mourning"),
            .init(d(2025, 1, 20), one, "Martin Luther King Jr. Day"),
            .init(d(2025, 2, 17), one, "Presidents Day"),
            .init(d(2025, 4, 18), .closed, "Good Friday"),
            .init(d(2025, 5, 26), one, "Memorial Day"),
            .init(d(2025, 6, 19), one, "Juneteenth"),
            .init(d(2025, 7, 3), quarter, "Independence Day eve"),
            .init(d(2025, 7, 4), one, "Independence Day"),
            .init(d(2025, 9, 1), one, "Labor Day"),
            .init(d(2025, 11, 27), one, "Thanksgiving"),
            .init(d(2025, 11, 28), quarter, "Day after Thanksgiving"),
            .init(d(2025, 12, 24), quarter, "Christmas Eve"),
            .init(d(2025, 12, 25), .closed, "Christmas Day"),
            // 2026
            .init(d(2026, 1, 1), .closed, "New Year's Day"),
            .init(d(2026, 1, 19), one, "Martin Luther King Jr. Day"),
            .init(d(2026, 2, 16), one, "Presidents Day"),
            .init(d(2026, 4, 3), .closed, "Good Friday"),
            .init(d(2026, 5, 25), one, "Memorial Day"),
            .init(d(2026, 6, 19), one, "Juneteenth"),
            .init(d(2026, 7, 3), one, "Independence Day (observed)"),
            .init(d(2026, 9, 7), one, "Labor Day"),
            .init(d(2026, 11, 26), one, "Thanksgiving"),
            .init(d(2026, 11, 27), quarter, "Day after Thanksgiving"),
            .init(d(2026, 12, 24), quarter, "Christmas Eve"),
            .init(d(2026, 12, 25), .closed, "Christmas Day"),
            // 2027
            .init(d(2027, 1, 1), .closed, "New Year's Day"),
            .init(d(2027, 1, 18), one, "Martin Luther King Jr. Day"),
            .init(d(2027, 2, 15), one, "Presidents Day"),
            .init(d(2027, 3, 26), .closed, "Good Friday"),
            .init(d(2027, 5, 31), one, "Memorial Day"),
            .init(d(2027, 6, 18), one, "Juneteenth (observed)"),
            .init(d(2027, 7, 5), one, "Independence Day (observed)"),
            .init(d(2027, 9, 6), one, "Labor Day"),
            .init(d(2027, 11, 25), one, "Thanksgiving"),
            .init(d(2027, 11, 26), quarter, "Day after Thanksgiving"),
            .init(d(2027, 12, 24), .closed, "Christmas Day (observed)"),
        ]
    }()
}
