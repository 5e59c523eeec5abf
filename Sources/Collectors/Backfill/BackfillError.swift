public import CandleCore
import Foundation

/// A backfill that cannot start or cannot go on: a `Code` to branch on and a message naming what is wrong and how
/// to fix it. Failures of single chunks (a source or sink error) are not thrown; they are reported in the
/// ``BackfillSummary``.
public typealias BackfillError = TaggedDomainError<Backfill>

extension BackfillError.Code {
    /// The configuration cannot be run (empty range, no series, a concurrency below 1, ...).
    public static var invalidConfiguration: Self { Self("invalidConfiguration") }
    /// The checkpoint file was written by a backfill with other parameters (series, start, roll offset).
    public static var checkpointMismatch: Self { Self("checkpointMismatch") }
    /// The checkpoint file exists but cannot be read or decoded.
    public static var checkpointUnreadable: Self { Self("checkpointUnreadable") }
    /// The checkpoint file cannot be written (directory missing, disk full, permissions).
    public static var checkpointWriteFailed: Self { Self("checkpointWriteFailed") }
    /// Another backfill holds the checkpoint file's lock.
    public static var checkpointLocked: Self { Self("checkpointLocked") }
}
