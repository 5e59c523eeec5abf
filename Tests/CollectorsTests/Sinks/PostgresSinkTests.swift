import CandleCore
import Foundation
import Testing

@testable import Collectors
@testable import PostgresSink

@Suite(
    "PostgreSQL sink: adoption of the old tables, COPY path, reconnects",
    .enabled(
        if: sinkTestDatabaseURL != nil, "set ORCA_TEST_DATABASE_URL (scripts/test.sh does) to run against PostgreSQL"))
struct PostgresSinkTests {
    let url = sinkTestDatabaseURL ?? ""
    let schema = uniqueSchema()

    private func sink(
        layout: PostgresCandleSink.Layout = .tablePerSeries, series: [Series] = [], copyThreshold: Int = 500,
        applicationName: String = "orca-sink"
    ) throws -> PostgresCandleSink {
        try PostgresCandleSink(
            configuration: .init(
                url: url, schema: schema, layout: layout, applicationName: applicationName,
                copyThreshold: copyThreshold, series: series))
    }

    private func withSchema(_ body: (PostgresConnection) async throws -> Void) async throws {
        let db = try PostgresConnection(url: url)
        do {
            try await body(db)
        } catch {
            try? dropSchema(schema, url: url)
            throw error
        }
        try dropSchema(schema, url: url)
    }

    private func value(_ db: PostgresConnection, _ sql: String) throws -> String? {
        try db.execute(sql).rows.first?.first ?? nil
    }

    /// The old system's DDL for one table, as documented in Docs/sinks.md (with the old system's index name).
    private func createOldTable(_ db: PostgresConnection, unique: Bool = true) throws {
        _ = try db.executeScript(
            """
            CREATE SCHEMA \(schema);
            CREATE TABLE \(schema).nq_candles_5min (
                id bigserial PRIMARY KEY,
                symbol varchar(20) NOT NULL,
                candle_time timestamptz NOT NULL,
                open decimal(12,4) NOT NULL,
                high decimal(12,4) NOT NULL,
                low decimal(12,4) NOT NULL,
                close decimal(12,4) NOT NULL,
                volume bigint NOT NULL DEFAULT 0,
                up_volume bigint DEFAULT 0,
                down_volume bigint DEFAULT 0,
                up_ticks integer DEFAULT 0,
                down_ticks integer DEFAULT 0,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now()\(unique ? ",\n    UNIQUE (symbol, candle_time)" : "")
            );
            CREATE INDEX idx_nq_candles_5min_time ON \(schema).nq_candles_5min (candle_time DESC);
            """)
    }

    /// Rows as the old system wrote them: one statement per bar, no is_final, timestamps from mid-2024.
    private func insertOldRows(_ db: PostgresConnection, _ bars: [Candle]) throws {
        for bar in bars {
            _ = try db.execute(
                """
                INSERT INTO \(schema).nq_candles_5min
                    (symbol, candle_time, open, high, low, close, volume, up_volume, down_volume, up_ticks, down_ticks,
                     created_at, updated_at)
                VALUES ($1, to_timestamp($2::float8), $3::numeric, $4::numeric, $5::numeric, $6::numeric, $7::int8,
                        $8::int8, $9::int8, $10::int4, $11::int4, '2024-06-01T00:00:00Z', '2024-06-01T00:00:00Z')
                """,
                parameters: [
                    bar.symbol, String(bar.start.timeIntervalSince1970), "\(bar.open)", "\(bar.high)", "\(bar.low)",
                    "\(bar.close)", "\(bar.volume)", "\(bar.upVolume)", "\(bar.downVolume)", "\(bar.upTicks)",
                    "\(bar.downTicks)",
                ])
        }
    }

    @Test("adopts the old system's tables and rows: nothing duplicated, unchanged rows untouched, migrations recorded")
    func adoptsSeedTables() async throws {
        try await withSchema { db in
            try createOldTable(db)
            let old = [Bars.nq(0), Bars.nq(1), Bars.nq(2)]
            try insertOldRows(db, old)
            let idsBefore = try db.execute("SELECT id FROM \(schema).nq_candles_5min ORDER BY id").rows

            let sink = try sink(series: Series.seedDefaults)
            try await sink.prepare()
            #expect(try await sink.appliedMigrations(for: Bars.nq5) == [1, 2])
            // The old rows read back as final bars with every value.
            #expect(try await sink.candles(of: Bars.nq5) == old)

            let changed = Bars.nq(2, close: 21_001.25)
            let report = try await sink.write([Bars.nq(0), Bars.nq(1), changed, Bars.nq(3), Bars.nq(4, final: false)])
            #expect(report == CandleWriteReport(inserted: 2, updated: 1, unchanged: 2))
            #expect(try value(db, "SELECT count(*) FROM \(schema).nq_candles_5min") == "5")
            #expect(
                try db.execute("SELECT id FROM \(schema).nq_candles_5min WHERE id <= 3 ORDER BY id").rows == idsBefore)
            // updated_at moved only for the row that changed; created_at never.
            #expect(
                try db.execute(
                    """
                    SELECT id FROM \(schema).nq_candles_5min
                    WHERE updated_at > '2024-06-02' AND created_at = '2024-06-01T00:00:00Z' ORDER BY id
                    """
                ).rows == [["3"]])
            #expect(try value(db, "SELECT count(*) FROM \(schema).nq_candles_5min WHERE NOT is_final") == "1")
            // No second index on candle_time next to the old one; the other 15 seed tables were created.
            #expect(
                try value(
                    db,
                    """
                    SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid
                        AND a.attnum = i.indkey[0]
                    WHERE i.indrelid = '\(schema).nq_candles_5min'::regclass AND a.attname = 'candle_time'
                    """) == "1")
            #expect(
                try value(
                    db,
                    "SELECT count(*) FROM pg_tables WHERE schemaname = '\(schema)' AND tablename LIKE '%\\_candles\\_%'"
                )
                    == "16")
            #expect(try value(db, "SELECT to_regclass('\(schema).mnq_candles_1hour') IS NOT NULL") == "t")
            await sink.close()

            // A second start (another process) applies nothing and changes nothing.
            let again = try self.sink(series: Series.seedDefaults)
            try await again.prepare()
            #expect(
                try value(
                    db, "SELECT count(*) FROM \(schema).orca_schema_migrations WHERE table_name = 'nq_candles_5min'")
                    == "2")
            #expect(try await again.write([Bars.nq(0), changed]) == CandleWriteReport(unchanged: 2))
            await again.close()
        }
    }

    @Test("an old table without its unique key gets one; duplicates make the migration fail with a clear error")
    func addsUniqueKey() async throws {
        try await withSchema { db in
            try createOldTable(db, unique: false)
            try insertOldRows(db, [Bars.nq(0), Bars.nq(0), Bars.nq(1)])
            let sink = try sink()
            await #expect {
                _ = try await sink.write([Bars.nq(5)])
            } throws: { error in
                isSinkError(error, .migrationFailed) && "\(error)".contains("duplicate (symbol, candle_time) rows")
                    && (error as? CandleSinkError)?.series == Bars.nq5
            }
            _ = try db.execute("DELETE FROM \(schema).nq_candles_5min WHERE id = 2")
            #expect(try await sink.write([Bars.nq(0), Bars.nq(5)]) == CandleWriteReport(inserted: 1, unchanged: 1))
            #expect(try value(db, "SELECT count(*) FROM \(schema).nq_candles_5min") == "3")
            await sink.close()
        }
    }

    @Test("COPY path: 5,000 rows inserted, re-sent unchanged, 10 revised; updated_at moves only for those 10")
    func copyPath() async throws {
        try await withSchema { db in
            let sink = try sink()
            let bars = (0..<5_000).map { Bars.nq($0, close: 21_000 + Double($0 % 40) * 0.25) }
            #expect(try await sink.write(bars) == CandleWriteReport(inserted: 5_000))
            _ = try db.execute("UPDATE \(schema).nq_candles_5min SET updated_at = '2024-01-01T00:00:00Z'")
            #expect(try await sink.write(bars) == CandleWriteReport(unchanged: 5_000))
            var revised = bars
            for index in stride(from: 0, to: 5_000, by: 500) {
                revised[index].upVolume += 1
            }
            revised[1].isFinal = false  // a forming version of a final bar: ignored
            revised[2].downTicks += 5  // and a duplicate of that key later in the batch: the later one wins
            #expect(
                try await sink.write(revised + [bars[2]]) == CandleWriteReport(updated: 10, unchanged: 4_990))
            #expect(
                try value(db, "SELECT count(*) FROM \(schema).nq_candles_5min WHERE updated_at > '2024-01-02'") == "10")
            #expect(try await sink.candles(of: Bars.nq5).count == 5_000)
            #expect(try await sink.latestCandleStart(of: Bars.nq5) == Bars.start(4_999, .fiveMinutes))
            await sink.close()
        }
    }

    @Test("reads of a series without a table answer empty and create nothing")
    func readsCreateNothing() async throws {
        try await withSchema { db in
            let sink = try sink()
            #expect(try await sink.latestCandleStart(of: Bars.nq5) == nil)
            #expect(try await sink.candles(of: Bars.nq5).isEmpty)
            #expect(try value(db, "SELECT to_regclass('\(schema).nq_candles_5min') IS NULL") == "t")
            await sink.close()
        }
    }

    @Test("a server-side disconnect is healed: the sink reconnects and the write succeeds")
    func reconnects() async throws {
        try await withSchema { db in
            let name = "orca-reconnect-\(UUID().uuidString.prefix(8))"
            let sink = try sink(applicationName: name)
            _ = try await sink.write([Bars.nq(0)])
            _ = try db.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                parameters: [name])
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await sink.write([Bars.nq(1)]) == CandleWriteReport(inserted: 1))
            #expect(try await sink.candles(of: Bars.nq5).count == 2)
            await sink.close()
        }
    }

    @Test("a table or the whole schema dropped while running is created again; reads in between answer empty")
    func droppedWhileRunning() async throws {
        try await withSchema { db in
            let sink = try sink()
            #expect(try await sink.write([Bars.nq(0), Bars.es(0)]) == CandleWriteReport(inserted: 2))

            _ = try db.execute("DROP TABLE \(schema).nq_candles_5min")
            #expect(try await sink.latestCandleStart(of: Bars.nq5) == nil)
            #expect(try await sink.write([Bars.nq(1)]) == CandleWriteReport(inserted: 1))
            #expect(try await sink.candles(of: Bars.nq5).map(\.start) == [Bars.start(1, .fiveMinutes)])
            #expect(try await sink.candles(of: Bars.es15).count == 1)  // the other table was left alone
            #expect(await sink.tablesRecreated == 1)

            _ = try db.execute("DROP SCHEMA \(schema) CASCADE")
            #expect(try await sink.write([Bars.nq(2), Bars.es(1)]) == CandleWriteReport(inserted: 2))
            #expect(try await sink.candles(of: Bars.nq5).map(\.start) == [Bars.start(2, .fiveMinutes)])
            #expect(try await sink.candles(of: Bars.es15).map(\.start) == [Bars.start(1, .fifteenMinutes)])
            #expect(await sink.tablesRecreated == 2)
            // Recreated through the migrations, so they are recorded again.
            #expect(try await sink.appliedMigrations(for: Bars.nq5).first == 1)
            await sink.close()
        }
    }

    @Test("the single-table layout keys on (symbol, timeframe, candle_time) and keeps series apart")
    func singleTable() async throws {
        try await withSchema { db in
            let sink = try sink(layout: .singleTable)
            try await sink.prepare()
            let nq15 = Candle(
                symbol: "NQZ5", instrument: .nq, timeframe: .fifteenMinutes, start: Bars.base, open: 21_000,
                high: 21_001, low: 20_999, close: 21_000.5)
            #expect(try await sink.write([Bars.nq(0), nq15]) == CandleWriteReport(inserted: 2))
            #expect(try value(db, "SELECT count(*) FROM \(schema).candles") == "2")
            #expect(
                try value(
                    db, "SELECT string_agg(root || ' ' || timeframe, ',' ORDER BY timeframe) FROM \(schema).candles")
                    == "NQ 15min,NQ 5min")
            #expect(try await sink.candles(of: Series(.nq, .fifteenMinutes)) == [nq15])
            #expect(try await sink.appliedMigrations(for: Bars.nq5) == [1])
            await sink.close()
        }
    }
}

@Suite("PostgreSQL sink without a server")
struct PostgresSinkOfflineTests {
    @Test("an unreachable server gives unavailable, naming the series, never the password")
    func unavailableWithoutPassword() async throws {
        let secret = "s3cr3t-\(UUID().uuidString.prefix(6))"
        let sink = try PostgresCandleSink(
            configuration: .init(url: "postgres://orca:\(secret)@127.0.0.1:1/orca", connectTimeout: .seconds(2)))
        #expect(sink.redactedURL == "postgres://orca:***@127.0.0.1:1/orca")
        let configuration = PostgresCandleSink.Configuration(url: "postgres://orca:\(secret)@127.0.0.1:1/orca")
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in ["\(configuration)", String(reflecting: configuration), dumped] {
            #expect(!text.contains(secret) && text.contains("orca:***@"))
        }
        await #expect {
            _ = try await sink.write([Bars.nq(0)])
        } throws: { error in
            guard let error = error as? CandleSinkError else { return false }
            return error.code == .unavailable && error.isRetryable && error.series == Bars.nq5
                && !"\(error)".contains(secret) && "\(error)".contains("postgres://orca:***@127.0.0.1:1/orca")
        }
        await #expect { _ = try await sink.latestCandleStart(of: Bars.nq5) } throws: { error in
            isSinkError(error, .unavailable) && !"\(error)".contains(secret)
        }
    }

    @Test("schema names must be plain lower-case identifiers; batch sizes must be sane")
    func configuration() throws {
        for bad in ["Orca", "orca; DROP TABLE x", "", "1orca", String(repeating: "a", count: 64)] {
            #expect(throws: CandleSinkError.self) {
                _ = try PostgresCandleSink(configuration: .init(url: "postgres://x@localhost/db", schema: bad))
            }
        }
        #expect(throws: CandleSinkError.self) {
            _ = try PostgresCandleSink(configuration: .init(url: "postgres://x@localhost/db", rowsPerStatement: 5_000))
        }
        #expect(throws: Never.self) {
            _ = try PostgresCandleSink(configuration: .init(url: "postgres://x@localhost/db", schema: "orca_2"))
        }
    }

    @Test("storage limits are checked before anything is sent: prices decimal(12,4) cannot hold are refused")
    func storageLimits() throws {
        let sink = try PostgresCandleSink(configuration: .init(url: "postgres://x@localhost/db"))
        let fx = try Instrument(root: "E6", tickSize: 0.00005, pointValue: 125_000, contractMonths: .quarterly)
        let fine = Candle(
            symbol: "E6Z5", instrument: fx, timeframe: .fiveMinutes, start: Bars.base, open: 1.0875, high: 1.088,
            low: 1.0875, close: 1.0875)
        var tooPrecise = fine
        tooPrecise.close = 1.08765
        #expect(throws: Never.self) { try sink.validate([fine]) }
        #expect {
            try sink.validate([fine, tooPrecise])
        } throws: { error in
            isSinkError(error, .invalidCandle) && "\(error)".contains("decimal(12,4)")
        }
        var tooManyTicks = Bars.nq(0)
        tooManyTicks.upTicks = Int64(Int32.max) + 1
        #expect(throws: CandleSinkError.self) { try sink.validate([tooManyTicks]) }
    }

    @Test("SQL: the upsert only updates when a value differs and never downgrades a final bar")
    func upsertSQL() {
        let table = PostgresSinkSchema(schema: "orca", layout: .tablePerSeries).table(for: Bars.nq5)
        #expect(table.qualified == "\"orca\".\"nq_candles_5min\"")
        let sql = PostgresSinkStatements.upsertTail(table)
        #expect(sql.contains("ON CONFLICT (symbol, candle_time) DO UPDATE"))
        #expect(sql.contains("WHERE (excluded.is_final OR NOT t.is_final) AND (t.open, t.high"))
        #expect(sql.contains("IS DISTINCT FROM (excluded.open"))
        #expect(sql.contains("updated_at = now()"))
        let single = PostgresSinkSchema(schema: "orca", layout: .singleTable).table(for: Series(.mes, .oneHour))
        #expect(single.name == "candles")
        #expect(PostgresSinkStatements.upsertTail(single).contains("ON CONFLICT (symbol, timeframe, candle_time)"))
        #expect(
            PostgresSinkSchema(schema: "orca", layout: .tablePerSeries).table(for: Series(.mnq, .oneHour)).name
                == "mnq_candles_1hour")
    }
}
