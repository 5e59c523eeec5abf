import CandleCore
import Foundation

/// The pure part of verification: what the calendar expects of one series, compared with what is stored.
struct SeriesAudit {
    /// Expected bar starts in `[from, to)` that are over at `now`, ascending.
    let due: [Date]
    /// Every expected bar start in `[from, to)` (due or not).
    let expected: Set<Date>
    /// Expected starts that are not over at `now`.
    let notDue: Int

    /// Splits the calendar's expected bars of `series` into those over at `now` and the rest.
    ///
    /// A bar is over when `min(bar end, close of the last session overlapping the bar) ≤ now`: a bar cut by a halt
    /// or an early close is complete once the market closes (CandleCore's straddling-bar decision).
    init(series: Series, from: Date, to: Date, now: Date, calendar: TradingCalendar) {
        let timeframe = series.timeframe
        let all = calendar.expectedBars(series.instrument, timeframe, from: from, to: to)
        let sessions = all.isEmpty ? [] : calendar.sessions(from: all[0], to: to.addingTimeInterval(timeframe.duration))
        var due: [Date] = []
        var index = 0
        for start in all {
            let end = timeframe.barEnd(startingAt: start)
            while index < sessions.count && sessions[index].close <= start { index += 1 }
            var last = index
            while last + 1 < sessions.count && sessions[last + 1].open < end { last += 1 }
            let over = last < sessions.count ? min(end, sessions[last].close) : end
            if over <= now { due.append(start) }
        }
        self.due = due
        self.expected = Set(all)
        self.notDue = all.count - due.count
    }

    /// The bar starts among `due` that have no final row in `candles` (candidates for missing).
    func withoutFinal(_ candles: [Candle]) -> [Date] {
        let finals = Set(candles.lazy.filter(\.isFinal).map(\.start))
        return due.filter { !finals.contains($0) }
    }

    /// Compares `candles` (the stored rows of the series in `[from, to)`) with the expectation.
    func verify(series: Series, candles: [Candle], confirmedEmpty: Set<Date>) -> SeriesVerification {
        var symbolsByStart: [Date: [String]] = [:]
        var finals: Set<Date> = []
        for candle in candles {
            symbolsByStart[candle.start, default: []].append(candle.symbol)
            if candle.isFinal { finals.insert(candle.start) }
        }
        var stored = 0
        var empty = 0
        var nonFinal: [Date] = []
        var ranges: [BarRange] = []
        var run: (first: Date, last: Date, bars: Int)?
        for start in due {
            var isMissing = false
            if finals.contains(start) {
                stored += 1
            } else if confirmedEmpty.contains(start) {
                empty += 1
            } else {
                isMissing = true
                if symbolsByStart[start] != nil { nonFinal.append(start) }
            }
            if isMissing {
                if let open = run {
                    run = (open.first, start, open.bars + 1)
                } else {
                    run = (start, start, 1)
                }
            } else if let open = run {
                ranges.append(
                    BarRange(first: open.first, last: open.last, bars: open.bars, timeframe: series.timeframe))
                run = nil
            }
        }
        if let open = run {
            ranges.append(BarRange(first: open.first, last: open.last, bars: open.bars, timeframe: series.timeframe))
        }
        let duplicates = symbolsByStart.filter { $0.value.count > 1 }
            .map { DuplicateBar(start: $0.key, symbols: $0.value) }
            .sorted { $0.start < $1.start }
        let unexpected = symbolsByStart.keys.filter { !expected.contains($0) }.sorted()
        return SeriesVerification(
            series: series, expected: due.count, stored: stored, missingRanges: ranges, duplicates: duplicates,
            nonFinal: nonFinal, unexpected: unexpected, confirmedEmpty: empty, notDue: notDue)
    }
}
