public import CandleCore

/// An error from the Redis client: a stable ``Code`` to branch on plus a human-readable message.
///
/// Messages are built by this module from hiredis error strings and server replies. They never contain the
/// password from a ``RedisURL``: the connection scrubs it from every message it builds, and URLs are only ever
/// rendered through ``RedisURL/description``, which masks the password.
public struct RedisError: CodedError, Sendable, Hashable {
    /// What went wrong, as a closed set of values that can grow without breaking `switch` statements
    /// (compare with `==`, or `switch` with a `default` branch).
    public typealias Code = StableCode<RedisError>

    /// The kind of failure.
    public let code: Code
    /// Details for logs. Free of passwords.
    public let message: String

    /// Creates an error, removing every occurrence of each non-empty `secret` from `message`.
    /// - Parameters:
    ///   - code: the kind of failure.
    ///   - message: details; may include server or hiredis text.
    ///   - secrets: strings that must never appear in the message (typically the password).
    package init(_ code: Code, _ message: String, redacting secrets: [String?] = []) {
        self.code = code
        self.message = SecretRedaction.redact(message, secrets)
    }

    public var description: String { "RedisError.\(code): \(message)" }
}

extension RedisError.Code {
    /// The TCP connection could not be established (refused, unreachable, host not found), or the
    /// server closed it during the connection handshake.
    public static var connectionFailed: Self { Self("connectionFailed") }
    /// An established connection failed (reset, closed by the server, or unusable after an earlier error).
    /// Open a new connection to continue.
    public static var connectionLost: Self { Self("connectionLost") }
    /// Connecting, sending or waiting for a reply took longer than the configured timeout. The connection
    /// cannot be used afterwards: a late reply would be matched to the next command.
    public static var timeout: Self { Self("timeout") }
    /// `AUTH` was rejected, or the server requires authentication that was not supplied (`NOAUTH`).
    public static var authFailed: Self { Self("authFailed") }
    /// The server answered a command with an error reply (`-ERR ...`, `-WRONGTYPE ...`).
    public static var serverError: Self { Self("serverError") }
    /// The bytes received were not valid RESP (for example, the peer is not a Redis server).
    public static var protocolError: Self { Self("protocolError") }
    /// A Redis URL could not be parsed.
    public static var invalidURL: Self { Self("invalidURL") }
    /// A `rediss://` (TLS) URL was given to a transport that only speaks plain TCP.
    public static var tlsUnsupported: Self { Self("tlsUnsupported") }
    /// The TLS handshake failed: the server's certificate is not trusted by the configured CA, its name does not
    /// match, or a CA file could not be loaded.
    public static var tlsFailed: Self { Self("tlsFailed") }
}
