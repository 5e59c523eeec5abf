import CandleCore
import CandleTesting
import Foundation
import Synchronization
import Testing

@testable import Collectors

@Suite("Backfill progress: rate, ETA, renderer, writer, summary table", .timeLimit(.minutes(10)))
struct BackfillProgressTests {
    static let t0 = Date(timeIntervalSince1970: 1_764_547_200)

    static func progress(
        finished: Int, total: Int = 200, bars: Int, rate: Double?, chunkRate: Double?, failed: Int = 0,
        isFinished: Bool = false, elapsed: TimeInterval = 30
    ) -> BackfillProgress {
        BackfillProgress(
            series: [
                .init(
                    series: Series(.nq, .oneMinute), chunksTotal: total, chunksFetched: finished - failed,
                    chunksFailed: failed, barsFetched: bars, barsStored: bars)
            ], elapsed: elapsed, barsPerSecond: rate, chunksPerSecond: chunkRate, isFinished: isFinished)
    }

    @Test("rates over a moving window and the ETA from the chunk rate")
    func rateAndETA() {
        var meter = BackfillRateMeter(window: .seconds(10))
        meter.record(at: Self.t0, bars: 0, chunks: 0)
        #expect(meter.barsPerSecond == nil, "one sample: no rate yet")
        meter.record(at: Self.t0 + 2, bars: 20_000, chunks: 4)
        #expect(meter.barsPerSecond == 10_000)
        #expect(meter.chunksPerSecond == 2)
        meter.record(at: Self.t0 + 10, bars: 60_000, chunks: 12)
        #expect(meter.barsPerSecond == 6_000)
        // 20 s in: samples before 10 s are dropped except the baseline at 10 s.
        meter.record(at: Self.t0 + 20, bars: 70_000, chunks: 14)
        #expect(meter.barsPerSecond == 1_000)
        #expect(meter.chunksPerSecond == 0.2)
        // Time going backwards is ignored.
        meter.record(at: Self.t0 + 5, bars: 0, chunks: 0)
        #expect(meter.barsPerSecond == 1_000)

        let progress = Self.progress(finished: 104, bars: 1_200_000, rate: 85_000, chunkRate: 2.5)
        #expect(progress.fractionDone == 0.52)
        #expect(progress.eta == 96 / 2.5)
        #expect(Self.progress(finished: 10, bars: 0, rate: nil, chunkRate: nil).eta == nil)
        #expect(Self.progress(finished: 10, bars: 0, rate: 0, chunkRate: 0).eta == nil)
        #expect(Self.progress(finished: 200, bars: 0, rate: nil, chunkRate: nil).eta == 0)
        #expect(BackfillProgress(series: [], elapsed: 0).fractionDone == 1)
    }

    @Test("number and duration formats")
    func formats() {
        #expect(BackfillProgressRenderer.count(999) == "999")
        #expect(BackfillProgressRenderer.count(1_234) == "1.2k")
        #expect(BackfillProgressRenderer.count(85_000) == "85k")
        #expect(BackfillProgressRenderer.count(1_200_000) == "1.2M")
        #expect(BackfillProgressRenderer.count(12_345_678) == "12M")
        #expect(BackfillProgressRenderer.duration(42) == "0:42")
        #expect(BackfillProgressRenderer.duration(41.2) == "0:42")
        #expect(BackfillProgressRenderer.duration(725) == "12:05")
        #expect(BackfillProgressRenderer.duration(3_723) == "1:02:03")
        #expect(BackfillProgressRenderer.duration(-5) == "0:00")
    }

    @Test("terminal: one refreshing line, width-aware, newline only when finished")
    func terminal() {
        let renderer = BackfillProgressRenderer(isTerminal: true, width: 80)
        let line = renderer.render(Self.progress(finished: 104, bars: 1_200_000, rate: 85_000, chunkRate: 2.4))
        let tail = "52% 104/200 chunks 1.2M bars 85k bars/s ETA 0:40"
        let barWidth = 79 - tail.count - 3
        let filled = Int(0.52 * Double(barWidth))
        let expected =
            "\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled) + "] "
            + tail
        #expect(line == expected)
        #expect(line.count == 80, "carriage return + 79 columns")
        let narrow = BackfillProgressRenderer(isTerminal: true, width: 40)
            .render(Self.progress(finished: 104, bars: 1_200_000, rate: 85_000, chunkRate: 2.4))
        #expect(narrow.count == 40)
        #expect(narrow.hasPrefix("\r52% 104/200 chunks"), "no room for the bar: text only, cut to the width")
        let wide = BackfillProgressRenderer(isTerminal: true, width: 200)
            .render(Self.progress(finished: 50, bars: 10, rate: nil, chunkRate: nil))
        #expect(
            wide.hasPrefix(
                "\r[##########" + String(repeating: ".", count: 30) + "] 25% 50/200 chunks 10 bars - bars/s ETA -"))
        #expect(wide.count == 200, "padded so a shorter line erases a longer one")
        let done = renderer.render(
            Self.progress(
                finished: 200, bars: 5_000_000, rate: 90_000, chunkRate: 3, failed: 2, isFinished: true,
                elapsed: 65))
        #expect(done.hasSuffix("\n"))
        #expect(done.contains("100% 200/200 chunks 5.0M bars 90k bars/s in 1:05 2 failed"))
    }

    @Test("not a terminal: plain lines")
    func plain() {
        let renderer = BackfillProgressRenderer(isTerminal: false)
        #expect(
            renderer.render(Self.progress(finished: 104, bars: 1_200_000, rate: 85_000, chunkRate: 2.4, failed: 1))
                == "backfill 52% 104/200 chunks, 1.2M bars, 85k bars/s, ETA 0:40, 1 failed\n")
        #expect(
            renderer.render(Self.progress(finished: 0, bars: 0, rate: nil, chunkRate: nil))
                == "backfill 0% 0/200 chunks, 0 bars, - bars/s, ETA -\n")
    }

    @Test("the writer throttles: every 5 s when plain, first and final always")
    func writerThrottles() {
        let clock = ManualWallClock(now: Self.t0)
        let lines = WrittenLines()
        let writer = BackfillProgressWriter(
            isTerminal: false, width: 80, clock: clock, output: { text in lines.state.withLock { $0.append(text) } })
        writer.update(Self.progress(finished: 1, bars: 10, rate: nil, chunkRate: nil))
        clock.advance(by: 2)
        writer.update(Self.progress(finished: 2, bars: 20, rate: nil, chunkRate: nil))
        clock.advance(by: 3)
        writer.update(Self.progress(finished: 3, bars: 30, rate: nil, chunkRate: nil))
        clock.advance(by: 1)
        writer.update(Self.progress(finished: 200, bars: 40, rate: nil, chunkRate: nil, isFinished: true))
        writer.write("table\n")
        let written = lines.state.withLock { $0 }
        #expect(written.count == 4)
        #expect(written[0].contains("1/200"))
        #expect(written[1].contains("3/200"))
        #expect(written[2].contains("200/200"))
        #expect(written[3] == "table\n")
    }

    @Test("the summary table lists every series, a total and the failures")
    func summaryTable() {
        let chunk = BackfillChunk(
            chart: ChartKey(symbol: "ESZ5", instrument: .es, timeframe: .fiveMinutes),
            range: Self.t0..<(Self.t0 + 86_400))
        let summary = BackfillSummary(
            series: [
                .init(
                    series: Series(.nq, .fiveMinutes), chunks: 5, chunksFetched: 4, chunksSkipped: 1, emptyChunks: 1,
                    barsFetched: 1_100, written: .init(inserted: 1_000, updated: 0, unchanged: 100), elapsed: 3),
                .init(
                    series: Series(.es, .fiveMinutes), chunks: 5, chunksFetched: 4, barsFetched: 900,
                    written: .init(inserted: 900),
                    failures: [.init(chunk: chunk, attempts: 6, error: "ESZ5 5min: no answer [timeout]")],
                    elapsed: 4),
            ], elapsed: 4.5)
        let table = summary.table()
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("series   chunks  fetched  skipped  empty  failed  bars  inserted"))
        #expect(lines[1].hasPrefix("NQ 5min"))
        #expect(lines[1].hasSuffix("-"))
        #expect(lines[2].hasSuffix("ESZ5 5min: no answer [timeout]"))
        #expect(lines[3].hasPrefix("total"))
        #expect(lines[3].contains("2000"))
        #expect(lines[4] == "failed chunks (1):")
        #expect(lines[5].contains("after 6 attempts"))
        #expect(!summary.isComplete)
        #expect(summary.written.inserted == 1_900)
    }
}

/// What a progress writer wrote.
private final class WrittenLines: Sendable {
    let state = Mutex<[String]>([])
}
