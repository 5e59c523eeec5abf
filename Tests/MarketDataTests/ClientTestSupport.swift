import CandleCore
import Collectors
import Foundation
import Logging
import Synchronization
import TokenStore
import TradovateSimulator

@testable import MarketData

/// Shared pieces of the market-data client tests: a simulator on a manual market clock, a client on it, a token box,
/// log capture and polling.
enum ClientFixtures {
    /// Wednesday 2025-12-03 15:02:30 UTC: the market is open and NQZ5 is the front month.
    static let marketNow = Date(timeIntervalSince1970: 1_764_774_150)
    static let nqz5FiveMinutes = ChartKey(symbol: "NQZ5", instrument: .nq, timeframe: .fiveMinutes)

    static func token(_ grant: AccessGrant, issuedAt: Date) -> Token {
        Token(
            accessToken: grant.accessToken, marketDataToken: grant.mdAccessToken, expirationTime: grant.expirationTime,
            userID: grant.userId, login: grant.name, issuedAt: issuedAt)
    }
}

/// The token the test hands the client; replaceable at any time.
final class TokenBox: Sendable {
    private let state: Mutex<(token: Token, calls: Int)>

    init(_ token: Token) { state = Mutex((token, 0)) }

    var token: Token {
        get { state.withLock { $0.token } }
        set { state.withLock { $0.token = newValue } }
    }

    var calls: Int { state.withLock { $0.calls } }

    var provider: @Sendable () async throws -> Token {
        {
            self.state.withLock { state in
                state.calls += 1
                return state.token
            }
        }
    }
}

/// Collects every log line (message, metadata and error rendered as text) for secret-leak assertions.
final class ClientLogs: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func logger() -> Logger {
        var logger = Logger(label: "orca.marketdata.test") { _ in Handler(sink: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }

    struct Handler: LogHandler {
        let sink: ClientLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            let error = event.error.map { " error=\($0)" } ?? ""
            sink.append(
                "\(event.level) \(event.message) \(merged.map { "\($0)=\($1)" }.sorted().joined(separator: " "))\(error)"
            )
        }
    }
}

/// A simulator plus a running client.
struct ClientHarness: Sendable {
    let sim: SimulatorServer
    let marketClock: ManualWallClock
    let client: MarketDataClient
    let source: TradovateCandleSource
    let tokens: TokenBox
    let logs: ClientLogs
    let running: Task<Void, any Error>

    /// Starts a simulator (market clock manual at ``ClientFixtures/marketNow``) and a client running against it.
    static func start(
        simulator: (inout SimulatorConfiguration) -> Void = { _ in },
        client: (inout MarketDataClientConfiguration) -> Void = { _ in },
        clock: any Clock<Duration> = ContinuousClock()
    ) async throws -> ClientHarness {
        let marketClock = ManualWallClock(now: ClientFixtures.marketNow)
        var configuration = SimulatorConfiguration()
        configuration.clock = marketClock
        simulator(&configuration)
        let sim = try await SimulatorServer.start(configuration)
        let tokens = TokenBox(ClientFixtures.token(try sim.grantToken(), issuedAt: marketClock.now()))
        var settings = MarketDataClientConfiguration(url: sim.webSocketURL)
        settings.backoffInitial = .milliseconds(50)
        settings.backoffCap = .milliseconds(500)
        client(&settings)
        let logs = ClientLogs()
        let marketDataClient = try MarketDataClient(
            configuration: settings, tokenProvider: tokens.provider, clock: clock, wallClock: marketClock,
            logger: logs.logger())
        let running = Task { try await marketDataClient.run() }
        return ClientHarness(
            sim: sim, marketClock: marketClock, client: marketDataClient,
            source: TradovateCandleSource(client: marketDataClient, wallClock: marketClock), tokens: tokens,
            logs: logs, running: running)
    }

    /// Runs `body` with a started harness and always stops it afterwards.
    static func with(
        simulator: (inout SimulatorConfiguration) -> Void = { _ in },
        client: (inout MarketDataClientConfiguration) -> Void = { _ in },
        clock: any Clock<Duration> = ContinuousClock(),
        _ body: (ClientHarness) async throws -> Void
    ) async throws {
        let harness = try await start(simulator: simulator, client: client, clock: clock)
        do {
            try await body(harness)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    /// Stops the client and the simulator.
    func stop() async {
        running.cancel()
        _ = await running.result
        await sim.shutdown()
    }

    /// The bars the simulator's market holds for `chart` in `range`, as the market stands now.
    func expected(_ chart: ChartKey, _ range: Range<Date>) throws -> [Candle] {
        try sim.market.candles(
            symbol: chart.symbol, timeframe: chart.timeframe, from: range.lowerBound, to: range.upperBound,
            asOf: marketClock.now())
    }

    /// Every secret the simulator handed out so far must be absent from the logs.
    func assertNoSecretsLogged(_ secrets: [String]) -> [String] {
        logs.all.filter { line in secrets.contains { !$0.isEmpty && line.contains($0) } }
    }
}

struct PollTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes (generous: CI machines are slow).
func eventually(
    _ what: String, timeout: Duration = .seconds(60), _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        if ContinuousClock.now >= deadline { throw PollTimeout(what: what) }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// Consumes a live stream in the background and keeps every event.
final class LiveRecorder: Sendable {
    private let state = Mutex<(events: [LiveChartEvent], error: (any Error)?, finished: Bool)>(([], nil, false))
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    init(_ stream: AsyncThrowingStream<LiveChartEvent, any Error>) {
        let running = Task {
            do {
                for try await event in stream { self.state.withLock { $0.events.append(event) } }
                self.state.withLock { $0.finished = true }
            } catch {
                self.state.withLock {
                    $0.error = error
                    $0.finished = true
                }
            }
        }
        task.withLock { $0 = running }
    }

    var events: [LiveChartEvent] { state.withLock { $0.events } }
    var finished: Bool { state.withLock { $0.finished } }
    var error: (any Error)? { state.withLock { $0.error } }

    var bars: [Candle] {
        events.compactMap {
            if case .bar(let candle) = $0 { return candle }
            return nil
        }
    }

    /// Stops consuming (the stream's termination cancels the chart at the broker).
    func cancel() async {
        let running = task.withLock { $0 }
        running?.cancel()
        await running?.value
    }
}

extension LiveChartEvent {
    var isInterrupted: Bool {
        if case .interrupted = self { return true }
        return false
    }
}
