public import Foundation

extension Duration {
    /// The duration in seconds as a `TimeInterval`, for arithmetic with `Date`.
    public var timeInterval: TimeInterval {
        let parts = components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) * 1e-18
    }

    /// A duration from seconds given as a `TimeInterval` (rounded to the nanosecond).
    public static func interval(_ seconds: TimeInterval) -> Duration {
        .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}
