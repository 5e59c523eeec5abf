import CandleCore
import Foundation
import OrcaTestSupport
import Testing

@testable import Collectors
@testable import PostgresSink

private let environment = ProcessInfo.processInfo.environment
private let faultURL = environment["ORCA_TEST_FAULT_DATABASE_URL"]
private let stopCommand = environment["ORCA_TEST_PG_STOP"]
private let startCommand = environment["ORCA_TEST_PG_START"]

/// The last lines of the fault server's log and of its stop/start commands' output (scripts/lib/postgres.sh), for a
/// failure message.
private func serverLogs() -> Comment {
    guard let work = environment["ORCA_TEST_WORK_DIR"] else { return "(ORCA_TEST_WORK_DIR is not set)" }
    let text = ["restart.log", "postgres.log"].map { name in
        let path = "\(work)/postgres-fault/\(name)"
        let lines = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "(unreadable)").split(separator: "\n")
        return "--- \(path):\n" + lines.suffix(15).joined(separator: "\n")
    }
    return Comment(rawValue: text.joined(separator: "\n"))
}

/// PostgreSQL stopped for 30 s in the middle of a stream of writes through a buffered PostgreSQL sink.
/// Uses a dedicated server (not the shared test one), which this test stops and starts.
@Suite(
    "PostgreSQL outage",
    .enabled(
        if: faultURL != nil && stopCommand != nil && startCommand != nil,
        "set ORCA_TEST_FAULT_DATABASE_URL, ORCA_TEST_PG_STOP and ORCA_TEST_PG_START (scripts/test.sh does)"))
struct PostgresOutageTests {
    @Test(
        "stopped for 30 s during a stream of writes, then started: every bar is stored exactly once",
        .timeLimit(.minutes(10)))
    func outage() async throws {
        let url = faultURL ?? ""
        let schema = uniqueSchema()
        let spill = try makeTemporaryDirectory("outage").appending(path: "spill.log")
        let postgres = try PostgresCandleSink(
            configuration: .init(url: url, schema: schema, connectTimeout: .seconds(2), series: [Bars.nq5]))
        try await postgres.prepare()
        let buffer = try BufferedCandleSink(
            wrapping: postgres,
            configuration: .init(
                memoryCapacity: 40, spillFile: spill, retryDelay: .milliseconds(200), maximumRetryDelay: .seconds(1)))
        let drainer = Task { await buffer.run() }
        var started = true
        defer {
            if !started, let startCommand { _ = Task { try? await ChildProcess.shell(startCommand) } }
        }

        // Each tick: a new forming bar and the final version of the previous one (so revisions cross the outage).
        var expected: [Date: Candle] = [:]
        var index = 0
        func tick() async throws {
            var batch = [Bars.nq(index, close: 21_000 + Double(index % 50) * 0.25, final: false)]
            if index > 0 {
                batch.append(Bars.nq(index - 1, close: 21_000.5 + Double((index - 1) % 50) * 0.25, final: true))
            }
            #expect(try await buffer.write(batch).buffered == batch.count)
            for bar in batch {
                expected[bar.start] = expected[bar.start].map { UpsertRule.merge(earlier: $0, later: bar) } ?? bar
            }
            index += 1
        }

        let clock = ContinuousClock()
        for _ in 0..<20 {
            try await tick()
            try await clock.sleep(for: .milliseconds(100))
        }
        #expect(try await eventually { await buffer.stats.pendingCandles == 0 })

        #expect(try await ChildProcess.shell(stopCommand ?? "false") == 0, "the stop command failed\n\(serverLogs())")
        started = false
        // At least 30 s and at least 120 ticks (240 bars): a loaded machine that oversleeps still queues enough to
        // spill.
        let outageEnd = clock.now + .seconds(30)
        var deepest = 0
        var spilled = 0
        var ticks = 0
        while clock.now < outageEnd || ticks < 120 {
            ticks += 1
            try await tick()
            let stats = await buffer.stats
            deepest = max(deepest, stats.pendingCandles)
            spilled = max(spilled, stats.spilledCandles)
            try await clock.sleep(for: .milliseconds(250))
        }
        let during = await buffer.stats
        #expect(during.consecutiveFailures > 0 && during.lastFailure?.contains("unavailable") == true)
        #expect((during.oldestPendingAge ?? .zero) >= .seconds(25))
        #expect(deepest > 200 && spilled > 0, "the queue should have grown and spilled during the outage")

        #expect(try await ChildProcess.shell(startCommand ?? "false") == 0, "the start command failed\n\(serverLogs())")
        started = true
        for _ in 0..<10 {
            try await tick()
            try await clock.sleep(for: .milliseconds(100))
        }
        #expect(try await eventually(timeout: .seconds(60)) { await buffer.stats.pendingCandles == 0 })
        drainer.cancel()
        await drainer.value
        try await buffer.close()

        // Every bar exactly once, with its last version.
        let check = try PostgresCandleSink(configuration: .init(url: url, schema: schema))
        let stored = try await check.candles(of: Bars.nq5)
        #expect(stored.count == expected.count)
        #expect(stored == expected.values.sorted { $0.start < $1.start })
        let db = try PostgresConnection(url: url)
        let counts = try db.execute(
            "SELECT count(*), count(DISTINCT (symbol, candle_time)) FROM \(schema).nq_candles_5min"
        ).rows
        #expect(counts == [[String(expected.count), String(expected.count)]])
        await check.close()
        _ = try db.execute("DROP SCHEMA \(schema) CASCADE")
        try? FileManager.default.removeItem(at: spill.deletingLastPathComponent())
    }
}
