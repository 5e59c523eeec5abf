// SinkBench: write rates of the candle sinks (Docs/benchmarks.md, section "Sinks").
//
//   cd Benchmarks && swift run -c release SinkBench
//   ORCA_BENCH_DATABASE_URL=postgres://user:pass@127.0.0.1:5432/db swift run -c release SinkBench
//   scripts/sink-bench.sh     # starts a throwaway PostgreSQL, then runs this
//
// File sink: 1,000,000 candles in batches of 10,000 (fdatasync per batch), then re-sent unchanged, then read back.
// PostgreSQL (when ORCA_BENCH_DATABASE_URL is set): 200,000 candles through the sink (COPY → temp table → upsert) and,
// in the same run, the same rows with plain COPY into an identical empty table; both rates and their ratio (goal
// ≥ 0.5), alternating for three rounds; plus re-sending all rows unchanged, live-sized writes, and the old system's
// one-statement-per-row autocommit baseline on a sample.
import CandleCore
import Collectors
import Foundation
import PostgresSink

@main
struct SinkBench {
    static func main() async {
        do {
            try await fileBenchmark()
            if let url = ProcessInfo.processInfo.environment["ORCA_BENCH_DATABASE_URL"] {
                try await postgresBenchmark(url: url)
            } else {
                print("\nPostgreSQL: skipped: set ORCA_BENCH_DATABASE_URL (or run scripts/sink-bench.sh)")
            }
        } catch {
            print("SinkBench failed: \(error)")
            exit(1)
        }
    }

    // MARK: Data

    /// 2023-11-14T22:13:20Z; bars start on the 5-minute grid at or before it.
    static let base = Date(timeIntervalSince1970: 1_700_000_000)

    /// `count` consecutive 5-minute NQ bars with varied prices and volumes.
    static func bars(_ count: Int, symbol: String = "NQZ5") -> [Candle] {
        let start = Timeframe.fiveMinutes.barStart(containing: base)
        return (0..<count).map { index in
            let price = 15_000 + Double(index % 4_000) * 0.25
            return Candle(
                symbol: symbol, instrument: .nq, timeframe: .fiveMinutes, start: start + Double(index) * 300,
                open: price, high: price + 3.5, low: price - 2.25, close: price + 1, upVolume: Int64(100 + index % 700),
                downVolume: Int64(90 + index % 500), upTicks: Int64(30 + index % 90), downTicks: Int64(25 + index % 80))
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func rate(_ count: Int, _ duration: Duration) -> String {
        let perSecond = Double(count) / seconds(duration)
        return perSecond >= 1_000_000
            ? String(format: "%.2fM/s", perSecond / 1_000_000) : String(format: "%.1fk/s", perSecond / 1_000)
    }

    static func measure(_ body: () async throws -> Void) async rethrows -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        try await body()
        return clock.now - start
    }

    // MARK: Files

    static func fileBenchmark() async throws {
        let count = 1_000_000
        let batch = 10_000
        let candles = bars(count)
        // Batches are ready before the clock starts, as a collector's would be.
        let batches = stride(from: 0, to: count, by: batch).map { Array(candles[$0..<min($0 + batch, count)]) }
        print("File sink (fdatasync per write of \(batch) candles), \(count) candles:")
        for format in [CandleFileFormat.csv, .jsonLines] {
            let directory = FileManager.default.temporaryDirectory.appending(
                path: "orca-sinkbench-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let sink = try FileCandleSink(configuration: .init(directory: directory, format: format))
            let write = try await measure {
                for batch in batches {
                    _ = try await sink.write(batch)
                }
            }
            let again = try await measure {
                for batch in batches {
                    _ = try await sink.write(batch)
                }
            }
            try await sink.close()
            let reader = CandleFileReader(directory: directory, format: format)
            var read: [Candle] = []
            let reading = try await measure { read = try reader.candles(of: Series(.nq, .fiveMinutes)) }
            precondition(read.count == count)
            let size =
                (try? FileManager.default.attributesOfItem(atPath: reader.fileURL(for: Series(.nq, .fiveMinutes)).path)[
                    .size] as? Int) ?? 0
            print(
                "  \(format): write \(rate(count, write)) (\(String(format: "%.2f", seconds(write))) s),"
                    + " re-send unchanged \(rate(count, again)), read back \(rate(count, reading)),"
                    + " \(size / count) bytes/candle")
        }
        do {
            let directory = FileManager.default.temporaryDirectory.appending(
                path: "orca-sinkbench-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let sink = try FileCandleSink(configuration: .init(directory: directory, syncEachWrite: false))
            let unsynced = try await measure {
                for batch in batches {
                    _ = try await sink.write(batch)
                }
                try await sink.flush()
            }
            try await sink.close()
            print("  csv without a sync per write (one fdatasync at the end): \(rate(count, unsynced))")
        }
        // Live-sized writes: 16 series × 1 bar, synced each time.
        let directory = FileManager.default.temporaryDirectory.appending(path: "orca-sinkbench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let sink = try FileCandleSink(configuration: .init(directory: directory))
        let live = try await measure {
            for index in 0..<500 {
                _ = try await sink.write(liveBatch(index))
            }
        }
        try await sink.close()
        print(
            "  live-sized writes (16 bars, 16 files, synced): \(String(format: "%.0f", 500 / seconds(live))) writes/s")
    }

    /// One bar for each of the 16 seed series.
    static func liveBatch(_ index: Int) -> [Candle] {
        Series.seedDefaults.map { series in
            let start = series.timeframe.barStart(containing: base) + Double(index * series.timeframe.seconds)
            let price = 5_000 + Double(index % 100) * 0.25
            let contract = series.instrument.root + "Z3"
            return Candle(
                symbol: contract, instrument: series.instrument, timeframe: series.timeframe, start: start, open: price,
                high: price + 1, low: price - 1, close: price, upVolume: 10, downVolume: 12)
        }
    }

    // MARK: PostgreSQL

    static func postgresBenchmark(url: String) async throws {
        let count = 200_000
        let candles = bars(count)
        let schema = "orca_bench_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8).lowercased()
        let db = try PostgresConnection(url: url)
        defer { _ = try? db.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE") }
        print("\nPostgreSQL (\(PostgresConnectionString.redact(url)), server \(db.serverVersion)), \(count) candles:")

        let sink = try PostgresCandleSink(
            configuration: .init(url: url, schema: schema, series: [Series(.nq, .fiveMinutes)]))
        try await sink.prepare()
        let table = "\(schema).nq_candles_5min"
        _ = try db.execute("CREATE TABLE \(schema).plain_copy (LIKE \(table) INCLUDING ALL)")
        let copyColumns =
            "symbol, candle_time, open, high, low, close, volume, up_volume, down_volume, up_ticks, down_ticks, is_final"

        var ratios: [Double] = []
        for round in 1...3 {
            _ = try db.execute("TRUNCATE \(table), \(schema).plain_copy")
            _ = try db.execute("VACUUM ANALYZE \(table)")
            _ = try db.execute("VACUUM ANALYZE \(schema).plain_copy")
            var report = CandleWriteReport()
            let viaSink = try await measure { report = try await sink.write(candles) }
            precondition(report.inserted == count, "\(report)")
            let plain = try await measure {
                let result = try db.copyIn(
                    "COPY \(schema).plain_copy (\(copyColumns)) FROM STDIN", chunks: CopyChunks(candles: candles))
                precondition(result.affectedRows == count)
            }
            let ratio = seconds(plain) / seconds(viaSink)
            ratios.append(ratio)
            print(
                "  round \(round): sink (COPY → temp → upsert, empty table) \(rate(count, viaSink)),"
                    + " plain COPY \(rate(count, plain)), ratio \(String(format: "%.2f", ratio))")
        }
        print("  ratio sink / plain COPY: median \(String(format: "%.2f", ratios.sorted()[1])) (goal ≥ 0.5)")

        var report = CandleWriteReport()
        let unchanged = try await measure { report = try await sink.write(candles) }
        precondition(report.unchanged == count)
        print("  re-send all \(count) unchanged through the sink: \(rate(count, unchanged))")

        let live = try await measure {
            for index in 0..<500 {
                _ = try await sink.write(
                    [bars(1, symbol: "NQH4")[0]].map { bar in
                        var bar = bar
                        bar.start += Double(index * 300)
                        return bar
                    })
            }
        }
        print(
            "  live-sized writes (1 bar, one transaction each, VALUES path): \(String(format: "%.0f", 500 / seconds(live))) writes/s"
        )

        let sample = 5_000
        _ = try db.execute("TRUNCATE \(table)")
        let perRow = try await measure {
            for candle in candles.prefix(sample) {
                _ = try db.execute(
                    """
                    INSERT INTO \(table) (symbol, candle_time, open, high, low, close, volume, up_volume, down_volume,
                        up_ticks, down_ticks)
                    VALUES ($1, $2::timestamptz, $3::numeric, $4::numeric, $5::numeric, $6::numeric, $7::int8, $8::int8,
                        $9::int8, $10::int4, $11::int4)
                    ON CONFLICT (symbol, candle_time) DO UPDATE SET open = excluded.open, high = excluded.high,
                        low = excluded.low, close = excluded.close, volume = excluded.volume, updated_at = now()
                    """,
                    parameters: [
                        candle.symbol, ISO8601DateFormatter().string(from: candle.start), "\(candle.open)",
                        "\(candle.high)", "\(candle.low)", "\(candle.close)", "\(candle.volume)", "\(candle.upVolume)",
                        "\(candle.downVolume)", "\(candle.upTicks)", "\(candle.downTicks)",
                    ])
            }
        }
        print(
            "  old system's way (one INSERT … ON CONFLICT per row, autocommit), \(sample) rows: \(rate(sample, perRow))"
        )
        await sink.close()
    }
}

/// The plain-COPY rows, formatted as fast as the sink formats its own (hand-written number and time text).
struct CopyChunks: Sequence {
    let candles: [Candle]

    func makeIterator() -> AnyIterator<[UInt8]> {
        var index = 0
        return AnyIterator {
            guard index < candles.count else { return nil }
            var chunk: [UInt8] = []
            chunk.reserveCapacity(256 * 1024 + 256)
            while index < candles.count && chunk.count < 256 * 1024 {
                Self.append(candles[index], to: &chunk)
                index += 1
            }
            return chunk
        }
    }

    static func append(_ candle: Candle, to out: inout [UInt8]) {
        let tab = UInt8(ascii: "\t")
        out.append(contentsOf: candle.symbol.utf8)
        out.append(tab)
        appendTime(Int64(candle.start.timeIntervalSince1970), to: &out)
        for price in [candle.open, candle.high, candle.low, candle.close] {
            out.append(tab)
            appendScaled(Int64((price * 10_000).rounded()), to: &out)
        }
        for count in [candle.volume, candle.upVolume, candle.downVolume, candle.upTicks, candle.downTicks] {
            out.append(tab)
            appendInt(count, to: &out)
        }
        out.append(tab)
        out.append(candle.isFinal ? UInt8(ascii: "t") : UInt8(ascii: "f"))
        out.append(UInt8(ascii: "\n"))
    }

    static func appendInt(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var digits: [UInt8] = []
        var rest = value.magnitude
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        out.append(contentsOf: digits.reversed())
    }

    static func appendScaled(_ scaled: Int64, to out: inout [UInt8]) {
        appendInt(scaled / 10_000, to: &out)
        let fraction = scaled.magnitude % 10_000
        if fraction != 0 {
            out.append(UInt8(ascii: "."))
            let text = String(fraction)
            out.append(contentsOf: Array(repeating: UInt8(ascii: "0"), count: 4 - text.count))
            out.append(contentsOf: text.utf8)
        }
    }

    static func appendTime(_ seconds: Int64, to out: inout [UInt8]) {
        let days = seconds / 86_400
        let second = Int(seconds % 86_400)
        let z = days + 719_468
        let era = z / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int) {
            out.append(UInt8(ascii: "0") + UInt8(value / 10))
            out.append(UInt8(ascii: "0") + UInt8(value % 10))
        }
        appendInt(year, to: &out)
        out.append(UInt8(ascii: "-"))
        two(Int(month))
        out.append(UInt8(ascii: "-"))
        two(Int(day))
        out.append(UInt8(ascii: " "))
        two(second / 3600)
        out.append(UInt8(ascii: ":"))
        two(second / 60 % 60)
        out.append(UInt8(ascii: ":"))
        two(second % 60)
        out.append(contentsOf: Array("+00".utf8))
    }
}
