internal import CLibPQ
import Collectors
internal import Foundation

/// The outcome of one successful statement: column names, rows of text values, and the affected row count.
///
/// Values are in PostgreSQL's text format (`42`, `t`, `2024-01-01 00:00:00+00`); SQL `NULL` is `nil`.
public struct PostgresResult: Sendable, Hashable {
    /// Column names, in select-list order; empty for statements that return no rows.
    public let columns: [String]
    /// Rows, each with one value per column.
    public let rows: [[String?]]
    /// Rows inserted, updated, deleted, selected, moved, fetched or copied, as reported by the command tag;
    /// 0 for statements without a count (DDL, `SET`, ...).
    public let affectedRows: Int
    /// The command tag, e.g. `INSERT 0 3`, `SELECT 1`, `CREATE TABLE`.
    public let commandTag: String

    /// Creates a result.
    public init(columns: [String], rows: [[String?]], affectedRows: Int, commandTag: String) {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
        self.commandTag = commandTag
    }

    /// The value at `row` in the column named `column`, or `nil` for NULL or an unknown column.
    public func value(row: Int, column: String) -> String? {
        guard rows.indices.contains(row), let index = columns.firstIndex(of: column) else { return nil }
        return rows[row][index]
    }
}

/// A blocking connection to one PostgreSQL server, built on libpq.
///
/// Each call blocks the calling thread until the server answers, so do not use this type directly from async
/// code running on Swift's cooperative pool: use `PostgresClient`, which owns a `PostgresConnection` and runs it
/// on a dedicated queue.
///
/// Server `NOTICE`/`WARNING` messages are discarded rather than printed to standard error.
///
/// Not thread-safe, and deliberately not `Sendable`: one owner uses it at a time.
public final class PostgresConnection {
    /// The connection string with its password masked; safe to log.
    public let redactedURL: String

    private let connection: OpaquePointer
    /// Every spelling of the password, scrubbed from every message this connection produces.
    private let secrets: [String]

    /// Connects to the server described by `url`.
    ///
    /// - Parameters:
    ///   - url: a libpq connection string, either a URI
    ///     (`postgres://user:password@host:port/database?sslmode=prefer`) or key/value pairs
    ///     (`host=127.0.0.1 port=5432 user=orca password=secret dbname=orca`). Percent-encode reserved
    ///     characters in URI passwords.
    ///   - connectTimeout: bound on connecting, applied by libpq per host address in whole seconds (rounded up,
    ///     at least 2); overrides a `connect_timeout` in `url`.
    ///   - applicationName: reported in `pg_stat_activity` unless `url` sets `application_name`.
    /// - Throws: ``PostgresError`` with `invalidURL` or
    ///   `connectionFailed`. Messages never contain the password.
    public init(url: String, connectTimeout: Duration = .seconds(10), applicationName: String = "orca") throws {
        // The raw string is scrubbed too (libpq quotes malformed URIs whole), when it holds a password at all.
        let passwords = PostgresConnectionString.secrets(in: url)
        let secrets = passwords.isEmpty ? [] : [url] + passwords
        let redacted = PostgresConnectionString.redact(url)

        var parseError: UnsafeMutablePointer<CChar>?
        if let options = PQconninfoParse(url, &parseError) {
            PQconninfoFree(options)
        } else {
            let detail = parseError.map { String(cString: $0) } ?? "out of memory"
            PQfreemem(parseError)
            throw PostgresError(
                .invalidURL,
                "invalid connection string \(redacted): \(Self.tidy(detail))",
                redacting: secrets)
        }

        let keywords = ["dbname", "connect_timeout", "fallback_application_name"]
        let values = [url, String(Self.wholeSeconds(connectTimeout)), applicationName]
        let opened = Self.withCStrings(keywords) { keywordPointers in
            Self.withCStrings(values) { valuePointers in PQconnectdbParams(keywordPointers, valuePointers, 1) }
        }
        guard let connection = opened else {
            throw PostgresError(.connectionFailed, "cannot connect to \(redacted): out of memory")
        }
        self.connection = connection
        self.secrets = secrets
        self.redactedURL = redacted
        // From here on `deinit` closes the connection, also when the initializer throws.

        guard PQstatus(connection) == CONNECTION_OK else {
            let detail = Self.tidy(String(cString: PQerrorMessage(connection)))
            throw PostgresError(
                .connectionFailed, "cannot connect to \(redacted): \(detail)", redacting: secrets)
        }
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
    }

    deinit {
        PQfinish(connection)
    }

    /// `true` while the connection is healthy; after `connectionLost` it is `false`.
    public var isUsable: Bool { PQstatus(connection) == CONNECTION_OK }

    /// The server version as an integer, e.g. `150008` for 15.8.
    public var serverVersion: Int { Int(PQserverVersion(connection)) }

    /// Runs one SQL statement with `$1`, `$2`, ... placeholders bound to `parameters` (text format; `nil` is
    /// SQL `NULL`) and returns its result. Uses `PQexecParams`, so values are never interpolated into the SQL.
    ///
    /// Only one statement per call. Outside an explicit transaction (`BEGIN`), each call commits on its own.
    /// - Throws: ``PostgresError``: `queryFailed` with the ``PostgresError/sqlState``,
    ///   `connectionLost`, `invalidParameters` or
    ///   `unsupportedResult`.
    public func execute(_ sql: String, parameters: [String?] = []) throws -> PostgresResult {
        guard !sql.utf8.contains(0), !parameters.contains(where: { $0?.utf8.contains(0) ?? false }) else {
            throw PostgresError(.invalidParameters, "SQL text and parameters must not contain NUL characters")
        }
        guard parameters.count <= 65_535 else {
            throw PostgresError(
                .invalidParameters, "\(parameters.count) parameters given; PostgreSQL allows at most 65535")
        }
        let cParameters: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.flatMap { strdup($0) } }
        defer { cParameters.forEach { free($0) } }
        let result = cParameters.map { UnsafePointer($0) }.withUnsafeBufferPointer { values in
            PQexecParams(connection, sql, Int32(parameters.count), nil, values.baseAddress, nil, nil, 0)
        }
        guard let result else {
            throw lostOrFailed(String(cString: PQerrorMessage(connection)))
        }
        defer { PQclear(result) }
        return try check(result)
    }

    /// Runs one or more SQL statements separated by semicolons, without parameters, through the simple query
    /// protocol (`PQexec`), and returns the result of the last one. Use it for DDL scripts; never interpolate values.
    ///
    /// Outside an explicit transaction the statements run in one implicit transaction: if one fails, none is applied.
    /// - Throws: like ``execute(_:parameters:)``; `COPY` is refused with `unsupportedResult`.
    public func executeScript(_ sql: String) throws -> PostgresResult {
        guard !sql.utf8.contains(0) else {
            throw PostgresError(.invalidParameters, "SQL text must not contain NUL characters")
        }
        guard let result = PQexec(connection, sql) else {
            throw lostOrFailed(String(cString: PQerrorMessage(connection)))
        }
        defer { PQclear(result) }
        return try check(result)
    }

    /// Runs `body` inside `BEGIN` … `COMMIT`; rolls back and rethrows when `body` (or `COMMIT`) throws.
    ///
    /// A `ROLLBACK` that fails because the connection is gone is ignored: the server rolls back on its own.
    public func transaction<Result>(_ body: () throws -> Result) throws -> Result {
        _ = try execute("BEGIN")
        do {
            let value = try body()
            _ = try execute("COMMIT")
            return value
        } catch {
            if isUsable {
                _ = try? execute("ROLLBACK")
            }
            throw error
        }
    }

    /// Runs a `COPY … FROM STDIN` statement and streams `chunks` to the server as its data, in the format the
    /// statement names (text format by default: tab-separated columns, `\N` for NULL, one row per line).
    ///
    /// Chunks may split rows anywhere; they are sent as they are produced, so the server parses while the caller
    /// formats. Returns the result whose ``PostgresResult/affectedRows`` is the number of rows copied.
    /// - Throws: ``PostgresError``: `queryFailed` with the SQLSTATE when the statement or the
    ///   data is rejected (e.g. `22P02` for a malformed value; nothing is copied and the connection stays usable),
    ///   `unsupportedResult` when `sql` is not a `COPY … FROM STDIN`, or
    ///   `connectionLost`.
    public func copyIn<Chunks: Sequence>(_ sql: String, chunks: Chunks) throws -> PostgresResult
    where Chunks.Element == [UInt8] {
        guard !sql.utf8.contains(0) else {
            throw PostgresError(.invalidParameters, "SQL text must not contain NUL characters")
        }
        guard let started = PQexec(connection, sql) else {
            throw lostOrFailed(String(cString: PQerrorMessage(connection)))
        }
        let status = PQresultStatus(started)
        guard status == PGRES_COPY_IN else {
            defer { PQclear(started) }
            if status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH {
                abandonCopy()
                throw PostgresError(.unsupportedResult, "copyIn(_:chunks:) needs a COPY … FROM STDIN statement")
            }
            _ = try check(started)
            throw PostgresError(.unsupportedResult, "copyIn(_:chunks:) needs a COPY … FROM STDIN statement")
        }
        PQclear(started)

        var sendFailure: String?
        for chunk in chunks where !chunk.isEmpty {
            let sent = chunk.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) {
                    PQputCopyData(connection, $0.baseAddress, Int32($0.count))
                }
            }
            if sent != 1 {
                sendFailure = String(cString: PQerrorMessage(connection))
                break
            }
        }
        if sendFailure == nil, PQputCopyEnd(connection, nil) != 1 {
            sendFailure = String(cString: PQerrorMessage(connection))
        }

        // Collect every result until libpq says the command is over; the last one tells success or failure.
        var copied: PostgresResult?
        var failure: PostgresError?
        while let result = PQgetResult(connection) {
            defer { PQclear(result) }
            do {
                copied = try check(result)
            } catch {
                failure = failure ?? error
            }
        }
        if let sendFailure, PQstatus(connection) != CONNECTION_OK {
            throw lostOrFailed(sendFailure)
        }
        if let failure {
            throw failure
        }
        guard let copied, sendFailure == nil else {
            throw lostOrFailed(sendFailure ?? String(cString: PQerrorMessage(connection)))
        }
        return copied
    }

    // MARK: - Private

    /// Turns a finished result into a value or the matching error; `result` stays owned by the caller.
    private func check(_ result: OpaquePointer) throws(PostgresError) -> PostgresResult {
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return Self.copy(result)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            abandonCopy()
            throw PostgresError(
                .unsupportedResult, "COPY FROM STDIN / TO STDOUT is not supported by execute(_:parameters:)")
        default:
            let sqlState = PQresultErrorField(result, orca_pg_diag_sqlstate).map { String(cString: $0) }
            let message = String(cString: PQresultErrorMessage(result))
            if PQstatus(connection) != CONNECTION_OK {
                throw lostOrFailed(message)
            }
            throw PostgresError(.queryFailed, Self.tidy(message), sqlState: sqlState, redacting: secrets)
        }
    }

    private func lostOrFailed(_ message: String) -> PostgresError {
        if PQstatus(connection) != CONNECTION_OK {
            return PostgresError(
                .connectionLost, "connection to \(redactedURL) lost: \(Self.tidy(message))", redacting: secrets)
        }
        return PostgresError(.queryFailed, Self.tidy(message), redacting: secrets)
    }

    /// Leaves COPY mode after a statement started a COPY, so the connection stays usable.
    private func abandonCopy() {
        _ = PQputCopyEnd(connection, "COPY is not supported by this client")
        while let result = PQgetResult(connection) {
            if PQresultStatus(result) == PGRES_COPY_OUT {
                var buffer: UnsafeMutablePointer<CChar>?
                while PQgetCopyData(connection, &buffer, 0) > 0 {
                    PQfreemem(buffer)
                    buffer = nil
                }
            }
            PQclear(result)
        }
    }

    private static func copy(_ result: OpaquePointer) -> PostgresResult {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) != 0 {
                    values.append(nil)
                } else {
                    let length = Int(PQgetlength(result, row, column))
                    let value = PQgetvalue(result, row, column).map { pointer in
                        pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
                            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
                        }
                    }
                    values.append(value ?? "")
                }
            }
            rows.append(values)
        }
        let commandTag = PQcmdStatus(result).map { String(cString: $0) } ?? ""
        let affected = PQcmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
        return PostgresResult(columns: columns, rows: rows, affectedRows: affected, commandTag: commandTag)
    }

    /// libpq messages end in newlines and may span lines; keep them on one line for logs.
    private static func tidy(_ message: String) -> String {
        message.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: " | ")
    }

    private static func wholeSeconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        guard duration > .zero else { return 2 }
        return max(2, Int(seconds) + (attoseconds > 0 ? 1 : 0))
    }

    /// Calls `body` with a NULL-terminated array of C strings, valid only during the call.
    private static func withCStrings<Result>(
        _ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> Result
    ) -> Result {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) } + [nil]
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

@available(*, unavailable, message: "PostgresConnection is not thread-safe; share a PostgresClient instead")
extension PostgresConnection: Sendable {}
