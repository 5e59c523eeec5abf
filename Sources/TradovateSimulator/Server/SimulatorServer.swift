public import Foundation
public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A running Tradovate simulator: REST under `/v1` and the market-data WebSocket at `/v1/websocket` on one port.
///
/// ```swift
/// let sim = try await SimulatorServer.start(SimulatorConfiguration())
/// // sim.restBaseURL   = http://127.0.0.1:PORT/v1
/// // sim.webSocketURL  = ws://127.0.0.1:PORT/v1/websocket
/// await sim.shutdown()
/// ```
///
/// The server only works while it is running; always call ``shutdown()`` (it is not done in `deinit`).
public final class SimulatorServer: Sendable {
    /// `http://HOST:PORT/v1`.
    public let restBaseURL: URL
    /// `ws://HOST:PORT/v1/websocket`.
    public let webSocketURL: URL
    /// The bound port.
    public let port: Int
    /// Faults on demand.
    public let faults: SimulatorFaults
    /// What the server is configured with.
    public var configuration: SimulatorConfiguration { core.configuration }
    /// Counters (also at `GET /v1/_sim/stats`).
    public var stats: SimulatorStats { core.stats }
    /// The synthetic market the server serves (for computing expected bars in tests).
    public var market: SimulatedMarket { core.market }
    /// The simulation clock.
    public var clock: any SimulationClock { core.clock }
    /// The wall clock used for transport timers.
    public var wallClock: any SimulationClock { core.wallClock }

    private let core: SimulatorCore
    private let listener: Listener
    private let accepted: AsyncStream<EventLoopFuture<UpgradeResult>>.Continuation
    private let serving: Task<Void, Never>
    private let stopScheduledFaults: WakeSignal

    /// The one-line banner `orca-run simulate` prints first:
    /// `Tradovate simulator listening: REST http://127.0.0.1:PORT/v1  WebSocket ws://127.0.0.1:PORT/v1/websocket`.
    public var banner: String {
        "Tradovate simulator listening: REST \(restBaseURL.absoluteString)  WebSocket \(webSocketURL.absoluteString)"
    }

    private init(
        core: SimulatorCore, listener: Listener, accepted: AsyncStream<EventLoopFuture<UpgradeResult>>.Continuation,
        serving: Task<Void, Never>, stopScheduledFaults: WakeSignal, port: Int
    ) {
        self.core = core
        self.listener = listener
        self.accepted = accepted
        self.serving = serving
        self.stopScheduledFaults = stopScheduledFaults
        self.port = port
        let host = core.configuration.host.contains(":") ? "[\(core.configuration.host)]" : core.configuration.host
        self.restBaseURL = URL(string: "http://\(host):\(port)/v1")!
        self.webSocketURL = URL(string: "ws://\(host):\(port)/v1/websocket")!
        self.faults = SimulatorFaults(core: core, listener: listener)
    }

    /// Checks a configuration without starting anything.
    ///
    /// - Throws: ``SimulatorError`` with code `invalidConfiguration` naming the bad value.
    public static func validate(_ configuration: SimulatorConfiguration) throws(SimulatorError) {
        func fail(_ message: String) -> SimulatorError { SimulatorError(.invalidConfiguration, message) }
        guard (0...65_535).contains(configuration.port) else { throw fail("port \(configuration.port) is not 0…65535") }
        guard configuration.auth.tokenLifetime > .zero else { throw fail("token lifetime must be positive") }
        guard configuration.charts.maxBarsPerResponse >= 1 else { throw fail("maxBarsPerResponse must be at least 1") }
        guard configuration.charts.barsPerPacket >= 1 else { throw fail("barsPerPacket must be at least 1") }
        guard configuration.charts.formingBarUpdateInterval > .zero else {
            throw fail("formingBarUpdateInterval must be positive")
        }
        guard configuration.webSocket.maxFrameBytes >= 1_024 else { throw fail("maxFrameBytes must be at least 1024") }
        let names = configuration.effectiveLogins.map(\.name)
        guard Set(names).count == names.count else { throw fail("the login table names a user twice") }
        guard !configuration.market.instruments.isEmpty else { throw fail("the market needs at least one instrument") }
        let roots = configuration.market.instruments.map(\.root)
        guard Set(roots).count == roots.count else { throw fail("the market lists a root twice") }
        if let limit = configuration.auth.rateLimit, limit.requests < 1 || limit.window <= .zero {
            throw fail("rate limit needs at least 1 request per positive window")
        }
    }

    /// Starts a simulator and returns once it listens.
    ///
    /// - Parameters:
    ///   - configuration: what to simulate (default: ephemeral 127.0.0.1 port, seed 42, real time, demo login).
    ///   - logger: where to log (debug level only); default discards everything.
    /// - Throws: ``SimulatorError`` (invalid configuration, or the port cannot be bound).
    public static func start(
        _ configuration: SimulatorConfiguration = SimulatorConfiguration(),
        logger: Logger = Logger(label: "orca.simulator", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws(SimulatorError) -> SimulatorServer {
        try validate(configuration)
        let core = SimulatorCore(configuration: configuration, logger: logger)
        let router = RESTRouter(core: core)
        let (stream, continuation) = AsyncStream<EventLoopFuture<UpgradeResult>>.makeStream()
        let listener = Listener(
            core: core, host: configuration.host, port: configuration.port,
            group: MultiThreadedEventLoopGroup.singleton, accepted: continuation)
        let periodicFaults = Self.periodicFaults(configuration.startupFaults, core: core, listener: listener)
        let listening = WakeSignal()
        let stopScheduledFaults = WakeSignal()
        // The server outlives `start()`, which returns once it listens: this one root task owns all of its work as
        // child tasks (the listener's, the scheduled faults, every connection) and ends once `shutdown()` ends them.
        let serving = Task {
            await withDiscardingTaskGroup { group in
                group.addTask { await listener.run() }
                if !periodicFaults.isEmpty {
                    group.addTask {
                        // The schedules start once the server listens.
                        await listening.wait()
                        await Self.runPeriodicFaults(periodicFaults, core: core, until: stopScheduledFaults)
                    }
                }
                for await connection in stream {
                    group.addTask { await Self.serve(connection, core: core, router: router) }
                }
            }
        }
        do {
            try await listener.start()
        } catch {
            stopScheduledFaults.signal()
            listening.signal()
            await listener.shutdown()
            continuation.finish()
            await serving.value
            throw error
        }
        listening.signal()
        let server = SimulatorServer(
            core: core, listener: listener, accepted: continuation, serving: serving,
            stopScheduledFaults: stopScheduledFaults, port: listener.port)
        if let refuse = configuration.startupFaults.refuseConnectionsFor {
            await listener.refuse(for: refuse)
        }
        return server
    }

    /// Stops listening, sends every socket a `shutdown` event and `c[1000,"Server shutdown"]`, closes every HTTP
    /// connection and returns once every connection has ended.
    public func shutdown() async {
        stopScheduledFaults.signal()
        await listener.shutdown()
        accepted.finish()
        for connection in core.registry.webSockets() {
            connection.shutdown(reasonCode: "Maintenance", reason: "Server shutdown", code: CloseCode.shutdown)
        }
        for channel in core.registry.httpChannels() { channel.close(promise: nil) }
        let core = self.core
        let serving = self.serving
        await withDiscardingTaskGroup { group in
            // A client that stops reading could hold its socket's writer forever: force-close after 2 s (wall clock).
            group.addTask {
                try? await core.wallClock.sleep(for: .seconds(2))
                guard !Task.isCancelled else { return }
                for connection in core.registry.webSockets() { connection.drop(reason: "shutdown") }
            }
            await serving.value
            group.cancelAll()
        }
    }

    /// Tokens for a configured login without going through REST (no limits, no penalty; a new session).
    ///
    /// - Throws: ``SimulatorError`` with code `unknownLogin`.
    public func grantToken(for name: String = SimulatorLogin.demo.name) throws(SimulatorError) -> AccessGrant {
        guard let (grant, revoked) = core.auth.grant(name: name, now: core.clock.now()) else {
            throw SimulatorError(.unknownLogin, "no login named '\(name)' is configured")
        }
        core.closeSockets(
            authorizedWith: revoked, code: CloseCode.tokenRevoked, reason: "Session ended by a newer login")
        return grant
    }

    // MARK: - Connections

    private static func serve(_ connection: EventLoopFuture<UpgradeResult>, core: SimulatorCore, router: RESTRouter)
        async
    {
        let result: UpgradeResult
        do {
            result = try await connection.get()
        } catch {
            core.logger.debug("connection failed before upgrade", metadata: ["sim_error": "\(error)"])
            return
        }
        switch result {
        case .webSocket(let channel):
            let socket = WebSocketConnection(id: core.registry.makeID(), channel: channel.channel, core: core)
            try? await channel.executeThenClose { inbound, _ in
                await socket.run(inbound: inbound)
            }
        case .http(let channel):
            await serveHTTP(channel, core: core, router: router)
        }
    }

    private static func serveHTTP(
        _ channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPPart<HTTPResponseHead, ByteBuffer>>, core: SimulatorCore,
        router: RESTRouter
    ) async {
        let id = core.registry.makeID()
        core.registry.add(http: channel.channel, id: id)
        defer { core.registry.remove(http: id) }
        try? await channel.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead? = nil
            var body: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let received):
                    head = received
                    body.removeAll()
                case .body(var buffer):
                    body += buffer.readBytes(length: buffer.readableBytes) ?? []
                case .end:
                    guard let request = head else { continue }
                    let response = await router.respond(
                        to: HTTPRequest(method: request.method, uri: request.uri, headers: request.headers, body: body))
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: response.contentType)
                    headers.add(name: "Content-Length", value: String(response.body.count))
                    headers.add(name: "Connection", value: request.isKeepAlive ? "keep-alive" : "close")
                    var buffer = channel.channel.allocator.buffer(capacity: response.body.count)
                    buffer.writeBytes(response.body)
                    try await outbound.write(
                        contentsOf: [
                            .head(
                                HTTPResponseHead(version: request.version, status: response.status, headers: headers)),
                            .body(buffer), .end(nil),
                        ])
                    if !request.isKeepAlive { return }
                    head = nil
                }
            }
        }
    }

    // MARK: - Scheduled faults

    private typealias PeriodicFault = (every: Duration, action: @Sendable () async -> Void)

    /// The startup faults that repeat (restart, drop sockets, revoke tokens).
    private static func periodicFaults(
        _ startup: SimulatorConfiguration.StartupFaults, core: SimulatorCore, listener: Listener
    ) -> [PeriodicFault] {
        typealias Action = @Sendable () async -> Void
        var periodic: [PeriodicFault] = []
        if let every = startup.restartEvery {
            let restart: Action = {
                await listener.stop()
                for connection in core.registry.webSockets() { connection.drop() }
                for channel in core.registry.httpChannels() { channel.close(promise: nil) }
                try? await listener.resume()
            }
            periodic.append((every, restart))
        }
        if let every = startup.dropSocketsEvery {
            let drop: Action = { for connection in core.registry.webSockets() { connection.drop() } }
            periodic.append((every, drop))
        }
        if let every = startup.revokeTokensEvery {
            let revoke: Action = {
                let tokens = core.auth.revokeAll(now: core.clock.now())
                core.closeSockets(authorizedWith: tokens, code: CloseCode.tokenRevoked, reason: "Access token revoked")
            }
            periodic.append((every, revoke))
        }
        return periodic
    }

    /// Runs each periodic fault on its own wall-clock schedule until `stop` is signalled.
    private static func runPeriodicFaults(
        _ periodic: [PeriodicFault], core: SimulatorCore, until stop: WakeSignal
    ) async {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await stop.wait()
                return true
            }
            for (every, action) in periodic {
                group.addTask {
                    while !Task.isCancelled {
                        do {
                            try await core.wallClock.sleep(for: every)
                        } catch {
                            return false
                        }
                        await action()
                    }
                    return false
                }
            }
            while let stopped = await group.next() {
                if stopped {
                    group.cancelAll()
                    break
                }
            }
        }
    }
}
