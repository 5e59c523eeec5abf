public import CandleCore
public import Foundation

/// A run of consecutive expected bars of one series: the unit in which `verify` reports missing bars and `repair`
/// fetches them.
///
/// "Consecutive" means consecutive in the trading calendar's expected bars, so a run may span a daily halt or a
/// weekend when every expected bar on both sides of it is missing.
public struct BarRange: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The start of the first bar.
    public var first: Date
    /// The start of the last bar.
    public var last: Date
    /// The number of expected bars in the run.
    public var bars: Int
    /// The bar length.
    public var timeframe: Timeframe

    /// Creates a run of `bars` expected bars from `first` to `last` (both bar starts).
    public init(first: Date, last: Date, bars: Int, timeframe: Timeframe) {
        self.first = first
        self.last = last
        self.bars = bars
        self.timeframe = timeframe
    }

    /// The end (exclusive) of the last bar: `last + timeframe`.
    public var end: Date { timeframe.barEnd(startingAt: last) }

    /// `[first, end)`: the instants the run covers, for a history request.
    public var interval: Range<Date> { first..<end }

    /// `2025-12-03 14:05 → 14:25 (5 bars)` (UTC; the date of the last bar is shown when it differs).
    public var description: String {
        let head = VerificationText.minute(first)
        let count = bars == 1 ? "1 bar" : "\(bars) bars"
        if bars == 1 && first == last { return "\(head) (\(count))" }
        let sameDay = VerificationText.day(first) == VerificationText.day(last)
        let tail = sameDay ? VerificationText.time(last) : VerificationText.minute(last)
        return "\(head) → \(tail) (\(count))"
    }
}

/// A bar start that holds more than one stored row in one series, e.g. two contracts' bars around a roll.
public struct DuplicateBar: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The bar start.
    public var start: Date
    /// The contract symbol of every row stored at ``start``, in the order the store returned them (a symbol appears
    /// twice when the store holds the same key twice).
    public var symbols: [String]

    /// Creates a duplicate entry.
    public init(start: Date, symbols: [String]) {
        self.start = start
        self.symbols = symbols
    }

    /// `2025-12-10 23:00 (NQZ5, NQH6)`.
    public var description: String {
        "\(VerificationText.minute(start)) (\(symbols.joined(separator: ", ")))"
    }
}

/// What `verify` found for one series over `[from, to)` at an instant `now`.
///
/// Only bars the trading calendar expects **and** that are over at `now` count as expected: a bar is over when its end,
/// or the close of the market inside it (a bar cut by a halt or an early close), is at or before `now`. So the bar
/// forming at `now` is never missing. The counts add up: ``expected`` = ``stored`` + ``missing`` + ``confirmedEmpty``.
public struct SeriesVerification: Sendable, Hashable {
    /// The series.
    public var series: Series
    /// Bars the calendar expects in `[from, to)` that are over at `now`.
    public var expected: Int
    /// Expected bars stored as final (distinct bar starts).
    public var stored: Int
    /// Missing bars as runs of consecutive expected bars, ascending.
    public var missingRanges: [BarRange]
    /// Bar starts (expected or not) holding more than one stored row.
    public var duplicates: [DuplicateBar]
    /// Expected, over bars stored only as forming (no final row). They are counted in ``missing`` too.
    public var nonFinal: [Date]
    /// Distinct stored bar starts the calendar does not expect (a bar in a halt, on a holiday, off the schedule).
    public var unexpected: [Date]
    /// Expected bars without a final row that the broker is known to have no trades for (from the confirmed-empty
    /// lookup); they are not missing.
    public var confirmedEmpty: Int
    /// Bars the calendar expects in `[from, to)` that are not over at `now` (forming or still ahead); not checked.
    public var notDue: Int
    /// Why the series could not be verified; when set, every count is zero and means nothing.
    public var failure: VerificationError?

    /// Creates a result. ``Verifier`` computes them; the initializer exists for tests and renderers.
    public init(
        series: Series, expected: Int = 0, stored: Int = 0, missingRanges: [BarRange] = [],
        duplicates: [DuplicateBar] = [], nonFinal: [Date] = [], unexpected: [Date] = [], confirmedEmpty: Int = 0,
        notDue: Int = 0, failure: VerificationError? = nil
    ) {
        self.series = series
        self.expected = expected
        self.stored = stored
        self.missingRanges = missingRanges
        self.duplicates = duplicates
        self.nonFinal = nonFinal
        self.unexpected = unexpected
        self.confirmedEmpty = confirmedEmpty
        self.notDue = notDue
        self.failure = failure
    }

    /// A series that could not be verified.
    public static func failed(_ series: Series, _ failure: VerificationError) -> SeriesVerification {
        SeriesVerification(series: series, failure: failure)
    }

    /// Expected bars with no final row and not confirmed empty: the sum of ``missingRanges``' bars.
    public var missing: Int { missingRanges.reduce(0) { $0 + $1.bars } }

    /// Whether the series was verified.
    public var isVerified: Bool { failure == nil }

    /// Verified, with nothing missing, no duplicates and no forming-only bars (unexpected bars do not count).
    public var isComplete: Bool { failure == nil && missing == 0 && duplicates.isEmpty && nonFinal.isEmpty }
}

/// Why a series could not be verified or repaired. The message includes the underlying error's text (never a password:
/// sink and source errors are already redacted).
public typealias VerificationError = TaggedDomainError<Verifier>

extension VerificationError.Code {
    /// The request itself is wrong (an empty range, no series).
    public static var invalidRequest: Self { Self("invalidRequest") }
    /// The stored bars could not be read (sink unreachable, file unreadable or corrupt).
    public static var storeUnavailable: Self { Self("storeUnavailable") }
    /// The confirmed-empty lookup failed.
    public static var confirmedEmptyFailed: Self { Self("confirmedEmptyFailed") }
    /// Repair: the candle source failed (after retries, for transient errors).
    public static var sourceFailed: Self { Self("sourceFailed") }
    /// Repair: the sink refused or failed the write.
    public static var writeFailed: Self { Self("writeFailed") }
}

/// UTC text for reports: `2025-12-03 14:05`.
enum VerificationText {
    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    private static func parts(_ date: Date) -> DateComponents {
        utc.dateComponents([.year, .month, .day, .hour, .minute], from: date)
    }

    /// `2025-12-03`.
    static func day(_ date: Date) -> String {
        let p = parts(date)
        return "\(pad(p.year ?? 0, 4))-\(pad(p.month ?? 0, 2))-\(pad(p.day ?? 0, 2))"
    }

    /// `14:05`.
    static func time(_ date: Date) -> String {
        let p = parts(date)
        return "\(pad(p.hour ?? 0, 2)):\(pad(p.minute ?? 0, 2))"
    }

    /// `2025-12-03 14:05`.
    static func minute(_ date: Date) -> String { "\(day(date)) \(time(date))" }

    /// `2025-12-03T14:05:00Z`.
    static func iso(_ date: Date) -> String { date.formatted(.iso8601) }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
