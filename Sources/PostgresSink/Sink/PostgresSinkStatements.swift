import CandleCore
import Collectors
import Foundation

/// The SQL text and the values the PostgreSQL sink sends.
enum PostgresSinkStatements {
    /// Columns of one upserted row, in order (the staging table has exactly the seed ones).
    static func insertColumns(_ table: PostgresSinkTable) -> [String] {
        (table.isShared ? ["root", "symbol", "timeframe", "candle_time"] : ["symbol", "candle_time"])
            + PostgresSinkSchema.valueColumns
    }

    /// Casts for each column of ``insertColumns(_:)``, for multi-row `VALUES` placeholders.
    static func casts(_ table: PostgresSinkTable) -> [String] {
        (table.isShared ? ["varchar", "varchar", "varchar", "timestamptz"] : ["varchar", "timestamptz"])
            + [
                "numeric", "numeric", "numeric", "numeric", "int8", "int8", "int8", "int4", "int4", "int8", "int8",
                "bool",
            ]
    }

    /// `ON CONFLICT … DO UPDATE … WHERE` with the upsert rule, and the `RETURNING` that tells inserts from updates.
    ///
    /// A conflicting row is updated only if the stored bar is not final or the incoming one is, and only when a
    /// value differs (`IS DISTINCT FROM` treats NULLs as values), so `updated_at` moves only on real changes.
    static func upsertTail(_ table: PostgresSinkTable) -> String {
        let values = PostgresSinkSchema.valueColumns
        let assignments = values.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        let stored = values.map { "t.\($0)" }.joined(separator: ", ")
        let incoming = values.map { "excluded.\($0)" }.joined(separator: ", ")
        return """
            ON CONFLICT (\(table.conflictColumns.joined(separator: ", "))) DO UPDATE
            SET \(assignments), updated_at = now()
            WHERE (excluded.is_final OR NOT t.is_final) AND (\(stored)) IS DISTINCT FROM (\(incoming))
            RETURNING (xmax = 0) AS inserted
            """
    }

    /// Wraps an `INSERT … RETURNING inserted` so the server answers one row: (inserted, updated).
    static func counted(_ insert: String) -> String {
        """
        WITH written AS (\(insert))
        SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written
        """
    }

    /// A multi-row `INSERT … VALUES (…), (…) ON CONFLICT …` for `rows` rows, every placeholder cast.
    static func valuesUpsert(_ table: PostgresSinkTable, rows: Int) -> String {
        let casts = casts(table)
        var placeholder = 0
        var tuples: [String] = []
        tuples.reserveCapacity(rows)
        for _ in 0..<rows {
            let fields = casts.map { cast -> String in
                placeholder += 1
                return "$\(placeholder)::\(cast)"
            }
            tuples.append("(" + fields.joined(separator: ", ") + ")")
        }
        let columns = insertColumns(table).joined(separator: ", ")
        return counted(
            "INSERT INTO \(table.qualified) AS t (\(columns)) VALUES \(tuples.joined(separator: ", "))\n"
                + upsertTail(table))
    }

    /// The parameters of one row of ``valuesUpsert(_:rows:)``.
    static func appendParameters(
        of candle: Candle, table: PostgresSinkTable, to parameters: inout [String?]
    ) {
        if table.isShared {
            parameters.append(candle.instrument.root)
        }
        parameters.append(candle.symbol)
        if table.isShared {
            parameters.append(candle.timeframe.label)
        }
        parameters.append(CandleText.time(Int64(candle.start.timeIntervalSince1970), style: .postgres))
        for price in [candle.open, candle.high, candle.low, candle.close] {
            parameters.append(decimalText(price))
        }
        for count in [candle.volume, candle.upVolume, candle.downVolume, candle.upTicks, candle.downTicks] {
            parameters.append(String(count))
        }
        parameters.append(candle.bidVolume.map { String($0) })
        parameters.append(candle.offerVolume.map { String($0) })
        parameters.append(candle.isFinal ? "t" : "f")
    }

    /// A price as `decimal(12,4)` text (the sink's validation guarantees it fits).
    static func decimalText(_ price: Double) -> String {
        var bytes: [UInt8] = []
        CandleText.appendScaled4(CandleText.roundedScaled4(price) ?? 0, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: COPY

    /// `CREATE TEMP TABLE` for the staging table (same types as the target, no constraints, rows dropped at commit).
    static let createStage = """
        CREATE TEMP TABLE IF NOT EXISTS \(PostgresSinkSchema.stageTable) (
            symbol varchar(20), candle_time timestamptz,
            open numeric(12,4), high numeric(12,4), low numeric(12,4), close numeric(12,4),
            volume bigint, up_volume bigint, down_volume bigint, up_ticks integer, down_ticks integer,
            bid_volume bigint, offer_volume bigint, is_final boolean
        ) ON COMMIT DELETE ROWS
        """

    static let stageColumns = ["symbol", "candle_time"] + PostgresSinkSchema.valueColumns

    static let copyIntoStage =
        "COPY \(PostgresSinkSchema.stageTable) (\(stageColumns.joined(separator: ", "))) FROM STDIN"

    /// `INSERT … SELECT … FROM` the staging table `ON CONFLICT …`; for the shared table, `$1` is the root and `$2`
    /// the timeframe label.
    static func stageUpsert(_ table: PostgresSinkTable) -> String {
        let columns = insertColumns(table).joined(separator: ", ")
        let selected =
            (table.isShared ? "$1::varchar, symbol, $2::varchar, " : "symbol, ")
            + (["candle_time"] + PostgresSinkSchema.valueColumns).joined(separator: ", ")
        return counted(
            "INSERT INTO \(table.qualified) AS t (\(columns)) SELECT \(selected) FROM \(PostgresSinkSchema.stageTable)\n"
                + upsertTail(table))
    }

    /// The rows of `candles` in COPY text format, produced lazily in chunks of about `chunkSize` bytes so the
    /// server parses while the next chunk is formatted.
    struct CopyRows: Sequence {
        let candles: [Candle]
        var chunkSize = 256 * 1024

        func makeIterator() -> Iterator {
            Iterator(candles: candles, chunkSize: chunkSize)
        }

        struct Iterator: IteratorProtocol {
            let candles: [Candle]
            let chunkSize: Int
            var index = 0

            mutating func next() -> [UInt8]? {
                guard index < candles.count else { return nil }
                var chunk: [UInt8] = []
                chunk.reserveCapacity(chunkSize + 256)
                while index < candles.count && chunk.count < chunkSize {
                    PostgresSinkStatements.appendCopyRow(candles[index], to: &chunk)
                    index += 1
                }
                return chunk
            }
        }
    }

    /// One row of the staging table in COPY text format.
    static func appendCopyRow(_ candle: Candle, to out: inout [UInt8]) {
        let tab = UInt8(ascii: "\t")
        for byte in candle.symbol.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case tab: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            default: out.append(byte)
            }
        }
        out.append(tab)
        CandleText.appendTime(Int64(candle.start.timeIntervalSince1970), style: .postgres, to: &out)
        out.append(tab)
        CandleText.appendScaled4(CandleText.roundedScaled4(candle.open) ?? 0, to: &out)
        out.append(tab)
        CandleText.appendScaled4(CandleText.roundedScaled4(candle.high) ?? 0, to: &out)
        out.append(tab)
        CandleText.appendScaled4(CandleText.roundedScaled4(candle.low) ?? 0, to: &out)
        out.append(tab)
        CandleText.appendScaled4(CandleText.roundedScaled4(candle.close) ?? 0, to: &out)
        out.append(tab)
        CandleText.appendInt(candle.upVolume &+ candle.downVolume, to: &out)
        out.append(tab)
        CandleText.appendInt(candle.upVolume, to: &out)
        out.append(tab)
        CandleText.appendInt(candle.downVolume, to: &out)
        out.append(tab)
        CandleText.appendInt(candle.upTicks, to: &out)
        out.append(tab)
        CandleText.appendInt(candle.downTicks, to: &out)
        out.append(tab)
        if let bid = candle.bidVolume {
            CandleText.appendInt(bid, to: &out)
        } else {
            out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
        }
        out.append(tab)
        if let offer = candle.offerVolume {
            CandleText.appendInt(offer, to: &out)
        } else {
            out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
        }
        out.append(tab)
        out.append(candle.isFinal ? UInt8(ascii: "t") : UInt8(ascii: "f"))
        out.append(UInt8(ascii: "\n"))
    }

    // MARK: Reads

    /// `WHERE` clause selecting one series (the shared table needs `$1` root, `$2` timeframe), plus the index of the
    /// next free placeholder.
    static func seriesFilter(_ table: PostgresSinkTable) -> (clause: String, nextPlaceholder: Int) {
        table.isShared ? ("root = $1 AND timeframe = $2", 3) : ("TRUE", 1)
    }

    static func seriesParameters(_ table: PostgresSinkTable, _ series: Series) -> [String?] {
        table.isShared ? [series.instrument.root, series.timeframe.label] : []
    }

    /// Seconds since 1970 as `to_timestamp` text, clamped to years 1…9999 (PostgreSQL's range is wider, but
    /// `Date.distantPast`/`distantFuture` are outside `to_timestamp`'s).
    static func epochText(_ date: Date) -> String {
        let seconds = min(max(date.timeIntervalSince1970, -62_135_596_800), 253_402_300_799)
        return String(seconds)
    }

    static let candleSelectList =
        "symbol, extract(epoch FROM candle_time)::float8, open, high, low, close, up_volume, down_volume, up_ticks,"
        + " down_ticks, bid_volume, offer_volume, is_final"

    /// Decodes a row of ``candleSelectList``; `nil` when a value is malformed.
    static func candle(from row: [String?], series: Series) -> Candle? {
        guard row.count == 13, let symbol = row[0], let epoch = row[1].flatMap(Double.init),
            let open = row[2].flatMap(Double.init), let high = row[3].flatMap(Double.init),
            let low = row[4].flatMap(Double.init), let close = row[5].flatMap(Double.init)
        else { return nil }
        func integer(_ index: Int) -> Int64? { row[index].flatMap { Int64($0) } }
        return Candle(
            symbol: symbol, instrument: series.instrument, timeframe: series.timeframe,
            start: Date(timeIntervalSince1970: epoch), open: open, high: high, low: low, close: close,
            upVolume: integer(6) ?? 0, downVolume: integer(7) ?? 0, upTicks: integer(8) ?? 0,
            downTicks: integer(9) ?? 0, bidVolume: integer(10), offerVolume: integer(11), isFinal: row[12] != "f")
    }
}
