public import CandleCore

/// A sink failure: a stable ``Code`` to branch on, the `Series` concerned (when one is), a message for logs, and the
/// underlying error.
///
/// The message never contains a password: connection strings appear only in their redacted form
/// (`PostgresConnectionString.redact(_:)`) and every secret of the sink's configuration is scrubbed from the text of
/// underlying errors when the error is created.
public struct CandleSinkError: CodedError, Sendable {
    /// What went wrong, as a closed set of values that can grow without breaking `switch` statements
    /// (compare with `==`, or `switch` with a `default` branch).
    public typealias Code = StableCode<CandleSinkError>

    /// The kind of failure.
    public let code: Code
    /// The series the failure concerns, when it concerns one.
    public private(set) var series: Series?
    /// Details for logs, free of passwords; includes the underlying error's text.
    public let message: String
    /// The error that caused this one (a `PostgresError`, a `CandleValidationError`, a POSIX error, ...), if any.
    public let underlying: (any Error)?

    /// Creates an error. Every non-empty string in `secrets` is replaced by `***` in the message and in the
    /// underlying error's text, which is appended to the message. Sinks outside this module use it too.
    public init(
        _ code: Code, series: Series? = nil, _ message: String, underlying: (any Error)? = nil,
        redacting secrets: [String] = []
    ) {
        self.code = code
        self.series = series
        let text = underlying.map { "\(message): \($0)" } ?? message
        self.message = SecretRedaction.redact(text, secrets)
        self.underlying = underlying
    }

    /// This error, naming `series` as the one concerned.
    package func naming(_ series: Series) -> CandleSinkError {
        var copy = self
        copy.series = series
        return copy
    }

    /// Whether writing the same batch again later may succeed: `true` for every code except
    /// `invalidCandle`, `closed` and `invalidConfiguration`.
    public var isRetryable: Bool {
        code != .invalidCandle && code != .closed && code != .invalidConfiguration
    }

    /// `CandleSinkError.unavailable [NQ 5min]: message`.
    public var description: String {
        if let series {
            return "CandleSinkError.\(code) [\(series)]: \(message)"
        }
        return "CandleSinkError.\(code): \(message)"
    }
}

extension CandleSinkError.Code {
    /// A candle breaks an invariant or a storage limit; the whole batch was refused and nothing was written.
    /// ``CandleSinkError/underlying`` is the `CandleValidationError` when `Candle.validate()` failed.
    public static var invalidCandle: Self { Self("invalidCandle") }
    /// The backend cannot be reached right now (server down, connection lost, lock held); retrying later may
    /// succeed.
    public static var unavailable: Self { Self("unavailable") }
    /// The backend refused or failed the write (SQL error, disk full, permission denied).
    public static var writeFailed: Self { Self("writeFailed") }
    /// A query failed.
    public static var readFailed: Self { Self("readFailed") }
    /// Stored data cannot be read back (a malformed line in the middle of a file, a spill record with a bad
    /// checksum followed by good ones); nothing was changed.
    public static var corruptData: Self { Self("corruptData") }
    /// Creating or upgrading the database tables failed (e.g. an old table holds duplicate keys, so its unique
    /// key cannot be added).
    public static var migrationFailed: Self { Self("migrationFailed") }
    /// A buffer's memory and spill file are full: the batch was **not** accepted; keep it and try again later.
    public static var backpressure: Self { Self("backpressure") }
    /// The sink was closed.
    public static var closed: Self { Self("closed") }
    /// The configuration is unusable (a schema name that is not a plain identifier, a directory that cannot be
    /// created, ...).
    public static var invalidConfiguration: Self { Self("invalidConfiguration") }
}
