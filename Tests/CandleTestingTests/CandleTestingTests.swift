import CandleCore
import CandleTesting
import Collectors
import Foundation
import Testing

@Suite("Test kit")
struct CandleTestingTests {
    @Test("fixtures are valid and honour overrides")
    func fixtures() throws {
        let bar = Candle.fixture(start: Date(timeIntervalSince1970: 1_795_000_123), close: 21_010.1)
        try bar.validate()
        #expect(bar.close == 21_010)
        #expect(Timeframe.fiveMinutes.isAligned(bar.start))
        #expect(bar.symbol.hasPrefix("NQ"))
        let es = Candle.fixture(instrument: .es, timeframe: .oneHour, open: 6000, close: 5990, isFinal: false)
        try es.validate()
        #expect(es.symbol.hasPrefix("ES"))
        #expect(es.low == 5989.75)
        #expect(!es.isFinal)
    }

    @Test("the generator is deterministic, valid and follows the calendar")
    func generator() throws {
        let from = Date(timeIntervalSince1970: 1_795_000_000)
        let to = from.addingTimeInterval(7 * 86_400)
        let series = Series(.es, .fifteenMinutes)
        let a = CandleSeriesGenerator(seed: 1).bars(for: series, from: from, to: to)
        let b = CandleSeriesGenerator(seed: 1).bars(for: series, from: from, to: to)
        let c = CandleSeriesGenerator(seed: 2).bars(for: series, from: from, to: to)
        #expect(a == b)
        #expect(a != c)
        #expect(a.map(\.start) == TradingCalendar.cmeEquityIndex.expectedBars(.es, .fifteenMinutes, from: from, to: to))
        for bar in a { try bar.validate() }
    }

    @Test("the recording sink records writes, upserts, and fails on demand")
    func recordingSink() async throws {
        let sink = RecordingCandleSink()
        let bars = CandleSeriesGenerator(seed: 3).bars(
            for: Series(.nq, .fiveMinutes), from: Date(timeIntervalSince1970: 1_795_000_000),
            to: Date(timeIntervalSince1970: 1_795_003_600))
        #expect(!bars.isEmpty)
        let report = try await sink.write(bars)
        #expect(report.inserted == bars.count)
        let again = try await sink.write(bars)
        #expect(again.unchanged == bars.count)
        #expect(await sink.writes.count == 2)
        await sink.failNextWrites(1)
        let error = await #expect(throws: CandleSinkError.self) { try await sink.write(bars) }
        #expect(error?.code == .unavailable)
        #expect(try await sink.candles(of: Series(.nq, .fiveMinutes)).count == bars.count)
        #expect(await sink.writes.count == 2)
    }
}

/// The strategy test shown in Docs/testing.md: a toy moving-average crossover, fed scripted bars, with its signals
/// written to a recording sink and time from a manual clock.
struct Crossover {
    let fast: Int
    let slow: Int

    /// `+1` when the fast average crosses above the slow one at a bar, `-1` when it crosses below.
    func signals(_ bars: [Candle]) -> [(Date, Int)] {
        var result: [(Date, Int)] = []
        var previous: Int?
        for index in slow..<bars.count {
            let closes = bars[...index].map(\.close)
            let fastAverage = closes.suffix(fast).reduce(0, +) / Double(fast)
            let slowAverage = closes.suffix(slow).reduce(0, +) / Double(slow)
            let side = fastAverage > slowAverage ? 1 : -1
            if let previous, previous != side { result.append((bars[index].start, side)) }
            previous = side
        }
        return result
    }
}

@Suite("Strategy example (Docs/testing.md)")
struct StrategyExampleTests {
    @Test("a crossover fires on a V-shaped market, and its bars land in the recording sink")
    func crossover() async throws {
        let clock = ManualWallClock(now: Date(timeIntervalSince1970: 1_795_000_000))
        let start = Timeframe.fiveMinutes.barStart(containing: clock.now())
        // 20 bars down, then 20 bars up: exactly one cross, upwards.
        let down: [Double] = (0..<20).map { 21_000 - Double($0) * 2 }
        let up: [Double] = (0..<20).map { 20_962 + Double($0) * 3 }
        let closes = down + up
        let bars: [Candle] = closes.enumerated().map { index, close in
            Candle.fixture(start: start.addingTimeInterval(Double(index) * 300), open: close, close: close)
        }
        let sink = RecordingCandleSink()
        _ = try await sink.write(bars)
        clock.advance(by: 40 * 300)

        let signals = Crossover(fast: 3, slow: 8).signals(try await sink.candles(of: Series(.nq, .fiveMinutes)))
        #expect(signals.count == 1)
        #expect(signals.first?.1 == 1)
        #expect(signals.first.map { $0.0 > bars[20].start } == true)
        #expect(await sink.writes.count == 1)
    }
}
