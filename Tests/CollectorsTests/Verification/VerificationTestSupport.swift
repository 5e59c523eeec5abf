import CandleCore
import Foundation
import Testing

@testable import Collectors

/// A fixed winter trading week without holidays: Sunday 2025-11-30 23:00Z (18:00 New York) to Friday 2025-12-05
/// 22:00Z (17:00 New York), with the daily halt 22:00–23:00Z. NQZ5 is the front month all week (it rolls to NQH6 at
/// 2025-12-10T23:00Z).
enum Week {
    static let from = utc("2025-11-30T00:00:00Z")
    static let to = utc("2025-12-06T00:00:00Z")
    /// After the week: every bar of it is over.
    static let after = utc("2025-12-07T12:00:00Z")
    static let nq5 = Series(.nq, .fiveMinutes)
    static let es15 = Series(.es, .fifteenMinutes)
    static let calendar = TradingCalendar.cmeEquityIndex

    /// 5 sessions of 23 hours.
    static let nq5Expected = 5 * 23 * 12
    static let es15Expected = 5 * 23 * 4

    static func utc(_ text: String) -> Date {
        try! Date(text, strategy: .iso8601)
    }

    /// A valid bar of `series` at `start` (prices on the tick grid).
    static func bar(_ series: Series, _ start: Date, symbol: String? = nil, final: Bool = true) -> Candle {
        let base: Double = series.instrument.root == "ES" ? 6_000 : 21_000
        return Candle(
            symbol: symbol ?? "\(series.instrument.root)Z5", instrument: series.instrument,
            timeframe: series.timeframe, start: start, open: base, high: base + 1.25, low: base - 0.75,
            close: base + 0.5, upVolume: 10, downVolume: 7, upTicks: 4, downTicks: 3, isFinal: final)
    }

    /// Every expected bar of `series` in `[from, to)` over by `now`, except those in `omitting`.
    static func bars(
        _ series: Series, from: Date = from, to: Date = to, now: Date = after, omitting: Set<Date> = []
    ) -> [Candle] {
        calendar.expectedBars(series.instrument, series.timeframe, from: from, to: to)
            .filter { series.timeframe.barEnd(startingAt: $0) <= now && !omitting.contains($0) }
            .map { bar(series, $0) }
    }

    /// The bar starts of `series` from `first` through `last`, inclusive, on its grid.
    static func starts(_ series: Series, _ first: String, through last: String) -> [Date] {
        stride(
            from: utc(first).timeIntervalSince1970, through: utc(last).timeIntervalSince1970,
            by: series.timeframe.duration
        ).map { Date(timeIntervalSince1970: $0) }
    }
}

/// Runs `body` against a fresh memory sink.
func withMemorySink(_ body: (MemoryCandleSink) async throws -> Void) async throws {
    let sink = MemoryCandleSink()
    try await body(sink)
    await sink.close()
}

/// Counts concurrent reads, to check the verifier's bound.
actor ConcurrencyProbe {
    private(set) var current = 0
    private(set) var maximum = 0
    private(set) var calls = 0

    func enter() {
        current += 1
        calls += 1
        maximum = max(maximum, current)
    }

    func leave() { current -= 1 }
}
