import CandleCore
import Foundation
import Testing

@testable import Collectors

@Suite("Buffered sink: ordered drain, retries, spill, back-pressure")
struct BufferedCandleSinkTests {
    let directory: URL
    var spillURL: URL { directory.appending(path: "spill.log") }

    init() throws {
        directory = try makeTemporaryDirectory("buffer")
    }

    @Test("write returns at once; flush drains in order; later versions win as if written one by one")
    func ordering() async throws {
        let backend = FlakySink()
        let buffer = try BufferedCandleSink(wrapping: backend)
        #expect(try await buffer.write([Bars.nq(0, final: false), Bars.nq(1)]) == CandleWriteReport(buffered: 2))
        #expect(try await buffer.write([Bars.nq(0, close: 21_001, final: true)]) == CandleWriteReport(buffered: 1))
        #expect(try await buffer.write([Bars.nq(0, close: 20_990, final: false)]) == CandleWriteReport(buffered: 1))
        #expect(await buffer.stats.pendingCandles == 4)
        #expect(await backend.store.count == 0)
        try await buffer.flush()
        #expect(try await backend.candles(of: Bars.nq5) == [Bars.nq(0, close: 21_001), Bars.nq(1)])
        let stats = await buffer.stats
        #expect(stats.pendingCandles == 0 && stats.acceptedCandles == 4 && stats.drainedCandles == 4)
        #expect(stats.oldestPendingAge == nil && stats.consecutiveFailures == 0)
        #expect(stats.backendReport.written == 2)
        #expect(backend.batches.count == 1, "consecutive batches are merged into one backend write")
        // Queries go to the backend.
        #expect(try await buffer.latestCandleStart(of: Bars.nq5) == Bars.start(1, .fiveMinutes))
        #expect(try await buffer.candles(of: Bars.nq5).count == 2)
        #expect(try await buffer.candleStarts(of: Bars.nq5, in: Bars.everything).count == 2)
        try await buffer.close()
    }

    @Test("run() retries the same batch with doubling, capped back-off, then the bars are stored once")
    func retriesWithBackoff() async throws {
        let backend = FlakySink()
        backend.failNext(5)
        let clock = RecordingClock()
        let buffer = try BufferedCandleSink(
            wrapping: backend,
            configuration: .init(retryDelay: .seconds(1), maximumRetryDelay: .seconds(3)), clock: clock)
        let drainer = Task { await buffer.run() }
        _ = try await buffer.write([Bars.nq(0), Bars.nq(1)])
        #expect(try await eventually { await buffer.stats.drainedCandles == 2 })
        #expect(clock.sleeps == [.seconds(1), .seconds(2), .seconds(3), .seconds(3), .seconds(3)])
        #expect(backend.batches.count == 6)
        #expect(Set(backend.batches.map { $0.map(\.key) }).count == 1, "every attempt sends the same batch")
        let stats = await buffer.stats
        #expect(stats.failedWrites == 5 && stats.consecutiveFailures == 0 && stats.lastFailure == nil)
        #expect(try await backend.candles(of: Bars.nq5) == [Bars.nq(0), Bars.nq(1)])
        // Later writes drain without further waiting.
        _ = try await buffer.write([Bars.nq(2)])
        #expect(try await eventually { await buffer.stats.drainedCandles == 3 })
        drainer.cancel()
        await drainer.value
        try await buffer.close()
    }

    @Test("stats report depth, age (injected wall time) and the last failure while the backend is down")
    func statsWhileDown() async throws {
        let backend = FlakySink()
        backend.setDown(true)
        let wall = ManualWallTime()
        let buffer = try BufferedCandleSink(wrapping: backend, wallTime: { wall.now() })
        _ = try await buffer.write([Bars.nq(0), Bars.nq(1)])
        wall.advance(60)
        _ = try await buffer.write([Bars.nq(2)])
        wall.advance(30)
        await #expect { try await buffer.flush() } throws: { isSinkError($0, .unavailable) }
        let stats = await buffer.stats
        #expect(stats.pendingCandles == 3 && stats.memoryCandles == 3 && stats.spilledCandles == 0)
        #expect(stats.oldestPendingSince == Date(timeIntervalSince1970: 1_762_182_000))
        #expect(stats.oldestPendingAge == .seconds(90))
        #expect(stats.consecutiveFailures == 1 && stats.lastFailure?.contains("backend down") == true)
        backend.setDown(false)
        try await buffer.flush()
        #expect(await buffer.stats.oldestPendingAge == nil)
        try await buffer.close()
    }

    @Test("memory full → spill file; the queue stays in order across memory and spill")
    func spillsInOrder() async throws {
        let backend = FlakySink()
        backend.setDown(true)
        let buffer = try BufferedCandleSink(
            wrapping: backend, configuration: .init(memoryCapacity: 4, spillFile: spillURL, maximumDrainBatch: 2))
        _ = try await buffer.write([Bars.nq(0, final: false), Bars.nq(1, upVolume: 1)])  // memory
        _ = try await buffer.write([Bars.nq(2), Bars.nq(3)])  // memory (4 of 4)
        _ = try await buffer.write([Bars.nq(0, close: 21_001), Bars.nq(1, upVolume: 2)])  // spill
        var stats = await buffer.stats
        #expect(stats.memoryCandles == 4 && stats.spilledCandles == 2 && stats.spillBytes > 0)
        backend.setDown(false)
        try await buffer.flush()
        // Memory batches first, then the spilled one: the spilled (later) versions win.
        #expect(
            backend.batches.suffix(3).map { $0.map(\.key) } == [
                [Bars.nq(0).key, Bars.nq(1).key], [Bars.nq(2).key, Bars.nq(3).key], [Bars.nq(0).key, Bars.nq(1).key],
            ])
        #expect(
            try await backend.candles(of: Bars.nq5) == [
                Bars.nq(0, close: 21_001), Bars.nq(1, upVolume: 2), Bars.nq(2), Bars.nq(3),
            ])
        stats = await buffer.stats
        #expect(stats.pendingCandles == 0 && stats.spillBytes == 0)
        try await buffer.close()
        #expect(
            try FileManager.default.attributesOfItem(atPath: spillURL.path)[.size] as? Int == SpillFile.headerLength)
    }

    @Test("back-pressure: when memory (and spill) are full the batch is refused, counted, and nothing is dropped")
    func backpressure() async throws {
        let backend = FlakySink()
        backend.setDown(true)
        let memoryOnly = try BufferedCandleSink(wrapping: backend, configuration: .init(memoryCapacity: 3))
        _ = try await memoryOnly.write([Bars.nq(0), Bars.nq(1), Bars.nq(2)])
        await #expect {
            _ = try await memoryOnly.write([Bars.nq(3)])
        } throws: { error in
            isSinkError(error, .backpressure) && "\(error)".contains("not accepted")
        }
        #expect(await memoryOnly.stats.rejectedCandles == 1)
        #expect(await memoryOnly.stats.pendingCandles == 3)
        backend.setDown(false)
        try await memoryOnly.flush()
        #expect(try await memoryOnly.write([Bars.nq(3)]) == CandleWriteReport(buffered: 1))
        try await memoryOnly.close()

        backend.setDown(true)
        let oneRecord = try SpillFile.encode([Bars.nq(11)], acceptedAt: Date()).count
        let tinySpill = try BufferedCandleSink(
            wrapping: backend,
            configuration: .init(memoryCapacity: 1, spillFile: spillURL, spillCapacity: oneRecord * 3))
        _ = try await tinySpill.write([Bars.nq(10)])
        _ = try await tinySpill.write([Bars.nq(11)])  // spilled
        await #expect { _ = try await tinySpill.write((12..<20).map { Bars.nq($0) }) } throws: {
            isSinkError($0, .backpressure)
        }
        #expect(await tinySpill.stats.spilledCandles == 1)
        backend.setDown(false)
        try await tinySpill.close()
        #expect(try await backend.candles(of: Bars.nq5).count == 6)
    }

    @Test("a new buffer on a non-empty spill file drains it first (process restart)")
    func restartDrainsSpill() async throws {
        let backend = FlakySink()
        backend.setDown(true)
        do {
            let first = try BufferedCandleSink(
                wrapping: backend, configuration: .init(memoryCapacity: 0, spillFile: spillURL))
            _ = try await first.write([Bars.nq(0, final: false), Bars.nq(1)])
            _ = try await first.write([Bars.nq(0, close: 21_002)])
            #expect(await first.stats.spilledCandles == 3)
            // The process "dies" here: no close().
        }
        backend.setDown(false)
        let second = try BufferedCandleSink(wrapping: backend, configuration: .init(spillFile: spillURL))
        #expect(await second.stats.pendingCandles == 3)
        _ = try await second.write([Bars.nq(2)])  // queued behind the recovered batches
        let drainer = Task { await second.run() }
        #expect(try await eventually { await second.stats.pendingCandles == 0 })
        #expect(try await backend.candles(of: Bars.nq5) == [Bars.nq(0, close: 21_002), Bars.nq(1), Bars.nq(2)])
        drainer.cancel()
        try await second.close()
    }

    @Test("a torn spill record is cut on open; a damaged record followed by good ones is corruption")
    func spillRecovery() async throws {
        let backend = FlakySink()
        backend.setDown(true)
        let first = try BufferedCandleSink(
            wrapping: backend, configuration: .init(memoryCapacity: 0, spillFile: spillURL))
        _ = try await first.write([Bars.nq(0)])
        _ = try await first.write([Bars.nq(1)])
        let handle = try FileHandle(forWritingTo: spillURL)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("0badc0de 1 17000 [{\"symb".utf8))
        try handle.close()

        let recovered = try BufferedCandleSink(wrapping: backend, configuration: .init(spillFile: spillURL))
        #expect(await recovered.stats.spilledCandles == 2)
        backend.setDown(false)
        try await recovered.close()
        #expect(try await backend.candles(of: Bars.nq5) == [Bars.nq(0), Bars.nq(1)])

        // Damage the first of two records: corruption, not a torn tail.
        backend.setDown(true)
        let third = try BufferedCandleSink(
            wrapping: backend, configuration: .init(memoryCapacity: 0, spillFile: spillURL))
        _ = try await third.write([Bars.nq(2)])
        _ = try await third.write([Bars.nq(3)])
        var bytes = try Data(contentsOf: spillURL)
        bytes[SpillFile.headerLength + 20] ^= 0x01
        try bytes.write(to: spillURL)
        #expect {
            _ = try BufferedCandleSink(wrapping: backend, configuration: .init(spillFile: spillURL))
        } throws: { isSinkError($0, .corruptData) }
    }

    @Test("a spill file removed while running, with its directory, is written again with every queued candle")
    func spillRemovedWhileRunning() async throws {
        let backend = FlakySink()
        backend.setDown(true)
        let state = directory.appending(path: "state")
        let url = state.appending(path: "spill.log")
        let buffer = try BufferedCandleSink(
            wrapping: backend, configuration: .init(memoryCapacity: 0, spillFile: url))
        _ = try await buffer.write([Bars.nq(0), Bars.nq(1)])
        _ = try await buffer.write([Bars.nq(2)])
        try FileManager.default.removeItem(at: state)

        _ = try await buffer.write([Bars.nq(3)])  // finds the file gone and writes it again first
        var stats = await buffer.stats
        #expect(stats.spillRepairs == 1 && stats.spillCandlesLost == 0 && stats.spilledCandles == 4)
        #expect(stats.spillProblem?.contains("removed while running") == true)
        // Durable again: a process that opened the file now would find all four.
        let reader = try BufferedCandleSink(wrapping: FlakySink(), configuration: .init(spillFile: url))
        #expect(await reader.stats.spilledCandles == 4)

        backend.setDown(false)
        try await buffer.flush()
        #expect(try await backend.candles(of: Bars.nq5) == (0..<4).map { Bars.nq($0) })
        stats = await buffer.stats
        #expect(stats.pendingCandles == 0 && stats.spillRepairs == 1)
        try await buffer.close()
    }

    @Test("a spill file truncated while running: the cut records are counted as lost, the rest drain, no crash")
    func spillTruncatedWhileRunning() async throws {
        let backend = FlakySink()
        backend.setDown(true)
        let buffer = try BufferedCandleSink(
            wrapping: backend, configuration: .init(memoryCapacity: 0, spillFile: spillURL))
        for index in 0..<3 {
            _ = try await buffer.write([Bars.nq(index)])
        }
        let size = try #require(try FileManager.default.attributesOfItem(atPath: spillURL.path)[.size] as? Int)
        let record = (size - SpillFile.headerLength) / 3
        // Cut into the second record: the first stays whole, the second and third are gone.
        let handle = try FileHandle(forWritingTo: spillURL)
        try handle.truncate(atOffset: UInt64(SpillFile.headerLength + record + record / 2))
        try handle.close()

        backend.setDown(false)
        try await buffer.flush()
        var stats = await buffer.stats
        #expect(stats.spillCandlesLost == 2 && stats.spillRepairs == 1 && stats.pendingCandles == 0)
        #expect(stats.spillProblem?.contains("truncated by something else") == true)
        #expect(try await backend.candles(of: Bars.nq5) == [Bars.nq(0)])

        // Cut to nothing, header included, while more is queued: everything in it is lost, the buffer goes on.
        backend.setDown(true)
        _ = try await buffer.write([Bars.nq(5)])
        let emptied = try FileHandle(forWritingTo: spillURL)
        try emptied.truncate(atOffset: 0)
        try emptied.close()
        _ = try await buffer.write([Bars.nq(6)])
        backend.setDown(false)
        try await buffer.flush()
        stats = await buffer.stats
        #expect(stats.spillCandlesLost == 3 && stats.spillRepairs == 2 && stats.pendingCandles == 0)
        #expect(try await backend.candles(of: Bars.nq5).map(\.start) == [0, 6].map { Bars.start($0, .fiveMinutes) })
        try await buffer.close()
    }

    @Test("close() with the backend down moves bars held in memory into the spill file")
    func closeSpillsMemory() async throws {
        let backend = FlakySink()
        backend.setDown(true)
        let buffer = try BufferedCandleSink(wrapping: backend, configuration: .init(spillFile: spillURL))
        _ = try await buffer.write([Bars.nq(0), Bars.nq(1)])
        _ = try await buffer.write([Bars.nq(2)])
        try await buffer.close()
        await #expect { _ = try await buffer.write([Bars.nq(3)]) } throws: { isSinkError($0, .closed) }

        backend.setDown(false)
        let next = try BufferedCandleSink(wrapping: backend, configuration: .init(spillFile: spillURL))
        #expect(await next.stats.spilledCandles == 3)
        try await next.flush()
        #expect(try await backend.candles(of: Bars.nq5) == [0, 1, 2].map { Bars.nq($0) })
        try await next.close()
    }

    @Test("close() with the backend down and no spill file says how many bars were not written")
    func closeWithoutSpill() async throws {
        let backend = FlakySink()
        backend.setDown(true)
        let buffer = try BufferedCandleSink(wrapping: backend)
        _ = try await buffer.write([Bars.nq(0), Bars.nq(1)])
        await #expect {
            try await buffer.close()
        } throws: { error in
            isSinkError(error, .unavailable) && "\(error)".contains("2 candles not written")
        }
    }

    @Test("bad input is refused at the door with the backend's own rules, and nothing is queued")
    func validatesOnAccept() async throws {
        let backend = FlakySink(maximumSymbolLength: 4)
        let buffer = try BufferedCandleSink(wrapping: backend)
        var nan = Bars.nq(1)
        nan.open = .nan
        await #expect { _ = try await buffer.write([Bars.nq(0), nan]) } throws: { isSinkError($0, .invalidCandle) }
        await #expect { _ = try await buffer.write([Bars.nq(0, symbol: "NQZ25")]) } throws: {
            isSinkError($0, .invalidCandle) && "\($0)".contains("symbol too long")
        }
        #expect(throws: CandleSinkError.self) { try buffer.validate([Bars.nq(0, symbol: "NQZ25")]) }
        #expect(await buffer.stats.pendingCandles == 0 && buffer.configuration.memoryCapacity == 100_000)
        try await buffer.close()
    }
}
