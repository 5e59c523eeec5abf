import CandleCore
import Collectors
import Foundation
import Logging
import ServiceLifecycle
import Testing
import TokenStore
import TradovateSimulator

@testable import MarketData

@Suite("Market-data client: tokens, live charts, lifecycle", .timeLimit(.minutes(10)))
struct ClientSessionTests {
    static let chart = ClientFixtures.nqz5FiveMinutes
    static let hour = ClientFixtures.marketNow.addingTimeInterval(-3600)..<ClientFixtures.marketNow

    @Test("a refused market-data token falls back to the access token on the same socket")
    func accessTokenFallback() async throws {
        try await ClientHarness.with(simulator: { $0.webSocket.acceptedTokens = .accessToken }) { harness in
            let candles = try await harness.source.history(of: Self.chart, in: Self.hour)
            #expect(candles == (try harness.expected(Self.chart, Self.hour)))
            let stats = harness.sim.stats.snapshot()
            #expect(stats.socketsOpened == 1)
            #expect(stats.authorizationsFailed == 1)
            #expect(stats.authorizationsSucceeded == 1)
            #expect(harness.client.statistics.authorizationsFailed == 1)
        }
    }

    @Test("a revoked token: the provider is asked again, a renewed token authorizes, no spinning, no secret logged")
    func revokedToken() async throws {
        try await ClientHarness.with { harness in
            _ = try await harness.source.history(of: Self.chart, in: Self.hour)
            let old = harness.tokens.token
            _ = harness.sim.faults.revokeToken(old.accessToken, closingSockets: false)
            _ = harness.sim.faults.revokeToken(old.marketDataToken, closingSockets: true)
            try await eventually("the socket closed for the revoked token") {
                harness.client.statistics.reconnects >= 1
            }
            // While the provider still returns the revoked token the client waits and retries with backoff.
            try await Task.sleep(for: .milliseconds(700))
            #expect(harness.sim.stats.snapshot().authorizationsFailed < 20)
            #expect(harness.client.statistics.isConnected == false)
            let renewed = ClientFixtures.token(try harness.sim.grantToken(), issuedAt: harness.marketClock.now())
            harness.tokens.token = renewed
            let candles = try await harness.source.history(of: Self.chart, in: Self.hour)
            #expect(candles == (try harness.expected(Self.chart, Self.hour)))
            #expect(harness.sim.stats.snapshot().authorizationsSucceeded >= 2)
            #expect(harness.sim.stats.snapshot().revokedTokenUses.count <= 2)
            let leaks = harness.assertNoSecretsLogged([
                old.accessToken, old.marketDataToken, renewed.accessToken, renewed.marketDataToken,
            ])
            #expect(leaks.isEmpty, "secrets in logs: \(leaks.count) line(s)")
            #expect(!harness.logs.all.isEmpty)
        }
    }

    @Test("a renewed token re-authorizes the open socket before the old one expires: one socket, no 3003")
    func renewalOnOpenSocket() async throws {
        try await ClientHarness.with(simulator: { $0.auth.tokenLifetime = .seconds(20 * 60) }) { harness in
            _ = try await harness.source.history(of: Self.chart, in: Self.hour)
            let first = harness.tokens.token
            // Ten minutes pass (the client checks the provider every 30 s of wall time; nothing changed).
            harness.marketClock.advance(by: 600)
            try await eventually("a token check") { harness.tokens.calls >= 2 }
            let auth = TradovateAuthClient(
                configuration: .init(
                    baseURL: harness.sim.restBaseURL.absoluteString, deviceID: "orca-test",
                    requestTimeout: .seconds(120)),
                clock: harness.marketClock)
            let renewed = try await auth.renewAccessToken(first)
            #expect(renewed.accessToken != first.accessToken)
            #expect(renewed.expirationTime > first.expirationTime)
            harness.tokens.token = renewed
            harness.marketClock.advance(by: 30)
            try await eventually("the re-authorization") {
                harness.sim.stats.snapshot().authorizationsSucceeded == 2
                    && harness.client.statistics.reauthorizations == 1
            }
            #expect(harness.client.statistics.reauthorizations == 1)
            // The old token expires: the socket, authorized with the new one, stays open.
            harness.marketClock.advance(by: 11 * 60)
            try await Task.sleep(for: .milliseconds(300))
            let candles = try await harness.source.history(of: Self.chart, in: Self.hour)
            #expect(candles.count == (try harness.expected(Self.chart, Self.hour)).count)
            let stats = harness.sim.stats.snapshot()
            #expect(stats.socketsOpened == 1)
            #expect(stats.openSockets == 1)
            #expect(stats.expiredTokenUses.isEmpty)
            #expect(stats.sockets.allSatisfy { $0.closeReason == nil })
            #expect(harness.client.statistics.reconnects == 0)
            let leaks = harness.assertNoSecretsLogged([
                first.accessToken, first.marketDataToken, renewed.accessToken, renewed.marketDataToken,
            ])
            #expect(leaks.isEmpty, "secrets in logs: \(leaks.count) line(s)")
        }
    }

    @Test("live: the forming bar is re-sent, then the next bar starts; ending the stream cancels the chart")
    func liveUpdates() async throws {
        try await ClientHarness.with(simulator: { $0.charts.ids = .distinct(historyPacketsCarry: .historical) }) {
            harness in
            let chart = ChartKey(symbol: "NQZ5", instrument: .nq, timeframe: .oneMinute)
            let live = LiveRecorder(try await harness.source.live(chart))
            let formingStart = chart.timeframe.barStart(containing: harness.marketClock.now())
            // Let the simulator's real-time pump reach its first wait, then move the market clock.
            try await eventually("the subscription") { harness.sim.stats.snapshot().chartRequests == 1 }
            try await Task.sleep(for: .milliseconds(200))
            harness.marketClock.advance(by: 15)
            try await eventually("a forming-bar update") { live.bars.contains { $0.start == formingStart } }
            harness.marketClock.advance(by: 30)
            let next = formingStart.addingTimeInterval(60)
            try await eventually("the next bar") { live.bars.contains { $0.start == next } }
            let final = try #require(live.bars.last { $0.start == formingStart })
            var expected = try #require(
                try harness.sim.market.candle(
                    symbol: "NQZ5", timeframe: .oneMinute, start: formingStart, asOf: harness.marketClock.now()))
            expected.isFinal = false
            #expect(final == expected)
            #expect(live.bars.allSatisfy { $0.symbol == "NQZ5" && $0.timeframe == .oneMinute && !$0.isFinal })
            let interrupted = live.events.contains { $0.isInterrupted }
            #expect(!interrupted)
            await live.cancel()
            try await eventually("the chart cancelled at the broker") {
                harness.sim.stats.snapshot().chartCancels >= 1 && harness.client.statistics.liveSubscriptions == 0
            }
        }
    }

    @Test("inside a service group: graceful shutdown cancels charts, closes the socket, ends live streams")
    func gracefulShutdown() async throws {
        let marketClock = ManualWallClock(now: ClientFixtures.marketNow)
        var configuration = SimulatorConfiguration()
        configuration.clock = marketClock
        let sim = try await SimulatorServer.start(configuration)
        let tokens = TokenBox(ClientFixtures.token(try sim.grantToken(), issuedAt: marketClock.now()))
        let client = try MarketDataClient(
            configuration: .init(url: sim.webSocketURL), tokenProvider: tokens.provider, wallClock: marketClock)
        let group = ServiceGroup(
            services: [client], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let running = Task { try await group.run() }
        let source = TradovateCandleSource(client: client, wallClock: marketClock)
        _ = try await source.history(of: Self.chart, in: Self.hour)
        let live = LiveRecorder(try await source.live(Self.chart))
        await group.triggerGracefulShutdown()
        try await running.value
        try await eventually("the live stream ended") { live.finished }
        #expect((live.error as? CandleSourceError)?.code == .closed)
        try await eventually("the socket closed at the server") { sim.stats.snapshot().openSockets == 0 }
        #expect(sim.stats.snapshot().chartCancels >= 2)
        #expect(client.statistics.isConnected == false)
        do {
            _ = try await source.history(of: Self.chart, in: Self.hour)
            Issue.record("expected closed")
        } catch let error as CandleSourceError {
            #expect(error.code == .closed)
        }
        await sim.shutdown()
    }

    @Test("withRunning runs the client around a command's work")
    func withRunning() async throws {
        let marketClock = ManualWallClock(now: ClientFixtures.marketNow)
        var configuration = SimulatorConfiguration()
        configuration.clock = marketClock
        let sim = try await SimulatorServer.start(configuration)
        let tokens = TokenBox(ClientFixtures.token(try sim.grantToken(), issuedAt: marketClock.now()))
        let client = try MarketDataClient(
            configuration: .init(url: sim.webSocketURL), tokenProvider: tokens.provider, wallClock: marketClock)
        let count = try await client.withRunning { client in
            try await TradovateCandleSource(client: client, wallClock: marketClock)
                .history(of: Self.chart, in: Self.hour).count
        }
        #expect(count == 12)
        try await eventually("the socket closed") { sim.stats.snapshot().openSockets == 0 }
        await sim.shutdown()
    }

    @Test("a request made before run() waits for the connection; without one it fails with unavailable")
    func requestBeforeRun() async throws {
        let marketClock = ManualWallClock(now: ClientFixtures.marketNow)
        var configuration = SimulatorConfiguration()
        configuration.clock = marketClock
        let sim = try await SimulatorServer.start(configuration)
        let tokens = TokenBox(ClientFixtures.token(try sim.grantToken(), issuedAt: marketClock.now()))
        let idle = try MarketDataClient(
            configuration: .init(url: sim.webSocketURL, connectionWaitTimeout: .milliseconds(200)),
            tokenProvider: tokens.provider, wallClock: marketClock)
        do {
            _ = try await TradovateCandleSource(client: idle, wallClock: marketClock).history(
                of: Self.chart, in: Self.hour)
            Issue.record("expected unavailable")
        } catch let error as CandleSourceError {
            #expect(error.code == .unavailable)
        }
        let client = try MarketDataClient(
            configuration: .init(url: sim.webSocketURL), tokenProvider: tokens.provider, wallClock: marketClock)
        let source = TradovateCandleSource(client: client, wallClock: marketClock)
        let early = Task { try await source.history(of: Self.chart, in: Self.hour) }
        try await Task.sleep(for: .milliseconds(100))
        let running = Task { try await client.run() }
        #expect(try await early.value.count == 12)
        running.cancel()
        _ = await running.result
        await #expect(throws: CandleSourceError.self) { try await client.run() }
        await sim.shutdown()
    }
}
