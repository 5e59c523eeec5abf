import CandleCore
import Collectors
import Foundation

/// A table the PostgreSQL sink writes to, with the names its SQL needs.
struct PostgresSinkTable: Hashable, Sendable {
    /// Schema name (a plain lower-case identifier).
    let schema: String
    /// Table name (a plain lower-case identifier).
    let name: String
    /// Whether the table holds several series (the single-table layout), told apart by `root` and `timeframe`.
    let isShared: Bool

    /// `"schema"."name"`.
    var qualified: String { "\(PostgresSinkSchema.quote(schema)).\(PostgresSinkSchema.quote(name))" }

    /// `schema.name`, for messages and `to_regclass`.
    var dotted: String { "\(schema).\(name)" }

    /// The unique key upserts conflict on.
    var conflictColumns: [String] { isShared ? ["symbol", "timeframe", "candle_time"] : ["symbol", "candle_time"] }
}

/// Table names, DDL and versioned, idempotent migrations for both layouts.
///
/// Migrations are recorded per table in `<schema>.orca_schema_migrations (table_name, version, description,
/// applied_at)`. Each run takes a transaction-scoped advisory lock for the schema, so sinks in several processes
/// migrate one after another; every step also checks the catalog first, so a table the old system created is
/// adopted, never recreated or rewritten.
struct PostgresSinkSchema: Sendable {
    let schema: String
    let layout: PostgresCandleSink.Layout

    static let migrationsTable = "orca_schema_migrations"
    static let stageTable = "orca_candle_stage"

    /// The value columns every layout has, in the order statements and COPY rows use.
    static let valueColumns = [
        "open", "high", "low", "close", "volume", "up_volume", "down_volume", "up_ticks", "down_ticks", "bid_volume",
        "offer_volume", "is_final",
    ]

    /// The table that stores `series`: `<root>_candles_<label>` (e.g. `nq_candles_5min`), or `candles`.
    func table(for series: Series) -> PostgresSinkTable {
        if layout == .singleTable {
            return PostgresSinkTable(schema: schema, name: "candles", isShared: true)
        }
        let name = "\(series.instrument.root.lowercased())_candles_\(series.timeframe.label)"
        return PostgresSinkTable(schema: schema, name: name, isShared: false)
    }

    /// A double-quoted identifier.
    static func quote(_ identifier: String) -> String {
        "\"" + identifier.replacing("\"", with: "\"\"") + "\""
    }

    /// Whether `name` is a plain identifier PostgreSQL would not fold or need quotes for.
    static func isPlainIdentifier(_ name: String) -> Bool {
        guard (1...63).contains(name.utf8.count), let first = name.unicodeScalars.first,
            first == "_" || ("a"..."z").contains(first)
        else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }

    // MARK: DDL

    /// The old system's table, as `../shared/docs/seed-system.md` describes it (what migration 1 creates).
    static func seedTableDDL(_ table: PostgresSinkTable) -> String {
        candleTableDDL(table, keyColumns: ["symbol varchar(20) NOT NULL"], unique: ["symbol", "candle_time"])
    }

    /// The single table of the `singleTable` layout.
    static func singleTableDDL(_ table: PostgresSinkTable) -> String {
        candleTableDDL(
            table,
            keyColumns: ["root varchar(8) NOT NULL", "symbol varchar(20) NOT NULL", "timeframe varchar(10) NOT NULL"],
            extraColumns: ["bid_volume bigint", "offer_volume bigint", "is_final boolean NOT NULL DEFAULT true"],
            unique: ["symbol", "timeframe", "candle_time"])
    }

    /// `CREATE TABLE` of a candle table, one column a line: `id`, the `keyColumns`, `candle_time`, the prices and
    /// volumes both layouts share, the `extraColumns`, the timestamps, then the unique constraint on `unique`
    /// (named `<table>_<columns>_key`, as PostgreSQL would name it).
    private static func candleTableDDL(
        _ table: PostgresSinkTable, keyColumns: [String], extraColumns: [String] = [], unique: [String]
    ) -> String {
        let shared = [
            "candle_time timestamptz NOT NULL",
            "open decimal(12,4) NOT NULL",
            "high decimal(12,4) NOT NULL",
            "low decimal(12,4) NOT NULL",
            "close decimal(12,4) NOT NULL",
            "volume bigint NOT NULL DEFAULT 0",
            "up_volume bigint DEFAULT 0",
            "down_volume bigint DEFAULT 0",
            "up_ticks integer DEFAULT 0",
            "down_ticks integer DEFAULT 0",
        ]
        let constraint = quote(table.name + "_" + unique.joined(separator: "_") + "_key")
        let lines =
            ["id bigserial PRIMARY KEY"] + keyColumns + shared + extraColumns + [
                "created_at timestamptz NOT NULL DEFAULT now()",
                "updated_at timestamptz NOT NULL DEFAULT now()",
                "CONSTRAINT \(constraint) UNIQUE (\(unique.joined(separator: ", ")))",
            ]
        return "CREATE TABLE \(table.qualified) (\n" + lines.map { "    " + $0 }.joined(separator: ",\n") + "\n)"
    }

    // MARK: Migrations

    /// One versioned step of a table's migrations.
    struct Migration {
        let version: Int
        let description: String
        let apply: (PostgresConnection) throws -> Void
    }

    /// The steps of `table`, in version order.
    func migrations(for table: PostgresSinkTable) -> [Migration] {
        if table.isShared {
            return [
                Migration(version: 1, description: "create the single candles table") { db in
                    if try !Self.exists(table, db) {
                        _ = try db.execute(Self.singleTableDDL(table))
                    }
                    _ = try db.execute(
                        "CREATE INDEX IF NOT EXISTS \(Self.quote(table.name + "_series_time_idx")) ON \(table.qualified)"
                            + " (root, timeframe, candle_time DESC)")
                }
            ]
        }
        return [
            Migration(version: 1, description: "create or adopt the seed-schema table") { db in
                if try !Self.exists(table, db) {
                    _ = try db.execute(Self.seedTableDDL(table))
                } else if try !Self.hasUniqueKey(table, columns: ["candle_time", "symbol"], db) {
                    // Tables of the old system from before it had a unique key: add one (fails on duplicates).
                    do {
                        _ = try db.execute(
                            "CREATE UNIQUE INDEX \(Self.quote(table.name + "_symbol_candle_time_key"))"
                                + " ON \(table.qualified) (symbol, candle_time)")
                    } catch let error as PostgresError where error.sqlState == "23505" {
                        throw CandleSinkError(
                            .migrationFailed,
                            "\(table.dotted) holds duplicate (symbol, candle_time) rows, so its unique key cannot be"
                                + " added; remove the duplicates first", underlying: error)
                    }
                }
                if try !Self.hasIndex(table, leadingWith: "candle_time", db) {
                    _ = try db.execute(
                        "CREATE INDEX \(Self.quote(table.name + "_candle_time_idx")) ON \(table.qualified)"
                            + " (candle_time DESC)")
                }
            },
            Migration(version: 2, description: "add is_final, bid_volume, offer_volume") { db in
                _ = try db.execute(
                    "ALTER TABLE \(table.qualified)"
                        + " ADD COLUMN IF NOT EXISTS is_final boolean NOT NULL DEFAULT true,"
                        + " ADD COLUMN IF NOT EXISTS bid_volume bigint,"
                        + " ADD COLUMN IF NOT EXISTS offer_volume bigint")
            },
        ]
    }

    /// Brings `table` to the latest version in one transaction, under the schema's advisory lock; returns the
    /// versions applied (empty when it was up to date).
    func migrate(_ table: PostgresSinkTable, _ db: PostgresConnection) throws -> [Int] {
        try db.transaction {
            _ = try db.execute("SELECT pg_advisory_xact_lock($1::bigint)", parameters: [String(lockKey)])
            if try db.execute("SELECT 1 FROM pg_namespace WHERE nspname = $1", parameters: [schema]).rows.isEmpty {
                _ = try db.execute("CREATE SCHEMA \(Self.quote(schema))")
            }
            let migrations = PostgresSinkTable(schema: schema, name: Self.migrationsTable, isShared: true)
            if try !Self.exists(migrations, db) {
                _ = try db.execute(
                    """
                    CREATE TABLE \(migrations.qualified) (
                        table_name text NOT NULL,
                        version integer NOT NULL,
                        description text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now(),
                        PRIMARY KEY (table_name, version)
                    )
                    """)
            }
            var current =
                try db.execute(
                    "SELECT coalesce(max(version), 0) FROM \(migrations.qualified) WHERE table_name = $1",
                    parameters: [table.name]
                ).rows.first?.first.flatMap { $0.flatMap { Int($0) } } ?? 0
            if current > 0, try !Self.exists(table, db) {
                // The table was dropped after it was migrated (by hand, or a restore without it): its migration
                // records no longer describe anything, so start again from version 1, which creates it.
                _ = try db.execute(
                    "DELETE FROM \(migrations.qualified) WHERE table_name = $1", parameters: [table.name])
                current = 0
            }
            var applied: [Int] = []
            for step in self.migrations(for: table) where step.version > current {
                try step.apply(db)
                _ = try db.execute(
                    "INSERT INTO \(migrations.qualified) (table_name, version, description) VALUES ($1, $2::int, $3)",
                    parameters: [table.name, String(step.version), step.description])
                applied.append(step.version)
            }
            return applied
        }
    }

    /// A 64-bit advisory-lock key for this schema's migrations (FNV-1a; stable across processes, unlike `Hasher`).
    private var lockKey: Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "orca-migrations:\(schema)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }

    // MARK: Catalog checks

    static func exists(_ table: PostgresSinkTable, _ db: PostgresConnection) throws -> Bool {
        let regclass = "\(quote(table.schema)).\(quote(table.name))"
        return try db.execute("SELECT to_regclass($1) IS NOT NULL", parameters: [regclass]).rows.first?.first == "t"
    }

    /// Whether a plain unique index (or constraint) covers exactly `columns` (sorted), in any order.
    private static func hasUniqueKey(
        _ table: PostgresSinkTable, columns: [String], _ db: PostgresConnection
    ) throws -> Bool {
        let regclass = "\(quote(table.schema)).\(quote(table.name))"
        let rows = try db.execute(
            """
            SELECT 1 FROM pg_index i
            WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
              AND i.indnatts = $2::int
              AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text) FROM pg_attribute a
                   WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)) = $3::text[]
            """,
            parameters: [regclass, String(columns.count), "{" + columns.sorted().joined(separator: ",") + "}"]
        ).rows
        return !rows.isEmpty
    }

    /// Whether some index's first column is `column` (a B-tree serves both scan directions).
    private static func hasIndex(
        _ table: PostgresSinkTable, leadingWith column: String, _ db: PostgresConnection
    ) throws -> Bool {
        let regclass = "\(quote(table.schema)).\(quote(table.name))"
        let rows = try db.execute(
            """
            SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = to_regclass($1) AND a.attname = $2
            """,
            parameters: [regclass, column]
        ).rows
        return !rows.isEmpty
    }
}
