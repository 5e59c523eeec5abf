public import CandleCore

/// A market-data frame that breaks the protocol: a ``Code`` to branch on, the byte offset where decoding stopped, and a
/// message that says what is wrong, quoting at most 60 bytes of the frame around that offset.
public struct MarketDataProtocolError: CodedError, Sendable, Hashable {
    /// What is wrong, as a closed set of values that can grow without breaking `switch` statements.
    public typealias Code = StableCode<MarketDataProtocolError>

    /// The kind of problem.
    public let code: Code
    /// The byte offset in the frame (UTF-8) where decoding stopped.
    public let offset: Int
    /// What is wrong and where, with a short excerpt of the frame.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, offset: Int, _ message: String) {
        self.code = code
        self.offset = offset
        self.message = message
    }

    /// `MarketDataProtocolError.malformedJSON: expected ',' or '}' after an object member (at byte 12 of 40, near "…")`.
    public var description: String {
        "MarketDataProtocolError.\(code): \(message)"
    }
}

extension MarketDataProtocolError.Code {
    /// The text message is empty.
    public static var emptyFrame: Self { Self("emptyFrame") }
    /// The first byte is not one of `o`, `h`, `a`, `c`.
    public static var unknownFrameType: Self { Self("unknownFrameType") }
    /// The payload is not valid JSON (truncated, bad token, bad escape, invalid UTF-8, nested too deep).
    public static var malformedJSON: Self { Self("malformedJSON") }
    /// Valid JSON of the wrong shape: a required field is missing or has the wrong type.
    public static var unexpectedShape: Self { Self("unexpectedShape") }
    /// A value of the right type that cannot be used: a bad timestamp, a number out of range or not an integer.
    public static var invalidValue: Self { Self("invalidValue") }
}
