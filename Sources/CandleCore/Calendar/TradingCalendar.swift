public import Foundation

/// The CME Globex trading schedule for equity-index futures: when the market is open, and which bars must exist.
///
/// Regular week, New York time: open Sunday 18:00 → Friday 17:00, with a daily halt 17:00–18:00 Monday–Thursday.
/// ``holidays`` modify it (see ``MarketHoliday``); the default table is ``Swift/Array/cmeEquityIndex``.
/// All local times are converted with the IANA zone `America/New_York`, so daylight-saving changes are exact: the
/// Sunday open is 23:00 UTC in winter and 22:00 UTC in summer.
///
/// **Expected bars and halts.** Bars sit on the UTC grid of their ``Timeframe``. A bar is *expected* when its interval
/// `[start, start + N)` overlaps open market time. A bar that straddles a halt or close (possible only when N does not
/// fit the schedule, e.g. a 30-minute bar at a 13:15 early close, or 90-minute bars) is one bar, keyed by its grid start,
/// holding only the trades of its open part; it is expected and counts as complete once its open part is over.
/// The calendar never reads the clock: every question takes its instants as arguments.
public struct TradingCalendar: Sendable, Hashable, CustomStringConvertible {
    /// The schedule's time zone (America/New_York).
    public let timeZone: TimeZone
    /// Days that differ from the regular week, keyed by New York calendar day.
    public let holidays: [CalendarDay: MarketHoliday]
    /// The first and last day covered by the holiday table (a question outside it gets the regular week only).
    public let coverage: ClosedRange<CalendarDay>?

    /// Daily open, halt end and close times in New York (hour, minute).
    static let openHour = 18
    static let closeHour = 17

    /// Creates a calendar with a holiday table.
    ///
    /// - Throws: ``TradingCalendarError`` when two entries name the same day or an early close is not a valid time
    ///   between 00:00 and 17:00.
    public init(holidays: [MarketHoliday] = .cmeEquityIndex) throws(TradingCalendarError) {
        var table: [CalendarDay: MarketHoliday] = [:]
        for holiday in holidays {
            if table[holiday.day] != nil {
                throw TradingCalendarError(.duplicateHoliday, "the holiday table lists \(holiday.day) twice")
            }
            if case .earlyClose(let hour, let minute) = holiday.kind,
                !(0...23).contains(hour) || !(0...59).contains(minute) || hour * 60 + minute > 17 * 60
            {
                throw TradingCalendarError(
                    .invalidHoliday, "early close \(hour):\(minute) on \(holiday.day) must be a time before 17:00 ET")
            }
            table[holiday.day] = holiday
        }
        self.timeZone = TimeZone(identifier: "America/New_York")!
        self.holidays = table
        self.coverage = table.keys.min().flatMap { min in table.keys.max().map { min...$0 } }
    }

    public var description: String {
        let range = coverage.map { " \($0.lowerBound)…\($0.upperBound)" } ?? ""
        return "TradingCalendar(\(timeZone.identifier), \(holidays.count) holidays\(range))"
    }

    /// CME Globex equity-index futures with the built-in 2024–2027 holiday table.
    public static let cmeEquityIndex = try! TradingCalendar()

    // MARK: - Open intervals

    /// A continuous stretch of open market time: from a (re)open to the next halt or close.
    public struct Session: Sendable, Hashable, CustomStringConvertible {
        /// When trading starts (UTC).
        public let open: Date
        /// When trading stops (UTC, exclusive).
        public let close: Date
        /// The trade date: the New York day the session ends on (CME books 18:00 opens to the next day).
        public let tradeDate: CalendarDay

        /// The session as an interval.
        public var interval: DateInterval { DateInterval(start: open, end: close) }

        /// Whether `instant` is inside `[open, close)`.
        public func contains(_ instant: Date) -> Bool { open <= instant && instant < close }

        public var description: String {
            "\(open.formatted(.iso8601))–\(close.formatted(.iso8601)) (trade date \(tradeDate))"
        }
    }

    /// The open intervals of one New York day, in local minutes since midnight, before merging across midnight.
    private func localOpenMinutes(on day: CalendarDay) -> [(Int, Int)] {
        let open = Self.openHour * 60
        let close = Self.closeHour * 60
        var intervals: [(Int, Int)]
        switch day.weekday {
        case 1: intervals = [(open, 1440)]  // Sunday
        case 2, 3, 4, 5: intervals = [(0, close), (open, 1440)]  // Monday–Thursday
        case 6: intervals = [(0, close)]  // Friday
        default: intervals = []  // Saturday
        }
        // A closed day removes [previous day 18:00, this day 18:00): here, everything before 18:00.
        if holidays[day]?.kind == .closed {
            intervals = intervals.compactMap { $0.1 <= open ? nil : (max($0.0, open), $0.1) }
        }
        if case .earlyClose(let hour, let minute)? = holidays[day]?.kind {
            let cut = hour * 60 + minute
            intervals = intervals.compactMap { interval in
                if interval.0 >= open || interval.1 <= cut { return interval }  // evening session, or before the cut
                return interval.0 < cut ? (interval.0, cut) : nil
            }
        }
        // The evening session that opens at 18:00 is cancelled when the next day is closed.
        if holidays[day.adding(days: 1)]?.kind == .closed {
            intervals = intervals.filter { $0.0 < open }
        }
        return intervals
    }

    private func instant(_ day: CalendarDay, minutes: Int) -> Date {
        if minutes == 1440 { return day.adding(days: 1).instant(hour: 0, minute: 0, in: timeZone) }
        return day.instant(hour: minutes / 60, minute: minutes % 60, in: timeZone)
    }

    /// The sessions that overlap `[from, to)`, in order, each whole (not clipped to the range).
    public func sessions(from: Date, to: Date) -> [Session] {
        guard from < to else { return [] }
        // Sessions run at most from Sunday 18:00 to Friday 17:00 without a merge break of more than 24 h; scan from a
        // few days before `from` so the first session is whole.
        let firstDay = CalendarDay(containing: from, in: timeZone).adding(days: -3)
        let lastDay = CalendarDay(containing: to, in: timeZone).adding(days: 3)
        var merged: [(Date, Date)] = []
        var day = firstDay
        while day <= lastDay {
            for (start, end) in localOpenMinutes(on: day) {
                let s = instant(day, minutes: start)
                let e = instant(day, minutes: end)
                if let last = merged.last, last.1 == s {
                    merged[merged.count - 1].1 = e
                } else {
                    merged.append((s, e))
                }
            }
            day = day.adding(days: 1)
        }
        // Drop the first merged interval if it might have started before the scan window.
        if let first = merged.first, first.0 <= instant(firstDay, minutes: 0) { merged.removeFirst() }
        return merged.compactMap { open, close in
            guard open < to, close > from else { return nil }
            return Session(
                open: open, close: close, tradeDate: CalendarDay(containing: close.addingTimeInterval(-1), in: timeZone)
            )
        }
    }

    /// The session containing `instant`, or `nil` when the market is closed then.
    public func session(containing instant: Date) -> Session? {
        sessions(from: instant, to: instant.addingTimeInterval(1)).first { $0.contains(instant) }
    }

    /// Whether the market is open at `instant`.
    public func isOpen(at instant: Date) -> Bool { session(containing: instant) != nil }

    /// The first instant strictly after `instant` at which the market opens (a closed → open transition).
    ///
    /// Searches up to 30 days ahead and returns `nil` beyond that (no schedule closes for longer).
    public func nextOpen(after instant: Date) -> Date? { firstSessionEdge(after: instant, \.open) }

    /// The first instant strictly after `instant` at which the market closes or halts.
    public func nextClose(after instant: Date) -> Date? { firstSessionEdge(after: instant, \.close) }

    /// The first session open or close (`edge`) strictly after `instant`, searching five weeks ahead.
    private func firstSessionEdge(after instant: Date, _ edge: KeyPath<Session, Date>) -> Date? {
        var from = instant
        for _ in 0..<5 {
            let to = from.addingTimeInterval(7 * 86_400)
            if let session = sessions(from: from, to: to).first(where: { $0[keyPath: edge] > instant }) {
                return session[keyPath: edge]
            }
            from = to
        }
        return nil
    }

    /// The trade date of `instant`: the New York day, or the next day from 18:00 on (CME convention).
    public func tradeDate(of instant: Date) -> CalendarDay {
        let day = CalendarDay(containing: instant, in: timeZone)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.component(.hour, from: instant) >= Self.openHour ? day.adding(days: 1) : day
    }

    // MARK: - Expected bars

    /// The starts of every bar of `timeframe` that must exist for `instrument` with a start in `[from, to)`: each grid bar
    /// whose interval overlaps open market time. Sorted ascending, no duplicates.
    ///
    /// The instrument is accepted so that per-product schedules can be added; every built-in root trades this schedule.
    public func expectedBars(_ instrument: Instrument, _ timeframe: Timeframe, from: Date, to: Date) -> [Date] {
        guard from < to else { return [] }
        let step = timeframe.duration
        var result: [Date] = []
        // A bar starting before `to` can overlap a session up to `to + step`.
        for session in sessions(from: timeframe.barStart(containing: from), to: to) {
            var start = timeframe.barStart(containing: session.open)
            while start < session.close && start < to {
                if start >= from, result.last.map({ $0 < start }) ?? true { result.append(start) }
                start = start.addingTimeInterval(step)
            }
        }
        return result
    }

    /// Whether a bar of `timeframe` starting at `start` is expected (overlaps open time).
    public func isExpectedBar(_ instrument: Instrument, _ timeframe: Timeframe, start: Date) -> Bool {
        let end = timeframe.barEnd(startingAt: start)
        return !sessions(from: start, to: end).isEmpty
    }
}

/// A holiday table or day that cannot be used.
public typealias TradingCalendarError = DomainError<TradingCalendar>

extension TradingCalendarError.Code {
    /// Text that is not a `YYYY-MM-DD` date.
    public static var invalidDay: Self { Self("invalidDay") }
    /// The same day appears twice in a holiday table.
    public static var duplicateHoliday: Self { Self("duplicateHoliday") }
    /// An early close outside 00:00–17:00.
    public static var invalidHoliday: Self { Self("invalidHoliday") }
}
