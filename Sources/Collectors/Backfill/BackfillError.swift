import Foundation

/// A backfill that cannot start or cannot go on: a ``Code`` to branch on and a message naming what is wrong and how
/// to fix it. Failures of single chunks (a source or sink error) are not thrown; they are reported in the
/// ``BackfillSummary``.
public struct BackfillError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case invalidConfiguration, checkpointMismatch, checkpointUnreadable, checkpointWriteFailed,
                checkpointLocked
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The configuration cannot be run (empty range, no series, a concurrency below 1, ...).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The checkpoint file was written by a backfill with other parameters (series, start, roll offset).
        public static let checkpointMismatch = Code(.checkpointMismatch)
        /// The checkpoint file exists but cannot be read or decoded.
        public static let checkpointUnreadable = Code(.checkpointUnreadable)
        /// The checkpoint file cannot be written (directory missing, disk full, permissions).
        public static let checkpointWriteFailed = Code(.checkpointWriteFailed)
        /// Another backfill holds the checkpoint file's lock.
        public static let checkpointLocked = Code(.checkpointLocked)

        public var description: String { value.rawValue }
    }

    /// What went wrong.
    public let code: Code
    /// What is wrong and how to fix it.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) [\(code)]" }
}
