import CandleCore
import Collectors
import Foundation
import Testing
import TradovateSimulator

@testable import MarketData

@Suite("Market-data client: faults and recovery", .timeLimit(.minutes(10)))
struct ClientResilienceTests {
    static let chart = ClientFixtures.nqz5FiveMinutes
    static let day = ClientFixtures.marketNow.addingTimeInterval(-86_400)..<ClientFixtures.marketNow

    @Test("dropped sockets: live streams see interrupted then resumed, history still completes")
    func droppedSockets() async throws {
        try await ClientHarness.with(simulator: {
            $0.charts.maxBarsPerResponse = 20
            $0.charts.barsPerPacket = 10
        }) { harness in
            let live = LiveRecorder(try await harness.source.live(Self.chart))
            let source = harness.source
            let history = Task { try await source.history(of: Self.chart, in: Self.day) }
            try await eventually("a few pages") { harness.sim.stats.snapshot().chartRequests >= 4 }
            harness.sim.faults.dropAllSockets()
            let candles = try await history.value
            #expect(candles == (try harness.expected(Self.chart, Self.day)))
            try await eventually("interrupted then resumed") {
                let events = live.events
                guard let cut = events.firstIndex(where: \.isInterrupted) else { return false }
                return events[cut...].contains(.resumed)
            }
            #expect(harness.sim.stats.snapshot().socketsOpened >= 2)
            #expect(harness.client.statistics.reconnects >= 1)
            #expect(harness.client.statistics.liveSubscriptions == 1)
            await live.cancel()
            try await eventually("the live chart cancelled") { harness.client.statistics.liveSubscriptions == 0 }
        }
    }

    @Test("a server restart is survived")
    func restart() async throws {
        try await ClientHarness.with { harness in
            _ = try await harness.source.history(of: Self.chart, in: Self.day)
            try await harness.sim.faults.restart(downtime: .milliseconds(500))
            let candles = try await harness.source.history(of: Self.chart, in: Self.day)
            #expect(candles == (try harness.expected(Self.chart, Self.day)))
            #expect(harness.client.statistics.reconnects >= 1)
            #expect(harness.sim.stats.snapshot().socketsOpened == 2)
        }
    }

    @Test("refused connections are retried with backoff until the server listens again")
    func refusedConnections() async throws {
        try await ClientHarness.with { harness in
            _ = try await harness.source.history(of: Self.chart, in: Self.day)
            // Refused until the client has seen a refusal, however late a loaded machine notices the dropped socket;
            // then the listener accepts again and the request in flight completes.
            await harness.sim.faults.refuseConnections(for: .seconds(3_600))
            harness.sim.faults.dropAllSockets()
            let source = harness.source
            let history = Task { try await source.history(of: Self.chart, in: Self.day) }
            try await eventually("a refused connect") { harness.client.statistics.connectFailures >= 1 }
            try await harness.sim.faults.acceptConnections()
            let candles = try await history.value
            #expect(candles == (try harness.expected(Self.chart, Self.day)))
            #expect(harness.client.statistics.connectFailures >= 1)
        }
    }

    @Test("a delayed response fails with timeout")
    func delayedResponse() async throws {
        // 2 s: the warm-up request must not time out on a loaded CI machine; the delay is well beyond it.
        try await ClientHarness.with(client: { $0.requestTimeout = .seconds(2) }) { harness in
            _ = try await harness.source.history(of: Self.chart, in: Self.day)
            harness.sim.faults.delayResponses(by: .seconds(8))
            await #expect(throws: CandleSourceError.self) {
                do {
                    _ = try await harness.source.history(of: Self.chart, in: Self.day)
                } catch let error as CandleSourceError {
                    #expect(error.code == .timeout)
                    throw error
                }
            }
            #expect(harness.client.statistics.timeouts >= 1)
            harness.sim.faults.delayResponses(by: nil)
        }
    }

    @Test("a stalled chart (no eoh) fails with timeout and is cancelled")
    func stalledChart() async throws {
        try await ClientHarness.with(client: { $0.historyInactivityTimeout = .milliseconds(300) }) { harness in
            harness.sim.faults.stallCharts(true)
            do {
                _ = try await harness.source.history(of: Self.chart, in: Self.day)
                Issue.record("expected a timeout")
            } catch let error as CandleSourceError {
                #expect(error.code == .timeout)
            }
            try await eventually("the stalled chart cancelled") { harness.sim.stats.snapshot().chartCancels >= 1 }
            harness.sim.faults.stallCharts(false)
            #expect(harness.client.statistics.activeCharts == 0)
        }
    }

    @Test("a penalty ticket is waited out on the wall clock and the request succeeds")
    func penalty() async throws {
        try await ClientHarness.with { harness in
            harness.sim.faults.forcePenalties(nextRequests: 1, seconds: 5)
            let source = harness.source
            let history = Task { try await source.history(of: Self.chart, in: Self.day) }
            try await eventually("the penalty") { harness.client.statistics.penalties == 1 }
            // The client is asleep for p-time on the (manual) wall clock before the clock moves: advancing sooner
            // (a loaded machine) would leave its sleep 5 s past a clock that never moves again.
            let clock = harness.marketClock
            let resend = clock.now().addingTimeInterval(5)
            try await eventually("the client waiting out p-time") { clock.deadlines.contains(resend) }
            // Nothing is resent before p-time passes.
            #expect(harness.sim.stats.snapshot().penaltiesIssued == 1)
            #expect(harness.sim.stats.snapshot().penaltyTicketsHonoured == 0)
            #expect(harness.client.statistics.chartRequests == 1)
            clock.advance(by: 5)
            // Cancelled with the test (its time limit), so a lost wake-up fails instead of hanging the run.
            let candles = try await withTaskCancellationHandler {
                try await history.value
            } onCancel: {
                history.cancel()
            }
            #expect(candles == (try harness.expected(Self.chart, Self.day)))
            #expect(harness.sim.stats.snapshot().penaltyTicketsHonoured == 1)
            #expect(harness.client.statistics.chartRequests >= 2)
        }
    }

    @Test("a captcha penalty fails with rateLimited")
    func captcha() async throws {
        try await ClientHarness.with { harness in
            harness.sim.faults.forcePenalties(nextRequests: 1, seconds: 5, captcha: true)
            do {
                _ = try await harness.source.history(of: Self.chart, in: Self.day)
                Issue.record("expected rateLimited")
            } catch let error as CandleSourceError {
                #expect(error.code == .rateLimited)
                #expect(error.isTransient)
            }
        }
    }

    @Test("a 429 fails with rateLimited")
    func rateLimited() async throws {
        try await ClientHarness.with(simulator: {
            $0.auth.rateLimit = RateLimit(requests: 2, window: .seconds(3600))
        }) { harness in
            var codes: [CandleSourceError.Code] = []
            for _ in 0..<3 {
                do {
                    _ = try await harness.client.historyPage(
                        of: Self.chart, closestTimestamp: ClientFixtures.marketNow, asFarAsTimestamp: nil,
                        asMuchAsElements: 5)
                } catch let error as CandleSourceError {
                    codes.append(error.code)
                }
            }
            #expect(codes.contains(.rateLimited))
            #expect(harness.client.statistics.rateLimited >= 1)
        }
    }

    @Test("a malformed frame is counted, resets the connection, and nothing hangs", arguments: MalformedFrame.allCases)
    func malformedFrame(kind: MalformedFrame) async throws {
        try await ClientHarness.with { harness in
            _ = try await harness.source.history(of: Self.chart, in: Self.day)
            harness.sim.faults.sendMalformedFrame(kind)
            try await eventually("the malformed frame counted") { harness.client.statistics.malformedFrames >= 1 }
            try await eventually("a new socket") { harness.sim.stats.snapshot().socketsOpened >= 2 }
            let candles = try await harness.source.history(of: Self.chart, in: Self.day)
            #expect(candles == (try harness.expected(Self.chart, Self.day)))
            #expect(harness.client.statistics.lastError != nil)
        }
    }

    @Test("a shutdown event leads to a reconnect")
    func shutdownEvent() async throws {
        try await ClientHarness.with { harness in
            _ = try await harness.source.history(of: Self.chart, in: Self.day)
            harness.sim.faults.sendShutdown(reasonCode: "Maintenance", reason: "test")
            try await eventually("a new socket") { harness.sim.stats.snapshot().socketsOpened >= 2 }
            #expect(harness.client.statistics.shutdownEvents == 1)
            let candles = try await harness.source.history(of: Self.chart, in: Self.day)
            #expect(candles == (try harness.expected(Self.chart, Self.day)))
        }
    }

    @Test("heartbeats are sent on schedule whatever the server does")
    func heartbeats() async throws {
        try await ClientHarness.with(client: { $0.heartbeatInterval = .milliseconds(50) }) { harness in
            _ = try await harness.source.history(of: Self.chart, in: Self.day)
            try await eventually("heartbeats at the server") {
                (harness.sim.stats.snapshot().sockets.first?.heartbeatsReceived ?? 0) >= 5
            }
            #expect(harness.client.statistics.heartbeatsSent >= 5)
        }
    }

    @Test("the backoff grows, is capped and jittered by the injected random source")
    func backoff() throws {
        let configuration = MarketDataClientConfiguration(
            url: URL(string: "ws://127.0.0.1:1/v1/websocket")!, backoffInitial: .seconds(1), backoffMultiplier: 2,
            backoffCap: .seconds(10), backoffJitter: 0.5)
        let fixed = try MarketDataClient(
            configuration: configuration, tokenProvider: { throw CancellationError() }, random: { 0 })
        #expect(fixed.backoffDelay(attempt: 1) == .seconds(1))
        #expect(fixed.backoffDelay(attempt: 2) == .seconds(2))
        #expect(fixed.backoffDelay(attempt: 4) == .seconds(8))
        #expect(fixed.backoffDelay(attempt: 9) == .seconds(10))
        let jittered = try MarketDataClient(
            configuration: configuration, tokenProvider: { throw CancellationError() }, random: { 0.999_999 })
        #expect(jittered.backoffDelay(attempt: 2) > .milliseconds(999))
        #expect(jittered.backoffDelay(attempt: 2) < .milliseconds(1001))
    }

    @Test("configuration problems are refused with a message")
    func configuration() {
        #expect(throws: CandleSourceError.self) {
            _ = try MarketDataClient(
                configuration: .init(url: URL(string: "wss://10.0.0.1/v1/websocket")!),
                tokenProvider: {
                    throw CancellationError()
                })
        }
        #expect(throws: CandleSourceError.self) {
            _ = try MarketDataClient(
                configuration: .init(url: URL(string: "https://md.tradovateapi.com/v1/websocket")!),
                tokenProvider: { throw CancellationError() })
        }
        #expect(throws: Never.self) {
            _ = try MarketDataClient(
                configuration: .init(url: URL(string: "wss://10.0.0.1/v1/websocket")!, tlsServerName: "md.example"),
                tokenProvider: { throw CancellationError() })
        }
    }
}
