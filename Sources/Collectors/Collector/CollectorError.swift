public import CandleCore

/// A collector failure: a stable `Code` to branch on and a message that names what is wrong and how to fix it.
///
/// Source and sink failures during collection are not thrown: they are counted per series in
/// ``Collector/Statistics`` and reported as ``CollectorEvent/error(series:message:)``. This error is for setting a
/// collector up (a bad configuration, a damaged ledger file) and for misuse (running one collector twice).
public typealias CollectorError = TaggedDomainError<Collector>

extension CollectorError.Code {
    /// A configuration value is out of range (the message names the field and the accepted range).
    public static var invalidConfiguration: Self { Self("invalidConfiguration") }
    /// ``Collector/run()`` was called while the collector is already running (or after it ran).
    public static var alreadyRunning: Self { Self("alreadyRunning") }
    /// The confirmed-empty ledger file cannot be created, read, written or synced.
    public static var ledgerUnavailable: Self { Self("ledgerUnavailable") }
    /// A complete line of the ledger file cannot be read (only a torn *last* line is tolerated).
    public static var corruptLedger: Self { Self("corruptLedger") }
}
