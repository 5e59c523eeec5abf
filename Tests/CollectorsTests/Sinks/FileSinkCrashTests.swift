import CandleCore
import Foundation
import OrcaTestSupport
import Synchronization
import Testing

@testable import Collectors

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Kills a writer process (`orca-test-file-writer`, Tests/Support/FileWriterProcess) with SIGKILL at random moments
/// while it writes through the file sink, then checks that the files read back cleanly with every acknowledged bar.
@Suite("File sink survives kill -9")
struct FileSinkCrashTests {
    /// The writer executable, built next to the test bundle (`.build/<triple>/debug`).
    static func writerExecutable() throws -> URL {
        let name = "orca-test-file-writer"
        var candidates = [
            URL(filePath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: name),
            Bundle.main.bundleURL.appending(path: name),
            Bundle.main.bundleURL.deletingLastPathComponent().appending(path: name),
        ]
        // Tests/CollectorsTests/Sinks/<this file> → package root → .build/debug.
        let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appending(path: ".build/debug/\(name)"))
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw WriterMissing(searched: candidates.map(\.path))
        }
        return found
    }

    struct WriterMissing: Error, CustomStringConvertible {
        let searched: [String]
        var description: String {
            "orca-test-file-writer not found (run `swift build --build-tests`); looked in \(searched)"
        }
    }

    /// What the writer printed: the batches it began and the last one it acknowledged.
    final class WriterOutput: Sendable {
        private let state = Mutex<(begun: [[Candle]], acknowledged: Int, acks: Int, buffer: [UInt8])>(([], -1, 0, []))

        func consume(_ bytes: Data) {
            state.withLock { state in
                state.buffer += bytes
                while let newline = state.buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: state.buffer[..<newline], as: UTF8.self)
                    state.buffer.removeFirst(newline + 1)
                    if line.hasPrefix("BEGIN "),
                        let batch = try? JSONDecoder().decode([Candle].self, from: Data(line.dropFirst(6).utf8))
                    {
                        state.begun.append(batch)
                    } else if line.hasPrefix("ACK "), let number = Int(line.dropFirst(4)) {
                        state.acknowledged = number
                        state.acks += 1
                    }
                }
            }
        }

        var acknowledgedCount: Int { state.withLock { $0.acks } }
        var snapshot: (begun: [[Candle]], acknowledged: Int) { state.withLock { ($0.begun, $0.acknowledged) } }
    }

    @Test("kill -9 at random moments: every acknowledged bar reads back, no torn line survives reopening")
    func killNine() async throws {
        try await crashRounds(format: .csv, rounds: 4)
    }

    @Test("kill -9 with JSON Lines")
    func killNineJSONLines() async throws {
        try await crashRounds(format: .jsonLines, rounds: 2)
    }

    private func crashRounds(format: CandleFileFormat, rounds: Int) async throws {
        let executable = try Self.writerExecutable()
        let directory = try makeTemporaryDirectory("crash")
        defer { try? FileManager.default.removeItem(at: directory) }
        // The state every acknowledged batch leads to, applied with the sink's own rule, and in-flight versions.
        var expected: [Series: [BarKey: Candle]] = [:]
        var nextBatch = 0
        var generator = SystemRandomNumberGenerator()
        for round in 0..<rounds {
            let output = WriterOutput()
            let writer = try ChildProcess(
                executable.path(percentEncoded: false),
                [directory.path(percentEncoded: false), String(nextBatch), format == .csv ? "csv" : "jsonl"],
                captureOutput: true)
            writer.readOutput { output.consume($0) }
            // Let it acknowledge a few batches, then kill it at a random moment.
            let deadline = ContinuousClock.now + .seconds(20)
            while output.acknowledgedCount < 3 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 5...150, using: &generator)))
            writer.kill(SIGKILL)
            #expect(await writer.exitStatus() == 128 + SIGKILL, "round \(round): the writer should die by SIGKILL")
            // The output pipe closes with the process; let the reader thread deliver the last lines.
            try await Task.sleep(for: .milliseconds(50))

            let (begun, acknowledged) = output.snapshot
            let acknowledgedBatches = acknowledged - nextBatch + 1
            try #require(acknowledgedBatches >= 1, "round \(round): the writer acknowledged nothing")
            for batch in begun.prefix(acknowledgedBatches) {
                for candle in batch {
                    let key = BarKey(candle)
                    let stored = expected[candle.series]?[key]
                    let merged = stored.map { UpsertRule.merge(earlier: $0, later: candle) } ?? candle
                    expected[candle.series, default: [:]][key] = merged
                }
            }
            let inFlight = begun.count > acknowledgedBatches ? begun[acknowledgedBatches] : []

            // 1. A reader (no recovery) sees every acknowledged bar, at its acknowledged or in-flight version.
            let reader = CandleFileReader(directory: directory, format: format)
            let allSeries = [Bars.nq5, Bars.es15, Series(.mnq, .fiveMinutes)]
            for series in allSeries {
                let read = try reader.candles(of: series)
                try check(read, against: expected[series] ?? [:], inFlight: inFlight, round: round, series: series)
            }
            // 2. The sink opens the files (cutting any torn tail) and agrees.
            let sink = try FileCandleSink(configuration: .init(directory: directory, format: format))
            for series in allSeries {
                let stored = try await sink.candles(of: series)
                try check(stored, against: expected[series] ?? [:], inFlight: inFlight, round: round, series: series)
                // Adopt the versions that made it, so the next round's expectations start from the disk.
                for candle in stored {
                    expected[series, default: [:]][BarKey(candle)] = candle
                }
            }
            try await sink.close()
            // After recovery every file ends with a complete line.
            for series in allSeries {
                let bytes = try Data(contentsOf: reader.fileURL(for: series))
                #expect(bytes.last == UInt8(ascii: "\n"), "round \(round): \(series) file ends mid-line")
            }
            nextBatch = acknowledged + 1
        }
    }

    private func check(
        _ read: [Candle], against expected: [BarKey: Candle], inFlight: [Candle], round: Int, series: Series
    ) throws {
        let byKey = Dictionary(read.map { (BarKey($0), $0) }, uniquingKeysWith: { _, last in last })
        #expect(byKey.count == read.count, "round \(round): \(series) has a key twice after reading back")
        for (key, candle) in expected {
            guard let stored = byKey[key] else {
                Issue.record("round \(round): acknowledged bar \(candle.key) of \(series) is missing")
                continue
            }
            let allowed =
                [candle] + inFlight.filter { BarKey($0) == key }.map { UpsertRule.merge(earlier: candle, later: $0) }
            #expect(allowed.contains(stored), "round \(round): \(candle.key) read back as \(stored)")
        }
        // Nothing appears that was never written.
        let written = Set(expected.keys).union(inFlight.filter { $0.series == series }.map { BarKey($0) })
        #expect(Set(byKey.keys).isSubset(of: written), "round \(round): \(series) holds bars nobody wrote")
    }
}
