public import CandleCore
import Collectors

/// An error from the PostgreSQL client: a stable ``Code`` to branch on, a message for logs and, for server
/// errors, the five-character SQLSTATE.
///
/// Messages never contain the password of the connection string: the connection scrubs it from every libpq
/// message, and connection strings are only ever shown in their redacted form
/// (``PostgresConnectionString/redact(_:)``).
public struct PostgresError: CodedError, Sendable, Hashable {
    /// What went wrong, as a closed set of values that can grow without breaking `switch` statements
    /// (compare with `==`, or `switch` with a `default` branch).
    public typealias Code = StableCode<PostgresError>

    /// The kind of failure.
    public let code: Code
    /// Details for logs, free of the password.
    public let message: String
    /// The SQLSTATE of a server error (`queryFailed`, and some connection failures), e.g. `42601`.
    public let sqlState: String?

    /// Creates an error, removing every occurrence of each non-empty `secret` from `message`.
    package init(_ code: Code, _ message: String, sqlState: String? = nil, redacting secrets: [String] = []) {
        self.code = code
        self.message = SecretRedaction.redact(message, secrets)
        self.sqlState = sqlState
    }

    public var description: String {
        if let sqlState {
            return "PostgresError.\(code) [SQLSTATE \(sqlState)]: \(message)"
        }
        return "PostgresError.\(code): \(message)"
    }
}

extension PostgresError.Code {
    /// The connection string could not be parsed by libpq.
    public static var invalidURL: Self { Self("invalidURL") }
    /// Connecting failed: refused, unreachable, timed out, authentication rejected, database missing, ...
    public static var connectionFailed: Self { Self("connectionFailed") }
    /// An established connection broke; open a new one.
    public static var connectionLost: Self { Self("connectionLost") }
    /// The server rejected the statement; ``PostgresError/sqlState`` says why (e.g. `42601` syntax error,
    /// `23505` unique violation).
    public static var queryFailed: Self { Self("queryFailed") }
    /// The statement or a parameter cannot be sent (contains a NUL character, or too many parameters).
    public static var invalidParameters: Self { Self("invalidParameters") }
    /// The statement produced a result this API does not handle (`COPY ... FROM STDIN`/`TO STDOUT`).
    public static var unsupportedResult: Self { Self("unsupportedResult") }
}
