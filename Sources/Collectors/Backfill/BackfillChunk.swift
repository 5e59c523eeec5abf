public import CandleCore
public import Foundation

/// One history request of a backfill: the bars of one contract's chart whose start lies in ``range``.
///
/// A chunk never spans a contract roll: the backfill splits every range at the roll instants of its
/// ``Backfill/Configuration/contractCalendar``, so each chunk asks for the contract that is front month for all of it.
public struct BackfillChunk: Sendable, Hashable, CustomStringConvertible {
    /// The front-month contract × timeframe: the symbol every stored bar of the chunk carries.
    public var chart: ChartKey
    /// The chart asked of the source: ``chart`` itself, or the continuous `@ROOT` chart when the contract has expired
    /// and ``Backfill/ChartPolicy/continuousWhenExpired`` is in force (the bars are then stamped with ``chart``'s
    /// symbol).
    public var request: ChartKey
    /// The bar starts requested, `[lowerBound, upperBound)`, on whole seconds.
    public var range: Range<Date>

    /// Creates a chunk; `request` defaults to `chart`.
    public init(chart: ChartKey, range: Range<Date>, request: ChartKey? = nil) {
        self.chart = chart
        self.range = range
        self.request = request ?? chart
    }

    /// The series the chunk's bars belong to.
    public var series: Series { chart.series }

    /// `NQZ5 5min 2025-12-01T00:00:00Z..<2025-12-08T00:00:00Z` (`NQZ5 5min via @NQ …` for a continuous request).
    public var description: String {
        let via = request == chart ? "" : " via \(request.symbol)"
        return "\(chart)\(via) \(range.lowerBound.formatted(.iso8601))..<\(range.upperBound.formatted(.iso8601))"
    }

    var seconds: SecondsRange { SecondsRange(range) }
}

/// A half-open range of whole epoch seconds (the unit of plans and checkpoints, so JSON round trips are exact).
struct SecondsRange: Sendable, Hashable, Comparable, Codable {
    var lower: Int64
    var upper: Int64

    init(_ lower: Int64, _ upper: Int64) {
        self.lower = lower
        self.upper = upper
    }

    /// The range of `dates`, both bounds rounded up to whole seconds.
    init(_ dates: Range<Date>) {
        self.init(Self.seconds(dates.lowerBound), Self.seconds(dates.upperBound))
    }

    static func seconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.up)) }

    var isEmpty: Bool { lower >= upper }
    var dates: Range<Date> {
        Date(timeIntervalSince1970: TimeInterval(lower))..<Date(timeIntervalSince1970: TimeInterval(max(lower, upper)))
    }

    static func < (lhs: SecondsRange, rhs: SecondsRange) -> Bool { (lhs.lower, lhs.upper) < (rhs.lower, rhs.upper) }

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        lower = try container.decode(Int64.self)
        upper = try container.decode(Int64.self)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(lower)
        try container.encode(upper)
    }
}

/// Sorted, merged, non-overlapping ranges of seconds.
struct SecondsRangeSet: Sendable, Hashable {
    private(set) var ranges: [SecondsRange] = []

    init(_ ranges: [SecondsRange] = []) {
        for range in ranges { insert(range) }
    }

    /// Adds `range`, merging it with ranges it overlaps or touches.
    mutating func insert(_ range: SecondsRange) {
        guard !range.isEmpty else { return }
        var merged = range
        var result: [SecondsRange] = []
        result.reserveCapacity(ranges.count + 1)
        var placed = false
        for existing in ranges {
            if existing.upper < merged.lower {
                result.append(existing)
            } else if merged.upper < existing.lower {
                if !placed {
                    result.append(merged)
                    placed = true
                }
                result.append(existing)
            } else {
                merged = SecondsRange(min(merged.lower, existing.lower), max(merged.upper, existing.upper))
            }
        }
        if !placed { result.append(merged) }
        ranges = result
    }

    /// Whether every second of `range` is inside one stored range.
    func covers(_ range: SecondsRange) -> Bool {
        guard !range.isEmpty else { return true }
        return ranges.contains { $0.lower <= range.lower && range.upper <= $0.upper }
    }
}

extension Backfill {
    /// The chunks of `target`, in time order: its ranges merged, split at the contract rolls of `contractCalendar`,
    /// then into spans of `chunkSize`. With ``ChartPolicy/continuousWhenExpired``, chunks of contracts whose last trade
    /// is at or before `now` request the continuous `@ROOT` chart.
    public static func chunks(
        of target: Target, chunkSize: ChunkSize, contractCalendar: ContractCalendar = .standard,
        charts: ChartPolicy = .contract, now: Date = .distantPast
    ) -> [BackfillChunk] {
        let series = target.series
        let span = max(1, chunkSize.seconds(for: series.timeframe))
        var result: [BackfillChunk] = []
        for range in SecondsRangeSet(target.ranges.map(SecondsRange.init)).ranges {
            let dates = range.dates
            for period in contractCalendar.frontMonths(
                series.instrument, from: dates.lowerBound, to: dates.upperBound)
            {
                let chart = ChartKey(
                    contract: period.contract, instrument: series.instrument, timeframe: series.timeframe)
                let expired = contractCalendar.lastTrade(of: period.contract) <= now
                let request =
                    charts == .continuousWhenExpired && expired
                    ? ChartKey(
                        symbol: "@" + series.instrument.root, instrument: series.instrument, timeframe: series.timeframe
                    )
                    : chart
                let periodRange = SecondsRange(period.interval.start..<period.interval.end)
                var lower = periodRange.lower
                while lower < periodRange.upper {
                    let upper = min(lower + span, periodRange.upper)
                    result.append(
                        BackfillChunk(chart: chart, range: SecondsRange(lower, upper).dates, request: request))
                    lower = upper
                }
            }
        }
        return result
    }
}
