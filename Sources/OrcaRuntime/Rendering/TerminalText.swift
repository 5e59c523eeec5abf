public import CandleCore
public import Foundation

/// Text for terminal output that several `orca-run` commands share: instants shown in UTC and New York time,
/// fixed-width table rows and short durations.
public enum TerminalText {
    /// `2026-03-08T21:30:00Z (Sun 17:30 New York)`.
    public static func instant(_ date: Date) -> String {
        let utc = date.formatted(.iso8601)
        let newYork = date.formatted(
            Date.VerbatimFormatStyle(
                format:
                    "\(weekday: .abbreviated) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits)",
                timeZone: TradingCalendar.cmeEquityIndex.timeZone, calendar: Calendar(identifier: .gregorian)))
        return "\(utc) (\(newYork) New York)"
    }

    /// A row of cells padded to the token tables' column widths (24, 18, 12, 26; the last cell is not padded).
    public static func row(_ cells: [String]) -> String {
        let widths = [24, 18, 12, 26]
        return cells.enumerated().map { index, cell in
            index < widths.count && index < cells.count - 1
                ? cell.padding(toLength: max(widths[index], cell.count + 1), withPad: " ", startingAt: 0) : cell
        }.joined()
    }

    /// `1h05m`, `4m09s`, or `expired` for a span that is not positive.
    public static func duration(_ seconds: TimeInterval) -> String {
        guard seconds > 0 else { return "expired" }
        let whole = Int(seconds)
        return whole >= 3600
            ? "\(whole / 3600)h\(String(format: "%02d", whole % 3600 / 60))m"
            : "\(whole / 60)m\(String(format: "%02d", whole % 60))s"
    }
}

/// What `orca-run calendar` prints: whether the market is open at an instant, its session, the next open and
/// close, a holiday, and the bars a range must hold.
public enum CalendarRendering {
    /// The lines for `instant` under `calendar`.
    public static func lines(at instant: Date, calendar: TradingCalendar) -> [String] {
        var lines: [String] = []
        if let session = calendar.session(containing: instant) {
            lines.append("OPEN at \(TerminalText.instant(instant))")
            lines.append("  session  \(TerminalText.instant(session.open)) → \(TerminalText.instant(session.close))")
            lines.append("  trade date \(session.tradeDate)")
        } else {
            lines.append("CLOSED at \(TerminalText.instant(instant))")
        }
        if let open = calendar.nextOpen(after: instant) { lines.append("  next open  \(TerminalText.instant(open))") }
        if let close = calendar.nextClose(after: instant) {
            lines.append("  next close \(TerminalText.instant(close))")
        }
        if let holiday = calendar.holidays[CalendarDay(containing: instant, in: calendar.timeZone)] {
            lines.append("  holiday    \(holiday)")
        }
        return lines
    }

    /// The count of expected `timeframe` bars of `instrument` in `[from, to)`, with the first and the last.
    public static func expectedBars(
        _ instrument: Instrument, _ timeframe: Timeframe, from: Date, to: Date, calendar: TradingCalendar
    ) -> [String] {
        let bars = calendar.expectedBars(instrument, timeframe, from: from, to: to)
        var lines = [
            "\(bars.count) expected \(timeframe.label) bars for \(instrument.root) in "
                + "[\(from.formatted(.iso8601)), \(to.formatted(.iso8601)))"
        ]
        if let first = bars.first, let last = bars.last {
            lines.append("  first \(TerminalText.instant(first))")
            lines.append("  last  \(TerminalText.instant(last))")
        }
        return lines
    }
}

/// What `orca-run contracts` prints: per instrument, the front month at an instant, its expiry and its roll.
public enum ContractsRendering {
    /// One line per instrument, after a header naming the instant.
    public static func lines(_ instruments: [Instrument], at instant: Date, contracts: ContractCalendar) -> [String] {
        ["at \(TerminalText.instant(instant))"]
            + instruments.map { instrument in
                let front = contracts.frontMonth(instrument, at: instant)
                let next = contracts.nextContract(after: front, for: instrument)
                return "\(instrument.root.padding(toLength: 4, withPad: " ", startingAt: 0)) front "
                    + front.symbol.padding(toLength: 7, withPad: " ", startingAt: 0)
                    + " expires \(contracts.lastTrade(of: front).formatted(.iso8601))"
                    + "  rolls to \(next.symbol) at \(contracts.rollInstant(of: front).formatted(.iso8601))"
            }
    }
}
