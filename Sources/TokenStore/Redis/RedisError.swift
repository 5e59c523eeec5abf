/// An error from the Redis client: a stable ``Code`` to branch on plus a human-readable message.
///
/// Messages are built by this module from hiredis error strings and server replies. They never contain the
/// password from a ``RedisURL``: the connection scrubs it from every message it builds, and URLs are only ever
/// rendered through ``RedisURL/description``, which masks the password.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a closed set of values that can grow without breaking `switch` statements
    /// (compare with `==`, or `switch` with a `default` branch).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case connectionFailed
            case connectionLost
            case timeout
            case authFailed
            case serverError
            case protocolError
            case invalidURL
            case tlsUnsupported
            case tlsFailed
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The TCP connection could not be established (refused, unreachable, host not found), or the
        /// server closed it during the connection handshake.
        public static let connectionFailed = Code(.connectionFailed)
        /// An established connection failed (reset, closed by the server, or unusable after an earlier error).
        /// Open a new connection to continue.
        public static let connectionLost = Code(.connectionLost)
        /// Connecting, sending or waiting for a reply took longer than the configured timeout. The connection
        /// cannot be used afterwards: a late reply would be matched to the next command.
        public static let timeout = Code(.timeout)
        /// `AUTH` was rejected, or the server requires authentication that was not supplied (`NOAUTH`).
        public static let authFailed = Code(.authFailed)
        /// The server answered a command with an error reply (`-ERR ...`, `-WRONGTYPE ...`).
        public static let serverError = Code(.serverError)
        /// The bytes received were not valid RESP (for example, the peer is not a Redis server).
        public static let protocolError = Code(.protocolError)
        /// A Redis URL could not be parsed.
        public static let invalidURL = Code(.invalidURL)
        /// A `rediss://` (TLS) URL was given to a transport that only speaks plain TCP.
        public static let tlsUnsupported = Code(.tlsUnsupported)
        /// The TLS handshake failed: the server's certificate is not trusted by the configured CA, its name does not
        /// match, or a CA file could not be loaded.
        public static let tlsFailed = Code(.tlsFailed)

        public var description: String { base.rawValue }
    }

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
        var text = message
        for case let secret? in secrets where !secret.isEmpty {
            text = text.replacing(secret, with: "***")
        }
        self.message = text
    }

    public var description: String { "RedisError.\(code): \(message)" }
}
