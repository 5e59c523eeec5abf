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
        let mourning = MarketHoliday(
            CalendarDay(year: 2025, month: 1, day: 9), .earlyClose(hour: 9, minute: 30), "National Day of Mourning")
        return ((2024...2027).flatMap(cmeEquityIndex(year:)) + [mourning]).sorted { $0.day < $1.day }
    }()

    /// The holidays the rules of ``cmeEquityIndex`` give for `year` (without one-off closures).
    static func cmeEquityIndex(year: Int) -> [MarketHoliday] {
        let one: MarketHoliday.Kind = .earlyClose(hour: 13, minute: 0)
        let quarter: MarketHoliday.Kind = .earlyClose(hour: 13, minute: 15)
        func day(_ month: Int, _ day: Int) -> CalendarDay { CalendarDay(year: year, month: month, day: day) }
        // The `n`th `weekday` (1 = Sunday … 7 = Saturday) of `month`; the last one for `n` = -1.
        func nth(_ n: Int, _ weekday: Int, of month: Int) -> CalendarDay {
            guard n < 0 else {
                let first = day(month, 1)
                return first.adding(days: (weekday - first.weekday + 7) % 7 + 7 * (n - 1))
            }
            let last = day(month, CivilDate.daysInMonth(year: year, month: month))
            return last.adding(days: -((last.weekday - weekday + 7) % 7))
        }
        // A fixed-date holiday on a Saturday is observed on the Friday before, on a Sunday on the Monday after.
        func observed(_ date: CalendarDay, _ kind: MarketHoliday.Kind, _ name: String) -> MarketHoliday {
            switch date.weekday {
            case 7: MarketHoliday(date.adding(days: -1), kind, "\(name) (observed)")
            case 1: MarketHoliday(date.adding(days: 1), kind, "\(name) (observed)")
            default: MarketHoliday(date, kind, name)
            }
        }
        // The eve of a holiday that falls on Tuesday–Friday is a weekday session.
        func eve(of date: CalendarDay, _ name: String) -> [MarketHoliday] {
            (3...6).contains(date.weekday) ? [MarketHoliday(date.adding(days: -1), quarter, name)] : []
        }
        let independenceDay = day(7, 4)
        let thanksgiving = nth(4, 5, of: 11)
        let christmas = day(12, 25)
        return [
            MarketHoliday(day(1, 1), .closed, "New Year's Day"),
            MarketHoliday(nth(3, 2, of: 1), one, "Martin Luther King Jr. Day"),
            MarketHoliday(nth(3, 2, of: 2), one, "Presidents Day"),
            MarketHoliday(easterSunday(year).adding(days: -2), .closed, "Good Friday"),
            MarketHoliday(nth(-1, 2, of: 5), one, "Memorial Day"),
            observed(day(6, 19), one, "Juneteenth"),
        ] + eve(of: independenceDay, "Independence Day eve") + [
            observed(independenceDay, one, "Independence Day"),
            MarketHoliday(nth(1, 2, of: 9), one, "Labor Day"),
            MarketHoliday(thanksgiving, one, "Thanksgiving"),
            MarketHoliday(thanksgiving.adding(days: 1), quarter, "Day after Thanksgiving"),
        ] + eve(of: christmas, "Christmas Eve") + [observed(christmas, .closed, "Christmas Day")]
    }

    /// Easter Sunday of `year` (Gregorian; the anonymous "Meeus/Jones/Butcher" algorithm).
    static func easterSunday(_ year: Int) -> CalendarDay {
        let a = year % 19, b = year / 100, c = year % 100
        let h = (19 * a + b - b / 4 - (b - (b + 8) / 25 + 1) / 3 + 15) % 30
        let l = (32 + 2 * (b % 4) + 2 * (c / 4) - h - c % 4) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31
        return CalendarDay(year: year, month: month, day: (h + l - 7 * m + 114) % 31 + 1)
    }
}
