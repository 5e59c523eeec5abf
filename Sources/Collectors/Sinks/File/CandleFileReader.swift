public import CandleCore
public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads the files a ``FileCandleSink`` writes, without locking them: for `verify`, for backtests, for tools.
///
/// It keeps the last line per key, sorts by start then symbol, and ignores a torn last line (a writer may be
/// appending at that moment) without changing the file. Reading is synchronous file I/O: call it from a thread that
/// may block (or wrap it in a task off the cooperative pool when reading very large files).
///
/// ```swift
/// let reader = CandleFileReader(directory: URL(filePath: "data"))
/// let bars = try reader.candles(of: Series(.nq, .fiveMinutes), in: from..<to)
/// ```
public struct CandleFileReader: Sendable {
    /// The sink's root directory.
    public let directory: URL
    /// The format the files were written in.
    public let format: CandleFileFormat

    /// Creates a reader for the files under `directory`.
    public init(directory: URL, format: CandleFileFormat = .csv) {
        self.directory = directory
        self.format = format
    }

    /// The file that holds `series`: `<directory>/<ROOT>/<timeframe label>.<csv|jsonl>`.
    public func fileURL(for series: Series) -> URL {
        URL(
            filePath: CandleFileLayout.path(
                directory: CandleFileLayout.directory(of: directory), series: series, format: format))
    }

    /// The bars of `series` whose start lies in `range` (every bar when `nil`), ordered by start, then symbol.
    /// A missing file is an empty series.
    /// - Throws: `readFailed` when the file cannot be read,
    ///   `corruptData` when a line in its middle is malformed.
    public func candles(of series: Series, in range: Range<Date>? = nil) throws(CandleSinkError) -> [Candle] {
        let path = fileURL(for: series).path(percentEncoded: false)
        guard PosixFile.exists(path) else { return [] }
        let bytes: [UInt8]
        do {
            bytes = try PosixFile(path: path, flags: O_RDONLY).readAll()
        } catch {
            throw CandleSinkError(.readFailed, series: series, "cannot read \(path)", underlying: error)
        }
        let contents: CandleFileCodec.Contents
        do {
            contents = try CandleFileCodec.parse(bytes, format: format, path: path)
        } catch {
            throw CandleSinkError(.corruptData, series: series, "cannot read \(path)", underlying: error)
        }
        let latest = try contents.bars(of: series, path: path)
        let bounds = range.map { FileCandleSink.bounds($0) }
        return latest.entries(from: bounds?.from, to: bounds?.to).map { $0.values.candle($0.key, in: series) }
    }
}
