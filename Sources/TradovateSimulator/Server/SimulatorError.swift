/// A simulator that cannot be configured, started or asked something.
public struct SimulatorError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a stable code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case invalidConfiguration, bindFailed, unknownSymbol, unknownLogin, invalidLoginTable
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }
        /// A configuration value is out of range or inconsistent.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The listening socket could not be bound.
        public static let bindFailed = Code(.bindFailed)
        /// A symbol names no simulated contract or continuous root.
        public static let unknownSymbol = Code(.unknownSymbol)
        /// No login of that name is configured.
        public static let unknownLogin = Code(.unknownLogin)
        /// A login table file cannot be read.
        public static let invalidLoginTable = Code(.invalidLoginTable)
        public var description: String { value.rawValue }
    }

    /// The error's code.
    public let code: Code
    /// A plain-words explanation (never contains a password or token).
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
