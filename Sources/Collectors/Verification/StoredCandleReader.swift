public import CandleCore
public import Foundation

/// Where ``Verifier`` reads stored bars from: any ``CandleSink``, or the files a ``FileCandleSink`` writes (read
/// without taking the sink's lock, so `verify` can run while a collector is writing to the directory).
///
/// ```swift
/// let postgres = StoredCandleReader.sink(try PostgresCandleSink(configuration: .init(url: url)))
/// let files = StoredCandleReader.files(CandleFileReader(directory: URL(filePath: "data")))
/// ```
public struct StoredCandleReader: Sendable {
    /// Reads the candles of a series whose start lies in a half-open range, ordered by start, then symbol.
    public typealias Read = @Sendable (Series, Range<Date>) async throws -> [Candle]

    /// A name for reports, e.g. `memory`, `files data/`.
    public let name: String
    /// Reads are split into windows of at most this span (bounded memory and query size per read); `nil` reads the
    /// whole range at once.
    public let window: Duration?
    private let read: Read

    /// A reader over `read`, split into windows of `window` (at least 60 s; `nil`: one read per range).
    public init(name: String, window: Duration? = nil, read: @escaping Read) {
        self.name = name
        self.window = window.map { max($0, .seconds(60)) }
        self.read = read
    }

    /// Reads through ``CandleSink/candles(of:in:)``, a week at a time by default. The name shows a PostgreSQL
    /// sink's redacted URL and schema, a file sink's directory, or the sink's type.
    public static func sink(_ sink: any CandleSink, window: Duration? = .seconds(7 * 86_400)) -> StoredCandleReader {
        StoredCandleReader(name: sink.storageDescription, window: window) { series, range in
            try await sink.candles(of: series, in: range)
        }
    }

    /// Reads the files of a ``FileCandleSink`` directory with `reader` (no lock; a torn last line is skipped), off
    /// the cooperative thread pool. Each series file is read once per range.
    public static func files(_ reader: CandleFileReader) -> StoredCandleReader {
        StoredCandleReader(name: "files \(reader.directory.path(percentEncoded: false))") { series, range in
            try await BlockingFileRead().candles(reader, series, range)
        }
    }

    /// The candles of `series` whose start lies in `range`, ordered by start, then symbol.
    public func candles(of series: Series, in range: Range<Date>) async throws -> [Candle] {
        guard let window = window?.timeInterval, range.upperBound.timeIntervalSince(range.lowerBound) > window else {
            return try await read(series, range)
        }
        var result: [Candle] = []
        var start = range.lowerBound
        while start < range.upperBound {
            try Task.checkCancellation()
            let end = min(start.addingTimeInterval(window), range.upperBound)
            result.append(contentsOf: try await read(series, start..<end))
            start = end
        }
        return result
    }
}

/// Runs one blocking ``CandleFileReader`` read on a private dispatch queue, not on the cooperative pool.
private actor BlockingFileRead {
    private nonisolated let executor = BlockingIOExecutor(label: "orca.verify.file-read")

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    func candles(_ reader: CandleFileReader, _ series: Series, _ range: Range<Date>) throws -> [Candle] {
        try reader.candles(of: series, in: range)
    }
}
