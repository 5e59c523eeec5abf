import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// What an accepted connection became after the HTTP upgrade negotiation.
enum UpgradeResult: Sendable {
    case webSocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
    case http(NIOAsyncChannel<HTTPServerRequestPart, HTTPPart<HTTPResponseHead, ByteBuffer>>)
}

/// Converts the async channel's `HTTPPart<HTTPResponseHead, ByteBuffer>` into NIO's response parts.
private final class HTTPResponsePartAdapter: ChannelOutboundHandler, Sendable {
    typealias OutboundIn = HTTPPart<HTTPResponseHead, ByteBuffer>
    typealias OutboundOut = HTTPServerResponsePart

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head): context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body(let buffer): context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: promise)
        case .end(let trailers): context.write(wrapOutboundOut(.end(trailers)), promise: promise)
        }
    }
}

/// The listening socket: REST and the WebSocket upgrade share one port. It can stop and listen again on the same
/// port (restart and refused-connection faults); accepted connections flow into one stream owned by the server.
final class Listener: Sendable {
    private struct State {
        var channel: NIOAsyncChannel<EventLoopFuture<UpgradeResult>, Never>?
        var acceptTask: Task<Void, Never>?
        var reopenTask: Task<Void, Never>?
        var port: Int
        var stopped = false
        /// Whether the port is held across restarts (a literal IP host).
        var reserving = false
        /// The socket holding the port while the listener is closed.
        var holder: CInt?
    }

    private let core: SimulatorCore
    private let host: String
    private let group: any EventLoopGroup
    private let accepted: AsyncStream<EventLoopFuture<UpgradeResult>>.Continuation
    private let state: Mutex<State>

    init(
        core: SimulatorCore, host: String, port: Int, group: any EventLoopGroup,
        accepted: AsyncStream<EventLoopFuture<UpgradeResult>>.Continuation
    ) {
        self.core = core
        self.host = host
        self.group = group
        self.accepted = accepted
        self.state = Mutex(State(port: port))
    }

    /// The bound port (the ephemeral one once bound with port 0).
    var port: Int { state.withLock { $0.port } }

    /// Binds for the first time: checks the port is free (picking the ephemeral port for port 0) and holds it, then
    /// listens.
    func start() async throws(SimulatorError) {
        let host = self.host
        let configured = state.withLock { $0.port }
        if PortReservation.isLiteralAddress(host) {
            do {
                let probe = try PortReservation.bind(host: host, port: configured, shared: false)
                PortReservation.release(probe.fd)
                let holder = try PortReservation.bind(host: host, port: probe.port, shared: true)
                state.withLock { state in
                    state.port = holder.port
                    state.holder = holder.fd
                    state.reserving = true
                }
            } catch {
                throw SimulatorError(.bindFailed, "cannot listen on \(host):\(configured): \(error)")
            }
        }
        try await resume()
    }

    /// Binds and starts accepting, if not already listening.
    func resume() async throws(SimulatorError) {
        let (alreadyListening, port, reserving) = state.withLock { state in
            state.reopenTask?.cancel()
            state.reopenTask = nil
            return (state.channel != nil || state.stopped, state.port, state.reserving)
        }
        if alreadyListening { return }
        let channel: NIOAsyncChannel<EventLoopFuture<UpgradeResult>, Never>
        do {
            channel = try await bind(port: port, sharedWithHolder: reserving)
        } catch {
            throw SimulatorError(.bindFailed, "cannot listen on \(host):\(port): \(error)")
        }
        if let holder = state.withLock({ state -> CInt? in
            defer { state.holder = nil }
            return state.holder
        }) {
            PortReservation.release(holder)
        }
        // Connections are handed to the server by the child initializer (see `bind`); this only drains the server
        // channel's own stream so that accepting never stalls on back-pressure.
        let task = Task<Void, Never> {
            _ = try? await channel.executeThenClose { inbound in
                for try await _ in inbound {}
            }
        }
        state.withLock { state in
            state.channel = channel
            state.acceptTask = task
            state.port = channel.channel.localAddress?.port ?? port
        }
        core.logger.debug("listening", metadata: ["sim_port": "\(self.port)"])
    }

    /// Closes the listening socket (open connections are not touched); the port stays held unless `releasing`.
    func stop(releasing: Bool = false) async {
        let (reserving, hasHolder, port) = state.withLock { ($0.reserving, $0.holder != nil, $0.port) }
        if reserving && !hasHolder && !releasing {
            // Hold the port before the listener lets go of it.
            if let holder = try? PortReservation.bind(host: host, port: port, shared: true) {
                state.withLock { $0.holder = holder.fd }
            }
        }
        let (channel, task) = state.withLock { state in
            defer {
                state.channel = nil
                state.acceptTask = nil
            }
            return (state.channel, state.acceptTask)
        }
        try? await channel?.channel.close()
        await task?.value
    }

    /// Stops listening now and listens again after `duration` (wall clock).
    func refuse(for duration: Duration) async {
        await stop()
        let task = Task {
            do {
                try await core.wallClock.sleep(for: duration)
            } catch {
                return
            }
            try? await self.resume()
        }
        state.withLock { state in
            state.reopenTask?.cancel()
            state.reopenTask = task
        }
    }

    /// Stops for good (server shutdown).
    func shutdown() async {
        let reopen = state.withLock { state in
            state.stopped = true
            defer { state.reopenTask = nil }
            return state.reopenTask
        }
        reopen?.cancel()
        await stop(releasing: true)
        if let holder = state.withLock({ state -> CInt? in
            defer { state.holder = nil }
            return state.holder
        }) {
            PortReservation.release(holder)
        }
    }

    private func bind(
        port: Int, sharedWithHolder: Bool
    ) async throws -> NIOAsyncChannel<EventLoopFuture<UpgradeResult>, Never> {
        let accepted = self.accepted
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(
                .socketOption(NIOBSDSocket.Option(rawValue: PortReservation.reusePortOption)),
                value: sharedWithHolder ? 1 : 0
            )
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                        maxFrameSize: 1 << 20,
                        shouldUpgrade: { channel, head in
                            let path = head.uri.split(separator: "?").first.map(String.init) ?? head.uri
                            let isSocket = path.lowercased() == "/v1/websocket" || path.lowercased() == "/v1/websocket/"
                            return channel.eventLoop.makeSucceededFuture(isSocket ? HTTPHeaders() : nil)
                        },
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                UpgradeResult.webSocket(try NIOAsyncChannel(wrappingChannelSynchronously: channel))
                            }
                        }
                    )
                    let configuration = NIOTypedHTTPServerUpgradeConfiguration<UpgradeResult>(
                        upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(HTTPResponsePartAdapter())
                                return UpgradeResult.http(try NIOAsyncChannel(wrappingChannelSynchronously: channel))
                            }
                        }
                    )
                    let negotiated = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
                        configuration: .init(upgradeConfiguration: configuration))
                    // Hand the connection over at once: elements still buffered in the server channel's stream are
                    // lost when it closes (restart), which would leave their clients hanging.
                    if case .terminated = accepted.yield(negotiated) { channel.close(promise: nil) }
                    return negotiated
                }
            }
    }
}
