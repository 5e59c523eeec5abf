import CandleCore
import Foundation
import Synchronization

/// One open stretch of the trading calendar in UTC epoch minutes, with its CME trade date (`YYYYMMDD`).
struct SessionSpan: Hashable, Sendable {
    let open: Int64
    let close: Int64
    let tradeDate: Int
}

/// The trading calendar's sessions, computed once per UTC week and cached (the calendar's own look-ups go through
/// Foundation's `Calendar` and are too slow for per-request use at benchmark rates).
final class SessionTable: Sendable {
    private static let week: Int64 = 7 * 1440
    private let calendar: TradingCalendar
    private let cache = Mutex<[Int64: [SessionSpan]]>([:])

    init(calendar: TradingCalendar) {
        self.calendar = calendar
    }

    private func sessions(week index: Int64) -> [SessionSpan] {
        if let cached = cache.withLock({ $0[index] }) { return cached }
        let from = Date(timeIntervalSince1970: TimeInterval(index * Self.week * 60))
        let to = Date(timeIntervalSince1970: TimeInterval((index + 1) * Self.week * 60))
        let spans = calendar.sessions(from: from, to: to).map { session in
            SessionSpan(
                open: Int64((session.open.timeIntervalSince1970 / 60).rounded(.down)),
                close: Int64((session.close.timeIntervalSince1970 / 60).rounded(.up)),
                tradeDate: session.tradeDate.yyyymmdd)
        }
        cache.withLock { $0[index] = spans }
        return spans
    }

    /// Sessions overlapping `[from, to)` (epoch minutes), ascending, each whole.
    func sessions(from: Int64, to: Int64) -> [SessionSpan] {
        guard from < to else { return [] }
        var result: [SessionSpan] = []
        var index = CivilDate.floorDivide(from, Self.week)
        let last = CivilDate.floorDivide(to - 1, Self.week)
        while index <= last {
            for span in sessions(week: index) where span.open < to && span.close > from {
                if let previous = result.last, previous.open >= span.open { continue }
                result.append(span)
            }
            index += 1
        }
        return result
    }

    /// The session containing minute `m`, if the market is open then.
    func session(containing m: Int64) -> SessionSpan? {
        sessions(from: m, to: m + 1).first { $0.open <= m && m < $0.close }
    }

    /// The first session that opens at or after minute `m` (searching up to 30 days ahead).
    func nextSession(openingAtOrAfter m: Int64) -> SessionSpan? {
        sessions(from: m, to: m + 30 * 1440).first { $0.open >= m }
    }
}
