public import CandleCore
public import Collectors
public import Foundation
public import Logging

/// A sink that stores bars in PostgreSQL through libpq, compatible with the old system's tables.
///
/// **Layouts.** ``Layout/tablePerSeries`` (the default) writes `<schema>.<root>_candles_<5min|15min|30min|1hour>`
/// with the seed schema's columns and `UNIQUE (symbol, candle_time)`, plus Orca's `is_final`, `bid_volume` and
/// `offer_volume` columns; ``Layout/singleTable`` writes one `<schema>.candles` table keyed by
/// `(symbol, timeframe, candle_time)`. Tables are created — or, when the old system already created them, adopted —
/// by versioned, idempotent migrations the first time a series is written (or at ``prepare()``); see
/// `Docs/sinks.md` for the DDL.
///
/// **Writes.** One transaction per ``write(_:)``. Series with fewer rows than
/// ``Configuration/copyThreshold`` go through multi-row `INSERT … VALUES … ON CONFLICT … DO UPDATE … WHERE`
/// statements; larger ones through `COPY` into a temporary table and one `INSERT … SELECT … ON CONFLICT`. Both
/// update a row only when a value differs (so `updated_at` moves only on real changes) and never let a forming bar
/// overwrite a final one.
///
/// **Connections.** The sink connects lazily (or at ``prepare()``), with ``Configuration/connectTimeout``. When the
/// server went away since the last call, the first statement fails with a lost connection; the sink then reconnects
/// and retries the operation once (safe: a transaction either committed or did not, and upserts are idempotent).
/// When the server cannot be reached, calls throw `CandleSinkError.Code.unavailable`; wrap the sink in a
/// `BufferedCandleSink` to ride out outages. Every libpq call runs on the sink's own dispatch queue, never on
/// Swift's cooperative pool. Messages never contain the password.
public actor PostgresCandleSink: CandleSink {
    /// How bars map to tables.
    public struct Layout: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case tablePerSeries
            case singleTable
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The old system's layout: `<schema>.<root>_candles_<label>` per series (e.g. `orca.nq_candles_5min`),
        /// unique on `(symbol, candle_time)`.
        public static let tablePerSeries = Layout(.tablePerSeries)
        /// One table `<schema>.candles` for every series, unique on `(symbol, timeframe, candle_time)`, with
        /// `root` and `timeframe` columns. For users with many series.
        public static let singleTable = Layout(.singleTable)

        public var description: String { base.rawValue }
    }

    /// Connection and storage settings.
    public struct Configuration: Sendable {
        /// A libpq URI (`postgres://user:password@host:5432/db?sslmode=require`) or key/value string. Kept private:
        /// only its redacted form is ever shown.
        public var url: String
        /// Schema of the tables (default `orca`): a plain lower-case identifier.
        public var schema: String
        /// Table layout (default ``Layout/tablePerSeries``).
        public var layout: Layout
        /// Bound on each connection attempt (default 10 s).
        public var connectTimeout: Duration
        /// Reported in `pg_stat_activity` unless the URL sets `application_name` (default `orca-sink`).
        public var applicationName: String
        /// Series with at least this many rows in one write use `COPY` → temporary table → upsert; smaller ones a
        /// multi-row `VALUES` upsert (default 500).
        public var copyThreshold: Int
        /// Rows per multi-row `VALUES` statement (default 1,000; at most 4,000, PostgreSQL allows 65,535
        /// parameters and a row takes 14–16).
        public var rowsPerStatement: Int
        /// `temp_buffers` of the sink's session, memory for the staging table (default `64MB`, enough for about
        /// 300,000 staged rows without touching disk).
        public var stagingMemory: String
        /// Series whose tables ``PostgresCandleSink/prepare()`` creates or adopts up front (default: none; tables
        /// are otherwise prepared on first write).
        public var series: [Series]

        /// Creates a configuration; see the properties for the defaults.
        public init(
            url: String, schema: String = "orca", layout: Layout = .tablePerSeries,
            connectTimeout: Duration = .seconds(10),
            applicationName: String = "orca-sink", copyThreshold: Int = 500, rowsPerStatement: Int = 1_000,
            stagingMemory: String = "64MB", series: [Series] = []
        ) {
            self.url = url
            self.schema = schema
            self.layout = layout
            self.connectTimeout = connectTimeout
            self.applicationName = applicationName
            self.copyThreshold = copyThreshold
            self.rowsPerStatement = rowsPerStatement
            self.stagingMemory = stagingMemory
            self.series = series
        }
    }

    /// The connection string with its password masked; safe to log.
    public nonisolated let redactedURL: String
    /// The schema name.
    public nonisolated let schemaName: String
    /// `postgres <redacted URL> schema <schema>`.
    public nonisolated var storageDescription: String { "postgres \(redactedURL) schema \(schemaName)" }
    /// The table layout.
    public nonisolated let layout: Layout

    private nonisolated let configuration: Configuration
    private nonisolated let secrets: [String]
    private nonisolated let executor: BlockingIOExecutor
    private let schema: PostgresSinkSchema
    private let logger: Logger
    private var connection: PostgresConnection?
    private var stageReady = false
    private var migratedTables: Set<String> = []

    /// How many times this sink found that a table or the schema it had created or checked was dropped while it ran,
    /// and created the tables again (or, for reads, found them missing). Each time is also logged as a warning.
    public private(set) var tablesRecreated = 0

    private var isClosed = false
    /// The series a multi-series write is working on, named by errors that happen meanwhile.
    private var seriesInProgress: Series?

    /// Runs this actor's methods on its private queue, so blocking libpq calls stay off the cooperative pool.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Creates a sink; nothing is connected until ``prepare()`` or the first call.
    /// - Throws: `CandleSinkError.Code.invalidConfiguration` when the schema is not a plain lower-case identifier
    ///   or the batch sizes are out of range.
    public init(
        configuration: Configuration,
        logger: Logger = Logger(
            label: "orca.sink.postgres",
            factory: { _ in
                SwiftLogNoOpLogHandler()
            })
    ) throws(CandleSinkError) {
        guard PostgresSinkSchema.isPlainIdentifier(configuration.schema) else {
            throw CandleSinkError(
                .invalidConfiguration,
                "schema '\(configuration.schema)' must be 1–63 lower-case letters, digits or '_', not starting with a digit"
            )
        }
        guard (1...4_000).contains(configuration.rowsPerStatement), configuration.copyThreshold >= 1 else {
            throw CandleSinkError(
                .invalidConfiguration, "rowsPerStatement must be 1…4000 and copyThreshold at least 1")
        }
        let passwords = PostgresConnectionString.secrets(in: configuration.url)
        self.configuration = configuration
        self.secrets = passwords.isEmpty ? [] : [configuration.url] + passwords
        self.redactedURL = PostgresConnectionString.redact(configuration.url)
        self.schemaName = configuration.schema
        self.layout = configuration.layout
        self.schema = PostgresSinkSchema(schema: configuration.schema, layout: configuration.layout)
        self.logger = logger
        self.executor = BlockingIOExecutor(label: "orca.sink.postgres")
    }

    /// Connects now and creates or adopts the tables of ``Configuration/series`` (and the single table), running
    /// pending migrations. Optional: writes prepare their tables on first use. Useful to fail fast at start-up.
    public func prepare() throws {
        try checkOpen()
        var tables = configuration.series.map { schema.table(for: $0) }
        if layout == .singleTable {
            tables = [schema.table(for: Series(.nq, .fiveMinutes))]
        }
        try run(series: nil, failure: .migrationFailed) { db in
            for table in tables {
                try self.migrate(table, db)
            }
        }
    }

    /// The versions recorded in `orca_schema_migrations` for the table of `series` (for checks and tools).
    public func appliedMigrations(for series: Series) throws -> [Int] {
        try checkOpen()
        let table = schema.table(for: series)
        return try run(series: series, failure: .readFailed) { db in
            let migrations = PostgresSinkTable(
                schema: self.schemaName, name: PostgresSinkSchema.migrationsTable, isShared: true)
            guard try PostgresSinkSchema.exists(migrations, db) else { return [] }
            return try db.execute(
                "SELECT version FROM \(migrations.qualified) WHERE table_name = $1 ORDER BY version",
                parameters: [table.name]
            ).rows.compactMap { $0.first.flatMap { $0.flatMap { Int($0) } } }
        }
    }

    /// Checks `Candle.validate()` plus what the tables can hold: symbols of at most 20 characters, prices below
    /// 10⁸ with at most four decimals (`decimal(12,4)`), tick counts that fit `integer`.
    public nonisolated func validate(_ candles: [Candle]) throws(CandleSinkError) {
        _ = try CandleBatch(validating: candles, check: Self.checkStorageLimits)
    }

    public func write(_ candles: [Candle]) throws -> CandleWriteReport {
        try checkOpen()
        let batch = try CandleBatch(validating: candles, check: Self.checkStorageLimits)
        guard !batch.isEmpty else { return .empty }
        let tables = batch.groups.map { schema.table(for: $0.series) }
        defer { seriesInProgress = nil }
        let only = batch.groups.count == 1 ? batch.groups[0].series : nil
        return try run(series: only, failure: .writeFailed) { db in
            for (group, table) in zip(batch.groups, tables) {
                self.seriesInProgress = group.series
                try self.ensureMigrated(table, db)
            }
            self.seriesInProgress = nil
            return try db.transaction {
                var report = CandleWriteReport()
                for (group, table) in zip(batch.groups, tables) {
                    self.seriesInProgress = group.series
                    report += try self.upsert(group, into: table, db)
                }
                self.seriesInProgress = nil
                return report
            }
        }
    }

    public func latestCandleStart(of series: Series) throws -> Date? {
        try checkOpen()
        let table = schema.table(for: series)
        return try run(series: series, failure: .readFailed) { db in
            guard try self.prepareForReading(table, db) else { return nil }
            let filter = PostgresSinkStatements.seriesFilter(table)
            let value =
                try db.execute(
                    "SELECT extract(epoch FROM max(candle_time))::float8 FROM \(table.qualified) WHERE \(filter.clause)",
                    parameters: PostgresSinkStatements.seriesParameters(table, series)
                ).rows.first?.first ?? nil
            return value.flatMap(Double.init).map { Date(timeIntervalSince1970: $0) }
        }
    }

    public func candleStarts(of series: Series, in range: Range<Date>, finalOnly: Bool) throws -> [Date] {
        try checkOpen()
        let table = schema.table(for: series)
        return try run(series: series, failure: .readFailed) { db in
            guard try self.prepareForReading(table, db) else { return [] }
            let rows = try Self.selectBars(
                "DISTINCT extract(epoch FROM candle_time)::float8 AS start", of: series, in: range, from: table, db,
                condition: finalOnly ? " AND is_final" : "", orderBy: "start")
            return rows.compactMap { $0.first.flatMap { $0.flatMap(Double.init) } }.map {
                Date(timeIntervalSince1970: $0)
            }
        }
    }

    public func candles(of series: Series, in range: Range<Date>) throws -> [Candle] {
        try checkOpen()
        let table = schema.table(for: series)
        return try run(series: series, failure: .readFailed) { db in
            guard try self.prepareForReading(table, db) else { return [] }
            let rows = try Self.selectBars(
                PostgresSinkStatements.candleSelectList, of: series, in: range, from: table, db,
                orderBy: "candle_time, symbol")
            return try rows.map { row throws(CandleSinkError) in
                guard let candle = PostgresSinkStatements.candle(from: row, series: series) else {
                    throw CandleSinkError(
                        .corruptData, series: series, "unreadable row in \(table.dotted): \(row.map { $0 ?? "NULL" })")
                }
                return candle
            }
        }
    }

    /// Nothing to do: every write has committed when it returns.
    public func flush() throws {
        try checkOpen()
    }

    /// Closes the connection. Later calls throw `CandleSinkError.Code.closed`.
    public func close() {
        isClosed = true
        connection = nil
        stageReady = false
    }

    // MARK: - Writing

    private func upsert(
        _ group: CandleBatch.Group, into table: PostgresSinkTable, _ db: PostgresConnection
    ) throws -> CandleWriteReport {
        var report = CandleWriteReport()
        if group.candles.count >= configuration.copyThreshold {
            if !stageReady {
                _ = try db.execute(PostgresSinkStatements.createStage)
                stageReady = true
            }
            _ = try db.execute("TRUNCATE \(PostgresSinkSchema.stageTable)")
            _ = try db.copyIn(
                PostgresSinkStatements.copyIntoStage, chunks: PostgresSinkStatements.CopyRows(candles: group.candles))
            let counts = try db.execute(
                PostgresSinkStatements.stageUpsert(table),
                parameters: PostgresSinkStatements.seriesParameters(table, group.series))
            report += Self.report(counts, rows: group.candles.count)
        } else {
            var start = 0
            while start < group.candles.count {
                let end = min(start + configuration.rowsPerStatement, group.candles.count)
                var parameters: [String?] = []
                parameters.reserveCapacity((end - start) * 16)
                for candle in group.candles[start..<end] {
                    PostgresSinkStatements.appendParameters(of: candle, table: table, to: &parameters)
                }
                let counts = try db.execute(
                    PostgresSinkStatements.valuesUpsert(table, rows: end - start), parameters: parameters)
                report += Self.report(counts, rows: end - start)
                start = end
            }
        }
        logger.trace(
            "upserted",
            metadata: [
                "orca_table": "\(table.dotted)", "orca_rows": "\(group.candles.count)", "orca_report": "\(report)",
            ])
        return report
    }

    private static func report(_ counts: PostgresResult, rows: Int) -> CandleWriteReport {
        let inserted = counts.rows.first?[0].flatMap { Int($0) } ?? 0
        let updated = counts.rows.first?[1].flatMap { Int($0) } ?? 0
        return CandleWriteReport(inserted: inserted, updated: updated, unchanged: rows - inserted - updated)
    }

    private static func checkStorageLimits(_ candle: Candle) throws(CandleSinkError) {
        func refuse(_ reason: String) -> CandleSinkError {
            CandleSinkError(
                .invalidCandle, series: candle.series, "batch refused, nothing written: bar \(candle.key) \(reason)")
        }
        guard candle.symbol.count <= 20 else {
            throw refuse("has a symbol longer than 20 characters (varchar(20))")
        }
        for price in [candle.open, candle.high, candle.low, candle.close] {
            guard price.magnitude < 1e8, CandleText.roundedScaled4(price) != nil else {
                throw refuse("has price \(price), which decimal(12,4) cannot hold without changing it")
            }
        }
        guard candle.upTicks <= Int64(Int32.max), candle.downTicks <= Int64(Int32.max) else {
            throw refuse("has a tick count above 2147483647 (integer columns)")
        }
        guard !candle.upVolume.addingReportingOverflow(candle.downVolume).overflow else {
            throw refuse("has up + down volume beyond bigint")
        }
    }

    // MARK: - Tables

    private func migrate(_ table: PostgresSinkTable, _ db: PostgresConnection) throws {
        let applied = try schema.migrate(table, db)
        if !applied.isEmpty {
            logger.debug("migrated table", metadata: ["orca_table": "\(table.dotted)", "orca_versions": "\(applied)"])
        }
        migratedTables.insert(table.name)
    }

    private func ensureMigrated(_ table: PostgresSinkTable, _ db: PostgresConnection) throws {
        guard !migratedTables.contains(table.name) else { return }
        do {
            try migrate(table, db)
        } catch let error as PostgresError where error.code == .queryFailed {
            throw CandleSinkError(
                .migrationFailed, "cannot create or upgrade \(table.dotted)", underlying: error, redacting: secrets)
        }
    }

    /// The rows of `SELECT columns FROM table` for the bars of `series` that start in `range` and meet `condition`
    /// (SQL starting with ` AND `, or empty), in the order `orderBy`.
    private static func selectBars(
        _ columns: String, of series: Series, in range: Range<Date>, from table: PostgresSinkTable,
        _ db: PostgresConnection, condition: String = "", orderBy order: String
    ) throws -> [[String?]] {
        let filter = PostgresSinkStatements.seriesFilter(table)
        let from = filter.nextPlaceholder
        return try db.execute(
            """
            SELECT \(columns) FROM \(table.qualified)
            WHERE \(filter.clause) AND candle_time >= to_timestamp($\(from)::float8)
              AND candle_time < to_timestamp($\(from + 1)::float8)\(condition)
            ORDER BY \(order)
            """,
            parameters: PostgresSinkStatements.seriesParameters(table, series) + [
                PostgresSinkStatements.epochText(range.lowerBound),
                PostgresSinkStatements.epochText(range.upperBound),
            ]
        ).rows
    }

    /// Migrates an existing table so reads can use Orca's columns; `false` when the table does not exist (reads
    /// then answer "nothing stored" without creating it).
    private func prepareForReading(_ table: PostgresSinkTable, _ db: PostgresConnection) throws -> Bool {
        if migratedTables.contains(table.name) { return true }
        guard try PostgresSinkSchema.exists(table, db) else { return false }
        try ensureMigrated(table, db)
        return true
    }

    // MARK: - Connection

    private func checkOpen() throws(CandleSinkError) {
        if isClosed {
            throw CandleSinkError(.closed, "the PostgreSQL sink for \(redactedURL) is closed")
        }
    }

    private func openConnection() throws -> PostgresConnection {
        if let connection, connection.isUsable {
            return connection
        }
        connection = nil
        stageReady = false
        let opened = try PostgresConnection(
            url: configuration.url, connectTimeout: configuration.connectTimeout,
            applicationName: configuration.applicationName)
        _ = try opened.execute(
            "SELECT set_config('temp_buffers', $1, false)", parameters: [configuration.stagingMemory])
        _ = try opened.execute("SET TIME ZONE 'UTC'")
        let version = opened.serverVersion
        logger.debug("connected", metadata: ["orca_url": "\(redactedURL)", "orca_server": "\(version)"])
        connection = opened
        return opened
    }

    /// Runs `body` with a connection; maps failures to `CandleSinkError`. When a connection that was already open
    /// turns out to be lost, reconnects and runs `body` once more.
    private func run<Result>(
        series: Series?, failure: CandleSinkError.Code, _ body: (PostgresConnection) throws -> Result
    ) throws(CandleSinkError) -> Result {
        var retried = false
        var rechecked = false
        while true {
            let reused = connection?.isUsable ?? false
            do {
                let db = try openConnection()
                do {
                    return try body(db)
                } catch {
                    if !db.isUsable {
                        connection = nil
                        stageReady = false
                    }
                    throw error
                }
            } catch let error as PostgresError where error.code == .connectionLost && reused && !retried {
                logger.debug("connection lost; reconnecting once", metadata: ["orca_url": "\(redactedURL)"])
                retried = true
            } catch let error as PostgresError
                where Self.isMissingRelation(error) && !migratedTables.isEmpty && !rechecked
            {
                // A table (or the whole schema) this sink had created or checked was dropped while it ran: forget
                // what it knew, so the statement runs again after the tables are created (writes) or found missing
                // (reads answer "nothing stored").
                logger.warning(
                    "a table or the schema was dropped while running; checking and recreating the tables",
                    metadata: [
                        "orca_url": "\(redactedURL)", "orca_schema": "\(configuration.schema)",
                        "orca_sqlstate": "\(error.sqlState ?? "")",
                    ])
                migratedTables.removeAll()
                tablesRecreated += 1
                rechecked = true
            } catch {
                throw map(error, series: series, failure: failure)
            }
        }
    }

    /// Whether the server refused a statement because a table (`42P01`, undefined_table) or a schema (`3F000`,
    /// invalid_schema_name) does not exist.
    private static func isMissingRelation(_ error: PostgresError) -> Bool {
        error.sqlState == "42P01" || error.sqlState == "3F000"
    }

    private func map(_ error: any Error, series: Series?, failure: CandleSinkError.Code) -> CandleSinkError {
        let series = series ?? seriesInProgress
        if let error = error as? CandleSinkError {
            guard error.series == nil, let series else { return error }
            return error.naming(series)
        }
        if let error = error as? PostgresError {
            let unreachable =
                error.code == .connectionFailed || error.code == .connectionLost
                || error.sqlState.map { $0.hasPrefix("08") || $0.hasPrefix("57P") } ?? false
            if unreachable {
                return CandleSinkError(
                    .unavailable, series: series, "PostgreSQL at \(redactedURL) is unavailable", underlying: error,
                    redacting: secrets)
            }
            return CandleSinkError(
                failure, series: series, "PostgreSQL at \(redactedURL) refused the statement", underlying: error,
                redacting: secrets)
        }
        return CandleSinkError(failure, series: series, "PostgreSQL sink failed", underlying: error, redacting: secrets)
    }
}

extension PostgresCandleSink.Configuration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The configuration with the URL's password masked, so printing or logging it leaks nothing.
    public var description: String {
        "PostgresCandleSink.Configuration(url: \(PostgresConnectionString.redact(url)), schema: \(schema),"
            + " layout: \(layout), connectTimeout: \(connectTimeout), copyThreshold: \(copyThreshold),"
            + " rowsPerStatement: \(rowsPerStatement), stagingMemory: \(stagingMemory), series: \(series.count))"
    }

    public var debugDescription: String { description }

    /// Like ``description``: `dump` and debuggers show the redacted URL.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "url": PostgresConnectionString.redact(url), "schema": schema, "layout": layout,
                "connectTimeout": connectTimeout, "applicationName": applicationName, "copyThreshold": copyThreshold,
                "rowsPerStatement": rowsPerStatement, "stagingMemory": stagingMemory, "series": series,
            ])
    }
}
