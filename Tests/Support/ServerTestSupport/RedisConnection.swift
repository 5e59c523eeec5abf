internal import CHiredis
import Collectors
internal import Foundation
public import TokenStore

/// A blocking connection to one Redis server over plain TCP, built on hiredis 0.14.
///
/// Each call blocks the calling thread until the reply arrives or the command timeout passes, so do not use
/// this type directly from async code running on Swift's cooperative pool: use ``RedisClient``, which owns a
/// `RedisConnection` and runs it on a dedicated queue.
///
/// The connection speaks RESP2 (hiredis 0.14 cannot parse RESP3, so it never sends `HELLO 3`). Once a transport
/// error or timeout occurs the connection is unusable (``isUsable`` becomes `false`) because the reply stream
/// may be out of step; open a new one.
///
/// Not thread-safe, and deliberately not `Sendable`: one owner uses it at a time.
public final class RedisConnection {
    /// Where this connection points; its description masks the password.
    public let url: RedisURL
    /// `false` after a transport error or timeout; every further command throws
    /// ``RedisError/Code/connectionLost``.
    public private(set) var isUsable = true

    private let context: UnsafeMutablePointer<redisContext>

    /// Connects, authenticates (if the URL has a password) and selects the URL's database.
    ///
    /// - Parameters:
    ///   - url: the server; `rediss://` URLs are rejected because this transport has no TLS.
    ///   - connectTimeout: bound on the TCP connect.
    ///   - commandTimeout: bound on sending each command and on waiting for its reply (socket send and receive
    ///     timeouts), including `AUTH` and `SELECT`; `nil` waits forever.
    /// - Throws: ``RedisError`` with ``RedisError/Code/tlsUnsupported``, ``RedisError/Code/connectionFailed``,
    ///   ``RedisError/Code/timeout``, ``RedisError/Code/authFailed`` or ``RedisError/Code/serverError`` (bad
    ///   database index). Messages never contain the password.
    public init(
        url: RedisURL,
        connectTimeout: Duration = .seconds(5),
        commandTimeout: Duration? = .seconds(5)
    ) throws {
        guard !url.usesTLS else {
            throw RedisError(
                .tlsUnsupported,
                "TLS not supported by this transport yet: \(url) needs a TLS transport; use redis:// for plain TCP")
        }
        guard let context = redisConnectWithTimeout(url.host, Int32(url.port), Self.makeTimeval(connectTimeout)) else {
            throw RedisError(.connectionFailed, "cannot connect to \(url.endpoint): out of memory")
        }
        self.url = url
        self.context = context
        // From here on `deinit` frees the context, also when the initializer throws.
        if context.pointee.err != 0 {
            throw transportError(connecting: true)
        }
        if redisSetTimeout(context, Self.makeTimeval(commandTimeout ?? .zero)) != REDIS_OK {
            throw transportError(connecting: true)
        }
        try handshake()
    }

    /// Parses `url` with ``RedisURL/init(_:)`` and connects; see ``init(url:connectTimeout:commandTimeout:)``.
    public convenience init(
        url: String,
        connectTimeout: Duration = .seconds(5),
        commandTimeout: Duration? = .seconds(5)
    ) throws {
        try self.init(url: RedisURL(url), connectTimeout: connectTimeout, commandTimeout: commandTimeout)
    }

    deinit {
        redisFree(context)
    }

    /// Sends one command and waits for its reply, e.g. `try connection.command(["SET", "key", "value"])`.
    ///
    /// Arguments are sent as binary-safe bulk strings (UTF-8), never interpolated into a command line.
    /// - Returns: the reply. Top-level error replies are thrown, so the result is never ``RedisReply/error(_:)``
    ///   (nested errors inside an array, e.g. from `EXEC`, are returned as values).
    /// - Throws: ``RedisError`` — ``RedisError/Code/serverError`` for an error reply (``RedisError/Code/authFailed``
    ///   for `NOAUTH`/`WRONGPASS`), ``RedisError/Code/timeout``, ``RedisError/Code/connectionLost`` or
    ///   ``RedisError/Code/protocolError``.
    public func command(_ arguments: [String]) throws -> RedisReply {
        try command(bytes: arguments.map { Array($0.utf8) })
    }

    /// Variadic form of ``command(_:)``: `try connection.command("GET", "key")`.
    public func command(_ arguments: String...) throws -> RedisReply {
        try command(arguments)
    }

    /// Sends one command whose arguments are raw bytes (binary values), and waits for its reply.
    /// Same contract as ``command(_:)``.
    public func command(bytes arguments: [[UInt8]]) throws -> RedisReply {
        let reply = try roundTrip(arguments)
        if case .error(let message) = reply {
            let isAuthError = message.hasPrefix("NOAUTH") || message.hasPrefix("WRONGPASS")
            throw RedisError(isAuthError ? .authFailed : .serverError, message, redacting: [url.password])
        }
        return reply
    }

    // MARK: - Private

    private func handshake() throws {
        if let password = url.password {
            var arguments = ["AUTH"]
            if let username = url.username {
                arguments.append(username)
            }
            arguments.append(password)
            let reply = try roundTrip(arguments.map { Array($0.utf8) }, connecting: true)
            if case .error(let message) = reply {
                throw RedisError(
                    .authFailed, "authentication to \(url.endpoint) failed: \(message)", redacting: [password])
            }
        }
        if url.database != 0 {
            let reply = try roundTrip([Array("SELECT".utf8), Array(String(url.database).utf8)], connecting: true)
            if case .error(let message) = reply {
                let code: RedisError.Code =
                    message.hasPrefix("NOAUTH") || message.hasPrefix("WRONGPASS") ? .authFailed : .serverError
                throw RedisError(
                    code, "SELECT \(url.database) on \(url.endpoint) failed: \(message)", redacting: [url.password])
            }
        }
    }

    /// Sends a command and returns the reply as a value, error replies included.
    private func roundTrip(_ arguments: [[UInt8]], connecting: Bool = false) throws -> RedisReply {
        guard isUsable else {
            throw RedisError(
                .connectionLost, "connection to \(url.endpoint) is unusable after an earlier error; reconnect")
        }
        guard !arguments.isEmpty else {
            throw RedisError(.protocolError, "a command needs at least one argument")
        }
        let raw = withArgv(arguments) { argc, argv, lengths in
            redisCommandArgv(context, argc, argv, lengths)
        }
        guard let raw else {
            throw transportError(connecting: connecting)
        }
        defer { freeReplyObject(raw) }
        do {
            return try RedisReply(copying: raw.assumingMemoryBound(to: redisReply.self))
        } catch {
            isUsable = false
            throw error
        }
    }

    /// Maps the context's error state to a ``RedisError`` and marks the connection unusable.
    private func transportError(connecting: Bool) -> RedisError {
        isUsable = false
        let errorCode = context.pointee.err
        let detail = hiredisErrorString(&context.pointee.errstr)
        let code: RedisError.Code
        var explanation = detail.isEmpty ? "unknown error" : detail
        switch errorCode {
        case REDIS_ERR_IO where Self.isTimeout(detail):
            code = .timeout
            explanation = connecting ? "connect or handshake timed out (\(detail))" : "timed out (\(detail))"
        case REDIS_ERR_PROTOCOL:
            code = .protocolError
            explanation = "protocol error (is this a Redis server?): \(detail)"
        case REDIS_ERR_EOF:
            code = connecting ? .connectionFailed : .connectionLost
            explanation = "server closed the connection"
        default:
            code = connecting ? .connectionFailed : .connectionLost
        }
        return RedisError(code, "\(url.endpoint): \(explanation)", redacting: [url.password])
    }

    private static func isTimeout(_ detail: String) -> Bool {
        [EAGAIN, EWOULDBLOCK, ETIMEDOUT].contains { detail.contains(String(cString: strerror($0))) }
    }

    /// Converts a timeout to a `timeval`; positive durations never round down to zero (which means "no timeout").
    private static func makeTimeval(_ duration: Duration) -> timeval {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return timeval(tv_sec: 0, tv_usec: 1) }
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        if value.tv_sec == 0 && value.tv_usec == 0 && duration > .zero {
            value.tv_usec = 1
        }
        return value
    }
}

@available(*, unavailable, message: "RedisConnection is not thread-safe; share a RedisClient instead")
extension RedisConnection: Sendable {}
