import CandleCore
import Foundation
import Testing

@testable import Collectors

@Suite("File sink: layout, torn tails, compaction, lock")
struct FileSinkTests {
    let directory: URL

    init() throws {
        directory = try makeTemporaryDirectory("file-sink")
    }

    private func path(_ series: Series = Bars.nq5, _ format: CandleFileFormat = .csv) -> String {
        CandleFileReader(directory: directory, format: format).fileURL(for: series).path(percentEncoded: false)
    }

    private func text(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    private func append(_ text: String, to path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        try handle.close()
    }

    @Test("CSV layout: <dir>/<ROOT>/<label>.csv with a header, UTC ISO-8601 times, one line per written bar")
    func csvLayout() async throws {
        let sink = try FileCandleSink(configuration: .init(directory: directory))
        _ = try await sink.write([Bars.nq(0, bidVolume: 40), Bars.nq(1, final: false), Bars.es(0)])
        try await sink.close()
        #expect(path().hasSuffix("/NQ/5min.csv"))
        #expect(path(Bars.es15).hasSuffix("/ES/15min.csv"))
        #expect(
            try text(path()) == """
                symbol,start,open,high,low,close,volume,up_volume,down_volume,up_ticks,down_ticks,bid_volume,offer_volume,is_final
                NQZ5,2025-11-03T15:00:00Z,21000.25,21002.75,20998,21000.5,200,120,80,31,27,40,41,true
                NQZ5,2025-11-03T15:05:00Z,21000.25,21002.75,20998,21000.5,200,120,80,31,27,,,false

                """)
    }

    @Test("JSON Lines layout: <dir>/<ROOT>/<label>.jsonl, one object per line, null when absent")
    func jsonLinesLayout() async throws {
        let sink = try FileCandleSink(configuration: .init(directory: directory, format: .jsonLines))
        _ = try await sink.write([Bars.nq(0)])
        try await sink.close()
        #expect(path(Bars.nq5, .jsonLines).hasSuffix("/NQ/5min.jsonl"))
        #expect(
            try text(path(Bars.nq5, .jsonLines))
                == #"{"symbol":"NQZ5","start":"2025-11-03T15:00:00Z","open":21000.25,"high":21002.75,"low":20998,"#
                + #""close":21000.5,"volume":200,"up_volume":120,"down_volume":80,"up_ticks":31,"down_ticks":27,"#
                + #""bid_volume":null,"offer_volume":null,"is_final":true}"# + "\n")
        #expect(try CandleFileReader(directory: directory, format: .jsonLines).candles(of: Bars.nq5) == [Bars.nq(0)])
    }

    @Test("prices that need more than four decimals round-trip exactly")
    func exactPrices() async throws {
        let fx = try Instrument(root: "E6", tickSize: 0.00005, pointValue: 125_000, contractMonths: .quarterly)
        let bar = Candle(
            symbol: "E6Z5", instrument: fx, timeframe: .fiveMinutes, start: Bars.base, open: 1.08765, high: 1.0879,
            low: 1.0876, close: 1.08775)
        for format in [CandleFileFormat.csv, .jsonLines] {
            let sink = try FileCandleSink(configuration: .init(directory: directory, format: format))
            _ = try await sink.write([bar])
            try await sink.close()
            let read = try CandleFileReader(directory: directory, format: format).candles(of: bar.series)
            #expect(read == [bar])
        }
    }

    @Test("a rewrite appends a line; readers keep the last line per key; unchanged bars append nothing")
    func rewritesAppend() async throws {
        let sink = try FileCandleSink(configuration: .init(directory: directory))
        _ = try await sink.write([Bars.nq(0, final: false), Bars.nq(1)])
        _ = try await sink.write([Bars.nq(0, close: 21_001, final: true)])
        let size = try FileManager.default.attributesOfItem(atPath: path())[.size] as? Int
        #expect(try await sink.write([Bars.nq(0, close: 21_001), Bars.nq(1)]) == CandleWriteReport(unchanged: 2))
        #expect(try FileManager.default.attributesOfItem(atPath: path())[.size] as? Int == size)
        try await sink.close()
        #expect(try text(path()).split(separator: "\n").count == 4)  // header + 3 lines
        let reader = CandleFileReader(directory: directory)
        #expect(try reader.candles(of: Bars.nq5) == [Bars.nq(0, close: 21_001), Bars.nq(1)])
        #expect(
            try reader.candles(of: Bars.nq5, in: Bars.start(1, .fiveMinutes)..<Bars.everything.upperBound) == [
                Bars.nq(1)
            ])
        #expect(try reader.candles(of: Series(.mes, .oneHour)).isEmpty)
    }

    @Test("a torn last line is ignored by readers and cut by the sink on open")
    func tornTail() async throws {
        let sink = try FileCandleSink(configuration: .init(directory: directory))
        _ = try await sink.write([Bars.nq(0), Bars.nq(1)])
        try await sink.close()
        let intact = try text(path())
        try append("NQZ5,2025-11-03T15:10:00Z,21000.25,2100", to: path())
        #expect(try CandleFileReader(directory: directory).candles(of: Bars.nq5) == [Bars.nq(0), Bars.nq(1)])
        #expect(try text(path()) == intact + "NQZ5,2025-11-03T15:10:00Z,21000.25,2100")  // readers change nothing

        let reopened = try FileCandleSink(configuration: .init(directory: directory))
        #expect(try await reopened.candles(of: Bars.nq5) == [Bars.nq(0), Bars.nq(1)])
        #expect(try text(path()) == intact)
        _ = try await reopened.write([Bars.nq(2)])
        try await reopened.close()
        #expect(try CandleFileReader(directory: directory).candles(of: Bars.nq5) == [0, 1, 2].map { Bars.nq($0) })
    }

    @Test("garbage after the last good line (power loss) is cut; a torn header is rewritten")
    func garbageTail() async throws {
        let sink = try FileCandleSink(configuration: .init(directory: directory))
        _ = try await sink.write([Bars.nq(0)])
        try await sink.close()
        let intact = try text(path())
        try append("\0\0\0\0\nNQZ5,not-a-time,1\n\0\0", to: path())
        // The ES file was torn while its header was being written.
        try FileManager.default.createDirectory(
            atPath: (path(Bars.es15) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data("symbol,sta".utf8).write(to: URL(filePath: path(Bars.es15)))

        let reopened = try FileCandleSink(configuration: .init(directory: directory))
        #expect(try await reopened.candles(of: Bars.nq5) == [Bars.nq(0)])
        #expect(try text(path()) == intact)
        #expect(try await reopened.write([Bars.es(0)]) == CandleWriteReport(inserted: 1))
        try await reopened.close()
        #expect(try CandleFileReader(directory: directory).candles(of: Bars.es15) == [Bars.es(0)])
    }

    @Test("a malformed line followed by good ones is corruption, reported with the file and line")
    func corruptMiddle() async throws {
        let sink = try FileCandleSink(configuration: .init(directory: directory))
        _ = try await sink.write([Bars.nq(0)])
        try await sink.close()
        let lines = try text(path()).split(separator: "\n", omittingEmptySubsequences: false)
        try (lines[0...1] + ["NQZ5,garbage"] + lines[1...]).joined(separator: "\n").write(
            toFile: path(), atomically: true, encoding: .utf8)

        #expect {
            try CandleFileReader(directory: directory).candles(of: Bars.nq5)
        } throws: { error in
            isSinkError(error, .corruptData) && "\(error)".contains("5min.csv line 3")
        }
        let reopened = try FileCandleSink(configuration: .init(directory: directory))
        await #expect { _ = try await reopened.write([Bars.nq(1)]) } throws: { isSinkError($0, .corruptData) }
        try await reopened.close()
    }

    @Test("a foreign CSV header is refused")
    func foreignHeader() async throws {
        try FileManager.default.createDirectory(
            atPath: (path() as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try "time,price\n1,2\n".write(toFile: path(), atomically: true, encoding: .utf8)
        let sink = try FileCandleSink(configuration: .init(directory: directory))
        await #expect { _ = try await sink.latestCandleStart(of: Bars.nq5) } throws: { isSinkError($0, .corruptData) }
        try await sink.close()
    }

    @Test("compaction rewrites a mostly superseded file with one sorted line per key")
    func compaction() async throws {
        let sink = try FileCandleSink(
            configuration: .init(directory: directory, compactionMinimumSuperseded: 10, compactionRatio: 0.5))
        _ = try await sink.write((0..<10).reversed().map { Bars.nq($0, final: false) })
        _ = try await sink.write((0..<9).map { Bars.nq($0, final: true) })
        #expect(try text(path()).split(separator: "\n").count == 1 + 19)  // 9 superseded < 10: not yet
        _ = try await sink.write([Bars.nq(9, final: true)])
        let compacted = try text(path()).split(separator: "\n")
        #expect(compacted.count == 1 + 10)
        #expect(
            compacted.dropFirst().map { String($0.prefix(25)) }
                == (0..<10).map {
                    "NQZ5,"
                        + CandleText.time(Int64(Bars.start($0, .fiveMinutes).timeIntervalSince1970), style: .iso8601)
                })
        #expect(!FileManager.default.fileExists(atPath: path() + ".compacting"))
        _ = try await sink.write([Bars.nq(10)])
        try await sink.close()
        #expect(try CandleFileReader(directory: directory).candles(of: Bars.nq5) == (0...10).map { Bars.nq($0) })
    }

    @Test("a leftover .compacting file from a crash is removed on open; the original stays authoritative")
    func leftoverCompaction() async throws {
        let sink = try FileCandleSink(configuration: .init(directory: directory))
        _ = try await sink.write([Bars.nq(0)])
        try await sink.close()
        try "half a compaction".write(toFile: path() + ".compacting", atomically: false, encoding: .utf8)
        let reopened = try FileCandleSink(configuration: .init(directory: directory))
        #expect(try await reopened.candles(of: Bars.nq5) == [Bars.nq(0)])
        #expect(!FileManager.default.fileExists(atPath: path() + ".compacting"))
        try await reopened.close()
    }

    @Test("one writer per directory: a second sink is refused until the first closes")
    func directoryLock() async throws {
        let first = try FileCandleSink(configuration: .init(directory: directory))
        #expect {
            _ = try FileCandleSink(configuration: .init(directory: directory))
        } throws: { error in
            isSinkError(error, .unavailable) && "\(error)".contains(".orca-sink.lock")
        }
        try await first.close()
        let second = try FileCandleSink(configuration: .init(directory: directory))
        try await second.close()
    }

    @Test("without a sync per write, flush and close make the bars durable")
    func deferredSync() async throws {
        let sink = try FileCandleSink(configuration: .init(directory: directory, syncEachWrite: false))
        _ = try await sink.write([Bars.nq(0)])
        try await sink.flush()
        _ = try await sink.write([Bars.nq(1)])
        try await sink.close()
        #expect(try CandleFileReader(directory: directory).candles(of: Bars.nq5) == [Bars.nq(0), Bars.nq(1)])
    }

    @Test("an unusable directory is a configuration error")
    func badDirectory() throws {
        #expect {
            _ = try FileCandleSink(configuration: .init(directory: URL(filePath: "/proc/orca-cannot-exist")))
        } throws: { isSinkError($0, .invalidConfiguration) }
    }
}
