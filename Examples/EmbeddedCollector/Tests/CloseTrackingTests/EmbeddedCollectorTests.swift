import CandleCore
import CandleTesting
import CloseTracking
import Collectors
import Foundation
import Logging
import MarketData
import ServiceLifecycle
import Testing
import TokenStore
import TradovateSimulator

/// Polls `condition` until it holds or `limit` of real time has passed (generous: CI runs on two busy cores).
func eventually(within limit: Duration = .seconds(90), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

@Suite(.timeLimit(.minutes(3)))
struct EmbeddedCollectorTests {
    let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The collector drives the custom sink on a manual clock: a newer bar closes the previous one, the settle timeout
    /// closes the last one, and each closed bar is printed once.
    @Test func closesScriptedBarsIntoTheSink() async throws {
        let start = Date(timeIntervalSince1970: 1_795_000_200)  // Wednesday 2026-11-18 11:10 UTC, market open
        let series = Series(.nq, .fiveMinutes)
        let clock = ManualWallClock(now: start)
        let source = ScriptedCandleSource()
        let lines = Lines()
        let sink = LatestCloseSink(output: lines.append)
        let collector = try Collector(
            source: source, sink: sink, configuration: .init(series: [series], healLookBack: .seconds(600)),
            clock: clock,
            logger: quiet)
        let first = Candle.fixture(start: start, close: 21_004, isFinal: false)
        let chart = ChartKey(symbol: first.symbol, instrument: .nq, timeframe: .fiveMinutes)
        let run = Task { try await collector.run() }
        #expect(try await eventually { await source.openSubscriptions(for: chart) == 1 })

        await source.push(Candle.fixture(start: start, close: 21_002, isFinal: false))
        await source.push(first)  // the bar's last state
        await source.push(Candle.fixture(start: start.addingTimeInterval(300), close: 21_010, isFinal: false))
        #expect(try await eventually { await sink.latestClose(of: series) == 21_004 })

        // Nothing newer arrives: 1.5 s after its end the second bar is closed with its last state (no real waiting).
        clock.set(to: start.addingTimeInterval(600 + 2))
        #expect(try await eventually { await sink.latestClose(of: series) == 21_010 })
        #expect(
            lines.all == [
                "NQ 5min NQZ6 2026-11-18T11:10:00Z close 21004.00 volume 200",
                "NQ 5min NQZ6 2026-11-18T11:15:00Z close 21010.00 volume 200",
            ])
        run.cancel()
        _ = try? await run.value
        #expect(await collector.statistics.series[series]?.barsWritten == 2)
    }

    /// The example's wiring against the in-process simulator at 60×: the heal writes the bars before the start, live
    /// bars follow, every stored bar equals the simulated market's, and a graceful shutdown ends the group.
    @Test func collectsFromTheSimulatorAndShutsDownGracefully() async throws {
        let marketStart = try Date("2026-11-24T15:00:00Z", strategy: .iso8601)  // Tuesday 10:00 New York
        let clock = ScaledWallClock(start: marketStart, anchor: Date(), speed: 60)
        var configuration = SimulatorConfiguration()
        configuration.clock = clock
        let simulator = try await SimulatorServer.start(configuration)

        let demo = SimulatorLogin.demo
        let login = TradovateCredentials(name: demo.name, password: demo.password, cid: demo.cid, secret: demo.sec)
        let auth = TradovateAuthClient(
            configuration: .init(baseURL: simulator.restBaseURL.absoluteString, deviceID: "embedded-collector-test"),
            clock: clock)
        let refresher = TokenRefresher(
            logins: [login], auth: auth, store: InMemoryTokenProvider(clock: clock), locks: nil, clock: clock)
        let client = try MarketDataClient(
            configuration: .init(url: simulator.webSocketURL),
            tokenProvider: { try await refresher.token(for: login.name) }, wallClock: clock)
        let source = TradovateCandleSource(client: client, wallClock: clock)
        let sink = LatestCloseSink(output: { _ in })
        let series = [Series(.nq, .fiveMinutes), Series(.es, .fiveMinutes)]
        let collector = try Collector(
            source: source, sink: sink, configuration: .init(series: series, healLookBack: .seconds(1_800)),
            clock: clock)
        let group = ServiceGroup(services: [refresher, client, collector], logger: quiet)
        let run = Task { try await group.run() }

        /// Every stored bar of `series` that has ended, compared with the simulated market as it stands now.
        func matchesMarket(_ series: Series) async throws -> (live: Int, allEqual: Bool) {
            let now = clock.now()
            var live = 0
            for bar in try await sink.candles(of: series) where bar.end <= now {
                let expected = try simulator.market.candle(
                    symbol: bar.symbol, timeframe: bar.timeframe, start: bar.start, asOf: now)
                guard bar.isFinal, let expected, bar == expected else { return (live, false) }
                if bar.start >= marketStart { live += 1 }
            }
            return (live, true)
        }
        let collected =
            (try? await eventually {
                for series in series {
                    let state = try await matchesMarket(series)
                    if state.live < 2 || !state.allEqual { return false }
                }
                return true
            }) ?? false
        await group.triggerGracefulShutdown()
        try await run.value  // returns: every service ended on the graceful shutdown

        #expect(collected, "two live bars per series equal to the market's within 90 s")
        for series in series {
            let healed = try await sink.candleStarts(
                of: series, in: marketStart.addingTimeInterval(-1_800)..<marketStart)
            #expect(healed.count == 6, "the 30 minutes before the start were healed for \(series)")
            #expect(await sink.latestClose(of: series) != nil)
        }
        #expect(await collector.statistics.barsWritten >= 16)
        #expect(await collector.subscribedCharts.isEmpty)
        #expect(client.statistics.socketsOpened == 1)
        await sink.close()
        await simulator.shutdown()
    }
}
