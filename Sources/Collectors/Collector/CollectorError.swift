/// A collector failure: a stable ``Code`` to branch on and a message that names what is wrong and how to fix it.
///
/// Source and sink failures during collection are not thrown: they are counted per series in
/// ``Collector/Statistics`` and reported as ``CollectorEvent/error(series:message:)``. This error is for setting a
/// collector up (a bad configuration, a damaged ledger file) and for misuse (running one collector twice).
public struct CollectorError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case invalidConfiguration, alreadyRunning, ledgerUnavailable, corruptLedger
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A configuration value is out of range (the message names the field and the accepted range).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// ``Collector/run()`` was called while the collector is already running (or after it ran).
        public static let alreadyRunning = Code(.alreadyRunning)
        /// The confirmed-empty ledger file cannot be created, read, written or synced.
        public static let ledgerUnavailable = Code(.ledgerUnavailable)
        /// A complete line of the ledger file cannot be read (only a torn *last* line is tolerated).
        public static let corruptLedger = Code(.corruptLedger)

        public var description: String { value.rawValue }
    }

    /// What went wrong.
    public let code: Code
    /// A description for people.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) [\(code)]" }
}
