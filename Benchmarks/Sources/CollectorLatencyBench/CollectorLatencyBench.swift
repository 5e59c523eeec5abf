// CollectorLatencyBench: bar close → committed row, live (Docs/benchmarks.md, section "Collector latency").
//
//   bash Benchmarks/scripts/latency-bench.sh     # starts a throwaway PostgreSQL, then runs this
//   ORCA_BENCH_DATABASE_URL=postgres://user:pass@127.0.0.1:5432/db swift run -c release CollectorLatencyBench
//   cd Benchmarks && swift run -c release CollectorLatencyBench          # without the variable: FileCandleSink
//
// The daemon's live path, composed as OrcaDaemon does: an in-process simulator (EmbeddedSimulator, seed 42, on a
// ScaledWallClock), TokenRefresher → MarketDataClient → TradovateCandleSource → Collector → BufferedCandleSink →
// backend (PostgresCandleSink in a fresh schema, or FileCandleSink in a temporary directory). Between the buffer and
// the backend sits CommitTimingSink, which records when the backend acknowledged each final bar. For every final bar
// the collector wrote live (a `.barWritten` event with a latency) whose end lies in the measured window, the latency is
// backend commit − bar end, on the market clock and in real time.
//
// Two runs:
//   1. real speed (×1), ORCA_BENCH_REAL_MINUTES (default 6) minutes, NQ MNQ ES MES × 1 and 5 minutes (8 series);
//   2. ORCA_BENCH_FAST_SPEED (default 60) × real speed, ORCA_BENCH_FAST_HOURS (default 4) simulated hours, the 16
//      default series (NQ MNQ ES MES × 5, 15, 30, 60 minutes).
// Simulated time starts at EmbeddedSimulator.plannedStart (now if the CME market is open, else the open of the latest
// session), or at ORCA_BENCH_START (ISO 8601). ORCA_BENCH_ONLY=real|fast runs one of the two. ORCA_BENCH_QUIET_CHARTS=1
// turns on the simulator's quiet-charts fault: bars then reach the sink through the collector's fetch at close.
import CandleCore
import Collectors
import Foundation
import MarketData
import OrcaRuntime
import PostgresSink
import TokenStore
import TradovateSimulator

@main
struct CollectorLatencyBench {
    /// The goal: p99 ≤ 1 s (of market time at speed 1).
    static let goal = 1.0

    /// One run's settings.
    struct Plan {
        let name: String
        let speed: Double
        let start: Date
        let span: TimeInterval
        let series: [Series]
    }

    static func main() async {
        let environment = ProcessInfo.processInfo.environment
        let realMinutes = Double(environment["ORCA_BENCH_REAL_MINUTES"] ?? "") ?? 6
        let fastSpeed = Double(environment["ORCA_BENCH_FAST_SPEED"] ?? "") ?? 60
        let fastHours = Double(environment["ORCA_BENCH_FAST_HOURS"] ?? "") ?? 4
        let only = environment["ORCA_BENCH_ONLY"]
        let url = environment["ORCA_BENCH_DATABASE_URL"]
        let realNow = SystemWallClock().now()
        let start: Date
        if let text = environment["ORCA_BENCH_START"] {
            guard let parsed = try? Date(text, strategy: .iso8601) else {
                print("ORCA_BENCH_START '\(text)' is not an ISO 8601 instant such as 2025-12-05T14:30:00Z")
                exit(2)
            }
            start = parsed
        } else {
            start = EmbeddedSimulator.plannedStart(now: realNow)
        }
        let roots: [Instrument] = [.nq, .mnq, .es, .mes]
        print("CollectorLatencyBench: goal p99 ≤ \(goal) s from bar end to committed row")
        print("  real now \(iso(realNow)); CME market open now: \(TradingCalendar.cmeEquityIndex.isOpen(at: realNow))")
        print("  simulated start \(iso(start)) (\(environment["ORCA_BENCH_START"] == nil ? "plannedStart" : "given"))")
        print("  backend: \(url == nil ? "FileCandleSink (set ORCA_BENCH_DATABASE_URL for PostgreSQL)" : "PostgreSQL")")
        do {
            if only == nil || only == "real" {
                let plan = Plan(
                    name: "Run 1: real speed", speed: 1, start: start, span: realMinutes * 60,
                    series: roots.flatMap { [Series($0, .oneMinute), Series($0, .fiveMinutes)] })
                try await run(plan, url: url)
            }
            if only == nil || only == "fast" {
                let plan = Plan(
                    name: "Run 2: \(format(fastSpeed))× real speed", speed: fastSpeed, start: start,
                    span: fastHours * 3600, series: Series.seedDefaults)
                try await run(plan, url: url)
            }
        } catch {
            print("CollectorLatencyBench failed: \(error)")
            exit(1)
        }
    }

    // MARK: One run

    static func run(_ plan: Plan, url: String?) async throws {
        let timeframes = Set(plan.series.map(\.timeframe.minutes)).sorted().map(String.init).joined(separator: ", ")
        print(
            "\n\(plan.name): \(format(plan.span / 60)) simulated minutes"
                + " (\(format(plan.span / 60 / plan.speed)) real minutes),"
                + " \(plan.series.count) series (NQ MNQ ES MES × \(timeframes) min)")
        print("  load average at start: \(loadAverage())")
        let directory = FileManager.default.temporaryDirectory.appending(path: "orca-latency-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let simulator = try await EmbeddedSimulator.start(
            seed: 42, speed: plan.speed, start: plan.start, realNow: SystemWallClock().now())
        let clock = simulator.clock
        if ProcessInfo.processInfo.environment["ORCA_BENCH_QUIET_CHARTS"] == "1" {
            // Real-time updates with completed minutes only: every 1-minute bar, and every longer bar's last minute,
            // reach the sink through the collector's fetch at close (collector.closeGrace), not the live feed.
            simulator.server.faults.quietCharts(true)
            print("  simulator: quiet charts (forming bars only with completed minutes; nothing at a close)")
        }

        // The backend, as OrcaEnvironment.makeBackendSink builds it, with its tables prepared up front.
        let backend: any CandleSink
        var dropSchema: (() -> Void)?
        if let url {
            let schema =
                "orca_latency_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8).lowercased()
            let postgres = try PostgresCandleSink(
                configuration: .init(
                    url: url, schema: schema, applicationName: "orca-latency-bench", series: plan.series))
            try await postgres.prepare()
            print("  backend: PostgresCandleSink \(postgres.redactedURL), schema \(schema), tables per series")
            backend = postgres
            dropSchema = { _ = try? PostgresConnection(url: url).execute("DROP SCHEMA IF EXISTS \(schema) CASCADE") }
        } else {
            backend = try FileCandleSink(configuration: .init(directory: directory.appending(path: "candles")))
            print("  backend: FileCandleSink (CSV, fdatasync per write) in a temporary directory")
        }
        defer { dropSchema?() }
        let timing = CommitTimingSink(wrapping: backend, clock: clock)
        let buffer = try BufferedCandleSink(
            wrapping: timing, configuration: .init(spillFile: directory.appending(path: "spill.bin")))

        // Tokens, socket, source and collector as OrcaEnvironment / OrcaDaemon build them (default settings).
        let demo = SimulatorLogin.demo
        let login = TradovateCredentials(name: demo.name, password: demo.password, cid: demo.cid, secret: demo.sec)
        let auth = TradovateAuthClient(
            configuration: .init(
                baseURL: simulator.server.restBaseURL.absoluteString, deviceID: "orca-latency-bench"),
            clock: clock)
        let refresher = TokenRefresher(
            logins: [login], auth: auth, store: InMemoryTokenProvider(clock: clock), locks: nil, clock: clock)
        let client = try MarketDataClient(
            configuration: MarketDataClientConfiguration(url: simulator.server.webSocketURL),
            tokenProvider: { try await refresher.token(for: login.name) }, wallClock: clock)
        let source = TradovateCandleSource(client: client, wallClock: clock)
        let collector = try Collector(
            source: source, sink: buffer, configuration: .init(series: plan.series), clock: clock)

        // Live final writes: the collector's events (its latency runs until the buffer acknowledged).
        let events = Task {
            var live: [BarID: TimeInterval] = [:]
            for await event in collector.events {
                if case .barWritten(let series, _, let start, true, let latency?) = event {
                    let id = BarID(root: series.instrument.root, minutes: series.timeframe.minutes, start: start)
                    if live[id] == nil { live[id] = latency }
                }
            }
            return live
        }
        let services = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await buffer.run() }
                group.addTask { try? await refresher.run() }
                group.addTask { try? await client.run() }
                group.addTask { try? await collector.run() }
            }
        }

        // The window starts once every live subscription is up: bars that end later are live closes.
        let realClock = SystemWallClock()
        let subscribeDeadline = realClock.now().addingTimeInterval(120)
        while client.statistics.liveSubscriptions < plan.series.count && realClock.now() < subscribeDeadline {
            try await realClock.sleep(for: 0.01)
        }
        let windowStart = clock.now()
        let windowEnd = plan.start.addingTimeInterval(plan.span)
        print(
            "  \(client.statistics.liveSubscriptions) live subscriptions up at \(iso(windowStart)) "
                + String(format: "(%.2f s real after start)", windowStart.timeIntervalSince(plan.start) / plan.speed)
                + "; window ends \(iso(windowEnd))")
        fflush(nil)
        // Run until the window's end, plus the settle timeout and 3 real seconds for its last bars to be committed.
        let settle = Collector.Configuration().settleTimeout.timeInterval
        let stop = clock.real(atSimulated: windowEnd.addingTimeInterval(settle)).addingTimeInterval(3)
        var nextReport = realClock.now().addingTimeInterval(60)
        while realClock.now() < stop {
            try await realClock.sleep(until: min(stop, nextReport))
            if realClock.now() >= nextReport, realClock.now() < stop {
                nextReport = nextReport.addingTimeInterval(60)
                print("  … market \(iso(clock.now())): \(timing.firstCommits.count) final bars committed so far")
                fflush(nil)  // progress shows up when the output goes to a file
            }
        }
        let statistics = await collector.statistics
        let bufferStats = await buffer.stats
        let clientStats = client.statistics
        services.cancel()
        await services.value
        try await buffer.close()
        let live = await events.value
        await simulator.server.shutdown()

        report(
            plan, clock: clock, window: windowStart..<windowEnd, commits: timing.firstCommits, live: live,
            statistics: statistics)
        print(
            "  buffer: \(bufferStats.acceptedCandles) candles accepted, \(bufferStats.drainedCandles) drained,"
                + " \(bufferStats.failedWrites) failed backend writes; client: \(clientStats.socketsOpened) socket(s),"
                + " \(clientStats.reconnects) reconnects; collector errors: \(statistics.errors)")
        print("  load average at end: \(loadAverage())")
        fflush(nil)
    }

    // MARK: Report

    static func report(
        _ plan: Plan, clock: ScaledWallClock, window: Range<Date>, commits: [BarID: CommitInstant],
        live: [BarID: TimeInterval], statistics: Collector.Statistics
    ) {
        var expected = 0
        var missing = 0
        var healed = 0
        var market: [Double] = []
        var real: [Double] = []
        var buffered: [Double] = []
        var byTimeframe: [Int: [Double]] = [:]
        var worst: (latency: Double, id: BarID, commit: CommitInstant, buffered: Double)?
        for series in plan.series {
            let timeframe = series.timeframe
            let starts = TradingCalendar.cmeEquityIndex.expectedBars(
                series.instrument, timeframe, from: window.lowerBound.addingTimeInterval(-timeframe.duration),
                to: window.upperBound)
            for start in starts {
                let end = timeframe.barEnd(startingAt: start)
                guard end > window.lowerBound, end <= window.upperBound else { continue }
                expected += 1
                let id = BarID(root: series.instrument.root, minutes: timeframe.minutes, start: start)
                guard let commit = commits[id] else {
                    missing += 1
                    continue
                }
                guard let bufferLatency = live[id] else {
                    healed += 1
                    continue
                }
                let latency = commit.market.timeIntervalSince(end)
                market.append(latency)
                real.append(commit.real.timeIntervalSince(clock.real(atSimulated: end)))
                buffered.append(bufferLatency)
                byTimeframe[timeframe.minutes, default: []].append(latency)
                if latency > worst?.latency ?? -.infinity { worst = (latency, id, commit, bufferLatency) }
            }
        }
        print(
            "  bars ending in the window: \(expected) expected, \(market.count) committed live, \(healed) committed"
                + " only by a heal, \(missing) not committed")
        let meaningful = plan.speed == 1 ? "market = real time" : "real time is the meaningful figure"
        if let summary = LatencySummary(market) {
            print(
                "  bar end → backend commit, market time: \(summary.line(goal: plan.speed == 1 ? goal : nil))")
        }
        if let summary = LatencySummary(real) {
            print("  bar end → backend commit, real time:   \(summary.line(goal: goal))  (\(meaningful))")
        }
        for (minutes, values) in byTimeframe.sorted(by: { $0.key < $1.key }) {
            if let summary = LatencySummary(values) {
                print("    \(minutes)-minute bars, market time: \(summary.line())")
            }
        }
        if let worst {
            let end = worst.id.start.addingTimeInterval(Double(worst.id.minutes) * 60)
            let sameCommit = commits.values.filter { $0.real == worst.commit.real }.count
            print(
                String(
                    format: "    slowest: %@ %d-minute bar ending %@, committed %.1f ms real after its end by a backend"
                        + " write of %d candles that took %.1f ms (%d bars committed at that instant); buffer ack"
                        + " after %.1f ms real",
                    worst.id.root, worst.id.minutes, iso(end),
                    worst.commit.real.timeIntervalSince(clock.real(atSimulated: end)) * 1000, worst.commit.batchSize,
                    worst.commit.real.timeIntervalSince(worst.commit.writeStarted) * 1000, sameCommit,
                    worst.buffered / plan.speed * 1000))
        }
        if let summary = LatencySummary(buffered) {
            print("  bar end → buffer acknowledged (collector events), market time: \(summary.line())")
        }
        let p50 = statistics.latencyP50.map { String(format: "%.1f ms", $0 * 1000) } ?? "none"
        let p99 = statistics.latencyP99.map { String(format: "%.1f ms", $0 * 1000) } ?? "none"
        print(
            "  Collector.statistics (buffer ack, market time, all live samples): latencyP50 \(p50), latencyP99 \(p99),"
                + " \(statistics.latencySamples) samples")
    }

    // MARK: Helpers

    static func iso(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }

    /// `/proc/loadavg`'s three load averages, or `unknown` elsewhere.
    static func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}
