import CandleCore
import Collectors
import Foundation
import Synchronization

/// A bar of a series, independent of the contract symbol: root, timeframe in minutes and bar start.
struct BarID: Hashable, Sendable {
    let root: String
    let minutes: Int
    let start: Date
}

/// When a backend sink acknowledged a bar: the real instant and the same instant on the market clock, plus the
/// backend write that committed it (when it started, real time, and how many candles it held).
struct CommitInstant: Sendable {
    let real: Date
    let market: Date
    let writeStarted: Date
    let batchSize: Int
}

/// A `CandleSink` decorator in front of the backend sink (PostgreSQL or files) that records, for every final bar,
/// the instant the backend acknowledged its first final write — the moment the row was committed (PostgreSQL
/// `COMMIT` returned, or the file was `fdatasync`ed). Everything else is forwarded unchanged.
final class CommitTimingSink: CandleSink {
    private let backend: any CandleSink
    private let clock: ScaledWallClock
    private let realClock = SystemWallClock()
    private let commits = Mutex<[BarID: CommitInstant]>([:])

    init(wrapping backend: any CandleSink, clock: ScaledWallClock) {
        self.backend = backend
        self.clock = clock
    }

    /// The first commit instant of every final bar written so far.
    var firstCommits: [BarID: CommitInstant] { commits.withLock { $0 } }

    func write(_ candles: [Candle]) async throws -> CandleWriteReport {
        let started = realClock.now()
        let report = try await backend.write(candles)
        let real = realClock.now()
        let instant = CommitInstant(
            real: real, market: clock.simulated(atReal: real), writeStarted: started, batchSize: candles.count)
        commits.withLock { table in
            for candle in candles where candle.isFinal {
                let id = BarID(root: candle.instrument.root, minutes: candle.timeframe.minutes, start: candle.start)
                if table[id] == nil { table[id] = instant }
            }
        }
        return report
    }

    func validate(_ candles: [Candle]) throws(CandleSinkError) { try backend.validate(candles) }

    func latestCandleStart(of series: Series) async throws -> Date? { try await backend.latestCandleStart(of: series) }

    func candleStarts(of series: Series, in range: Range<Date>, finalOnly: Bool) async throws -> [Date] {
        try await backend.candleStarts(of: series, in: range, finalOnly: finalOnly)
    }

    func candles(of series: Series, in range: Range<Date>) async throws -> [Candle] {
        try await backend.candles(of: series, in: range)
    }

    func flush() async throws { try await backend.flush() }

    func close() async throws { try await backend.close() }
}

/// Count and nearest-rank percentiles (the collector's own rule) of a set of latencies.
struct LatencySummary {
    let count: Int
    let p50: Double
    let p90: Double
    let p99: Double
    let max: Double

    init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        func rank(_ p: Double) -> Double {
            sorted[Swift.min(Swift.max(Int((p * Double(sorted.count)).rounded(.up)) - 1, 0), sorted.count - 1)]
        }
        count = sorted.count
        p50 = rank(0.5)
        p90 = rank(0.9)
        p99 = rank(0.99)
        max = sorted[sorted.count - 1]
    }

    /// `count 30, p50 12.3 ms, p90 …, p99 …, max …`, plus `p99/goal` when a goal (seconds) is given.
    func line(goal: Double? = nil) -> String {
        func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
        var text = "count \(count), p50 \(ms(p50)), p90 \(ms(p90)), p99 \(ms(p99)), max \(ms(max))"
        if let goal { text += String(format: ", p99/goal %.4f", p99 / goal) }
        return text
    }
}
