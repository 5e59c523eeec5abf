// orca-test-file-writer: writes candles through FileCandleSink in a loop until it is killed, for the kill -9
// crash-safety test (Tests/CollectorsTests/Sinks/FileSinkCrashTests.swift).
//
//   orca-test-file-writer DIRECTORY FIRST_BATCH [csv|jsonl] [MAX_BATCHES]
//
// For each batch it prints `BEGIN <json candles>` before writing and `ACK <batch number>` once `write` returned
// (that is, after fdatasync), one line each, flushed at once; the test kills the process at a random moment and
// checks that every acknowledged bar reads back. Batches mix new forming bars, forming → final rewrites and late
// revisions, and compaction is set to run often, so a kill can land in any of those paths.
import CandleCore
import Collectors
import Foundation

@main
struct FileWriterProcess {
    static func main() async {
        let arguments = CommandLine.arguments
        guard arguments.count >= 3, let first = Int(arguments[2]) else {
            FileHandle.standardError.write(
                Data("usage: orca-test-file-writer DIRECTORY FIRST_BATCH [csv|jsonl] [MAX]\n".utf8))
            exit(2)
        }
        let format: CandleFileFormat = arguments.count > 3 && arguments[3] == "jsonl" ? .jsonLines : .csv
        let maximum = arguments.count > 4 ? Int(arguments[4]) ?? Int.max : Int.max
        do {
            let sink = try FileCandleSink(
                configuration: .init(
                    directory: URL(filePath: arguments[1]), format: format, compactionMinimumSuperseded: 40,
                    compactionRatio: 0.3))
            let encoder = JSONEncoder()
            var batch = first
            while batch - first < maximum {
                let candles = Self.batch(batch)
                emit("BEGIN " + String(decoding: try encoder.encode(candles), as: UTF8.self))
                _ = try await sink.write(candles)
                emit("ACK \(batch)")
                batch += 1
            }
            try await sink.close()
        } catch {
            FileHandle.standardError.write(Data("orca-test-file-writer: \(error)\n".utf8))
            exit(1)
        }
    }

    /// Batch `number`: 6 new forming NQ 5-minute bars, the final versions of the previous batch's bars, a late
    /// revision of a bar from five batches back, one final ES 15-minute bar and, every fourth batch, 300 MNQ bars.
    static func batch(_ number: Int) -> [Candle] {
        let base = Date(timeIntervalSince1970: 1_762_000_200)  // 2025-11-01T12:30:00Z, on the 5- and 15-minute grid
        func nq(_ index: Int, final: Bool, revision: Int) -> Candle {
            let price = 21_000 + Double(index % 400) * 0.25
            return Candle(
                symbol: "NQZ5", instrument: .nq, timeframe: .fiveMinutes, start: base + Double(index) * 300,
                open: price, high: price + 2, low: price - 1.5, close: price + (final ? 0.5 : 0.25),
                upVolume: Int64(100 + index), downVolume: Int64(50 + revision), upTicks: Int64(index % 97),
                downTicks: Int64(revision), isFinal: final)
        }
        var candles: [Candle] = []
        for k in 0..<6 {
            candles.append(nq(number * 6 + k, final: false, revision: 0))
        }
        if number > 0 {
            for k in 0..<6 {
                candles.append(nq((number - 1) * 6 + k, final: true, revision: 1))
            }
        }
        if number >= 5 {
            candles.append(nq((number - 5) * 6, final: true, revision: number))
        }
        // Every fourth batch carries a backfill chunk of 300 MNQ bars: a write of about 30 kB, which SIGKILL can cut
        // between pages (a torn tail for the sink to recover).
        if number % 4 == 0 {
            for k in 0..<300 {
                let index = number / 4 * 300 + k
                let price = 21_000 + Double(index % 300) * 0.25
                candles.append(
                    Candle(
                        symbol: "MNQZ5", instrument: .mnq, timeframe: .fiveMinutes, start: base + Double(index) * 300,
                        open: price, high: price + 1, low: price - 1, close: price, upVolume: 3, downVolume: 4))
            }
        }
        let es = 6_000 + Double(number % 200) * 0.25
        candles.append(
            Candle(
                symbol: "ESZ5", instrument: .es, timeframe: .fifteenMinutes, start: base + Double(number) * 900,
                open: es, high: es + 1, low: es - 1, close: es, upVolume: 10, downVolume: Int64(number % 7)))
        return candles
    }

    static func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
