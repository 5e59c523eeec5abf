import ArgumentParser
import CandleCore
import Foundation
import OrcaRuntime

/// An ISO-8601 instant given on the command line (`2026-03-08T22:00:00Z`, or a bare date `2026-03-08` = 00:00 UTC).
struct InstantArgument: ExpressibleByArgument {
    let date: Date

    init?(argument: String) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: argument) {
            self.date = date
            return
        }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: argument) {
            self.date = date
            return
        }
        guard let day = try? CalendarDay(parsing: argument) else { return nil }
        self.date = day.instant(hour: 0, minute: 0, in: .gmt)
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// A duration option in the configuration's syntax (`45s`, `5m`, `1h30m`, `250ms`, or plain seconds `45`, `1.5`).
struct DurationArgument: ExpressibleByArgument, Sendable {
    let duration: Duration

    init(_ duration: Duration) { self.duration = duration }

    init?(argument: String) {
        guard let duration = DurationText.parse(argument) else { return nil }
        self.duration = duration
    }

    var defaultValueDescription: String { DurationText.format(duration) }
}

/// A timeframe option (`5`, `5m`, `15min`, `1h` …).
struct TimeframeArgument: ExpressibleByArgument {
    let timeframe: Timeframe

    init?(argument: String) {
        guard let timeframe = Timeframe(argument) else { return nil }
        self.timeframe = timeframe
    }

    var defaultValueDescription: String { timeframe.label }
}

/// Argument helpers shared by the commands.
enum Show {
    /// `TerminalText.instant(_:)`.
    static func instant(_ date: Date) -> String { TerminalText.instant(date) }

    /// The instruments named on the command line (all built-in ones when none is named).
    static func instruments(_ roots: [String]) throws -> [Instrument] {
        if roots.isEmpty { return Instrument.builtIns }
        return try roots.map { root in
            do { return try Instrument.named(root) } catch { throw ValidationError(String(describing: error)) }
        }
    }
}
