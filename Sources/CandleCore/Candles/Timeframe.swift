public import Foundation

/// A bar length of N whole minutes, 1…1440.
///
/// Bars are anchored to the UTC epoch grid: a bar of N minutes starts at an instant whose seconds since
/// 1970-01-01T00:00:00Z are a multiple of N × 60. For every N that divides 60 (and for 60 itself) this is the wall-clock
/// grid in every whole-hour time zone, so New York's 18:00 session open and 17:00 halt fall on bar boundaries.
///
/// `Timeframe` parses the spellings users bring from the old system (`5`, `5m`, `5min`, `15min`, `1h`, `60`, `1hour`) and
/// renders the seed tables' labels (`5min`, `15min`, `30min`, `1hour`).
public struct Timeframe: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// The bar length in minutes.
    public let minutes: Int

    /// The range of supported lengths.
    public static let supportedMinutes: ClosedRange<Int> = 1...1440

    /// Creates a timeframe of `minutes` minutes.
    ///
    /// - Throws: ``TimeframeError`` when `minutes` is outside 1…1440.
    public init(minutes: Int) throws(TimeframeError) {
        guard Timeframe.supportedMinutes.contains(minutes) else {
            throw TimeframeError(.outOfRange, "timeframe of \(minutes) minutes is outside 1…1440")
        }
        self.minutes = minutes
    }

    private init(unchecked minutes: Int) { self.minutes = minutes }

    /// 1-minute bars.
    public static let oneMinute = Timeframe(unchecked: 1)
    /// 5-minute bars.
    public static let fiveMinutes = Timeframe(unchecked: 5)
    /// 15-minute bars.
    public static let fifteenMinutes = Timeframe(unchecked: 15)
    /// 30-minute bars.
    public static let thirtyMinutes = Timeframe(unchecked: 30)
    /// 60-minute bars (labelled `1hour` in the seed schema).
    public static let oneHour = Timeframe(unchecked: 60)
    /// The old system's four timeframes: 5, 15, 30 and 60 minutes.
    public static let seedDefaults: [Timeframe] = [.fiveMinutes, .fifteenMinutes, .thirtyMinutes, .oneHour]

    /// Parses `5`, `5m`, `5min`, `5mins`, `5minute(s)`, `1h`, `1hr`, `1hour(s)`, `1d`/`1day` (= 1440), case-insensitive,
    /// surrounding spaces ignored.
    ///
    /// - Throws: ``TimeframeError`` naming the text and the accepted forms.
    public init(parsing text: String) throws(TimeframeError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
        guard !digits.isEmpty, digits.count <= 5, let count = Int(digits) else {
            throw TimeframeError(
                .unparsable,
                "cannot read timeframe '\(text)': use minutes like 5, 5m, 5min, 15min or hours like 1h, 1hour")
        }
        let multiplier: Int
        switch unit {
        case "", "m", "min", "mins", "minute", "minutes": multiplier = 1
        case "h", "hr", "hrs", "hour", "hours": multiplier = 60
        case "d", "day", "days": multiplier = 1440
        default:
            throw TimeframeError(
                .unparsable,
                "cannot read timeframe '\(text)': unknown unit '\(unit)' (use m/min, h/hour or d/day)")
        }
        try self.init(minutes: count * multiplier)
    }

    /// The bar length in seconds.
    public var seconds: Int { minutes * 60 }

    /// The bar length as a `TimeInterval`.
    public var duration: TimeInterval { TimeInterval(seconds) }

    /// The seed schema's table label: `5min`, `15min`, `30min`, `1hour`; whole hours render as `<n>hour`, and other
    /// lengths as `<n>min`.
    public var label: String {
        if minutes % 60 == 0 { return "\(minutes / 60)hour" }
        return "\(minutes)min"
    }

    public var description: String { label }

    /// The start of the bar that contains `instant`.
    public func barStart(containing instant: Date) -> Date {
        let t = instant.timeIntervalSince1970
        let floored = (t / duration).rounded(.down) * duration
        return Date(timeIntervalSince1970: floored)
    }

    /// Whether `instant` is exactly a bar boundary of this timeframe.
    public func isAligned(_ instant: Date) -> Bool {
        let t = instant.timeIntervalSince1970
        return t == (t / duration).rounded(.down) * duration
    }

    /// The first bar boundary strictly after `instant`.
    public func nextBoundary(after instant: Date) -> Date {
        barStart(containing: instant).addingTimeInterval(duration)
    }

    /// The last bar boundary strictly before `instant`.
    public func previousBoundary(before instant: Date) -> Date {
        let start = barStart(containing: instant)
        return start < instant ? start : start.addingTimeInterval(-duration)
    }

    /// The end (exclusive) of the bar that starts at `barStart`.
    public func barEnd(startingAt barStart: Date) -> Date { barStart.addingTimeInterval(duration) }

    /// Whether bars of `other` can be built from whole bars of this timeframe (other is a multiple of self).
    public func divides(_ other: Timeframe) -> Bool { other.minutes % minutes == 0 }

    public static func < (lhs: Timeframe, rhs: Timeframe) -> Bool { lhs.minutes < rhs.minutes }

    // Codable as the plain minute count, validated.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let minutes = try? container.decode(Int.self) {
            try self.init(minutes: minutes)
        } else {
            try self.init(parsing: container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(minutes)
    }
}

extension Timeframe: LosslessStringConvertible {
    /// Parses like ``init(parsing:)``, returning `nil` on failure.
    public init?(_ description: String) {
        guard let parsed = try? Timeframe(parsing: description) else { return nil }
        self = parsed
    }
}

/// A timeframe that cannot be parsed or is out of range.
public typealias TimeframeError = DomainError<Timeframe>

extension TimeframeError.Code {
    /// The text is not a number with an optional unit.
    public static var unparsable: Self { Self("unparsable") }
    /// The length is outside 1…1440 minutes.
    public static var outOfRange: Self { Self("outOfRange") }
}
