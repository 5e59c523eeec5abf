import CandleCore
import CandleTesting
import Collectors
import Foundation
import Testing
import ToyStrategy

@Suite(.timeLimit(.minutes(1)))
struct CrossoverStrategyTests {
    let chart = ChartKey(symbol: "NQZ6", instrument: .nq, timeframe: .fiveMinutes)
    let start = Date(timeIntervalSince1970: 1_795_000_200)  // a bar boundary

    /// 20 falling closes, then 20 rising ones: one cross upwards.
    func bars() -> [Candle] {
        let down: [Double] = (0..<20).map { 21_000 - Double($0) * 2 }
        let up: [Double] = (0..<20).map { 20_962 + Double($0) * 3 }
        let closes = down + up
        return closes.enumerated().map { index, close in
            Candle.fixture(
                start: start.addingTimeInterval(Double(index) * 300), symbol: chart.symbol, open: close, close: close,
                isFinal: false)
        }
    }

    /// Starts the strategy and waits until its subscription is open.
    func start(
        _ strategy: CrossoverStrategy, _ source: ScriptedCandleSource, _ clock: ManualWallClock
    ) async throws -> Task<Void, any Error> {
        let chart = chart
        let task = Task { try await strategy.run(source: source, chart: chart) }
        while await source.openSubscriptions(for: chart) == 0 { await Task.yield() }
        await clock.waitForSleepers(1)
        return task
    }

    @Test func buysOnceOnTheUpwardCrossAndJournalsOnlyClosedBars() async throws {
        let clock = ManualWallClock(now: start)
        let source = ScriptedCandleSource()
        let journal = RecordingCandleSink()
        let strategy = CrossoverStrategy(fast: 3, slow: 8, staleAfter: 900, clock: clock, journal: journal)
        let task = try await start(strategy, source, clock)

        for bar in bars() {
            var early = bar
            early.close = bar.open  // a forming update first…
            await source.push(early)
            await source.push(bar)  // …then the bar's last state
        }
        await source.push(Candle.fixture(start: start.addingTimeInterval(40 * 300), symbol: chart.symbol))
        await source.close()
        _ = try? await task.value

        let signals = await strategy.signals
        #expect(signals.map(\.action) == [.buy])
        #expect(signals.first?.at == start.addingTimeInterval(Double(23) * 300))
        let journaled = await journal.writtenCandles
        #expect(journaled.count == 40)
        #expect(journaled.allSatisfy { $0.isFinal })
        let expectedCloses = bars().map(\.close)
        #expect(journaled.map(\.close) == expectedCloses)
    }

    @Test func flattensWhenTheFeedGoesQuiet() async throws {
        let clock = ManualWallClock(now: start)
        let source = ScriptedCandleSource()
        let journal = RecordingCandleSink()
        let strategy = CrossoverStrategy(fast: 3, slow: 8, staleAfter: 900, clock: clock, journal: journal)
        let task = try await start(strategy, source, clock)
        for bar in bars() + [Candle.fixture(start: start.addingTimeInterval(40 * 300), symbol: chart.symbol)] {
            await source.push(bar)
        }
        // Every update is handled (40 closed bars journaled) before time moves.
        while await journal.writtenCandles.count < 40 { await Task.yield() }
        #expect(await strategy.currentPosition == 1)

        // Fifteen quiet minutes on the manual clock: no real waiting. The watchdog checks every 225 s.
        var advanced = 0.0
        while await strategy.currentPosition != 0, advanced < 1_800 {
            await clock.waitForSleepers(1)
            clock.advance(by: 225)
            advanced += 225
            for _ in 0..<100 { await Task.yield() }
        }
        #expect(await strategy.signals.map(\.action) == [.buy, .flatten])
        #expect(advanced >= 900)
        task.cancel()
        await source.close()
    }
}
