import CandleCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The checkpoint file's content: per series, the requested ranges and the ranges already stored (complete chunks).
struct BackfillCheckpointRecord: Codable, Sendable, Hashable {
    struct Entry: Codable, Sendable, Hashable {
        /// `NQ`.
        var root: String
        /// Timeframe length.
        var minutes: Int
        /// The merged requested ranges.
        var ranges: [SecondsRange]
        /// The merged ranges whose bars are stored.
        var completed: [SecondsRange]

        var key: String { "\(root) \(minutes)" }
    }

    static let currentVersion = 1

    var version: Int
    var rollDaysBeforeExpiry: Int
    var series: [Entry]

    init(configuration: Backfill.Configuration) {
        version = Self.currentVersion
        rollDaysBeforeExpiry = configuration.contractCalendar.rollDaysBeforeExpiry
        series = configuration.targets.map { target in
            Entry(
                root: target.series.instrument.root, minutes: target.series.timeframe.minutes,
                ranges: SecondsRangeSet(target.ranges.map(SecondsRange.init)).ranges, completed: [])
        }
    }

    /// Adopts `configuration`'s parameters, keeping what is complete; throws when `policy` forbids the difference.
    mutating func adopt(
        _ configuration: Backfill.Configuration, policy: Backfill.CheckpointMismatchPolicy, path: String
    ) throws(BackfillError) {
        let wanted = BackfillCheckpointRecord(configuration: configuration)
        func format(_ record: BackfillCheckpointRecord) -> String {
            record.series.map { entry in
                let ranges = entry.ranges.map { range in
                    "\(range.dates.lowerBound.formatted(.iso8601))..<\(range.dates.upperBound.formatted(.iso8601))"
                }
                return "\(entry.root) \(entry.minutes)min [\(ranges.joined(separator: ", "))]"
            }.joined(separator: "; ") + " (roll \(record.rollDaysBeforeExpiry) days before expiry)"
        }
        let old = Dictionary(series.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        if policy == .refuse {
            var compatible =
                rollDaysBeforeExpiry == wanted.rollDaysBeforeExpiry
                && Set(old.keys) == Set(wanted.series.map(\.key))
            for entry in wanted.series where compatible {
                guard let recorded = old[entry.key], recorded.ranges.count == entry.ranges.count else {
                    compatible = false
                    break
                }
                compatible = zip(recorded.ranges, entry.ranges).allSatisfy {
                    $0.lower == $1.lower && $0.upper <= $1.upper
                }
            }
            guard compatible else {
                throw BackfillError(
                    .checkpointMismatch,
                    "checkpoint \(path) belongs to another backfill: it records \(format(self)), this backfill asks"
                        + " for \(format(wanted)); run with the same series, start and roll offset (a later end is"
                        + " fine), delete the file to start over, or use another checkpoint file")
            }
        }
        var merged: [BackfillCheckpointRecord.Entry] = []
        var seen = Set<String>()
        for entry in wanted.series + series where seen.insert(entry.key).inserted {
            var ranges = SecondsRangeSet(entry.ranges)
            var completed = SecondsRangeSet()
            for candidate in [old[entry.key], wanted.series.first { $0.key == entry.key }].compactMap({ $0 }) {
                for range in candidate.ranges { ranges.insert(range) }
                for range in candidate.completed { completed.insert(range) }
            }
            merged.append(
                Entry(root: entry.root, minutes: entry.minutes, ranges: ranges.ranges, completed: completed.ranges))
        }
        series = merged
        rollDaysBeforeExpiry = wanted.rollDaysBeforeExpiry
    }

    func completed(_ series: Series) -> SecondsRangeSet {
        let key = "\(series.instrument.root) \(series.timeframe.minutes)"
        return SecondsRangeSet(self.series.first { $0.key == key }?.completed ?? [])
    }

    mutating func markCompleted(_ series: Series, _ range: SecondsRange) {
        let key = "\(series.instrument.root) \(series.timeframe.minutes)"
        guard let index = self.series.firstIndex(where: { $0.key == key }) else { return }
        var set = SecondsRangeSet(self.series[index].completed)
        set.insert(range)
        self.series[index].completed = set.ranges
    }
}

/// The checkpoint file of one running backfill: loaded and locked when opened, rewritten atomically (temporary file,
/// `fsync`, `rename`, directory `fsync`) every time a chunk completes. Runs its blocking file calls on its own queue.
actor BackfillCheckpointStore {
    private nonisolated let executor: BlockingIOExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private let path: String
    private var lock: PosixFile?
    private(set) var record: BackfillCheckpointRecord
    private(set) var wasResumed = false

    private init(path: String, record: BackfillCheckpointRecord) {
        self.executor = BlockingIOExecutor(label: "orca.backfill.checkpoint")
        self.path = path
        self.record = record
    }

    /// Opens (or creates) the checkpoint at `url` for `configuration`.
    static func open(
        _ url: URL, configuration: Backfill.Configuration
    ) async throws(BackfillError) -> BackfillCheckpointStore {
        let store = BackfillCheckpointStore(
            path: url.path, record: BackfillCheckpointRecord(configuration: configuration))
        try await store.load(configuration)
        return store
    }

    private func load(_ configuration: Backfill.Configuration) throws(BackfillError) {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            if !directory.isEmpty && !PosixFile.exists(directory) { try PosixFile.makeDirectories(directory) }
            let lockFile = try PosixFile(path: path + ".lock", flags: O_RDWR | O_CREAT)
            guard try lockFile.tryLock() else {
                throw BackfillError(
                    .checkpointLocked,
                    "checkpoint \(path) is in use by another running backfill: wait for it or use another file")
            }
            lock = lockFile
        } catch let error as BackfillError {
            throw error
        } catch {
            throw BackfillError(.checkpointWriteFailed, "cannot lock checkpoint \(path): \(error)")
        }
        guard PosixFile.exists(path) else {
            try write()
            return
        }
        var loaded: BackfillCheckpointRecord
        do {
            let bytes = try PosixFile(path: path, flags: O_RDONLY).readAll()
            loaded = try JSONDecoder().decode(BackfillCheckpointRecord.self, from: Data(bytes))
        } catch {
            throw BackfillError(
                .checkpointUnreadable,
                "checkpoint \(path) cannot be read (\(error)); delete it to start the backfill over")
        }
        guard loaded.version == BackfillCheckpointRecord.currentVersion else {
            throw BackfillError(
                .checkpointUnreadable,
                "checkpoint \(path) has version \(loaded.version), this build reads version"
                    + " \(BackfillCheckpointRecord.currentVersion); delete it to start the backfill over")
        }
        try loaded.adopt(configuration, policy: configuration.checkpointMismatch, path: path)
        record = loaded
        wasResumed = true
        try write()
    }

    func completed(_ series: Series) -> SecondsRangeSet { record.completed(series) }

    /// Records `range` of `series` as stored and rewrites the file.
    func markCompleted(_ series: Series, _ range: SecondsRange) throws(BackfillError) {
        record.markCompleted(series, range)
        try write()
    }

    /// Releases the lock.
    func close() {
        lock?.close()
        lock = nil
    }

    private func write() throws(BackfillError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let temporary = path + ".tmp"
        do {
            let data = try encoder.encode(record)
            let file = try PosixFile(path: temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
            try file.writeAll(Array(data) + [0x0A])
            try file.sync()
            file.close()
            try PosixFile.rename(temporary, to: path)
            let directory = (path as NSString).deletingLastPathComponent
            try PosixFile.syncDirectory(directory.isEmpty ? "." : directory)
        } catch {
            throw BackfillError(.checkpointWriteFailed, "cannot write checkpoint \(path): \(error)")
        }
    }
}
