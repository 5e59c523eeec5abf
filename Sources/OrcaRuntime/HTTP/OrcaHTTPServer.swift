public import CandleCore
public import Logging
public import NIOCore
internal import NIOHTTP1
public import NIOPosix
public import ServiceLifecycle

/// The daemon's HTTP/1.1 endpoint: `GET /health` (JSON ``HealthReport``; 200 when healthy or degraded, 503 when
/// down) and `GET /metrics` (Prometheus text). Any other path is 404, any other method 405.
///
/// A `Service`: ``run()`` serves until cancelled or gracefully shut down, which closes the listener at once and lets
/// requests in flight finish. ``start()`` binds early (port 0 picks a free port; read it from the result or
/// ``port``) so that a taken port fails before the service group starts; ``run()`` binds itself when needed.
/// Every response closes its connection (`Connection: close`); a client that sends nothing for
/// ``Configuration/requestTimeout`` is disconnected.
public actor OrcaHTTPServer: Service {
    /// Where and how to listen.
    public struct Configuration: Sendable, Hashable {
        /// The address to bind (default `127.0.0.1`; `0.0.0.0` for every interface).
        public var host: String
        /// The port (default 9464; 0 picks a free port).
        public var port: Int
        /// How long a connection may stay silent before it is closed (default 10 s).
        public var requestTimeout: Duration

        /// Creates a configuration with the defaults above.
        public init(host: String = "127.0.0.1", port: Int = 9464, requestTimeout: Duration = .seconds(10)) {
            self.host = host
            self.port = port
            self.requestTimeout = requestTimeout
        }
    }

    /// Produces the report for `GET /health`.
    public typealias HealthSource = @Sendable () async -> HealthReport
    /// Produces the Prometheus text for `GET /metrics`.
    public typealias MetricsSource = @Sendable () async -> String

    private typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    private typealias Listener = NIOAsyncChannel<Connection, Never>

    /// The settings in use.
    public nonisolated let configuration: Configuration
    private let health: HealthSource?
    private let metrics: MetricsSource?
    private let group: any EventLoopGroup
    private let logger: Logger
    private var listener: Listener?
    private var boundPort: Int?
    private var stopped = false

    /// Creates a server; nothing is bound until ``start()`` or ``run()``.
    ///
    /// - Parameters:
    ///   - logger: where events are logged.
    ///   - configuration: the configuration.
    ///   - health: the report behind `GET /health` (`nil`: 404).
    ///   - metrics: the text behind `GET /metrics` (`nil`: 404).
    ///   - group: the event loops (NIO's shared singleton by default).
    public init(
        configuration: Configuration = Configuration(), health: HealthSource?, metrics: MetricsSource?,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "orca.http", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.health = health
        self.metrics = metrics
        self.group = group
        self.logger = logger
    }

    /// A server whose `GET /metrics` renders `prometheus`.
    public init(
        configuration: Configuration = Configuration(), health: HealthSource?, prometheus: OrcaPrometheus,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "orca.http", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.init(
            configuration: configuration, health: health, metrics: { prometheus.render() }, group: group,
            logger: logger)
    }

    /// The bound port, once bound (kept after shutdown).
    public var port: Int? { boundPort }

    /// Binds the listener (once) and returns the bound port.
    ///
    /// - Throws: ``OrcaHTTPServerError`` with code `bindFailed` (port taken, bad host) or `stopped`.
    @discardableResult
    public func start() async throws(OrcaHTTPServerError) -> Int {
        guard !stopped else { throw OrcaHTTPServerError(.stopped, "the HTTP server was shut down; create a new one") }
        if let boundPort { return boundPort }
        let timeout = TimeAmount.nanoseconds(
            configuration.requestTimeout.components.seconds * 1_000_000_000
                + configuration.requestTimeout.components.attoseconds / 1_000_000_000)
        let channel: Listener
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 64)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: timeout))
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                            withPipeliningAssistance: false, withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(RequestTimeoutHandler())
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw OrcaHTTPServerError(
                .bindFailed,
                "cannot listen on \(configuration.host):\(configuration.port): \(error); "
                    + "choose a free port or another address")
        }
        guard !stopped else {
            try? await channel.channel.close()
            throw OrcaHTTPServerError(.stopped, "the HTTP server was shut down while binding")
        }
        let port = channel.channel.localAddress?.port ?? configuration.port
        listener = channel
        boundPort = port
        logger.info(
            "HTTP endpoint listening",
            metadata: ["orca_http_host": "\(configuration.host)", "orca_http_port": "\(port)"])
        return port
    }

    /// Serves until cancelled or gracefully shut down (binding first if ``start()`` was not called).
    public func run() async throws {
        try await start()
        guard let listener else { return }
        try await withGracefulShutdownHandler {
            try await self.serve(listener)
        } onGracefulShutdown: {
            listener.channel.close(promise: nil)
        }
        self.listener = nil
        stopped = true
        logger.info("HTTP endpoint stopped")
    }

    /// Closes the listener (also when ``run()`` never ran); requests in flight finish.
    public func shutdown() async {
        stopped = true
        if let listener {
            try? await listener.channel.close()
        }
    }

    private nonisolated func serve(_ listener: Listener) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            do {
                try await listener.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await self.handle(connection) }
                    }
                }
            } catch let error as ChannelError where error == .alreadyClosed {
                // Closed by shutdown before the loop started.
            }
        }
    }

    private nonisolated func handle(_ connection: Connection) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                    case .body:
                        continue
                    case .end:
                        guard let head else { return }
                        let response = await self.respond(to: head)
                        try await Self.write(response, version: head.version, to: outbound)
                        return
                    }
                }
            }
        } catch {
            logger.debug("HTTP connection ended with an error", metadata: ["orca_error": "\(error)"])
        }
    }

    /// A response before encoding.
    struct Response: Sendable {
        var status: HTTPResponseStatus
        var contentType: String
        var body: String
        var extraHeaders: [(String, String)] = []
    }

    private nonisolated func respond(to head: HTTPRequestHead) async -> Response {
        let path = String(head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        let route: Route? =
            switch path {
            case "/health": health.map(Route.health)
            case "/metrics": metrics.map(Route.metrics)
            default: nil
            }
        guard let route else {
            return Response(status: .notFound, contentType: "text/plain; charset=utf-8", body: "not found: \(path)\n")
        }
        guard head.method == .GET else {
            return Response(
                status: .methodNotAllowed, contentType: "text/plain; charset=utf-8",
                body: "\(head.method.rawValue) is not allowed on \(path); use GET\n", extraHeaders: [("Allow", "GET")])
        }
        switch route {
        case .health(let source):
            let report = await source()
            return Response(
                status: report.status.isServing ? .ok : .serviceUnavailable,
                contentType: "application/json; charset=utf-8", body: report.json(prettyPrinted: true) + "\n")
        case .metrics(let source):
            return Response(status: .ok, contentType: OrcaPrometheus.contentType, body: await source())
        }
    }

    private enum Route {
        case health(HealthSource)
        case metrics(MetricsSource)
    }

    private static func write(
        _ response: Response, version: HTTPVersion, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: "\(response.body.utf8.count)")
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "Connection", value: "close")
        for (name, value) in response.extraHeaders { headers.add(name: name, value: value) }
        try await outbound.write(.head(HTTPResponseHead(version: version, status: response.status, headers: headers)))
        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: response.body))))
        try await outbound.write(.end(nil))
    }
}

/// Closes a connection whose request does not arrive in time: on the idle-state handler's read timeout before the
/// request's end was read. Once the request is complete, a slow answer (a health probe waiting on a timeout) is not
/// cut off.
private final class RequestTimeoutHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private var requestComplete = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) { requestComplete = true }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            if !requestComplete { context.close(promise: nil) }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// A failure of ``OrcaHTTPServer``.
public typealias OrcaHTTPServerError = DomainError<OrcaHTTPServer>

extension OrcaHTTPServerError.Code {
    /// The address could not be bound (port taken, unknown host).
    public static var bindFailed: Self { Self("bindFailed") }
    /// The server was shut down.
    public static var stopped: Self { Self("stopped") }
}
