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
