/// A market-data frame that breaks the protocol: a ``Code`` to branch on, the byte offset where decoding stopped, and a
/// message that says what is wrong, quoting at most 60 bytes of the frame around that offset.
public struct MarketDataProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, as a closed set of values that can grow without breaking `switch` statements.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case emptyFrame, unknownFrameType, malformedJSON, unexpectedShape, invalidValue
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The text message is empty.
        public static let emptyFrame = Code(.emptyFrame)
        /// The first byte is not one of `o`, `h`, `a`, `c`.
        public static let unknownFrameType = Code(.unknownFrameType)
        /// The payload is not valid JSON (truncated, bad token, bad escape, invalid UTF-8, nested too deep).
        public static let malformedJSON = Code(.malformedJSON)
        /// Valid JSON of the wrong shape: a required field is missing or has the wrong type.
        public static let unexpectedShape = Code(.unexpectedShape)
        /// A value of the right type that cannot be used: a bad timestamp, a number out of range or not an integer.
        public static let invalidValue = Code(.invalidValue)

        public var description: String { base.rawValue }
    }

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
