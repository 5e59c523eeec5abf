internal import CandleCore
import Collectors
public import PostgresSink

/// A PostgreSQL connection for async code: an actor that owns one ``PostgresConnection`` and runs every blocking
/// libpq call on its own dispatch queue, never on Swift's cooperative thread pool.
///
/// Statements are serialised (one connection, one statement in flight). Use several clients for parallelism.
///
/// The client connects lazily on the first statement, or eagerly with ``connect()``. When the connection breaks,
/// it is dropped and the *next* call reconnects; the failed statement is not retried.
///
/// ```swift
/// let db = PostgresClient(url: "postgres://orca:secret@127.0.0.1:5432/orca")
/// let result = try await db.execute("SELECT close FROM candles WHERE symbol = $1", parameters: ["BTCUSDT"])
/// ```
extension PostgresConnection: ReopenableConnection {}

public actor PostgresClient {
    /// The connection string with its password masked; safe to log.
    public nonisolated let redactedURL: String
    /// Bound on each connect; see ``PostgresConnection/init(url:connectTimeout:applicationName:)``.
    public nonisolated let connectTimeout: Duration
    /// Reported in `pg_stat_activity` unless the URL sets `application_name`.
    public nonisolated let applicationName: String

    private nonisolated let url: String
    private nonisolated let executor: BlockingIOExecutor
    private var slot: ConnectionSlot<PostgresConnection>

    /// Runs this actor's methods on its private queue, so blocking calls stay off the cooperative pool.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Creates a client; no connection is made until ``connect()`` or the first statement.
    /// - Parameter url: a libpq URI or key/value connection string (see ``PostgresConnection``).
    public init(url: String, connectTimeout: Duration = .seconds(10), applicationName: String = "orca") {
        self.url = url
        self.redactedURL = PostgresConnectionString.redact(url)
        self.connectTimeout = connectTimeout
        self.applicationName = applicationName
        self.executor = BlockingIOExecutor(label: "orca.postgres")
        self.slot = ConnectionSlot {
            try PostgresConnection(url: url, connectTimeout: connectTimeout, applicationName: applicationName)
        }
    }

    /// `true` while a usable connection is open.
    public var isConnected: Bool { slot.isConnected }

    /// Opens the connection now unless one is already open. Useful to fail fast at start-up.
    /// - Throws: the errors of ``PostgresConnection/init(url:connectTimeout:applicationName:)``.
    public func connect() throws {
        _ = try slot.connect()
    }

    /// Runs one statement; see ``PostgresConnection/execute(_:parameters:)``.
    public func execute(_ sql: String, parameters: [String?] = []) throws -> PostgresResult {
        try withConnection { try $0.execute(sql, parameters: parameters) }
    }

    /// Runs `body` with the open connection (connecting first if needed), on this client's queue, with no other
    /// statement interleaved: use it for transactions (`BEGIN` ... `COMMIT`) and multi-statement work.
    ///
    /// If the connection breaks inside `body`, it is dropped and the next call reconnects.
    public func withConnection<Result: Sendable>(
        _ body: @Sendable (PostgresConnection) throws -> Result
    ) throws -> Result {
        try slot.withConnection(body)
    }

    /// Closes the connection, if open. A later call opens a new one.
    public func close() {
        slot.close()
    }
}
