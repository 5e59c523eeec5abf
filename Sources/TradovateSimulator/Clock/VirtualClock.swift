public import CandleCore
public import Foundation

/// A simulated time that is a pure function of a base (wall) clock: `simulated = start + (wall − anchor) × speed`.
///
/// Two processes — or one process and its restarted self — built with the same `start`, `speed` and `anchor` agree on
/// the simulated time at every wall-clock instant, because nothing depends on when the process started.
///
/// The anchor is the wall-clock instant at which the simulated time equals `start`. ``defaultAnchor(for:)`` gives the
/// documented default `orca-run simulate` uses when `--anchor` is omitted: 00:00 UTC of the current UTC day, so every
/// process started the same UTC day with the same flags agrees (pass `--anchor` explicitly to agree across midnight).
public struct VirtualClock: SimulationClock {
    /// The simulated instant at the anchor.
    public let start: Date
    /// Simulated seconds per wall-clock second (> 0).
    public let speed: Double
    /// The wall-clock instant at which the simulated time is ``start``.
    public let anchor: Date
    /// The wall clock the simulated time is derived from.
    public let base: any SimulationClock

    /// Creates a virtual clock.
    ///
    /// - Parameters:
    ///   - start: the simulated instant at `anchor`.
    ///   - speed: simulated seconds per wall second; must be a finite number greater than zero.
    ///   - anchor: the wall instant at which the simulated time is `start`.
    ///   - base: the wall clock (default ``RealTimeClock``).
    /// - Throws: ``SimulatorError`` with code `invalidConfiguration` for a bad speed.
    public init(
        start: Date, speed: Double = 1, anchor: Date, base: any SimulationClock = RealTimeClock()
    ) throws(SimulatorError) {
        guard speed.isFinite, speed > 0 else {
            throw SimulatorError(.invalidConfiguration, "clock speed \(speed) must be a finite number greater than 0")
        }
        self.start = start
        self.speed = speed
        self.anchor = anchor
        self.base = base
    }

    /// The clock a command line asks for: real time when none of `start`, `anchor` is given and `speed` is 1;
    /// otherwise a virtual clock whose anchor defaults to ``defaultAnchor(for:)`` of `base.now()` and whose start
    /// defaults to the anchor.
    ///
    /// - Throws: ``SimulatorError`` with code `invalidConfiguration` for a bad speed.
    public static func fromOptions(
        start: Date?, speed: Double, anchor: Date?, base: any SimulationClock = RealTimeClock()
    ) throws(SimulatorError) -> any SimulationClock {
        if start == nil && anchor == nil && speed == 1 { return base }
        let anchor = anchor ?? defaultAnchor(for: base.now())
        return try VirtualClock(start: start ?? anchor, speed: speed, anchor: anchor, base: base)
    }

    /// The default anchor for a process started at `wallNow`: 00:00 UTC of that UTC day.
    public static func defaultAnchor(for wallNow: Date) -> Date {
        let seconds = wallNow.timeIntervalSince1970
        return Date(timeIntervalSince1970: (seconds / 86_400).rounded(.down) * 86_400)
    }

    /// The simulated instant for a wall-clock instant.
    public func simulated(atWall wall: Date) -> Date {
        start.addingTimeInterval(wall.timeIntervalSince(anchor) * speed)
    }

    /// The wall-clock instant at which the simulated time reaches `simulated`.
    public func wall(atSimulated simulated: Date) -> Date {
        anchor.addingTimeInterval(simulated.timeIntervalSince(start) / speed)
    }

    public func now() -> Date { simulated(atWall: base.now()) }

    public func sleep(until deadline: Date) async throws {
        try await base.sleep(until: wall(atSimulated: deadline))
    }
}
