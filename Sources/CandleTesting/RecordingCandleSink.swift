public import CandleCore
public import Collectors
public import Foundation

/// An in-memory `CandleSink` for strategy and collector tests: it stores bars with the same semantics as every Orca
/// sink (upsert, final never downgraded), records every `write` call, and can be told to fail.
///
/// ```swift
/// let sink = RecordingCandleSink()
/// try await myCollector(sink: sink).runOnce()
/// #expect(await sink.writes.count == 1)
/// #expect(try await sink.candles(of: Series(.nq, .fiveMinutes)).count == 12)
/// ```
public actor RecordingCandleSink: CandleSink {
    private let storage = MemoryCandleSink()
    private var failures: [CandleSinkError] = []

    /// Every batch passed to ``write(_:)`` that was accepted, in call order.
    public private(set) var writes: [[Candle]] = []
    /// Every report returned, in call order.
    public private(set) var reports: [CandleWriteReport] = []
    /// How many `flush()` calls were made.
    public private(set) var flushCount = 0
    /// Whether `close()` was called.
    public private(set) var isClosed = false

    /// Creates an empty sink.
    public init() {}

    /// Makes the next `count` writes throw `error` (default: `CandleSinkError.Code.unavailable`), as a backend that is
    /// down would.
    public func failNextWrites(_ count: Int, with error: CandleSinkError? = nil) {
        let failure =
            error ?? CandleSinkError(.unavailable, "RecordingCandleSink was told to fail this write")
        failures.append(contentsOf: Array(repeating: failure, count: count))
    }

    /// Every bar written, flattened, in write order (including re-writes of the same key).
    public var writtenCandles: [Candle] { writes.flatMap { $0 } }

    public func write(_ candles: [Candle]) async throws -> CandleWriteReport {
        if !failures.isEmpty { throw failures.removeFirst() }
        let report = try await storage.write(candles)
        writes.append(candles)
        reports.append(report)
        return report
    }

    public func latestCandleStart(of series: Series) async throws -> Date? {
        try await storage.latestCandleStart(of: series)
    }

    public func candleStarts(of series: Series, in range: Range<Date>, finalOnly: Bool) async throws -> [Date] {
        try await storage.candleStarts(of: series, in: range, finalOnly: finalOnly)
    }

    public func candles(of series: Series, in range: Range<Date>) async throws -> [Candle] {
        try await storage.candles(of: series, in: range)
    }

    public func flush() async throws {
        flushCount += 1
    }

    public func close() async throws {
        isClosed = true
        await storage.close()
    }
}
