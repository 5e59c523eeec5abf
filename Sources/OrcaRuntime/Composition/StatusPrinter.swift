public import CandleCore
public import Collectors
public import Foundation

/// What `orca-run run` prints while it collects: a compact line per live bar written and per heal, or — on a
/// terminal — a table of every series refreshed in place.
public struct StatusPrinter: Sendable {
    /// How to print.
    public enum Style: String, Sendable, CaseIterable {
        /// `table` on a terminal, else `lines`.
        case auto
        /// One line per live bar and per heal.
        case lines
        /// A table of every series, redrawn in place (ANSI).
        case table
        /// Nothing.
        case none
    }

    /// Per-series figures for the table.
    public struct Row: Sendable, Hashable {
        /// Final bars written.
        public var bars = 0
        /// The latest bar's start and contract.
        public var lastStart: Date?
        /// The latest bar's contract.
        public var symbol: String?
        /// Bar end → written, for the latest live bar.
        public var latency: TimeInterval?
    }

    /// The style in use (never `auto`).
    public let style: Style
    private let series: [Series]

    /// A printer for `series`; `auto` resolves with `isTerminal`.
    public init(style: Style, series: [Series], isTerminal: Bool) {
        self.style = style == .auto ? (isTerminal ? .table : .lines) : style
        self.series = series
    }

    /// Prints `events` in ``style`` until the stream finishes: a line per event, or the table redrawn in place at most
    /// every `redrawInterval` of `realClock` time (with `marketClock` naming the market time in its header).
    ///
    /// - Parameters:
    ///   - marketClock: market time, shown in the table header and in each line.
    ///   - realClock: real time, for throttling the redraw (default: the system clock).
    ///   - events: the collector's events (the stream ends the printing).
    ///   - redrawInterval: the least real time between two redraws of the table (default 0.5 s).
    ///   - write: where the text goes (default: standard output).
    public func print(
        _ events: AsyncStream<CollectorEvent>, marketClock: any WallClock, realClock: any WallClock = SystemWallClock(),
        redrawInterval: Duration = .milliseconds(500),
        write: @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data($0.utf8)) }
    ) async {
        switch style {
        case .none, .auto:
            for await _ in events {}
        case .lines:
            for await event in events {
                if let line = Self.line(for: event, now: marketClock.now()) { write(line + "\n") }
            }
        case .table:
            var rows: [Series: Row] = [:]
            var drawn = 0
            var lastDraw = Date.distantPast
            for await event in events {
                Self.apply(event, to: &rows)
                let now = realClock.now()
                guard now.timeIntervalSince(lastDraw) >= redrawInterval.timeInterval else { continue }
                lastDraw = now
                let lines = table(rows, marketTime: marketClock.now())
                var text = drawn > 0 ? "\u{1B}[\(drawn)A" : ""
                text += lines.map { "\u{1B}[2K" + $0 }.joined(separator: "\n") + "\n"
                write(text)
                drawn = lines.count
            }
        }
    }

    /// The line printed for `event`, or `nil` (bars written by a heal are summarised by its `healFinished`).
    public static func line(for event: CollectorEvent, now: Date) -> String? {
        let time = timeOfDay(now)
        switch event {
        case .barWritten(let series, let symbol, let start, let isFinal, let latency):
            guard let latency else { return nil }
            let kind = isFinal ? "bar" : "forming"
            return "\(time) \(pad(series.description, 10)) \(pad(symbol, 6)) \(kind) \(utcMinute(start)) written "
                + String(format: "%.2f s after close", latency)
        case .healStarted(let series, let missing):
            return missing == 0 ? nil : "\(time) \(pad(series.description, 10)) healing \(missing) missing bars"
        case .healFinished(let series, let filled, let empty, let revisions):
            guard filled + empty + revisions > 0 else { return nil }
            return "\(time) \(pad(series.description, 10)) healed: \(filled) bars written, \(empty) confirmed empty, "
                + "\(revisions) revised"
        case .revision(let series, let symbol, let start):
            return "\(time) \(pad(series.description, 10)) \(pad(symbol, 6)) bar \(utcMinute(start)) revised"
        case .derivedMismatch(let series, let symbol, let start, let detail):
            return "\(time) \(pad(series.description, 10)) \(pad(symbol, 6)) bar \(utcMinute(start)) differs from "
                + "its aggregate: \(detail)"
        case .sourceInterrupted(let reason):
            return "\(time) market data interrupted: \(reason)"
        case .sourceResumed:
            return "\(time) market data resumed; healing the gap"
        case .barRecovered:
            return nil  // its barWritten line says it all
        case .resubscribed(let series, let symbol, let quietBars):
            return "\(time) \(pad(series.description, 10)) \(pad(symbol, 6)) chart quiet for \(quietBars) bars "
                + "(fetched from history): subscribed again"
        case .error(let series, let message):
            return "\(time) \(series.map { pad($0.description, 10) + " " } ?? "")error: \(message)"
        }
    }

    /// Folds `event` into the table's rows.
    public static func apply(_ event: CollectorEvent, to rows: inout [Series: Row]) {
        guard case .barWritten(let series, let symbol, let start, let isFinal, let latency) = event, isFinal else {
            return
        }
        var row = rows[series] ?? Row()
        row.bars += 1
        if row.lastStart.map({ start >= $0 }) ?? true {
            row.lastStart = start
            row.symbol = symbol
        }
        if let latency { row.latency = latency }
        rows[series] = row
    }

    /// The table for `rows`, one line per configured series, with a header naming the market time.
    public func table(_ rows: [Series: Row], marketTime: Date) -> [String] {
        var lines = ["market time \(utcMinute(marketTime))   series      contract  bars     latest bar         latency"]
        for series in series {
            let row = rows[series] ?? Row()
            let latency = row.latency.map { String(format: "%.2f s", $0) } ?? "–"
            lines.append(
                "                          \(Self.pad(series.description, 11)) \(Self.pad(row.symbol ?? "–", 9)) "
                    + "\(Self.pad(String(row.bars), 8)) \(Self.pad(row.lastStart.map(utcMinute) ?? "–", 18)) \(latency)"
            )
        }
        return lines
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    private static func timeOfDay(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let day = ((seconds % 86_400) + 86_400) % 86_400
        return String(format: "%02d:%02d:%02d", day / 3_600, day % 3_600 / 60, day % 60)
    }
}

/// `2026-11-27 14:30Z`.
private func utcMinute(_ date: Date) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
    return String(
        format: "%04d-%02d-%02d %02d:%02dZ", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0,
        parts.minute ?? 0)
}
