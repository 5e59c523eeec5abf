import Collectors
/// An error from the PostgreSQL client: a stable ``Code`` to branch on, a message for logs and, for server
/// errors, the five-character SQLSTATE.
///
/// Messages never contain the password of the connection string: the connection scrubs it from every libpq
/// message, and connection strings are only ever shown in their redacted form
/// (``PostgresConnectionString/redact(_:)``).
public struct PostgresError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a closed set of values that can grow without breaking `switch` statements
    /// (compare with `==`, or `switch` with a `default` branch).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidURL
            case connectionFailed
            case connectionLost
            case queryFailed
            case invalidParameters
            case unsupportedResult
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The connection string could not be parsed by libpq.
        public static let invalidURL = Code(.invalidURL)
        /// Connecting failed: refused, unreachable, timed out, authentication rejected, database missing, ...
        public static let connectionFailed = Code(.connectionFailed)
        /// An established connection broke; open a new one.
        public static let connectionLost = Code(.connectionLost)
        /// The server rejected the statement; ``PostgresError/sqlState`` says why (e.g. `42601` syntax error,
        /// `23505` unique violation).
        public static let queryFailed = Code(.queryFailed)
        /// The statement or a parameter cannot be sent (contains a NUL character, or too many parameters).
        public static let invalidParameters = Code(.invalidParameters)
        /// The statement produced a result this API does not handle (`COPY ... FROM STDIN`/`TO STDOUT`).
        public static let unsupportedResult = Code(.unsupportedResult)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// Details for logs, free of the password.
    public let message: String
    /// The SQLSTATE of a server error (``Code/queryFailed``, and some connection failures), e.g. `42601`.
    public let sqlState: String?

    /// Creates an error, removing every occurrence of each non-empty `secret` from `message`.
    package init(_ code: Code, _ message: String, sqlState: String? = nil, redacting secrets: [String] = []) {
        self.code = code
        var text = message
        for secret in secrets where !secret.isEmpty {
            text = text.replacing(secret, with: "***")
        }
        self.message = text
        self.sqlState = sqlState
    }

    public var description: String {
        if let sqlState {
            return "PostgresError.\(code) [SQLSTATE \(sqlState)]: \(message)"
        }
        return "PostgresError.\(code): \(message)"
    }
}
