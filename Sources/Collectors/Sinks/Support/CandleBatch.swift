package import CandleCore
import Foundation

/// A bar's identity inside one series: the contract symbol and the bar start in whole UTC seconds since 1970.
package struct BarKey: Hashable, Sendable, Comparable {
    package var symbol: String
    package var start: Int64

    package init(symbol: String, start: Int64) {
        self.symbol = symbol
        self.start = start
    }

    package init(_ candle: Candle) {
        self.init(symbol: candle.symbol, start: Int64(candle.start.timeIntervalSince1970))
    }

    /// Orders by start, then symbol: the order queries return.
    package static func < (lhs: BarKey, rhs: BarKey) -> Bool {
        (lhs.start, lhs.symbol) < (rhs.start, rhs.symbol)
    }
}

/// Everything about a stored bar except its identity; what the upsert rule compares.
package struct BarValues: Hashable, Sendable {
    package var open: Double
    package var high: Double
    package var low: Double
    package var close: Double
    package var upVolume: Int64
    package var downVolume: Int64
    package var upTicks: Int64
    package var downTicks: Int64
    package var bidVolume: Int64?
    package var offerVolume: Int64?
    package var isFinal: Bool
}

extension BarValues {
    /// The values of `candle` (an extension, so the memberwise initializer stays).
    package init(_ candle: Candle) {
        self.init(
            open: candle.open, high: candle.high, low: candle.low, close: candle.close, upVolume: candle.upVolume,
            downVolume: candle.downVolume, upTicks: candle.upTicks, downTicks: candle.downTicks,
            bidVolume: candle.bidVolume, offerVolume: candle.offerVolume, isFinal: candle.isFinal)
    }

    /// The candle with this key and these values in `series`.
    package func candle(_ key: BarKey, in series: Series) -> Candle {
        Candle(
            symbol: key.symbol, instrument: series.instrument, timeframe: series.timeframe,
            start: Date(timeIntervalSince1970: TimeInterval(key.start)), open: open, high: high, low: low, close: close,
            upVolume: upVolume, downVolume: downVolume, upTicks: upTicks, downTicks: downTicks, bidVolume: bidVolume,
            offerVolume: offerVolume, isFinal: isFinal)
    }
}

/// What a write did to one key.
package enum UpsertOutcome: Sendable {
    case inserted, updated, unchanged
}

/// The upsert rule every backend applies (PostgreSQL expresses the same rule in SQL).
package enum UpsertRule {
    /// The outcome of writing `incoming` over `stored`: insert a new key; keep a final bar against a forming one;
    /// otherwise update only when a value differs.
    package static func outcome(stored: BarValues?, incoming: BarValues) -> UpsertOutcome {
        guard let stored else { return .inserted }
        if stored.isFinal && !incoming.isFinal { return .unchanged }
        return stored == incoming ? .unchanged : .updated
    }

    /// Two versions of one key in the same batch, `later` written after `earlier`: the one that survives.
    package static func merge(earlier: Candle, later: Candle) -> Candle {
        earlier.isFinal && !later.isFinal ? earlier : later
    }

    /// Adds one outcome to a report.
    package static func count(_ outcome: UpsertOutcome, into report: inout CandleWriteReport) {
        switch outcome {
        case .inserted: report.inserted += 1
        case .updated: report.updated += 1
        case .unchanged: report.unchanged += 1
        }
    }
}

/// Storage identity of a series: instrument root and bar length. (Two `Instrument` values with the same root are
/// one series, as they are one table in the seed schema.)
package struct SeriesID: Hashable, Sendable {
    package var root: String
    package var minutes: Int

    package init(_ series: Series) {
        self.root = series.instrument.root
        self.minutes = series.timeframe.minutes
    }
}

/// Checks candles with ``Candle/validate()``, remembering which (symbol, root) pairs were already accepted so the
/// contract-symbol parse runs once per symbol rather than once per candle.
package struct CandleValidator {
    private struct SymbolOfRoot: Hashable {
        var symbol: String
        var root: String
    }

    private var knownSymbols: Set<SymbolOfRoot> = []
    private var lastSymbol: SymbolOfRoot?

    package mutating func validate(_ candle: Candle) throws(CandleSinkError) {
        // Every check but the symbol one, on a copy whose symbol is the bare root (always accepted).
        var probe = candle
        probe.symbol = candle.instrument.root
        if (try? probe.validate()) == nil {
            try Self.fullyValidate(candle)
        }
        if let lastSymbol, lastSymbol.symbol == candle.symbol, lastSymbol.root == candle.instrument.root {
            return
        }
        let pair = SymbolOfRoot(symbol: candle.symbol, root: candle.instrument.root)
        if !knownSymbols.contains(pair) {
            try Self.fullyValidate(candle)
            knownSymbols.insert(pair)
        }
        lastSymbol = pair
    }

    private static func fullyValidate(_ candle: Candle) throws(CandleSinkError) {
        do {
            try candle.validate()
        } catch {
            throw CandleSinkError(
                .invalidCandle, series: candle.series, "batch refused, nothing written", underlying: error)
        }
    }
}

/// A validated batch: candles grouped by series in order of first appearance, one candle per key (duplicates merged
/// with ``UpsertRule/merge(earlier:later:)``), each group in batch order.
package struct CandleBatch: Sendable {
    package struct Group: Sendable {
        package var series: Series
        package var candles: [Candle]
    }

    package private(set) var groups: [Group] = []
    /// Distinct keys in the batch.
    package private(set) var count = 0

    package var isEmpty: Bool { count == 0 }

    /// Every candle, group after group.
    package var candles: [Candle] { groups.flatMap(\.candles) }

    /// Validates every candle (and applies `check`, a backend's storage limits), then groups and de-duplicates.
    /// - Throws: `invalidCandle` for the first bad candle.
    package init(
        validating candles: [Candle], check: ((Candle) throws(CandleSinkError) -> Void)? = nil
    ) throws(CandleSinkError) {
        var validator = CandleValidator()
        // The usual shape — one series, one contract, starts strictly ascending — needs no copy and no index.
        var simple = true
        var previous: Candle?
        for candle in candles {
            try validator.validate(candle)
            try check?(candle)
            if simple, let previous {
                simple =
                    candle.symbol == previous.symbol && candle.start > previous.start
                    && candle.timeframe == previous.timeframe && candle.instrument.root == previous.instrument.root
            }
            previous = candle
        }
        if simple {
            if let first = candles.first {
                self.groups = [Group(series: first.series, candles: candles)]
                self.count = candles.count
            }
            return
        }
        var builders: [GroupBuilder] = []
        var indexOfSeries: [SeriesID: Int] = [:]
        var lastRoot = ""
        var lastMinutes = -1
        var lastIndex = -1
        for candle in candles {
            if candle.timeframe.minutes != lastMinutes || candle.instrument.root != lastRoot {
                let id = SeriesID(candle.series)
                if let index = indexOfSeries[id] {
                    lastIndex = index
                } else {
                    lastIndex = builders.count
                    indexOfSeries[id] = lastIndex
                    builders.append(GroupBuilder(series: candle.series))
                }
                lastRoot = candle.instrument.root
                lastMinutes = candle.timeframe.minutes
            }
            builders[lastIndex].add(candle)
        }
        self.groups = builders.map { Group(series: $0.series, candles: $0.candles) }
        self.count = builders.reduce(0) { $0 + $1.candles.count }
    }

    /// Collects one series' candles; skips the duplicate check while keys arrive strictly ascending for one symbol
    /// (the usual shape of a batch) and builds a key index only when they do not.
    private struct GroupBuilder {
        let series: Series
        var candles: [Candle] = []
        private var index: [BarKey: Int]?
        private var lastSymbol = ""
        private var lastStart = Int64.min

        init(series: Series) {
            self.series = series
        }

        mutating func add(_ candle: Candle) {
            let key = BarKey(candle)
            if index == nil {
                if candles.isEmpty || (key.symbol == lastSymbol && key.start > lastStart) {
                    candles.append(candle)
                    lastSymbol = key.symbol
                    lastStart = key.start
                    return
                }
                var built: [BarKey: Int] = [:]
                built.reserveCapacity(candles.count * 2)
                for (position, existing) in candles.enumerated() {
                    built[BarKey(existing)] = position
                }
                index = built
            }
            if let position = index?[key] {
                candles[position] = UpsertRule.merge(earlier: candles[position], later: candle)
            } else {
                index?[key] = candles.count
                candles.append(candle)
            }
        }
    }
}
