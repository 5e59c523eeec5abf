import CandleCore
import Foundation
import Synchronization

@testable import Collectors

/// A clock whose sleeps return at once and are recorded, so back-off can be checked without waiting.
final class RecordingClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let state = Mutex<(now: Duration, sleeps: [Duration])>((.zero, []))

    var now: Instant { Instant(offset: state.withLock { $0.now }) }
    var minimumResolution: Duration { .nanoseconds(1) }
    var sleeps: [Duration] { state.withLock { $0.sleeps } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        state.withLock { state in
            state.sleeps.append(deadline.offset - state.now)
            state.now = max(state.now, deadline.offset)
        }
        await Task.yield()
    }
}

/// A settable wall clock.
final class ManualWallTime: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_762_182_000))
    func now() -> Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
}

/// A backend that can be switched off, fails a set number of writes, records every batch it is sent, and stores
/// what it accepts in a ``MemoryCandleSink``. Optionally refuses symbols longer than `maximumSymbolLength`.
final class FlakySink: CandleSink {
    let store = MemoryCandleSink()
    private let state = Mutex<(down: Bool, failuresLeft: Int, batches: [[Candle]])>((false, 0, []))
    let maximumSymbolLength: Int

    init(maximumSymbolLength: Int = 20) {
        self.maximumSymbolLength = maximumSymbolLength
    }

    func setDown(_ down: Bool) { state.withLock { $0.down = down } }
    func failNext(_ count: Int) { state.withLock { $0.failuresLeft = count } }
    var batches: [[Candle]] { state.withLock { $0.batches } }

    func validate(_ candles: [Candle]) throws(CandleSinkError) {
        _ = try CandleBatch(validating: candles)
        if let long = candles.first(where: { $0.symbol.count > maximumSymbolLength }) {
            throw CandleSinkError(.invalidCandle, series: long.series, "symbol too long for this backend")
        }
    }

    func write(_ candles: [Candle]) async throws -> CandleWriteReport {
        let failing = state.withLock { state -> Bool in
            state.batches.append(candles)
            if state.down { return true }
            if state.failuresLeft > 0 {
                state.failuresLeft -= 1
                return true
            }
            return false
        }
        if failing {
            throw CandleSinkError(.unavailable, "backend down (test)")
        }
        return try await store.write(candles)
    }

    func latestCandleStart(of series: Series) async throws -> Date? { try await store.latestCandleStart(of: series) }
    func candleStarts(of series: Series, in range: Range<Date>, finalOnly: Bool) async throws -> [Date] {
        try await store.candleStarts(of: series, in: range, finalOnly: finalOnly)
    }
    func candles(of series: Series, in range: Range<Date>) async throws -> [Candle] {
        try await store.candles(of: series, in: range)
    }
    func flush() async throws {
        if state.withLock({ $0.down }) { throw CandleSinkError(.unavailable, "backend down (test)") }
    }
    func close() async throws {}
}

/// Polls `condition` until it holds or `timeout` passes. The default is generous on purpose: CI runs every suite in
/// parallel on two shared cores, and a drain that is only slow must not fail; one that never happens still does.
func eventually(
    timeout: Duration = .seconds(60), _ condition: @Sendable () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(5))
    }
    return try await condition()
}
