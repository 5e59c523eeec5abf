public import CandleCore
public import Foundation
public import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A sink that keeps one file per series under a directory: `<directory>/<ROOT>/<timeframe>.csv` (or `.jsonl`),
/// e.g. `data/NQ/5min.csv`, in the format of ``CandleFileFormat``. Read the files back with ``CandleFileReader``,
/// pandas, or any CSV tool.
///
/// **Upserts on an append-only file.** A new bar is appended. A changed bar (forming → final, a late revision) is
/// appended again; readers keep the **last line per key**. The sink keeps an index of every bar of the series it has
/// opened (about 100 bytes per bar), decides inserted / updated / unchanged in memory, and appends nothing for an
/// unchanged bar. When superseded lines reach ``Configuration/compactionMinimumSuperseded`` and
/// ``Configuration/compactionRatio`` of the file, the file is rewritten with one line per key, sorted, through a
/// temporary file and an atomic `rename(2)`.
///
/// **Crash safety.** Each write appends one buffer per series file with `write(2)`, then (with
/// ``Configuration/syncEachWrite``, the default) `fdatasync(2)`s every touched file *before* it returns: an
/// acknowledged bar survives `kill -9` and power loss. A crash can leave a torn last line (or, after power loss, a
/// run of garbage lines at the end); the sink cuts that tail when it opens the file. A malformed line in the middle
/// of a file is reported as `corruptData` rather than guessed around.
///
/// **One writer.** The sink holds an exclusive `flock(2)` on `<directory>/.orca-sink.lock` while open; a second
/// sink on the same directory fails with `unavailable`. The kernel drops the lock when the
/// process dies. Readers need no lock.
///
/// All file I/O runs on the sink's own dispatch queue, never on Swift's cooperative pool.
public actor FileCandleSink: CandleSink {
    /// `files <directory>`.
    public nonisolated var storageDescription: String {
        "files \(configuration.directory.path(percentEncoded: false))"
    }

    /// Where and how to write.
    public struct Configuration: Sendable {
        /// The root directory; created when missing.
        public var directory: URL
        /// CSV (default) or JSON Lines.
        public var format: CandleFileFormat
        /// `fdatasync` every touched file before ``FileCandleSink/write(_:)`` returns (default `true`). With
        /// `false`, bars reach the disk when the OS flushes or on ``FileCandleSink/flush()`` / `close()`: a process
        /// crash loses nothing, a power loss may lose recent writes.
        public var syncEachWrite: Bool
        /// Compact a file once it holds at least this many superseded lines (default 10,000)...
        public var compactionMinimumSuperseded: Int
        /// ...and they are at least this fraction of its lines (default 0.5).
        public var compactionRatio: Double

        /// Creates a configuration; see the properties for the defaults.
        public init(
            directory: URL, format: CandleFileFormat = .csv, syncEachWrite: Bool = true,
            compactionMinimumSuperseded: Int = 10_000, compactionRatio: Double = 0.5
        ) {
            self.directory = directory
            self.format = format
            self.syncEachWrite = syncEachWrite
            self.compactionMinimumSuperseded = compactionMinimumSuperseded
            self.compactionRatio = compactionRatio
        }
    }

    /// The configuration the sink was opened with.
    public nonisolated let configuration: Configuration

    private nonisolated let executor: BlockingIOExecutor
    private let directory: String
    private let logger: Logger
    private var lock: PosixFile?
    private var files: [SeriesID: SeriesFile] = [:]

    /// Runs this actor's methods on its private queue, so blocking file calls stay off the cooperative pool.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Opens the sink: creates the directory and takes its lock. Series files are opened (and torn tails cut) on
    /// first use.
    /// - Throws: `invalidConfiguration` when the directory cannot be created,
    ///   `unavailable` when another sink holds the directory's lock.
    public init(
        configuration: Configuration,
        logger: Logger = Logger(
            label: "orca.sink.file",
            factory: { _ in
                SwiftLogNoOpLogHandler()
            })
    ) throws(CandleSinkError) {
        let directory = CandleFileLayout.directory(of: configuration.directory)
        let lockPath = directory + "/.orca-sink.lock"
        let lock: PosixFile
        do {
            try PosixFile.makeDirectories(directory)
            lock = try PosixFile(path: lockPath, flags: O_RDWR | O_CREAT)
        } catch {
            throw CandleSinkError(.invalidConfiguration, "cannot use \(directory) for candle files", underlying: error)
        }
        let locked: Bool
        do {
            locked = try lock.tryLock()
        } catch {
            throw CandleSinkError(.unavailable, "cannot lock \(lockPath)", underlying: error)
        }
        guard locked else {
            throw CandleSinkError(
                .unavailable, "another process or sink is writing to \(directory) (\(lockPath) is locked)")
        }
        self.configuration = configuration
        self.directory = directory
        self.logger = logger
        self.lock = lock
        self.executor = BlockingIOExecutor(label: "orca.sink.file")
    }

    public func write(_ candles: [Candle]) throws -> CandleWriteReport {
        try checkOpen()
        let batch = try CandleBatch(validating: candles)
        var report = CandleWriteReport()
        var touched: [SeriesFile] = []
        for group in batch.groups {
            guard let file = try seriesFile(group.series, create: true) else { continue }
            do {
                report += try file.apply(group.candles)
            } catch {
                forget(file)
                throw CandleSinkError(
                    .writeFailed, series: group.series, "cannot append to \(file.path)", underlying: error)
            }
            touched.append(file)
        }
        if configuration.syncEachWrite {
            for file in touched {
                try sync(file)
            }
        }
        for file in touched {
            compactIfNeeded(file)
        }
        return report
    }

    public func latestCandleStart(of series: Series) throws -> Date? {
        try checkOpen()
        return try seriesFile(series, create: false)?.latestStart.map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    public func candleStarts(of series: Series, in range: Range<Date>, finalOnly: Bool) throws -> [Date] {
        try checkOpen()
        guard let file = try seriesFile(series, create: false) else { return [] }
        return Self.starts(file.bars, in: range, finalOnly: finalOnly)
    }

    public func candles(of series: Series, in range: Range<Date>) throws -> [Candle] {
        try checkOpen()
        guard let file = try seriesFile(series, create: false) else { return [] }
        let (from, to) = Self.bounds(range)
        return file.bars.entries(from: from, to: to).map { $0.values.candle($0.key, in: series) }
    }

    /// `[from, to)` in whole seconds (bar starts are whole seconds; a fractional bound rounds up).
    static func bounds(_ range: Range<Date>) -> (from: Int64, to: Int64) {
        func seconds(_ date: Date) -> Int64 {
            Int64(min(max(date.timeIntervalSince1970.rounded(.up), -1e15), 1e15))
        }
        return (seconds(range.lowerBound), seconds(range.upperBound))
    }

    /// Distinct starts in `range`, ascending.
    static func starts(_ bars: BarIndex, in range: Range<Date>, finalOnly: Bool) -> [Date] {
        let (from, to) = bounds(range)
        var starts: [Int64] = []
        for entry in bars.entries(from: from, to: to) where !finalOnly || entry.values.isFinal {
            if starts.last != entry.key.start {
                starts.append(entry.key.start)
            }
        }
        return starts.map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// Syncs every file with unsynced lines (only needed with ``Configuration/syncEachWrite`` off).
    public func flush() throws {
        try checkOpen()
        for file in files.values {
            try sync(file)
        }
    }

    /// Syncs and closes every file and releases the directory lock.
    public func close() throws {
        guard lock != nil else { return }
        defer {
            for file in files.values {
                file.close()
            }
            files = [:]
            lock?.close()
            lock = nil
        }
        for file in files.values {
            try sync(file)
        }
    }

    // MARK: - Private

    private func checkOpen() throws(CandleSinkError) {
        if lock == nil {
            throw CandleSinkError(.closed, "the file sink for \(directory) is closed")
        }
    }

    private func seriesFile(_ series: Series, create: Bool) throws(CandleSinkError) -> SeriesFile? {
        let id = SeriesID(series)
        if let file = files[id] {
            return file
        }
        guard
            let file = try SeriesFile.open(
                series: series, directory: directory, format: configuration.format, create: create, logger: logger)
        else { return nil }
        files[id] = file
        compactIfNeeded(file)
        return file
    }

    private func sync(_ file: SeriesFile) throws(CandleSinkError) {
        do {
            try file.sync()
        } catch {
            forget(file)
            throw CandleSinkError(.writeFailed, series: file.series, "cannot sync \(file.path)", underlying: error)
        }
    }

    /// Compacts when the file is mostly superseded lines. A failure leaves the old file intact; the sink then
    /// reopens the file on next use.
    private func compactIfNeeded(_ file: SeriesFile) {
        guard
            file.shouldCompact(
                minimum: configuration.compactionMinimumSuperseded, ratio: configuration.compactionRatio)
        else { return }
        do {
            let before = file.lineCount
            try file.compact()
            logger.debug(
                "compacted series file",
                metadata: [
                    "orca_path": "\(file.path)", "orca_lines_before": "\(before)", "orca_lines": "\(file.lineCount)",
                ])
        } catch {
            logger.debug("compaction failed", metadata: ["orca_path": "\(file.path)", "orca_error": "\(error)"])
            forget(file)
        }
    }

    /// Drops a file whose on-disk state may differ from the index; the next use reopens and re-reads it.
    private func forget(_ file: SeriesFile) {
        file.close()
        files[SeriesID(file.series)] = nil
    }
}
