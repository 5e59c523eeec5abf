public import CandleCore
public import Foundation

/// Where closed (and forming) bars are stored: PostgreSQL, files, memory, or a buffer in front of one of them.
///
/// Every sink has the same semantics, checked by one shared test suite that runs against each backend:
///
/// - **Upsert on the bar's key** (contract symbol, timeframe, bar start). A new key is *inserted*. An existing key is
///   *updated* in place only when a value differs (prices, volumes, tick counts, bid/offer volume, `isFinal`);
///   otherwise it is *unchanged*. A final bar is never overwritten by a forming one: such a write leaves the stored bar
///   as it is and counts as unchanged. A final bar may be revised by another final bar (a late correction).
/// - **Whole batches are checked first.** ``write(_:)`` validates every candle (`Candle.validate()` plus the
///   backend's storage limits, see ``validate(_:)``) before writing anything; one bad candle rejects the batch with
///   `invalidCandle` and nothing is written.
/// - **Duplicates inside a batch** collapse to one bar per key, applied in order with the same rule (a later version
///   replaces an earlier one unless the earlier one is final and the later one is not). Reports count distinct keys.
/// - **Retries are safe.** Writing the same batch again changes nothing and reports it unchanged, so a batch whose
///   outcome is unknown (the connection broke during `COMMIT`) can simply be written again.
/// - **Queries** answer per `Series` (instrument × timeframe, across contracts): the latest stored bar start, the
///   bar starts stored in a half-open range `[from, to)`, and the candles themselves.
///
/// Errors are ``CandleSinkError`` values (or `CancellationError`); their text never contains a password.
public protocol CandleSink: Sendable {
    /// Stores `candles` with upsert semantics and reports what happened to each distinct key.
    ///
    /// - Throws: ``CandleSinkError``: `invalidCandle` (nothing written),
    ///   `unavailable` (the backend cannot be reached; retry later),
    ///   `writeFailed`, `backpressure` (buffers only) or
    ///   `closed`. After an error other than `invalidCandle`, part of the batch may have been
    ///   stored; writing it again is safe.
    func write(_ candles: [Candle]) async throws -> CandleWriteReport

    /// Checks `candles` the way ``write(_:)`` does before writing — `Candle.validate()` and this backend's storage
    /// limits (e.g. PostgreSQL's `decimal(12,4)` prices and `varchar(20)` symbols) — without storing anything.
    ///
    /// Buffers call it when they accept a batch, so a batch the backend could never store is refused at once
    /// instead of blocking the queue later.
    /// - Throws: ``CandleSinkError`` with code `invalidCandle`, the series and the cause.
    func validate(_ candles: [Candle]) throws(CandleSinkError)

    /// The start of the latest bar stored for `series` (any contract, forming or final), or `nil` when there is none.
    func latestCandleStart(of series: Series) async throws -> Date?

    /// The distinct bar starts stored for `series` in `range` (`[lowerBound, upperBound)`), ascending; with
    /// `finalOnly`, only starts that have a final bar.
    func candleStarts(of series: Series, in range: Range<Date>, finalOnly: Bool) async throws -> [Date]

    /// The candles stored for `series` whose start lies in `range`, ordered by start, then symbol.
    func candles(of series: Series, in range: Range<Date>) async throws -> [Candle]

    /// Makes every acknowledged write durable and empties any queue (a buffer drains to its backend).
    func flush() async throws

    /// Flushes and releases connections, files and locks. Later calls throw `closed`;
    /// closing twice is harmless.
    func close() async throws

    /// Where the candles are kept, for reports and logs, without secrets (e.g. a PostgreSQL sink's redacted URL and
    /// schema, a file sink's directory). The default is the type's name.
    var storageDescription: String { get }
}

extension CandleSink {
    /// Renamed ``latestCandleStart(of:)`` in 0.3 (one word, "candle", across the sink API).
    @available(*, deprecated, renamed: "latestCandleStart(of:)")
    public func latestBarStart(of series: Series) async throws -> Date? { try await latestCandleStart(of: series) }

    /// Renamed ``candleStarts(of:in:finalOnly:)`` in 0.3.
    @available(*, deprecated, renamed: "candleStarts(of:in:finalOnly:)")
    public func barStarts(of series: Series, in range: Range<Date>, finalOnly: Bool) async throws -> [Date] {
        try await candleStarts(of: series, in: range, finalOnly: finalOnly)
    }

    /// The type's name.
    public var storageDescription: String { String(describing: Self.self) }

    /// Checks every candle with `Candle.validate()`; backends with storage limits provide their own.
    public func validate(_ candles: [Candle]) throws(CandleSinkError) {
        _ = try CandleBatch(validating: candles)
    }

    /// The distinct bar starts stored for `series` in `range`, forming or final; see
    /// ``candleStarts(of:in:finalOnly:)``.
    public func candleStarts(of series: Series, in range: Range<Date>) async throws -> [Date] {
        try await candleStarts(of: series, in: range, finalOnly: false)
    }

    /// Every candle stored for `series`, ordered by start, then symbol.
    public func candles(of series: Series) async throws -> [Candle] {
        try await candles(of: series, in: Date.distantPast..<Date.distantFuture)
    }
}
