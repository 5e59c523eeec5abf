public import CandleCore

/// A configuration problem found while loading or validating an ``OrcaConfiguration``.
///
/// ``description`` reads `<key>: <message>`, e.g. `collector.instruments: unknown instrument 'XQ'; use one of NQ,
/// MNQ, ES, MES`. The message names the value's problem and the fix; it never contains a password, API secret,
/// token or URL password.
public struct ConfigurationError: CodedError, Sendable, Hashable {
    /// What went wrong, as a stable code.
    public typealias Code = StableCode<ConfigurationError>

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

extension ConfigurationError.Code {
    /// The configuration file holds a key Orca does not know (usually a typo).
    public static var unknownKey: Self { Self("unknownKey") }
    /// A value has the wrong type or form (not a number, unknown instrument, bad duration…).
    public static var invalidValue: Self { Self("invalidValue") }
    /// A Redis, PostgreSQL or Tradovate URL cannot be parsed or has the wrong scheme.
    public static var invalidURL: Self { Self("invalidURL") }
    /// A number is outside its allowed range (port, capacity, zero or negative duration…).
    public static var outOfRange: Self { Self("outOfRange") }
    /// Credentials are required but absent or incomplete (`live` without logins, a login without password).
    public static var missingCredentials: Self { Self("missingCredentials") }
    /// The credentials are malformed (duplicate login, bad `cid`, unknown market-data login…).
    public static var invalidCredentials: Self { Self("invalidCredentials") }
    /// The configuration file or the credentials file is missing or cannot be read.
    public static var fileUnreadable: Self { Self("fileUnreadable") }
    /// The credentials file is readable by group or others.
    public static var fileTooOpen: Self { Self("fileTooOpen") }
    /// The configuration file is not valid YAML or JSON, or not a mapping of keys.
    public static var invalidFile: Self { Self("invalidFile") }
}
