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
///
/// Its background work (draining the listening channel, listening again after a refusal) runs as child tasks of
/// ``run()``, which the server runs in its task group until ``shutdown()``.
final class Listener: Sendable {
    private typealias ServerChannel = NIOAsyncChannel<EventLoopFuture<UpgradeResult>, Never>

    /// Work for ``run()``.
    private enum Job: Sendable {
        /// Drain a listening channel's own stream until it closes, then signal `done`.
        case drain(ServerChannel, done: WakeSignal)
        /// Listen again after `delay` (wall clock), unless `cancelled` is signalled first (a later resume, refusal or
        /// shutdown superseded it).
        case reopen(at: Date, cancelled: WakeSignal)
    }

    private struct State {
        var channel: ServerChannel?
        /// Signalled once the current channel's drain has ended.
        var drained: WakeSignal?
        /// Cancels the pending reopen (signalled by every resume, refusal and shutdown).
        var cancelReopen: WakeSignal?
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
    private let jobs: AsyncStream<Job>
    private let jobQueue: AsyncStream<Job>.Continuation

    init(
        core: SimulatorCore, host: String, port: Int, group: any EventLoopGroup,
        accepted: AsyncStream<EventLoopFuture<UpgradeResult>>.Continuation
    ) {
        self.core = core
        self.host = host
        self.group = group
        self.accepted = accepted
        self.state = Mutex(State(port: port))
        (self.jobs, self.jobQueue) = AsyncStream<Job>.makeStream()
    }

    /// Runs the listener's background work as child tasks until ``shutdown()``.
    func run() async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                switch job {
                case .drain(let channel, let done):
                    // Connections are handed to the server by the child initializer (see `bind`); this only drains
                    // the server channel's own stream so that accepting never stalls on back-pressure.
                    group.addTask {
                        _ = try? await channel.executeThenClose { inbound in
                            for try await _ in inbound {}
                        }
                        done.signal()
                    }
                case .reopen(let deadline, let cancelled):
                    group.addTask {
                        let due = await withTaskGroup(of: Bool.self) { race in
                            race.addTask { (try? await self.core.wallClock.sleep(until: deadline)) != nil }
                            race.addTask {
                                await cancelled.wait()
                                return false
                            }
                            let first = await race.next() ?? false
                            race.cancelAll()
                            return first
                        }
                        if due { try? await self.resume() }
                    }
                }
            }
            // Shut down: a pending reopen must not outlive the listener.
            group.cancelAll()
        }
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
            state.cancelReopen?.signal()
            state.cancelReopen = nil
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
        let drained = WakeSignal()
        state.withLock { state in
            state.channel = channel
            state.drained = drained
            state.port = channel.channel.localAddress?.port ?? port
        }
        jobQueue.yield(.drain(channel, done: drained))
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
        let (channel, drained) = state.withLock { state in
            defer {
                state.channel = nil
                state.drained = nil
            }
            return (state.channel, state.drained)
        }
        try? await channel?.channel.close()
        await drained?.wait()
    }

    /// Stops listening now and listens again after `duration` (wall clock).
    func refuse(for duration: Duration) async {
        await stop()
        let cancelled = WakeSignal()
        state.withLock { state in
            state.cancelReopen?.signal()
            state.cancelReopen = cancelled
        }
        // The deadline is fixed now, not when the job runs: a clock moved in between must still reach it.
        jobQueue.yield(
            .reopen(at: core.wallClock.now().addingTimeInterval(duration.timeInterval), cancelled: cancelled))
    }

    /// Stops for good (server shutdown); ``run()`` returns once its work has ended.
    func shutdown() async {
        state.withLock { state in
            state.stopped = true
            state.cancelReopen?.signal()
            state.cancelReopen = nil
        }
        await stop(releasing: true)
        if let holder = state.withLock({ state -> CInt? in
            defer { state.holder = nil }
            return state.holder
        }) {
            PortReservation.release(holder)
        }
        jobQueue.finish()
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
