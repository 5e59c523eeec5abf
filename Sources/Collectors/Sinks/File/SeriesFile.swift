import CandleCore
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One series file owned by a ``FileCandleSink``: the append descriptor and an index of every stored bar (key →
/// values), so upserts are decided in memory and reads need no parsing.
///
/// Not thread-safe and not `Sendable`: only the sink's actor touches it, on the sink's own dispatch queue.
final class SeriesFile {
    let series: Series
    let path: String
    let format: CandleFileFormat
    private var file: PosixFile
    private(set) var bars: BarIndex
    /// Bar lines in the file (the index holds one per key; the rest are superseded versions).
    private(set) var lineCount: Int
    /// Whether lines were appended since the last ``sync()``.
    private(set) var needsSync = false
    /// The bytes of one write, kept between writes so large batches do not fault in fresh pages each time.
    private var scratch: [UInt8] = []

    /// Lines that an older version of a key left behind.
    var supersededCount: Int { lineCount - bars.count }

    private var compactionPath: String { path + ".compacting" }

    /// Opens (and, with `create`, creates) the file of `series`, cutting a torn tail; `nil` when it does not exist
    /// and `create` is false.
    static func open(
        series: Series, directory: String, format: CandleFileFormat, create: Bool, logger: Logger
    ) throws(CandleSinkError) -> SeriesFile? {
        let path = CandleFileLayout.path(directory: directory, series: series, format: format)
        do {
            try PosixFile.remove(path + ".compacting")
            if !PosixFile.exists(path) {
                guard create else { return nil }
                let folder = String(path[..<path.lastIndex(of: "/")!])
                try PosixFile.makeDirectories(folder)
                let file = try PosixFile(path: path, flags: O_WRONLY | O_APPEND | O_CREAT)
                try file.writeAll(CandleFileCodec.header(format))
                try file.sync()
                try PosixFile.syncDirectory(folder)
                logger.debug("created series file", metadata: ["orca_path": "\(path)"])
                return SeriesFile(
                    series: series, path: path, format: format, file: file,
                    bars: BarIndex(barSeconds: series.timeframe.seconds), lines: 0)
            }
            let reader = try PosixFile(path: path, flags: O_RDONLY)
            let bytes = try reader.readAll()
            reader.close()
            let contents: CandleFileCodec.Contents
            do {
                contents = try CandleFileCodec.parse(bytes, format: format, path: path)
            } catch {
                throw CandleSinkError(.corruptData, series: series, "cannot read \(path)", underlying: error)
            }
            let file = try PosixFile(path: path, flags: O_WRONLY | O_APPEND)
            if contents.validLength < bytes.count || contents.needsHeader {
                logger.debug(
                    "cutting torn tail",
                    metadata: ["orca_path": "\(path)", "orca_bytes": "\(bytes.count - contents.validLength)"])
                try file.truncate(to: contents.validLength)
                if contents.needsHeader {
                    try file.writeAll(CandleFileCodec.header(format))
                }
                try file.sync()
            }
            let bars = try contents.bars(of: series, path: path)
            return SeriesFile(
                series: series, path: path, format: format, file: file, bars: bars, lines: contents.lines.count)
        } catch let error as CandleSinkError {
            throw error
        } catch {
            throw CandleSinkError(.writeFailed, series: series, "cannot open \(path)", underlying: error)
        }
    }

    private init(
        series: Series, path: String, format: CandleFileFormat, file: PosixFile, bars: BarIndex, lines: Int
    ) {
        self.series = series
        self.path = path
        self.format = format
        self.file = file
        self.bars = bars
        self.lineCount = lines
    }

    /// The latest bar start stored.
    var latestStart: Int64? { bars.latestStart }

    /// Applies the upsert rule to `candles` (one per key), appends a line for every inserted or updated bar in
    /// one `write(2)`, and only then updates the index.
    func apply(_ candles: [Candle]) throws(PosixError) -> CandleWriteReport {
        var report = CandleWriteReport()
        var bytes = scratch
        scratch = []
        bytes.removeAll(keepingCapacity: true)
        bytes.reserveCapacity(candles.count * (format.isCSV ? 112 : 272))
        defer {
            // Keep up to 8 MB for the next write.
            if bytes.capacity <= 8 << 20 {
                scratch = bytes
            }
        }
        var changed = [Bool](repeating: false, count: candles.count)
        for (index, candle) in candles.enumerated() {
            let key = BarKey(candle)
            let values = BarValues(candle)
            let outcome = UpsertRule.outcome(stored: bars[key], incoming: values)
            UpsertRule.count(outcome, into: &report)
            if outcome != .unchanged {
                CandleFileCodec.append(key, values, format: format, to: &bytes)
                changed[index] = true
            }
        }
        guard report.written > 0 else { return report }
        try file.writeAll(bytes)
        for (index, candle) in candles.enumerated() where changed[index] {
            bars[BarKey(candle)] = BarValues(candle)
        }
        lineCount += report.written
        needsSync = true
        return report
    }

    /// Makes appended lines durable.
    func sync() throws(PosixError) {
        guard needsSync else { return }
        try file.sync()
        needsSync = false
    }

    /// Whether superseded lines are at least `minimum` and at least `ratio` of all lines.
    func shouldCompact(minimum: Int, ratio: Double) -> Bool {
        supersededCount >= max(1, minimum) && Double(supersededCount) >= ratio * Double(lineCount)
    }

    /// Rewrites the file with one line per key, sorted by start then symbol: written to `<file>.compacting`,
    /// synced, renamed over the file (atomic), and the directory synced. A crash leaves either the old or the new
    /// file complete; a leftover `.compacting` file is deleted on the next open.
    func compact() throws(PosixError) {
        var bytes = CandleFileCodec.header(format)
        bytes.reserveCapacity(bars.count * (format.isCSV ? 112 : 272) + bytes.count)
        for (key, values) in bars.entries() {
            CandleFileCodec.append(key, values, format: format, to: &bytes)
        }
        let temporary = try PosixFile(path: compactionPath, flags: O_WRONLY | O_CREAT | O_TRUNC)
        try temporary.writeAll(bytes)
        try temporary.sync()
        temporary.close()
        try PosixFile.rename(compactionPath, to: path)
        try PosixFile.syncDirectory(String(path[..<path.lastIndex(of: "/")!]))
        file.close()
        file = try PosixFile(path: path, flags: O_WRONLY | O_APPEND)
        lineCount = bars.count
        needsSync = false
    }

    /// Closes the descriptor.
    func close() {
        file.close()
    }
}
