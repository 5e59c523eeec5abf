import CandleCore
import Collectors
import Foundation
import Testing
import TradovateSimulator

@testable import MarketData

@Suite("Market-data client: history", .timeLimit(.minutes(10)))
struct ClientHistoryTests {
    static let twoDays =
        ClientFixtures.marketNow.addingTimeInterval(
            -2 * 86_400)..<ClientFixtures.marketNow
        .addingTimeInterval(3600)

    @Test("history equals the simulator's market, forming bar included, over one socket and one authorization")
    func historyEqualsMarket() async throws {
        try await ClientHarness.with { harness in
            let chart = ClientFixtures.nqz5FiveMinutes
            let candles = try await harness.source.history(of: chart, in: Self.twoDays)
            let expected = try harness.expected(chart, Self.twoDays)
            #expect(candles.count > 400)
            #expect(candles == expected)
            #expect(candles.last?.isFinal == false)
            let closed = candles.dropLast().allSatisfy { $0.isFinal }
            #expect(closed)
            let stats = harness.sim.stats.snapshot()
            #expect(stats.socketsOpened == 1)
            #expect(stats.authorizationsSucceeded == 1)
            #expect(stats.chartCancels >= 1)
            let mine = harness.client.statistics
            #expect(mine.socketsOpened == 1)
            #expect(mine.authorizationsSucceeded == 1)
            #expect(mine.barsReceived >= candles.count)
            #expect(mine.isConnected)
            #expect(mine.activeCharts == 0)
        }
    }

    @Test("paging past a small bar cap returns every bar exactly once")
    func pagingPastCap() async throws {
        try await ClientHarness.with(simulator: { $0.charts.maxBarsPerResponse = 50 }) { harness in
            let chart = ClientFixtures.nqz5FiveMinutes
            let candles = try await harness.source.history(of: chart, in: Self.twoDays)
            #expect(candles == (try harness.expected(chart, Self.twoDays)))
            #expect(Set(candles.map(\.start)).count == candles.count)
            #expect(harness.sim.stats.snapshot().chartRequests >= candles.count / 50)
        }
    }

    @Test("a range inside a closed market returns no bars; an empty range is refused")
    func emptyRanges() async throws {
        try await ClientHarness.with { harness in
            let chart = ClientFixtures.nqz5FiveMinutes
            // Saturday 2025-11-29: no session.
            let saturday = Date(timeIntervalSince1970: 1_764_374_400)
            let none = try await harness.source.history(of: chart, in: saturday..<saturday.addingTimeInterval(3600))
            #expect(none.isEmpty)
            await #expect(throws: CandleSourceError.self) {
                try await harness.source.history(of: chart, in: saturday..<saturday)
            }
        }
    }

    @Test("an unknown symbol fails with unknownSymbol")
    func unknownSymbol() async throws {
        try await ClientHarness.with { harness in
            let chart = ChartKey(symbol: "ZZZZ5", instrument: .nq, timeframe: .fiveMinutes)
            do {
                _ = try await harness.source.history(of: chart, in: Self.twoDays)
                Issue.record("expected unknownSymbol")
            } catch let error as CandleSourceError {
                #expect(error.code == .unknownSymbol)
                #expect(error.chart == chart)
            }
            await #expect(throws: CandleSourceError.self) { _ = try await harness.source.live(chart) }
        }
    }

    @Test(
        "concurrent histories share one socket, whatever the ids and batching",
        arguments: [
            (SimulatorConfiguration.Charts.IDs.equal, SimulatorConfiguration.WebSocket.Batching.messagesInOneFrame),
            (.distinct(historyPacketsCarry: .historical), .messagesInOneFrame),
            (.distinct(historyPacketsCarry: .realtime), .chartsInOneEvent),
            (.distinct(historyPacketsCarry: .historical), .chartsInOneEvent),
            (.equal, .separateFrames),
            (.distinct(historyPacketsCarry: .realtime), .separateFrames),
        ])
    func concurrentHistories(
        ids: SimulatorConfiguration.Charts.IDs, batching: SimulatorConfiguration.WebSocket.Batching
    ) async throws {
        try await ClientHarness.with(simulator: {
            $0.charts.ids = ids
            $0.webSocket.batching = batching
            $0.charts.maxBarsPerResponse = 200
            $0.charts.barsPerPacket = 60
        }) { harness in
            let charts = [Instrument.nq, .mnq, .es, .mes].flatMap { instrument in
                [Timeframe.fiveMinutes, .fifteenMinutes].map {
                    ChartKey(symbol: "\(instrument.root)Z5", instrument: instrument, timeframe: $0)
                }
            }
            let source = harness.source
            let results = try await withThrowingTaskGroup(of: (ChartKey, [Candle]).self) { group in
                for chart in charts { group.addTask { (chart, try await source.history(of: chart, in: Self.twoDays)) } }
                var results: [ChartKey: [Candle]] = [:]
                for try await (chart, candles) in group { results[chart] = candles }
                return results
            }
            for chart in charts {
                let candles = try #require(results[chart])
                #expect(!candles.isEmpty)
                #expect(candles == (try harness.expected(chart, Self.twoDays)), "\(chart)")
            }
            let stats = harness.sim.stats.snapshot()
            #expect(stats.socketsOpened == 1)
            #expect(stats.authorizationsSucceeded == 1)
            #expect(harness.client.statistics.activeCharts == 0)
        }
    }

    @Test("throughput: a month of 1-minute bars over the socket")
    func throughput() async throws {
        try await ClientHarness.with { harness in
            let chart = ChartKey(symbol: "NQZ5", instrument: .nq, timeframe: .oneMinute)
            let end = Date(timeIntervalSince1970: 1_764_547_200)  // 2025-12-01 00:00 UTC
            let range = end.addingTimeInterval(-30 * 86_400)..<end
            // Warm up the connection first.
            _ = try await harness.source.history(of: chart, in: end.addingTimeInterval(-3600)..<end)
            let started = ContinuousClock.now
            let candles = try await harness.source.history(of: chart, in: range)
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            #expect(candles.count > 20_000)
            #expect(candles == (try harness.expected(chart, range)))
            print(
                "market-data history throughput: \(candles.count) bars in \(String(format: "%.2f", seconds)) s = "
                    + "\(Int(Double(candles.count) / max(seconds, 1e-6))) bars/s (debug build, simulator in-process)")
        }
    }
}
