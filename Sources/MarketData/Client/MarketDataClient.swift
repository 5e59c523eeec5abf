public import CandleCore
public import Collectors
public import Foundation
public import Logging
public import ServiceLifecycle

/// Tradovate's market-data WebSocket: one long-lived socket per login, multiplexing any number of `md/getChart`
/// requests (history pages and live subscriptions) on it.
///
/// The client is a ServiceLifecycle `Service`: ``run()`` connects, authorizes, sends the `[]` heartbeat, re-authorizes
/// on the open socket when the token provider returns a renewed token, and reconnects with jittered exponential
/// backoff, until it is cancelled or the service group shuts down gracefully (then it cancels every chart and closes
/// the socket normally). Requests made while it is not connected wait (up to
/// ``MarketDataClientConfiguration/connectionWaitTimeout``) for the connection.
///
/// ```swift
/// // In a daemon: one of the group's services.
/// let client = try MarketDataClient(configuration: .init(url: url), tokenProvider: { try await tokens.current() })
/// let group = ServiceGroup(services: [client, collector], gracefulShutdownSignals: [.sigterm], logger: logger)
/// // In a command: run it around the work.
/// let bars = try await client.withRunning { try await $0.historyPage(of: chart, closestTimestamp: end,
///                                                                   asFarAsTimestamp: start, asMuchAsElements: nil) }
/// ```
///
/// Errors are `CandleSourceError` (or `CancellationError`); nothing the client logs, throws or counts contains a
/// token.
public final class MarketDataClient: Service, Sendable {
    /// The settings in use.
    public let configuration: MarketDataClientConfiguration
    private let core: ClientCore
    private let tokenProvider: @Sendable () async throws -> Token
    private let onTokenRefused: (@Sendable (Token) async -> Void)?
    private let clock: any Clock<Duration>
    private let wallClock: any WallClock
    private let random: @Sendable () -> Double
    private let logger: Logger

    /// Creates a client; it does nothing until ``run()``.
    ///
    /// - Parameters:
    ///   - configuration: the socket URL and the knobs (see ``MarketDataClientConfiguration``).
    ///   - tokenProvider: the login's current token; asked at every (re)authorization and every
    ///     ``MarketDataClientConfiguration/tokenCheckInterval`` (wall clock) to notice renewals.
    ///   - onTokenRefused: called when `tokenProvider` hands out a token the server already refused (revoked, or
    ///     issued by another server): the place to force a new login, e.g. `TokenRefresher.refreshNow(_:grace:)`.
    ///     Without it the client waits (with backoff) for the provider to return another token.
    ///   - clock: transport timers: heartbeat, request timeouts, backoff.
    ///   - wallClock: market time: penalty waits, token expiry checks.
    ///   - random: the backoff jitter's source, values in `0..<1`.
    ///   - logger: where the client logs (debug/warning; never a token).
    /// - Throws: `CandleSourceError` with code `CandleSourceError.Code.invalidRequest` for a wrong configuration.
    public init(
        configuration: MarketDataClientConfiguration,
        tokenProvider: @escaping @Sendable () async throws -> Token,
        onTokenRefused: (@Sendable (Token) async -> Void)? = nil,
        clock: any Clock<Duration> = ContinuousClock(),
        wallClock: any WallClock = SystemWallClock(),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        logger: Logger = Logger(label: "orca.marketdata", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(CandleSourceError) {
        if let problem = configuration.problem() {
            throw CandleSourceError(.invalidRequest, "market-data client configuration: \(problem)")
        }
        self.configuration = configuration
        self.tokenProvider = tokenProvider
        self.onTokenRefused = onTokenRefused
        self.clock = clock
        self.wallClock = wallClock
        self.random = random
        self.logger = logger
        self.core = ClientCore(configuration: configuration, clock: clock, wallClock: wallClock, logger: logger)
    }

    /// A snapshot of the counters (sockets, authorizations, reconnects, malformed frames, penalties, timeouts, charts,
    /// bars, last error, connected flag).
    public var statistics: MarketDataClientStatistics { core.statistics }

    // MARK: - Requests

    /// One `md/getChart` page: the bars the server sends for these time-range fields until `eoh`, in the order
    /// received; the subscription is then cancelled. Penalty tickets are waited out (wall clock) and the request
    /// resent with its ticket; a page cut by a broken connection is sent again on the next connection
    /// (``MarketDataClientConfiguration/historyAttempts`` in all).
    ///
    /// - Throws: `CandleSourceError`: `unknownSymbol`, `notSupported`, `rateLimited` (429, captcha, too many
    ///   penalties), `timeout`, `unavailable`, `invalidRequest`, `protocolViolation`, `closed`; or `CancellationError`.
    public func historyPage(
        of chart: ChartKey, closestTimestamp: Date?, asFarAsTimestamp: Date?, asMuchAsElements: Int?
    ) async throws -> [ChartBar] {
        if closestTimestamp == nil, asFarAsTimestamp == nil, asMuchAsElements == nil {
            throw CandleSourceError(.invalidRequest, "md/getChart needs at least one time-range field", chart: chart)
        }
        return try await core.historyPage(
            of: chart, closestTimestamp: closestTimestamp, asFarAsTimestamp: asFarAsTimestamp,
            asMuchAsElements: asMuchAsElements)
    }

    /// Subscribes to `chart` (`md/getChart` with `asMuchAsElements`) and returns once the broker accepted it. Bars
    /// after the history's `eoh` are delivered as `LiveChartEvent.bar(_:)` (`Candle.isFinal` `false`), from
    /// packets carrying either subscription id. A lost connection delivers `LiveChartEvent.interrupted(reason:)`;
    /// after reconnecting the chart is subscribed again (new ids) and `LiveChartEvent.resumed` follows. Ending the
    /// iteration cancels the chart at the broker; the stream finishes with `closed` when the client stops.
    ///
    /// - Throws: `CandleSourceError` when the subscription cannot be made (unknown symbol, no data plan, timeout,
    ///   no connection, rate limits).
    public func live(
        _ chart: ChartKey, asMuchAsElements: Int = 1
    ) async throws -> AsyncThrowingStream<LiveChartEvent, any Error> {
        try await core.live(chart, asMuchAsElements: max(1, asMuchAsElements))
    }

    // MARK: - Lifecycle

    /// Maintains the connection until the task is cancelled or a graceful shutdown is triggered; then cancels the
    /// charts, closes the socket normally, fails waiting requests with `CandleSourceError.Code.closed` and returns.
    ///
    /// Everything the client runs concurrently (the connection loop, timers, token fetches, the `onTokenRefused`
    /// hook) is a child task of this call.
    ///
    /// - Throws: `CandleSourceError` with code `invalidRequest` when called while already running or after it ended.
    public func run() async throws {
        let (commands, queue) = AsyncStream.makeStream(of: ClientCore.Command.self)
        guard core.start(commands: queue) else {
            throw CandleSourceError(
                .invalidRequest, "the market-data client runs already or has stopped; make a new one")
        }
        let core = self.core
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    await self.connectionLoop()
                    queue.yield(.stopConnecting)
                }
                // The single loop: every timer, token fetch and hook call the core asks for becomes a child task.
                loop: for await command in commands {
                    switch command {
                    case .schedule(let timer):
                        group.addTask { await core.runTimer(timer) }
                    case .fetchToken(let id):
                        group.addTask { await self.fetchToken(for: id) }
                    case .notifyTokenRefused(let token):
                        if let onTokenRefused = self.onTokenRefused {
                            group.addTask { await onTokenRefused(token) }
                        }
                    case .stopConnecting:
                        break loop
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            core.shutdown()
        }
        core.stop()
    }

    /// Runs the client around `body` (for commands such as a backfill): starts ``run()`` in a child task, calls `body`
    /// and then shuts the client down.
    public func withRunning<Result: Sendable>(
        _ body: @Sendable (MarketDataClient) async throws -> Result
    ) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.run() }
            do {
                let result = try await body(self)
                core.shutdown()
                try await group.next()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    private func fetchToken(for id: Int) async {
        let result: Swift.Result<Token, any Error>
        do {
            result = .success(try await tokenProvider())
        } catch {
            result = .failure(error)
        }
        core.tokenFetched(id, result)
    }

    /// Connects, runs a session, backs off and connects again until the core says stop or the task is cancelled.
    private func connectionLoop() async {
        let transport = WebSocketTransport(configuration: configuration, logger: logger)
        while !Task.isCancelled {
            guard let id = core.connectionRequested() else { break }
            let outcome = await connect(id, transport: transport)
            let attempt = core.connectionEnded(id, error: outcome.error, closeCode: outcome.code)
            guard let attempt, !Task.isCancelled else { break }
            let delay = backoffDelay(attempt: attempt)
            logger.debug(
                "reconnecting", metadata: ["orca_delay": "\(delay)", "orca_failures": "\(core.failedConnections)"])
            do {
                try await clock.sleep(for: delay)
            } catch {
                break
            }
        }
    }

    /// What a connection attempt's child tasks report.
    private enum AttemptEvent: Sendable {
        case ended(error: (any Error)?, code: Int?)
        case timedOut
        case watchdogDone
    }

    /// One connection attempt: the transport (connect, session) and a watchdog for the connect timeout, which
    /// cancels the attempt when the core says the handshake or authorization took too long.
    private func connect(_ id: Int, transport: WebSocketTransport) async -> (error: (any Error)?, code: Int?) {
        let core = self.core
        let clock = self.clock
        let timeout = configuration.connectTimeout
        return await withTaskGroup(of: AttemptEvent.self) { group in
            group.addTask {
                do {
                    let code = try await transport.run { connection in
                        try await self.session(connection, id: id)
                    }
                    return .ended(error: nil, code: code)
                } catch {
                    return .ended(error: error, code: nil)
                }
            }
            group.addTask {
                do {
                    try await clock.sleep(for: timeout)
                } catch {
                    return .watchdogDone
                }
                return core.connectTimeoutFired(id) ? .timedOut : .watchdogDone
            }
            while let event = await group.next() {
                switch event {
                case .ended(let error, let code):
                    group.cancelAll()
                    return (error, code)
                case .timedOut:
                    group.cancelAll()
                case .watchdogDone:
                    continue
                }
            }
            return (CancellationError(), nil)
        }
    }

    /// The delay before reconnecting after `attempt` failed connections in a row (1 after a connection that had been
    /// authorized): `min(cap, initial × multiplier^(attempt − 1)) × (1 − jitter × random())`.
    public func backoffDelay(attempt: Int) -> Duration {
        MarketDataConnectionStateMachine.backoffDelay(attempt: attempt, random: random(), configuration: configuration)
    }

    /// One established connection: an ordered writer, the heartbeat, the token watcher and the reader, until one ends.
    private func session(_ connection: WebSocketConnection, id: Int) async throws {
        let (outgoing, queue) = AsyncStream.makeStream(of: String.self)
        guard core.sessionStarted(id, outgoing: queue) else { return }
        let core = self.core
        let clock = self.clock
        let interval = configuration.heartbeatInterval
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await text in outgoing { try await connection.send(text) }
            }
            group.addTask {
                while true {
                    try await clock.sleep(for: interval)
                    queue.yield(MarketDataWire.heartbeat)
                    core.heartbeatSent()
                }
            }
            group.addTask { try await self.watchToken(id) }
            group.addTask {
                for try await text in connection.texts() {
                    let keepReading: Bool
                    do {
                        let frame = try MarketDataWire.parse(text)
                        keepReading = core.frameReceived(frame, on: id)
                    } catch {
                        keepReading = core.malformedFrame(error, on: id)
                    }
                    if !keepReading { break }
                }
                queue.finish()
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Asks the token provider every `tokenCheckInterval` (and at `expiry − margin`) and re-authorizes the open socket
    /// when it returns a renewed token.
    private func watchToken(_ id: Int) async throws {
        let interval = ClientTime.seconds(configuration.tokenCheckInterval)
        let margin = ClientTime.seconds(configuration.tokenExpiryMargin)
        while true {
            let now = wallClock.now()
            var next = now.addingTimeInterval(interval)
            if let current = core.authorizedToken(id) {
                let renewBy = current.expirationTime.addingTimeInterval(-margin)
                if renewBy > now { next = min(next, renewBy) }
            }
            try await wallClock.sleep(until: next)
            guard core.authorizedToken(id) != nil else { continue }
            do {
                let token = try await tokenProvider()
                core.tokenRenewed(id, token: token)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.debug(
                    "token check failed",
                    metadata: ["orca_error": "\(MarketDataConnectionStateMachine.describe(error))"])
            }
        }
    }
}
