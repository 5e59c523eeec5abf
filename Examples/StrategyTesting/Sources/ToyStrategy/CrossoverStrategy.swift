import CandleCore
import Collectors
import Foundation

/// A trading decision.
public struct Signal: Sendable, Hashable {
    /// What to do.
    public enum Action: String, Sendable, Hashable { case buy, sell, flatten }
    /// What to do.
    public var action: Action
    /// The start of the closed bar that triggered it (or the instant the data went stale).
    public var at: Date
    /// The bar's close (0 for `flatten`).
    public var price: Double
}

/// A moving-average crossover on closed bars, fed by any `CandleSource` — Tradovate in production, a scripted source
/// in tests.
///
/// - It acts only on **closed** bars: a bar is closed when a newer bar arrives (the forming bar is re-sent with the
///   same start while it forms, as Tradovate does).
/// - Every closed bar is journaled to a `CandleSink`.
/// - If no bar arrives for `staleAfter` (by the injected clock) while a position is open, it flattens.
public actor CrossoverStrategy {
    private let fast: Int
    private let slow: Int
    private let staleAfter: TimeInterval
    private let clock: any WallClock
    private let journal: any CandleSink
    private var closes: [Double] = []
    private var forming: Candle?
    private var position = 0
    private var lastUpdate: Date?

    /// The signals so far, in order.
    public private(set) var signals: [Signal] = []

    /// A crossover of a `fast` and a `slow` simple moving average of closes.
    public init(fast: Int, slow: Int, staleAfter: TimeInterval, clock: any WallClock, journal: any CandleSink) {
        precondition(0 < fast && fast < slow, "fast must be shorter than slow")
        self.fast = fast
        self.slow = slow
        self.staleAfter = staleAfter
        self.clock = clock
        self.journal = journal
    }

    /// Trades `chart` until the stream ends or the task is cancelled.
    public func run(source: any CandleSource, chart: ChartKey) async throws {
        let updates = try await source.live(chart)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.watchStaleness() }
            for try await event in updates {
                if case .bar(let bar) = event { try await receive(bar) }
            }
            group.cancelAll()
        }
    }

    /// The current position: +1 long, -1 short, 0 flat.
    public var currentPosition: Int { position }

    private func receive(_ bar: Candle) async throws {
        lastUpdate = clock.now()
        if let previous = forming, bar.start > previous.start {
            var closed = previous
            closed.isFinal = true
            _ = try await journal.write([closed])
            decide(on: closed)
        }
        forming = bar
    }

    private func decide(on bar: Candle) {
        closes.append(bar.close)
        guard closes.count > slow else { return }
        let before = average(closes.dropLast(), fast) - average(closes.dropLast(), slow)
        let now = average(closes[...], fast) - average(closes[...], slow)
        if before <= 0, now > 0, position <= 0 {
            position = 1
            signals.append(Signal(action: .buy, at: bar.start, price: bar.close))
        } else if before >= 0, now < 0, position >= 0 {
            position = -1
            signals.append(Signal(action: .sell, at: bar.start, price: bar.close))
        }
    }

    private func watchStaleness() async throws {
        while !Task.isCancelled {
            try await clock.sleep(for: staleAfter / 4)
            if position != 0, let lastUpdate, clock.now().timeIntervalSince(lastUpdate) >= staleAfter {
                position = 0
                signals.append(Signal(action: .flatten, at: clock.now(), price: 0))
            }
        }
    }

    private func average(_ values: ArraySlice<Double>, _ count: Int) -> Double {
        values.suffix(count).reduce(0, +) / Double(count)
    }
}
