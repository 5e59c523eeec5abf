public import CandleCore
internal import Foundation
public import Logging
internal import Synchronization

/// Where log lines go: standard error, or a closure (tests collect lines with it).
public struct OrcaLogOutput: Sendable {
    private let writeLine: @Sendable (String) -> Void

    /// An output that hands every finished line (without its trailing newline) to `write`.
    public init(_ write: @escaping @Sendable (String) -> Void) {
        self.writeLine = write
    }

    /// Writes `line` followed by a newline.
    public func write(_ line: String) { writeLine(line) }

    /// Standard error, one `write(2)` per line so that lines from several threads never interleave.
    public static let standardError = OrcaLogOutput { line in
        StandardErrorWriter.shared.write(line + "\n")
    }
}

/// Serialises writes to file descriptor 2.
private final class StandardErrorWriter: Sendable {
    static let shared = StandardErrorWriter()
    private let lock = Mutex(())

    func write(_ text: String) {
        lock.withLock { _ in writeAll(Array(text.utf8), to: 2) }
    }
}

/// Writes every byte to `descriptor`, retrying short writes and `EINTR`; gives up silently on other errors (a log
/// line that cannot be written must not take the process down).
private func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
    bytes.withUnsafeBytes { buffer in
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let written = write(descriptor, base + offset, buffer.count - offset)
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }
}

/// Orca's `LogHandler`: one line per event, human-readable or JSON, with secrets redacted (see ``LogRedaction``).
///
/// Human (for terminals):
/// `2026-11-29T08:00:00.123Z info orca.collector: bar stored orca_series="NQ 5min" orca_symbol=NQZ6`
///
/// JSON lines (for log shippers):
/// `{"ts":"2026-11-29T08:00:00.123Z","level":"info","label":"orca.collector","msg":"bar stored","orca_series":"NQ 5min"}`
///
/// Metadata is merged from the handler, its metadata provider and the event (the event wins), sorted by key. In JSON,
/// a metadata key that would clash with `ts`, `level`, `label`, `msg` or `error` is written with a `meta_` prefix.
/// Nested dictionaries and arrays become JSON objects and arrays. An event's error is written as `error`.
public struct OrcaLogHandler: LogHandler {
    /// The line format.
    public enum Format: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// `timestamp level label: message key=value`.
        case human
        /// One JSON object per line.
        case json

        public var description: String { rawValue }
    }

    /// The logger's label (`orca.collector`).
    public let label: String
    /// The line format.
    public let format: Format
    /// Entries added to every line of this handler.
    public var metadata: Logger.Metadata = [:]
    /// The least severe level written.
    public var logLevel: Logger.Level
    /// Adds contextual metadata (e.g. task-local values) to every line.
    public var metadataProvider: Logger.MetadataProvider?
    private let output: OrcaLogOutput
    private let clock: any WallClock

    /// Creates a handler.
    ///
    /// - Parameters:
    ///   - label: the logger's label.
    ///   - format: human or JSON lines.
    ///   - level: the least severe level written.
    ///   - output: where lines go (standard error by default).
    ///   - clock: the source of each line's timestamp.
    ///   - metadataProvider: contextual metadata added to every line.
    public init(
        label: String, format: Format, level: Logger.Level = .info, output: OrcaLogOutput = .standardError,
        clock: any WallClock = SystemWallClock(), metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.output = output
        self.clock = clock
        self.metadataProvider = metadataProvider
    }

    /// Gets or sets one metadata entry of this handler.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Formats `event` and writes it.
    public func log(event: LogEvent) {
        output.write(line(for: event))
    }

    /// The line `event` becomes (without a trailing newline).
    public func line(for event: LogEvent) -> String {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        let entries = LogRedaction.redact(merged).sorted { $0.key < $1.key }
        let timestamp = LogTimestamp.iso8601(clock.now())
        let message = LogRedaction.maskingURLPasswords(in: event.message.description)
        let error = event.error.map { LogRedaction.maskingURLPasswords(in: String(describing: $0)) }
        switch format {
        case .human:
            var line = "\(timestamp) \(event.level) \(label): \(message)"
            for (key, value) in entries {
                line += " \(key)=\(HumanText.value(value))"
            }
            if let error { line += " error=\(HumanText.quotedIfNeeded(error))" }
            return line
        case .json:
            var line = "{\"ts\":\(JSONString.literal(timestamp))"
            line += ",\"level\":\(JSONString.literal(event.level.rawValue))"
            line += ",\"label\":\(JSONString.literal(label)),\"msg\":\(JSONString.literal(message))"
            for (key, value) in entries {
                let name = Self.reservedJSONKeys.contains(key) ? "meta_" + key : key
                line += ",\(JSONString.literal(name)):\(JSONText.value(value))"
            }
            if let error { line += ",\"error\":\(JSONString.literal(error))" }
            return line + "}"
        }
    }

    private static let reservedJSONKeys: Set<String> = ["ts", "level", "label", "msg", "error"]
}

/// `2026-11-29T08:00:00.123Z` without Foundation formatters (exact, allocation-light, locale-free).
enum LogTimestamp {
    static func iso8601(_ date: Date) -> String {
        let totalMilliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let milliseconds = Int(((totalMilliseconds % 1000) + 1000) % 1000)
        let totalSeconds = (totalMilliseconds - Int64(milliseconds)) / 1000
        let days = Int(CivilDate.floorDivide(totalSeconds, 86_400))
        let secondOfDay = Int(totalSeconds - Int64(days) * 86_400)
        let (year, month, day) = CivilDate.date(days: days)
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(secondOfDay / 3600, 2) + ":"
            + pad(secondOfDay % 3600 / 60, 2) + ":" + pad(secondOfDay % 60, 2) + "." + pad(milliseconds, 3) + "Z"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}

/// `key=value` rendering for the human format.
enum HumanText {
    static func value(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): return quotedIfNeeded(text)
        case .stringConvertible(let convertible): return quotedIfNeeded(convertible.description)
        case .array(let array): return "[" + array.map(Self.value).joined(separator: ",") + "]"
        case .dictionary(let dictionary):
            return "{"
                + dictionary.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.value($0.value))" }.joined(
                    separator: ",") + "}"
        }
    }

    /// The text as is when it has no spaces, quotes, `=` or control characters; otherwise JSON-quoted.
    static func quotedIfNeeded(_ text: String) -> String {
        let plain =
            !text.isEmpty
            && !text.unicodeScalars.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.value < 0x20 || $0 == "\\" }
        return plain ? text : JSONString.literal(text)
    }
}

/// Minimal JSON text encoding (strings, metadata values).
enum JSONText {
    static func value(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): return JSONString.literal(text)
        case .stringConvertible(let convertible): return JSONString.literal(convertible.description)
        case .array(let array): return "[" + array.map(Self.value).joined(separator: ",") + "]"
        case .dictionary(let dictionary):
            let members = dictionary.sorted { $0.key < $1.key }.map {
                "\(JSONString.literal($0.key)):\(Self.value($0.value))"
            }
            return "{" + members.joined(separator: ",") + "}"
        }
    }
}
