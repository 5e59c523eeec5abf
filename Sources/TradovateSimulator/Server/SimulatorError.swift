public import CandleCore

/// A simulator that cannot be configured, started or asked something; its message never contains a password or
/// token.
public typealias SimulatorError = DomainError<SimulatorServer>

extension SimulatorError.Code {
    /// A configuration value is out of range or inconsistent.
    public static var invalidConfiguration: Self { Self("invalidConfiguration") }
    /// The listening socket could not be bound.
    public static var bindFailed: Self { Self("bindFailed") }
    /// A symbol names no simulated contract or continuous root.
    public static var unknownSymbol: Self { Self("unknownSymbol") }
    /// No login of that name is configured.
    public static var unknownLogin: Self { Self("unknownLogin") }
    /// A login table file cannot be read.
    public static var invalidLoginTable: Self { Self("invalidLoginTable") }
}
