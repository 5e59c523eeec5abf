import CandleCore
public import Foundation

/// The result of `Verifier.verify(_:from:to:now:)`: one ``SeriesVerification`` per series over `[from, to)` as of
/// `now`, and the exit code `orca-run verify` returns.
public struct VerificationReport: Sendable, Hashable {
    /// The start of the checked range (inclusive).
    public var from: Date
    /// The end of the checked range (exclusive).
    public var to: Date
    /// The instant the check was made for: bars not over at `now` are not expected yet.
    public var now: Date
    /// Where the bars were read from (``StoredCandleReader/name``).
    public var store: String
    /// One result per series, in the order asked for.
    public var series: [SeriesVerification]

    /// Creates a report.
    public init(from: Date, to: Date, now: Date, store: String, series: [SeriesVerification]) {
        self.from = from
        self.to = to
        self.now = now
        self.store = store
        self.series = series
    }

    /// Every series was verified and is complete (nothing missing, no duplicates, no forming-only bars).
    public var isComplete: Bool { series.allSatisfy(\.isComplete) }

    /// Whether any series could not be verified.
    public var hasFailures: Bool { series.contains { !$0.isVerified } }

    /// The exit code of `orca-run verify`: 0 complete; 1 something missing, duplicated or only forming;
    /// 2 a series could not be verified (this wins over 1: the answer is not known).
    public var exitCode: Int32 {
        if hasFailures { return 2 }
        return isComplete ? 0 : 1
    }

    /// Sums over every verified series.
    public var totals: Totals {
        var totals = Totals()
        for result in series where result.isVerified {
            totals.expected += result.expected
            totals.stored += result.stored
            totals.missing += result.missing
            totals.duplicates += result.duplicates.count
            totals.nonFinal += result.nonFinal.count
            totals.unexpected += result.unexpected.count
            totals.confirmedEmpty += result.confirmedEmpty
        }
        return totals
    }

    /// Counts summed over series.
    public struct Totals: Sendable, Hashable, Codable {
        /// Expected bars that are over.
        public var expected = 0
        /// Of those, stored as final.
        public var stored = 0
        /// Missing bars.
        public var missing = 0
        /// Bar starts with more than one row.
        public var duplicates = 0
        /// Expected bars stored only as forming.
        public var nonFinal = 0
        /// Stored bar starts the calendar does not expect.
        public var unexpected = 0
        /// Expected bars the broker has no trades for.
        public var confirmedEmpty = 0

        /// Zero counts.
        public init() {}
    }
}
