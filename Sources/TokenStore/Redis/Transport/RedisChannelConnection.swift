internal import CHiredis
import Foundation
internal import NIOCore
internal import NIOPosix
internal import NIOSSL
import Synchronization

/// TLS settings for `rediss://` connections.
public struct RedisTLSOptions: Sendable, Hashable {
    /// A PEM file with the CA certificate(s) to trust; `nil` trusts the system store.
    public var caFile: String?
    /// The name to expect in the server certificate (and send as SNI). `nil` uses the URL's host; for an IP-address
    /// host the certificate must then carry that IP address.
    public var serverName: String?

    /// Creates TLS options.
    public init(caFile: String? = nil, serverName: String? = nil) {
        self.caFile = caFile
        self.serverName = serverName
    }
}

/// One Redis connection over SwiftNIO, plain or TLS, that pipelines commands.
///
/// hiredis does the Redis work — `redisFormatCommandArgv` encodes commands and `redisReader` parses replies — and
/// NIO (with NIOSSL for `rediss://`) moves the bytes. Debian 12's hiredis 0.14 has no TLS, which is why the bytes do not
/// go through a hiredis context here. Replies are matched to commands in order; a command timeout or transport error
/// closes the connection and fails every command in flight (the caller reconnects).
final class RedisChannelConnection: Sendable {
    private let channel: any Channel
    private let commandTimeout: Duration
    /// The first failure the channel saw (TLS, reset, protocol), so late writers learn the real cause.
    private let failure: FirstFailure

    private init(channel: any Channel, commandTimeout: Duration, failure: FirstFailure) {
        self.channel = channel
        self.commandTimeout = commandTimeout
        self.failure = failure
    }

    /// Connects, performs the TLS handshake for `rediss://`, then `AUTH` and `SELECT` as the URL asks.
    static func connect(
        to url: RedisURL,
        tls: RedisTLSOptions = RedisTLSOptions(),
        connectTimeout: Duration = .seconds(5),
        commandTimeout: Duration = .seconds(5),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> RedisChannelConnection {
        let secrets = [url.password]
        let sslContext: NIOSSLContext? = try Self.makeSSLContext(for: url, tls: tls)
        let serverName = tls.serverName ?? (Self.isIPAddress(url.host) ? nil : url.host)
        let failure = FirstFailure()
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(
                .nanoseconds(
                    Int64(connectTimeout.components.seconds) * 1_000_000_000
                        + connectTimeout.components.attoseconds / 1_000_000_000)
            )
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let handler = try NIOSSLClientHandler(context: sslContext, serverHostname: serverName)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try channel.pipeline.syncOperations.addHandler(RESPHandler(failure: failure))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: url.host, port: url.port).get()
        } catch {
            throw RedisError(
                .connectionFailed, "cannot connect to Redis at \(url.endpointDescription): \(error)", redacting: secrets
            )
        }
        let connection = RedisChannelConnection(channel: channel, commandTimeout: commandTimeout, failure: failure)
        do {
            var setup: [[String]] = []
            if let password = url.password {
                setup.append(url.username.map { ["AUTH", $0, password] } ?? ["AUTH", password])
            }
            if url.database != 0 { setup.append(["SELECT", String(url.database)]) }
            // Without AUTH or SELECT, a PING completes the TLS handshake and proves the server speaks RESP.
            if setup.isEmpty { setup.append(["PING"]) }
            let replies = try await connection.pipeline(setup)
            for (command, reply) in zip(setup, replies) {
                if case .error(let text) = reply {
                    let code: RedisError.Code =
                        command[0] == "AUTH" || text.hasPrefix("NOAUTH") || text.hasPrefix("WRONGPASS")
                        ? .authFailed : .serverError
                    throw RedisError(code, "\(command[0]) failed: \(text)", redacting: secrets)
                }
            }
        } catch let error as RedisError {
            connection.close()
            throw RedisError(error.code, error.message, redacting: secrets)
        } catch {
            connection.close()
            throw RedisError(.connectionFailed, "Redis handshake failed: \(error)", redacting: secrets)
        }
        return connection
    }

    /// Whether the connection is still open.
    var isActive: Bool { channel.isActive }

    /// Sends one command and returns its reply. An error reply is returned as ``RedisReply/error(_:)``, not thrown.
    func command(_ arguments: [String]) async throws -> RedisReply {
        try await pipeline([arguments])[0]
    }

    /// Sends `commands` in one write and returns their replies in order.
    func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        var buffer = channel.allocator.buffer(capacity: commands.count * 64)
        for command in commands {
            buffer.writeBytes(RESPCommandEncoder.encode(command.map { Array($0.utf8) }))
        }
        let promise = channel.eventLoop.makePromise(of: [RedisReply].self)
        let timeout = commandTimeout
        let channel = self.channel
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
        {
            promise.fail(RedisError(.timeout, "no reply within \(timeout)"))
            channel.close(promise: nil)
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        let written = channel.eventLoop.makePromise(of: Void.self)
        let failure = self.failure
        written.futureResult.whenFailure { error in
            // The channel closed before the request reached the handler: report why it closed.
            promise.fail(
                failure.value ?? RedisError(.connectionLost, "Redis connection closed: \(error)"))
        }
        channel.writeAndFlush(
            RESPHandler.Request(bytes: buffer, count: commands.count, promise: promise), promise: written)
        return try await promise.futureResult.get()
    }

    /// Closes the connection; commands in flight fail with `connectionLost`.
    func close() {
        channel.close(promise: nil)
    }

    static func makeSSLContext(for url: RedisURL, tls: RedisTLSOptions) throws -> NIOSSLContext? {
        guard url.usesTLS else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .fullVerification
        if let caFile = tls.caFile {
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw RedisError(.tlsFailed, "CA file \(caFile) cannot be read")
            }
            configuration.trustRoots = .file(caFile)
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw RedisError(.tlsFailed, "cannot load the TLS configuration: \(error)")
        }
    }

    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}

extension RedisURL {
    /// `host:port` (IPv6 in brackets), without credentials.
    var endpointDescription: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Encodes pipelined requests and decodes replies with hiredis's reader, completing requests in order.
private final class RESPHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Request
    typealias OutboundOut = ByteBuffer

    struct Request {
        let bytes: ByteBuffer
        let count: Int
        let promise: EventLoopPromise<[RedisReply]>
    }

    private struct Pending {
        let count: Int
        var replies: [RedisReply]
        let promise: EventLoopPromise<[RedisReply]>
    }

    private let decoder = RESPReplyDecoder()
    private let sharedFailure: FirstFailure
    private var pending: [Pending] = []
    private var pendingHead = 0
    private var failure: RedisError?

    init(failure: FirstFailure) {
        self.sharedFailure = failure
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.promise.fail(failure)
            promise?.fail(failure)
            return
        }
        pending.append(Pending(count: request.count, replies: [], promise: request.promise))
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try decoder.feed(Array(buffer.readableBytesView))
            while let reply = try decoder.next() {
                guard pendingHead < pending.count else {
                    throw RedisError(.protocolError, "received a reply nobody asked for")
                }
                pending[pendingHead].replies.append(reply)
                if pending[pendingHead].replies.count == pending[pendingHead].count {
                    let done = pending[pendingHead]
                    pendingHead += 1
                    if pendingHead > 64, pendingHead * 2 > pending.count {
                        pending.removeFirst(pendingHead)
                        pendingHead = 0
                    }
                    done.promise.succeed(done.replies)
                }
            }
        } catch let error as RedisError {
            failAll(error)
            context.close(promise: nil)
        } catch {
            failAll(RedisError(.protocolError, "\(error)"))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let mapped: RedisError
        if let error = error as? NIOSSLError {
            mapped = RedisError(.tlsFailed, "TLS handshake failed: \(error)")
        } else if let error = error as? NIOSSLExtraError {
            mapped = RedisError(.tlsFailed, "TLS server name check failed: \(error)")
        } else if let error = error as? BoringSSLError {
            mapped = RedisError(.tlsFailed, "TLS failed: \(error)")
        } else {
            mapped = RedisError(.connectionLost, "Redis connection failed: \(error)")
        }
        failAll(mapped)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisError(.connectionLost, "the Redis server closed the connection"))
        context.fireChannelInactive()
    }

    private func failAll(_ error: RedisError) {
        if failure == nil {
            failure = error
            sharedFailure.record(error)
        }
        let waiting = pending[pendingHead...]
        pending.removeAll()
        pendingHead = 0
        for entry in waiting { entry.promise.fail(failure ?? error) }
    }
}

/// The first failure a channel saw, shared by the connection and its handler.
final class FirstFailure: Sendable {
    private let state = Mutex<RedisError?>(nil)

    /// The first recorded failure, if any.
    var value: RedisError? { state.withLock { $0 } }

    /// Records `error` unless a failure was recorded before.
    func record(_ error: RedisError) {
        state.withLock { if $0 == nil { $0 = error } }
    }
}
