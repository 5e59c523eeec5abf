public import CandleCore
public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Bars the calendar expects but the broker confirmed it does not have (no trade in the bar): history for a range that
/// lies entirely in the past returned nothing for these starts.
///
/// The ``Collector`` records such starts while healing and skips them in later heals, so a quiet bar is fetched once,
/// not forever. `verify` can read the same ledger to tell "missing" from "confirmed empty".
///
/// Two implementations ship: ``InMemoryConfirmedEmptyLedger`` (one process, tests) and
/// ``FileConfirmedEmptyLedger`` (JSON lines under a state directory, appended and synced).
public protocol ConfirmedEmptyLedger: Sendable {
    /// Records `starts` of `series` as confirmed empty. Recording a start twice is harmless.
    func record(_ starts: [Date], of series: Series) async throws

    /// Whether the bar of `series` starting at `start` is confirmed empty.
    func isConfirmedEmpty(series: Series, start: Date) async throws -> Bool

    /// The confirmed-empty starts of `series` in `range` (`[lowerBound, upperBound)`), ascending.
    func confirmedEmpty(of series: Series, in range: Range<Date>) async throws -> [Date]
}

/// A ``ConfirmedEmptyLedger`` in memory: nothing survives the process.
public actor InMemoryConfirmedEmptyLedger: ConfirmedEmptyLedger {
    private var entries: [LedgerSeriesKey: Set<Date>] = [:]

    /// Creates an empty ledger.
    public init() {}

    /// The number of confirmed-empty starts over all series.
    public var count: Int { entries.values.reduce(0) { $0 + $1.count } }

    public func record(_ starts: [Date], of series: Series) {
        entries[LedgerSeriesKey(series), default: []].formUnion(starts)
    }

    public func isConfirmedEmpty(series: Series, start: Date) -> Bool {
        entries[LedgerSeriesKey(series)]?.contains(start) ?? false
    }

    public func confirmedEmpty(of series: Series, in range: Range<Date>) -> [Date] {
        (entries[LedgerSeriesKey(series)] ?? []).filter { range.contains($0) }.sorted()
    }
}

/// A ``ConfirmedEmptyLedger`` kept in `<directory>/confirmed-empty.jsonl`: one JSON object per line,
/// `{"root":"NQ","minutes":5,"start":1765206000}` (start in seconds since 1970, UTC).
///
/// Crash safety: every ``record(_:of:)`` appends its lines with one `write(2)` and syncs the file before returning, so a
/// recorded start survives a crash or power loss. A crash in the middle of an append can leave a torn last line (no
/// trailing newline); it is ignored and cut off when the file is next opened. A damaged line *before* the last one is
/// not guessed at: opening fails with `corruptLedger` naming the line.
///
/// File I/O runs on the actor's own dispatch queue, never on Swift's cooperative pool. The file is opened (and read)
/// on first use; call ``open()`` to surface errors at start-up.
public actor FileConfirmedEmptyLedger: ConfirmedEmptyLedger {
    /// The ledger's file name inside the state directory.
    public static let fileName = "confirmed-empty.jsonl"

    private struct Line: Codable {
        var root: String
        var minutes: Int
        var start: Int64
    }

    private let executor = BlockingIOExecutor(label: "orca.collector.ledger")
    /// The file's path.
    public nonisolated let path: String
    private let directory: String
    private var file: PosixFile?
    private var entries: [LedgerSeriesKey: Set<Date>] = [:]

    /// Runs every isolated method on a private serial queue (the ledger makes blocking file calls).
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// A ledger stored in `directory` (created when missing) as ``fileName``.
    public init(directory: URL) {
        self.directory = directory.path(percentEncoded: false)
        self.path = directory.appending(path: Self.fileName).path(percentEncoded: false)
    }

    /// Opens and reads the file now (otherwise the first call does).
    ///
    /// - Throws: ``CollectorError`` with `ledgerUnavailable` or
    ///   `corruptLedger`.
    public func open() throws(CollectorError) {
        _ = try opened()
    }

    /// The number of confirmed-empty starts over all series.
    public func count() throws(CollectorError) -> Int {
        _ = try opened()
        return entries.values.reduce(0) { $0 + $1.count }
    }

    public func record(_ starts: [Date], of series: Series) throws(CollectorError) {
        let key = LedgerSeriesKey(series)
        let new = starts.filter { !(entries[key]?.contains($0) ?? false) }
        guard !new.isEmpty else { return }
        try append(Self.lines(new, of: key), to: try current())
        entries[key, default: []].formUnion(new)
    }

    /// The open file. When something removed it while the ledger ran (with the state directory, say), a new file is
    /// written first with every entry held in memory, so a restart still finds them.
    private func current() throws(CollectorError) -> PosixFile {
        let file = try opened()
        guard PosixFile.identity(of: path) != (try? file.identity()) else { return file }
        file.close()
        self.file = nil
        let fresh = try opened()
        var bytes: [UInt8] = []
        for (key, starts) in entries.sorted(by: { ($0.key.root, $0.key.minutes) < ($1.key.root, $1.key.minutes) }) {
            bytes += Self.lines(Array(starts), of: key)
        }
        try append(bytes, to: fresh)
        return fresh
    }

    private func append(_ bytes: [UInt8], to file: PosixFile) throws(CollectorError) {
        do {
            try file.writeAll(bytes)
            try file.sync()
        } catch {
            throw CollectorError(
                .ledgerUnavailable, "cannot append to the confirmed-empty ledger: \(error); check the state directory")
        }
    }

    /// One JSON line per start, in time order.
    private static func lines(_ starts: [Date], of key: LedgerSeriesKey) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var bytes: [UInt8] = []
        for start in Set(starts).sorted() {
            let line = Line(
                root: key.root, minutes: key.minutes, start: Int64(start.timeIntervalSince1970.rounded(.down)))
            guard let data = try? encoder.encode(line) else { continue }
            bytes.append(contentsOf: data)
            bytes.append(0x0A)
        }
        return bytes
    }

    public func isConfirmedEmpty(series: Series, start: Date) throws(CollectorError) -> Bool {
        _ = try opened()
        return entries[LedgerSeriesKey(series)]?.contains(start) ?? false
    }

    public func confirmedEmpty(of series: Series, in range: Range<Date>) throws(CollectorError) -> [Date] {
        _ = try opened()
        return (entries[LedgerSeriesKey(series)] ?? []).filter { range.contains($0) }.sorted()
    }

    /// Closes the file; a later call opens it again.
    public func close() {
        file?.close()
        file = nil
    }

    private func opened() throws(CollectorError) -> PosixFile {
        if let file { return file }
        let file: PosixFile
        let bytes: [UInt8]
        do {
            try PosixFile.makeDirectories(directory)
            file = try PosixFile(path: path, flags: O_RDWR | O_CREAT | O_APPEND)
            bytes = try file.readAll()
        } catch {
            throw CollectorError(
                .ledgerUnavailable,
                "cannot open the confirmed-empty ledger: \(error); make the state directory writable")
        }
        var loaded: [LedgerSeriesKey: Set<Date>] = [:]
        let decoder = JSONDecoder()
        var lineStart = 0
        var lineNumber = 0
        for index in bytes.indices where bytes[index] == 0x0A {
            lineNumber += 1
            let slice = bytes[lineStart..<index]
            lineStart = index + 1
            if slice.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) { continue }
            guard let line = try? decoder.decode(Line.self, from: Data(slice)) else {
                throw CollectorError(
                    .corruptLedger,
                    "line \(lineNumber) of \(path) is not a ledger entry; fix or delete that line (the ledger only "
                        + "saves refetching bars with no trades)")
            }
            loaded[LedgerSeriesKey(root: line.root, minutes: line.minutes), default: []].insert(
                Date(timeIntervalSince1970: TimeInterval(line.start)))
        }
        if lineStart < bytes.count {
            // A torn last line from a crash during an append: drop it so the next append starts on a fresh line.
            do {
                try file.truncate(to: lineStart)
                try file.sync()
            } catch {
                throw CollectorError(
                    .ledgerUnavailable, "cannot cut the torn last line of \(path): \(error)")
            }
        }
        for (key, starts) in loaded { entries[key, default: []].formUnion(starts) }
        self.file = file
        return file
    }
}

/// A series as the ledgers key it: root and minutes (a custom instrument's other fields do not matter here).
struct LedgerSeriesKey: Hashable, Sendable {
    let root: String
    let minutes: Int

    init(root: String, minutes: Int) {
        self.root = root.uppercased()
        self.minutes = minutes
    }

    init(_ series: Series) {
        self.init(root: series.instrument.root, minutes: series.timeframe.minutes)
    }
}
