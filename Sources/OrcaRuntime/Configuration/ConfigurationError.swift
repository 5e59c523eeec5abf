/// A configuration problem found while loading or validating an ``OrcaConfiguration``.
///
/// ``description`` reads `<key>: <message>`, e.g. `collector.instruments: unknown instrument 'XQ'; use one of NQ,
/// MNQ, ES, MES`. The message names the value's problem and the fix; it never contains a password, API secret,
/// token or URL password.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a stable code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case unknownKey, invalidValue, invalidURL, outOfRange, missingCredentials, invalidCredentials
            case fileUnreadable, fileTooOpen, invalidFile
        }

        private let value: Value

        private init(_ value: Value) {
            self.value = value
        }

        /// The configuration file holds a key Orca does not know (usually a typo).
        public static let unknownKey = Code(.unknownKey)
        /// A value has the wrong type or form (not a number, unknown instrument, bad duration…).
        public static let invalidValue = Code(.invalidValue)
        /// A Redis, PostgreSQL or Tradovate URL cannot be parsed or has the wrong scheme.
        public static let invalidURL = Code(.invalidURL)
        /// A number is outside its allowed range (port, capacity, zero or negative duration…).
        public static let outOfRange = Code(.outOfRange)
        /// Credentials are required but absent or incomplete (`live` without logins, a login without password).
        public static let missingCredentials = Code(.missingCredentials)
        /// The credentials are malformed (duplicate login, bad `cid`, unknown market-data login…).
        public static let invalidCredentials = Code(.invalidCredentials)
        /// The configuration file or the credentials file is missing or cannot be read.
        public static let fileUnreadable = Code(.fileUnreadable)
        /// The credentials file is readable by group or others.
        public static let fileTooOpen = Code(.fileTooOpen)
        /// The configuration file is not valid YAML or JSON, or not a mapping of keys.
        public static let invalidFile = Code(.invalidFile)

        public var description: String { value.rawValue }
    }

    /// What went wrong.
    public let code: Code
    /// The configuration key at fault, in dotted form (`collector.healLookBack`), or `nil` when the problem is not tied
    /// to one key (an unreadable configuration file).
    public let key: String?
    /// What is wrong with the value and how to fix it. Never holds a secret.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, key: String?, _ message: String) {
        self.code = code
        self.key = key
        self.message = message
    }

    public var description: String {
        guard let key else { return message }
        return "\(key): \(message)"
    }
}
