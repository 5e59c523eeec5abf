/// A connection that can break: once ``isUsable`` is `false` it is dropped and a new one is opened.
package protocol ReopenableConnection: AnyObject {
    /// Whether the connection can still be used.
    var isUsable: Bool { get }
}

/// The one lazily opened connection of a client actor: opened on first use, dropped when it breaks, and reopened on
/// the next use (a failed call is never retried). Package-internal: the Redis and PostgreSQL clients share it.
package struct ConnectionSlot<Connection: ReopenableConnection> {
    private let open: () throws -> Connection
    private var connection: Connection?

    /// Creates an empty slot; `open` makes a new connection when one is needed.
    package init(open: @escaping () throws -> Connection) {
        self.open = open
    }

    /// `true` while a usable connection is open.
    package var isConnected: Bool { connection?.isUsable ?? false }

    /// The open connection, opening a new one when there is none or the last one broke.
    /// - Throws: the errors of `open`.
    package mutating func connect() throws -> Connection {
        if let connection, connection.isUsable {
            return connection
        }
        connection = nil
        let opened = try open()
        connection = opened
        return opened
    }

    /// Runs `body` with the open connection (connecting first if needed); drops the connection if `body` leaves it
    /// unusable, so the next call reconnects.
    package mutating func withConnection<Result>(_ body: (Connection) throws -> Result) throws -> Result {
        let connection = try connect()
        defer {
            if !connection.isUsable {
                self.connection = nil
            }
        }
        return try body(connection)
    }

    /// Closes the connection, if open (by releasing it). A later call opens a new one.
    package mutating func close() {
        connection = nil
    }
}
