import CandleCore
import CandleTesting
import Foundation
import Testing
import TradovateSimulator

@testable import Collectors

@Suite("Backfill checkpoints: resume after cancellation, mismatch, extension, lock", .timeLimit(.minutes(10)))
struct BackfillCheckpointTests {
    static let range = BackfillFixture.date("2025-12-01T00:00:00Z")..<BackfillFixture.date("2025-12-29T00:00:00Z")
    static let nq5 = Series(.nq, .fiveMinutes)
    static let es5 = Series(.es, .fiveMinutes)

    static func configuration(
        _ series: [Series] = [nq5, es5], to: Date = range.upperBound, file: URL, concurrency: Int = 2,
        policy: Backfill.CheckpointMismatchPolicy = .refuse
    ) -> Backfill.Configuration {
        .init(
            series: series, from: range.lowerBound, to: to, chunkSize: .days(3), maxConcurrentRequests: concurrency,
            checkpointFile: file, checkpointMismatch: policy)
    }

    @Test("a cancelled backfill resumes: the rerun fetches only the chunks not recorded, no holes, no duplicates")
    func resumeAfterCancellation() async throws {
        let file = BackfillFixture.temporaryFile("checkpoint.json")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let sink = MemoryCandleSink()
        let clock = ManualWallClock(now: BackfillFixture.asOf)
        let source = BlockingSource(blockAfter: 7)
        let first = Backfill(configuration: Self.configuration(file: file), source: source, sink: sink, clock: clock)
        let run = Task { try await first.run() }
        #expect(await BackfillFixture.eventually { await source.parked >= 1 })
        // Let the other worker reach its parking spot too (or finish), then cancel mid-way.
        _ = await BackfillFixture.eventually(2) { await source.parked >= 2 }
        run.cancel()
        await #expect(throws: CancellationError.self) { try await run.value }
        let partial = await first.summary
        #expect(partial.wasCancelled)
        let total = partial.series.reduce(0) { $0 + $1.chunks }
        let done = partial.series.reduce(0) { $0 + $1.chunksFetched }
        #expect(done >= 5 && done <= 7, "\(done) chunks stored before the cancellation")
        #expect(done < total)
        // The checkpoint records exactly the stored chunks.
        let record = try JSONDecoder().decode(BackfillCheckpointRecord.self, from: Data(contentsOf: file))
        let recordedChunks = record.series.reduce(0) { count, entry in
            let series = Series(Instrument.builtIn(root: entry.root)!, try! Timeframe(minutes: entry.minutes))
            let completed = SecondsRangeSet(entry.completed)
            return count
                + Backfill.chunks(of: .init(series: series, ranges: [Self.range]), chunkSize: .days(3))
                .filter { completed.covers($0.seconds) }.count
        }
        #expect(recordedChunks == done)

        let rerunSource = BackfillFixture.source()
        let second = try await Backfill(
            configuration: Self.configuration(file: file), source: rerunSource, sink: sink, clock: clock
        ).run()
        #expect(second.isComplete)
        #expect(second.resumedFromCheckpoint)
        #expect(await rerunSource.historyRequests.count == total - done)
        #expect(second.series.reduce(0) { $0 + $1.chunksSkipped } == done)
        for series in [Self.nq5, Self.es5] {
            let expected = BackfillFixture.expected(series, Self.range)
            #expect(try await sink.candleStarts(of: series, in: Self.range, finalOnly: true) == expected)
            #expect(try await sink.candles(of: series, in: Self.range).count == expected.count)
        }
        // A third run has nothing left to do.
        let idleSource = BackfillFixture.source()
        let third = try await Backfill(
            configuration: Self.configuration(file: file), source: idleSource, sink: sink, clock: clock
        ).run()
        #expect(third.isComplete)
        #expect(await idleSource.historyRequests.isEmpty)
    }

    @Test("a checkpoint of other series or another start is refused; a later end extends it; .extend accepts")
    func mismatch() async throws {
        let file = BackfillFixture.temporaryFile("checkpoint.json")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let sink = MemoryCandleSink()
        let clock = ManualWallClock(now: BackfillFixture.asOf)
        let shortEnd = BackfillFixture.date("2025-12-15T00:00:00Z")
        try await Backfill(
            configuration: Self.configuration([Self.nq5], to: shortEnd, file: file),
            source: BackfillFixture.source(), sink: sink, clock: clock
        ).run()
        let before = try Data(contentsOf: file)

        await #expect {
            try await Backfill(
                configuration: Self.configuration([Self.es5], to: shortEnd, file: file),
                source: BackfillFixture.source(), sink: sink, clock: clock
            ).run()
        } throws: { error in
            guard let error = error as? BackfillError, error.code == .checkpointMismatch else { return false }
            return error.message.contains(file.path) && error.message.contains("ES 5min")
                && error.message.contains("delete the file")
        }
        var laterStart = Self.configuration([Self.nq5], to: shortEnd, file: file)
        laterStart.targets[0].ranges = [BackfillFixture.date("2025-12-02T00:00:00Z")..<shortEnd]
        await #expect {
            try await Backfill(configuration: laterStart, source: BackfillFixture.source(), sink: sink, clock: clock)
                .run()
        } throws: { ($0 as? BackfillError)?.code == .checkpointMismatch }
        #expect(try Data(contentsOf: file) == before, "a refused checkpoint is left as it was")

        // A later end (`--to now` on a later day): only the new chunks are fetched.
        let source = BackfillFixture.source()
        let extended = try await Backfill(
            configuration: Self.configuration([Self.nq5], file: file), source: source, sink: sink, clock: clock
        ).run()
        #expect(extended.isComplete)
        let newChunks = Backfill.chunks(
            of: .init(series: Self.nq5, ranges: [Self.range]), chunkSize: .days(3)
        ).filter { $0.range.upperBound > shortEnd }
        #expect(await source.historyRequests.count == newChunks.count)
        #expect(
            try await sink.candleStarts(of: Self.nq5, in: Self.range, finalOnly: true)
                == BackfillFixture.expected(Self.nq5, Self.range))

        // `.extend` accepts other series and keeps what is complete.
        let extendSource = BackfillFixture.source()
        let both = try await Backfill(
            configuration: Self.configuration(file: file, policy: .extend), source: extendSource, sink: sink,
            clock: clock
        ).run()
        #expect(both.isComplete)
        #expect(both.series.first { $0.series == Self.nq5 }?.chunksFetched == 0)
        #expect(await extendSource.historyRequests.allSatisfy { $0.chart.instrument == .es })
    }

    @Test("chunks that reach into the present are not recorded, so a rerun fetches them again")
    func formingChunksNotRecorded() async throws {
        let file = BackfillFixture.temporaryFile("checkpoint.json")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        // "Now" is Wednesday 2025-12-17 15:02:30 UTC: the market is open and the 15:00 bar is forming.
        let now = BackfillFixture.date("2025-12-17T15:02:30Z")
        let clock = ManualWallClock(now: now)
        let sink = MemoryCandleSink()
        let configuration = Backfill.Configuration(
            series: [Self.nq5], from: Self.range.lowerBound, to: now, chunkSize: .days(3), checkpointFile: file)
        let first = try await Backfill(
            configuration: configuration, source: BackfillFixture.source(asOf: now), sink: sink, clock: clock
        ).run()
        #expect(first.series[0].barsForming == 1)
        let stored = try await sink.candleStarts(of: Self.nq5, in: Self.range, finalOnly: false)
        #expect(stored.last == BackfillFixture.date("2025-12-17T14:55:00Z"), "the forming bar is not written")
        let rerun = BackfillFixture.source(asOf: now)
        try await Backfill(configuration: configuration, source: rerun, sink: sink, clock: clock).run()
        #expect(await rerun.historyRequests.count == 1)
        #expect(await rerun.historyRequests.first?.range.upperBound == now)
    }

    @Test("two backfills cannot share a checkpoint file at once; an unreadable file is refused")
    func lockAndUnreadable() async throws {
        let file = BackfillFixture.temporaryFile("checkpoint.json")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let configuration = Self.configuration(file: file)
        let store = try await BackfillCheckpointStore.open(file, configuration: configuration)
        await #expect {
            try await Backfill(configuration: configuration, source: BackfillFixture.source(), sink: MemoryCandleSink())
                .run()
        } throws: { ($0 as? BackfillError)?.code == .checkpointLocked }
        await store.close()
        try Data("not json".utf8).write(to: file)
        await #expect {
            try await Backfill(configuration: configuration, source: BackfillFixture.source(), sink: MemoryCandleSink())
                .run()
        } throws: { ($0 as? BackfillError)?.code == .checkpointUnreadable }
    }
}
