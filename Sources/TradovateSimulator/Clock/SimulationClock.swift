public import CandleCore
import Foundation

/// The simulator's clocks are Orca's `CandleCore.WallClock`: one protocol for "now" and "sleep until", so the
/// simulator, the token refresher and the collector can share one manual or virtual clock in a test or a demo.
///
/// Everything in the simulator that depends on time reads it through this protocol, never through `Date()` or
/// `Task.sleep`: the market (which bars exist), token expiry, rate-limit windows and penalty back-offs use the
/// *simulation* clock; transport timers (heartbeat timeout, server `h` cadence, injected delays) use a separate
/// *wall* clock. Implementations:
///
/// - ``RealTimeClock`` (= `SystemWallClock`): real time.
/// - ``VirtualClock``: `start + (wall − anchor) × speed`, a pure function of the wall clock and three values, so two
///   processes started with the same values agree on the simulated time.
/// - ``ManualClock`` (= `ManualWallClock`): moves only when a test calls `advance(by:)` or `set(to:)`.
public typealias SimulationClock = WallClock

/// Real time (`CandleCore.SystemWallClock`).
public typealias RealTimeClock = SystemWallClock

/// A clock moved by hand in tests (`CandleCore.ManualWallClock`).
public typealias ManualClock = ManualWallClock
