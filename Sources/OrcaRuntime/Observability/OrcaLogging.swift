public import CandleCore
internal import Foundation
public import Logging
internal import Synchronization

/// Process-wide logging setup for `orca-run`: picks the line format and level and bootstraps swift-log once.
///
/// Libraries never call this (they take a `Logger`); the executable calls ``bootstrap(format:level:)`` first thing.
/// Tests make handlers directly with ``makeHandler(label:format:level:output:clock:)`` and never bootstrap.
public enum OrcaLogging {
    /// The requested format: `auto` picks ``OrcaLogHandler/Format/human`` when standard error is a terminal and
    /// ``OrcaLogHandler/Format/json`` otherwise.
    public enum FormatChoice: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// Human on a TTY, JSON lines otherwise.
        case auto
        /// Always human.
        case human
        /// Always JSON lines.
        case json

        /// Parses `auto`, `human` or `json` (case-insensitive); `nil` for anything else.
        public init?(parsing text: String) {
            self.init(rawValue: text.lowercased())
        }

        /// The concrete format, deciding `auto` by `standardErrorIsTerminal`.
        public func resolved(standardErrorIsTerminal: Bool) -> OrcaLogHandler.Format {
            switch self {
            case .auto: standardErrorIsTerminal ? .human : .json
            case .human: .human
            case .json: .json
            }
        }

        public var description: String { rawValue }
    }

    /// Whether standard error is a terminal (`isatty(2)`).
    public static var standardErrorIsTerminal: Bool { isatty(2) == 1 }

    /// Parses a level name (`trace`, `debug`, `info`, `notice`, `warning`, `error`, `critical`; case-insensitive).
    public static func level(parsing text: String) -> Logger.Level? {
        Logger.Level(rawValue: text.lowercased())
    }

    private static let bootstrapped = Mutex<OrcaLogHandler.Format?>(nil)

    /// Bootstraps swift-log with ``OrcaLogHandler`` writing to standard error, once per process.
    ///
    /// Later calls do nothing (swift-log traps on a second bootstrap) and return `false`.
    /// - Returns: whether this call bootstrapped the logging system.
    @discardableResult
    public static func bootstrap(format: FormatChoice = .auto, level: Logger.Level = .info) -> Bool {
        let resolved = format.resolved(standardErrorIsTerminal: standardErrorIsTerminal)
        return bootstrapped.withLock { state in
            guard state == nil else { return false }
            state = resolved
            LoggingSystem.bootstrap(
                { label, provider in
                    OrcaLogHandler(label: label, format: resolved, level: level, metadataProvider: provider)
                }, metadataProvider: nil)
            return true
        }
    }

    /// The format chosen by the first ``bootstrap(format:level:)``, or `nil` when it has not run.
    public static var bootstrappedFormat: OrcaLogHandler.Format? { bootstrapped.withLock { $0 } }

    /// A handler without touching the global logging system (tests, or a logger of its own).
    public static func makeHandler(
        label: String, format: OrcaLogHandler.Format, level: Logger.Level = .info,
        output: OrcaLogOutput = .standardError, clock: any WallClock = SystemWallClock()
    ) -> OrcaLogHandler {
        OrcaLogHandler(label: label, format: format, level: level, output: output, clock: clock)
    }

    /// A `Logger` over ``makeHandler(label:format:level:output:clock:)``, without touching the global system.
    public static func makeLogger(
        label: String, format: OrcaLogHandler.Format, level: Logger.Level = .info,
        output: OrcaLogOutput = .standardError, clock: any WallClock = SystemWallClock()
    ) -> Logger {
        Logger(label: label) { label in
            makeHandler(label: label, format: format, level: level, output: output, clock: clock)
        }
    }
}
