internal import CandleCore
import Collectors
public import TokenStore

/// A Redis connection for async code: an actor that owns one ``RedisConnection`` and runs every blocking
/// hiredis call on its own dispatch queue, never on Swift's cooperative thread pool.
///
/// Commands are serialised (one connection, one command in flight), which matches Redis's own one-at-a-time
/// processing per connection. Use several clients for parallelism.
///
/// The client connects lazily on the first command, or eagerly with ``connect()``. When a command fails with a
/// transport error or timeout, the broken connection is dropped and the *next* command reconnects; the failed
/// command is not retried, because not every command is idempotent.
///
/// ```swift
/// let redis = RedisClient(url: try RedisURL("redis://:secret@127.0.0.1:6379/0"))
/// try await redis.connect()
/// _ = try await redis.command("SET", "token", "abc", "EX", "60")
/// let value = try await redis.command("GET", "token").stringValue
/// ```
extension RedisConnection: ReopenableConnection {}

public actor RedisClient {
    /// The server; its description masks the password.
    public nonisolated let url: RedisURL
    /// Bound on each TCP connect.
    public nonisolated let connectTimeout: Duration
    /// Bound on each command's send and reply; `nil` waits forever.
    public nonisolated let commandTimeout: Duration?

    private nonisolated let executor: BlockingIOExecutor
    private var slot: ConnectionSlot<RedisConnection>

    /// Runs this actor's methods on its private queue, so blocking calls stay off the cooperative pool.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Creates a client; no connection is made until ``connect()`` or the first command.
    public init(url: RedisURL, connectTimeout: Duration = .seconds(5), commandTimeout: Duration? = .seconds(5)) {
        self.url = url
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.executor = BlockingIOExecutor(label: "orca.redis.\(url.endpoint)")
        self.slot = ConnectionSlot {
            try RedisConnection(url: url, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
        }
    }

    /// Parses `url` (see ``RedisURL/init(_:)``) and creates a client; no connection is made yet.
    /// - Throws: ``RedisError/Code/invalidURL``.
    public init(url: String, connectTimeout: Duration = .seconds(5), commandTimeout: Duration? = .seconds(5)) throws {
        self.init(url: try RedisURL(url), connectTimeout: connectTimeout, commandTimeout: commandTimeout)
    }

    /// `true` while a usable connection is open.
    public var isConnected: Bool { slot.isConnected }

    /// Opens the connection now (authenticating and selecting the database) unless one is already open.
    /// Useful to fail fast at start-up. Throws the errors of ``RedisConnection/init(url:connectTimeout:commandTimeout:)``.
    public func connect() throws {
        _ = try slot.connect()
    }

    /// Sends one command and returns its reply; see ``RedisConnection/command(_:)``.
    public func command(_ arguments: [String]) throws -> RedisReply {
        try withConnection { try $0.command(arguments) }
    }

    /// Variadic form of ``command(_:)-([String])``: `try await client.command("GET", "key")`.
    public func command(_ arguments: String...) throws -> RedisReply {
        try command(arguments)
    }

    /// Sends one command with binary arguments; see ``RedisConnection/command(bytes:)``.
    public func command(bytes arguments: [[UInt8]]) throws -> RedisReply {
        try withConnection { try $0.command(bytes: arguments) }
    }

    /// Runs `body` with the open connection (connecting first if needed), on this client's queue, with no other
    /// command interleaved: use it for `MULTI`/`EXEC` or a sequence of dependent commands.
    ///
    /// If the connection breaks inside `body`, it is dropped and the next call reconnects.
    public func withConnection<Result: Sendable>(
        _ body: @Sendable (RedisConnection) throws -> Result
    ) throws -> Result {
        try slot.withConnection(body)
    }

    /// Closes the connection, if open. A later command opens a new one.
    public func close() {
        slot.close()
    }
}
