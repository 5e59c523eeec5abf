import CandleCore
import CandleTesting
import CloseTracking
import Collectors
import Foundation
import Synchronization
import Testing

/// Collects the sink's output lines.
final class Lines: Sendable {
    private let storage = Mutex<[String]>([])
    /// The lines so far.
    var all: [String] { storage.withLock { $0 } }
    /// Appends a line (the sink's `output`).
    func append(_ line: String) { storage.withLock { $0.append(line) } }
}

@Suite(.timeLimit(.minutes(1)))
struct LatestCloseSinkTests {
    let series = Series(.nq, .fiveMinutes)
    let start = Date(timeIntervalSince1970: 1_795_000_200)  // 2026-11-18T11:10:00Z, a bar boundary

    func bar(_ index: Int, close: Double = 21_001, symbol: String = "NQZ6", isFinal: Bool = true) -> Candle {
        Candle.fixture(
            start: start.addingTimeInterval(Double(index) * 300), symbol: symbol, close: close, isFinal: isFinal)
    }

    @Test func upsertsOnTheKeyAndNeverDowngradesAFinalBar() async throws {
        let lines = Lines()
        let sink = LatestCloseSink(output: lines.append)

        #expect(try await sink.write([bar(0, close: 21_000, isFinal: false)]) == CandleWriteReport(inserted: 1))
        #expect(try await sink.write([bar(0, close: 21_000, isFinal: false)]) == CandleWriteReport(unchanged: 1))
        #expect(try await sink.write([bar(0, close: 21_002, isFinal: false)]) == CandleWriteReport(updated: 1))
        #expect(lines.all.isEmpty, "forming bars are stored but not reported")

        #expect(try await sink.write([bar(0, close: 21_003)]) == CandleWriteReport(updated: 1))
        // A late forming update does not undo the final bar.
        #expect(try await sink.write([bar(0, close: 21_009, isFinal: false)]) == CandleWriteReport(unchanged: 1))
        #expect(try await sink.candles(of: series).map(\.close) == [21_003])
        #expect(try await sink.candles(of: series).map(\.isFinal) == [true])
        // The same final bar again (a retried batch) changes nothing.
        #expect(try await sink.write([bar(0, close: 21_003)]) == CandleWriteReport(unchanged: 1))
        // A final bar may be revised by another final bar.
        #expect(try await sink.write([bar(0, close: 21_004)]) == CandleWriteReport(updated: 1))
        #expect(await sink.latestClose(of: series) == 21_004)
        #expect(lines.all.count == 2)
        #expect(lines.all.first == "NQ 5min NQZ6 2026-11-18T11:10:00Z close 21003.00 volume 200")
        #expect(lines.all.last == "NQ 5min NQZ6 2026-11-18T11:10:00Z close 21004.00 volume 200 (revised)")
    }

    @Test func duplicatesInABatchCollapseToOneBarPerKey() async throws {
        let sink = LatestCloseSink(output: { _ in })
        let report = try await sink.write([
            bar(0, close: 21_000, isFinal: false), bar(0, close: 21_001), bar(0, close: 21_005, isFinal: false),
            bar(1, close: 21_010),
        ])
        #expect(report == CandleWriteReport(inserted: 2))
        let stored = try await sink.candles(of: series)
        #expect(stored.map(\.close) == [21_001, 21_010])
        #expect(stored.allSatisfy { $0.isFinal })
    }

    @Test func aBadCandleRejectsTheWholeBatch() async throws {
        let sink = LatestCloseSink(output: { _ in })
        var broken = bar(1)
        broken.high = broken.low - 10
        await #expect {
            try await sink.write([bar(0), broken])
        } throws: { error in
            (error as? CandleSinkError)?.code == .invalidCandle
        }
        #expect(await sink.count == 0)
        #expect(await sink.latestClose(of: series) == nil)
    }

    @Test func answersQueriesPerSeriesAcrossContracts() async throws {
        let sink = LatestCloseSink(output: { _ in })
        _ = try await sink.write([
            bar(2, close: 21_020, symbol: "NQH7"), bar(2, close: 21_000, symbol: "NQZ6"), bar(0), bar(1),
            bar(3, isFinal: false),
            Candle.fixture(instrument: .es, start: start, close: 6_000),
        ])
        #expect(try await sink.latestCandleStart(of: series) == start.addingTimeInterval(900))
        #expect(try await sink.latestCandleStart(of: Series(.mnq, .fiveMinutes)) == nil)
        let range = start.addingTimeInterval(300)..<start.addingTimeInterval(900)  // bars 1 and 2, half-open
        #expect(try await sink.candleStarts(of: series, in: range) == [300, 600].map { start.addingTimeInterval($0) })
        let all = start..<start.addingTimeInterval(3_600)
        #expect(try await sink.candleStarts(of: series, in: all, finalOnly: true).count == 3)
        #expect(try await sink.candleStarts(of: series, in: all, finalOnly: false).count == 4)
        let ordered = try await sink.candles(of: series, in: range)
        #expect(ordered.map(\.symbol) == ["NQZ6", "NQH7", "NQZ6"])  // by start, then symbol
        #expect(try await sink.candles(of: Series(.es, .fiveMinutes)).map(\.close) == [6_000])
    }

    @Test func theLatestCloseFollowsTheNewestBarNotTheLastWrite() async throws {
        let sink = LatestCloseSink(output: { _ in })
        _ = try await sink.write([bar(5, close: 21_050)])
        _ = try await sink.write([bar(1, close: 21_010)])  // a heal filling an older hole
        #expect(await sink.latestClose(of: series) == 21_050)
        #expect(await sink.latestBar(of: series)?.start == start.addingTimeInterval(1_500))
    }

    @Test func refusesEverythingOnceClosed() async throws {
        let sink = LatestCloseSink(output: { _ in })
        _ = try await sink.write([bar(0)])
        await sink.close()
        await sink.close()  // harmless
        await #expect {
            try await sink.write([bar(1)])
        } throws: { error in
            (error as? CandleSinkError)?.code == .closed
        }
        await #expect(throws: CandleSinkError.self) { try await sink.latestCandleStart(of: series) }
        await #expect(throws: CandleSinkError.self) { try await sink.flush() }
    }
}
