public import CandleCore
public import Foundation

extension Collector {
    /// Counters of one series since the collector started.
    public struct SeriesStatistics: Sendable, Hashable {
        /// Final bars the sink stored or changed (inserted, updated or buffered; not "unchanged").
        public var barsWritten = 0
        /// Forming bars written with `isFinal = false` (``Configuration/writeProvisional``).
        public var provisionalWrites = 0
        /// The start of the latest final bar written.
        public var lastBarStart: Date?
        /// Wall-clock instant of the latest acknowledged write.
        public var lastWriteTime: Date?
        /// Final bars replaced by a different final bar (late corrections).
        public var revisions = 0
        /// Heal passes run for this series.
        public var healsRun = 0
        /// Expected closed bars found missing from the sink (summed over heals).
        public var missingFound = 0
        /// Missing bars filled from history.
        public var missingFilled = 0
        /// Starts recorded as confirmed empty in the ledger.
        public var confirmedEmpty = 0
        /// Broker bars that differ from the bar built from the base timeframe.
        public var derivedMismatches = 0
        /// Bars fetched from history at their close because the live feed had not delivered them complete
        /// (``Configuration/closeGrace``).
        public var barsRecovered = 0
        /// Bars in a row that had to be fetched while the live feed sent nothing for them (reset by any update).
        public var quietBars = 0
        /// Times this series' chart was subscribed again because it had gone quiet.
        public var resubscriptions = 0
        /// Failures (source, sink, ledger) counted for this series.
        public var errors = 0
        /// The latest failure's text.
        public var lastError: String?

        /// Creates zeroed counters.
        public init() {}
    }

    /// A snapshot of the collector's counters.
    public struct Statistics: Sendable, Hashable {
        /// Per-series counters.
        public var series: [Series: SeriesStatistics] = [:]
        /// Median latency from bar end to acknowledged sink write, seconds of wall clock (recent samples).
        public var latencyP50: TimeInterval?
        /// 99th-percentile latency from bar end to acknowledged sink write, seconds.
        public var latencyP99: TimeInterval?
        /// Latency samples behind the percentiles.
        public var latencySamples = 0
        /// Derived-bar mismatches over all series.
        public var derivedMismatches = 0
        /// Broker bars compared with the bar built from the base timeframe.
        public var derivedChecks = 0
        /// Times the source went from all subscriptions up to some interrupted.
        public var sourceInterruptions = 0
        /// Live events handled (bar updates, interruptions, resumptions).
        public var liveEvents = 0
        /// History requests made (each attempt counts).
        public var historyRequests = 0
        /// History attempts retried after a transient failure.
        public var historyRetries = 0
        /// Heal passes (over all series) completed.
        public var healPasses = 0
        /// Cron firings handled (``Mode/cron(_:timeZone:)``).
        public var cronFirings = 0

        /// Creates an empty snapshot.
        public init() {}

        /// Final bars written over all series.
        public var barsWritten: Int { series.values.reduce(0) { $0 + $1.barsWritten } }
        /// Failures over all series.
        public var errors: Int { series.values.reduce(0) { $0 + $1.errors } }
        /// Revisions over all series.
        public var revisions: Int { series.values.reduce(0) { $0 + $1.revisions } }
        /// Confirmed-empty starts recorded over all series.
        public var confirmedEmpty: Int { series.values.reduce(0) { $0 + $1.confirmedEmpty } }
        /// Bars recovered at their close over all series.
        public var barsRecovered: Int { series.values.reduce(0) { $0 + $1.barsRecovered } }
        /// Quiet-chart resubscriptions over all series.
        public var resubscriptions: Int { series.values.reduce(0) { $0 + $1.resubscriptions } }
        /// ``Configuration/quietChartBars`` of the collector that made this snapshot.
        public internal(set) var quietChartBars = 3
        /// The series whose live chart is quiet right now (at least ``Configuration/quietChartBars`` bars in a row
        /// recovered from history with nothing live), sorted.
        public var quietSeries: [Series] {
            series.filter { $0.value.quietBars >= quietChartBars }.map(\.key).sorted()
        }
    }
}

/// What the collector did, for a status line per bar (the CLI) or a test.
public enum CollectorEvent: Sendable, Hashable {
    /// A bar was acknowledged by the sink. `latency` is bar end → acknowledgement (wall clock) for final bars.
    case barWritten(series: Series, symbol: String, start: Date, isFinal: Bool, latency: TimeInterval?)
    /// A stored final bar was replaced by a different final bar.
    case revision(series: Series, symbol: String, start: Date)
    /// A heal of `series` began; `missing` closed bars are absent from the sink.
    case healStarted(series: Series, missing: Int)
    /// A heal of `series` ended.
    case healFinished(series: Series, filled: Int, confirmedEmpty: Int, revisions: Int)
    /// A broker bar differs from the bar built from the base timeframe (logged and counted, not written).
    case derivedMismatch(series: Series, symbol: String, start: Date, detail: String)
    /// A bar the live feed had not delivered complete was fetched from history at its close and written.
    case barRecovered(series: Series, symbol: String, start: Date, latency: TimeInterval)
    /// A chart that had gone quiet was subscribed again.
    case resubscribed(series: Series, symbol: String, quietBars: Int)
    /// The source lost its connection (the first subscription to report it).
    case sourceInterrupted(reason: String)
    /// Every subscription is live again.
    case sourceResumed
    /// A failure; the series goes on.
    case error(series: Series?, message: String)
}

/// The most recent latency samples and their percentiles (nearest rank).
struct LatencyRecorder: Sendable {
    private var samples: [TimeInterval] = []
    private var next = 0
    let limit: Int

    init(limit: Int) { self.limit = limit }

    var count: Int { samples.count }

    mutating func record(_ value: TimeInterval) {
        if samples.count < limit {
            samples.append(value)
        } else {
            samples[next] = value
            next = (next + 1) % limit
        }
    }

    func percentile(_ p: Double) -> TimeInterval? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}
