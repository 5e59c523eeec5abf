public import CandleCore
public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns a ``BackfillProgress`` into text: a pure function of the progress, the terminal flag and the width.
///
/// - On a terminal: one line that redraws itself — a carriage return, then
///   `[#####.....] 52% 110/212 chunks 1.2M bars 85k bars/s ETA 0:42`, padded with spaces to the width so a shorter
///   line erases a longer one; the final line ends with a newline.
/// - Otherwise (a log file, a pipe): one plain line per call, ending with a newline:
///   `backfill 52% 110/212 chunks, 1.2M bars, 85k bars/s, ETA 0:42, 1 failed`.
public struct BackfillProgressRenderer: Sendable, Hashable {
    /// Whether the output is a terminal.
    public var isTerminal: Bool
    /// The terminal's width in columns (the line never exceeds `width − 1`).
    public var width: Int

    /// Creates a renderer.
    public init(isTerminal: Bool, width: Int = 80) {
        self.isTerminal = isTerminal
        self.width = max(20, width)
    }

    /// The text to write for `progress`.
    public func render(_ progress: BackfillProgress) -> String {
        let percent = "\(Int((progress.fractionDone * 100).rounded(.down)))%"
        let chunks = "\(progress.chunksFinished)/\(progress.chunksTotal) chunks"
        let bars = "\(Self.count(progress.barsStored)) bars"
        let rate = progress.barsPerSecond.map { "\(Self.count(Int($0.rounded()))) bars/s" } ?? "- bars/s"
        let eta: String
        if progress.isFinished {
            eta = "in \(Self.duration(progress.elapsed))"
        } else {
            eta = "ETA " + (progress.eta.map(Self.duration) ?? "-")
        }
        let failed = progress.chunksFailed > 0 ? "\(progress.chunksFailed) failed" : nil
        guard isTerminal else {
            return "backfill "
                + ([percent + " " + chunks, bars, rate, eta] + [failed].compactMap { $0 })
                .joined(separator: ", ") + "\n"
        }
        let tail = ([percent, chunks, bars, rate, eta] + [failed].compactMap { $0 }).joined(separator: " ")
        let limit = width - 1
        let barWidth = min(40, limit - tail.count - 3)
        var line: String
        if barWidth >= 5 {
            let filled = min(barWidth, Int((progress.fractionDone * Double(barWidth)).rounded(.down)))
            line =
                "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled) + "] "
                + tail
        } else {
            line = tail
        }
        if line.count > limit { line = String(line.prefix(limit)) }
        line += String(repeating: " ", count: limit - line.count)
        return "\r" + line + (progress.isFinished ? "\n" : "")
    }

    /// `999`, `1.2k`, `85k`, `1.2M`, `12M`.
    public static func count(_ value: Int) -> String {
        let magnitude = abs(value)
        func scaled(_ divisor: Double, _ suffix: String) -> String {
            let number = Double(value) / divisor
            if abs(number) < 9.95 { return String(format: "%.1f", number) + suffix }
            return "\(Int(number.rounded()))" + suffix
        }
        if magnitude < 1_000 { return "\(value)" }
        if magnitude < 999_500 { return scaled(1_000, "k") }
        if magnitude < 999_500_000 { return scaled(1_000_000, "M") }
        return scaled(1_000_000_000, "G")
    }

    /// `0:42`, `12:05`, `1:02:03` (seconds rounded up; negative counts as 0).
    public static func duration(_ seconds: TimeInterval) -> String {
        let total = seconds.isFinite ? max(0, Int(seconds.rounded(.up))) : 0
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
        let twoDigits = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        if hours > 0 { return "\(hours):\(twoDigits(minutes)):\(twoDigits(secs))" }
        return "\(minutes):\(twoDigits(secs))"
    }
}

/// Writes rendered progress to an output (standard error by default), throttled: on a terminal at most every
/// `terminalInterval` (default 0.2 s), otherwise every `plainInterval` (default 5 s); the first and the final
/// progress are always written.
///
/// ```swift
/// let writer = BackfillProgressWriter()              // stderr; terminal and width detected
/// let summary = try await backfill.run(progress: writer.update)
/// writer.write(summary.table())
/// ```
public final class BackfillProgressWriter: Sendable {
    private struct State {
        var lastWrite: Date?
    }

    /// The renderer in use.
    public let renderer: BackfillProgressRenderer
    private let clock: any WallClock
    private let interval: TimeInterval
    private let output: @Sendable (String) -> Void
    private let state = Mutex(State())

    /// A writer to `output` (default: standard error) for a terminal or not (default: whether standard error is
    /// one), with `width` columns (default: the terminal's width, else 80).
    public init(
        isTerminal: Bool = BackfillProgressWriter.standardErrorIsTerminal,
        width: Int = BackfillProgressWriter.standardErrorWidth ?? 80,
        terminalInterval: Duration = .milliseconds(200), plainInterval: Duration = .seconds(5),
        clock: any WallClock = SystemWallClock(),
        output: @escaping @Sendable (String) -> Void = BackfillProgressWriter.writeToStandardError
    ) {
        self.renderer = BackfillProgressRenderer(isTerminal: isTerminal, width: width)
        self.clock = clock
        self.interval = (isTerminal ? terminalInterval : plainInterval).timeInterval
        self.output = output
    }

    /// Renders and writes `progress` when the interval has passed since the last write (or it is the final one).
    public func update(_ progress: BackfillProgress) {
        let now = clock.now()
        let due = state.withLock { state -> Bool in
            let due =
                progress.isFinished || state.lastWrite.map { now.timeIntervalSince($0) >= interval } ?? true
            if due { state.lastWrite = now }
            return due
        }
        if due { output(renderer.render(progress)) }
    }

    /// Writes `text` as is (e.g. the summary table).
    public func write(_ text: String) {
        output(text)
    }

    /// Whether standard error is a terminal (`isatty(2)`).
    public static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Standard error's terminal width in columns, or `nil` when it is not a terminal.
    public static var standardErrorWidth: Int? {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// Writes `text` to standard error, unbuffered.
    @Sendable public static func writeToStandardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
