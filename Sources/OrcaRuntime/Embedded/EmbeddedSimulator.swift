public import CandleCore
public import Foundation
public import TradovateSimulator

/// The in-process Tradovate simulator `orca-run` starts when no Tradovate credentials are configured.
///
/// Its market runs on a `ScaledWallClock`: simulated time starts at ``plannedStart(now:calendar:)`` and runs
/// `speed` times faster than real time. Everything that judges market time in the same process (the token refresher,
/// the market-data client, the collector) must use the same ``clock``.
public struct EmbeddedSimulator: Sendable {
    /// The running server.
    public let server: SimulatorServer
    /// The simulated market time every component of the process shares.
    public let clock: ScaledWallClock

    /// Picks where simulated time starts so that a newcomer sees bars at once, whatever the real time:
    ///
    /// - the market is open now → now (the simulated market is the real calendar, shifted by nothing);
    /// - the market is closed (a weekend, the daily halt, a holiday) → the open of the latest session, so the whole
    ///   session streams live (at `speed`) while the collector's look-back heal writes the bars before it.
    public static func plannedStart(now: Date, calendar: TradingCalendar = .cmeEquityIndex) -> Date {
        if calendar.isOpen(at: now) { return now }
        let recent = calendar.sessions(from: now.addingTimeInterval(-10 * 86_400), to: now)
        guard let last = recent.last(where: { $0.open <= now }) else { return now }
        return last.open
    }

    /// Starts the simulator on `host:port` (port 0 = ephemeral) with simulated time starting at `start` (default:
    /// ``plannedStart(now:calendar:)``) and running `speed` times faster than `realNow`.
    ///
    /// - Throws: `SimulatorError` when the port cannot be bound.
    public static func start(
        seed: UInt64 = 42, speed: Double = 1, start: Date? = nil, host: String = "127.0.0.1", port: Int = 0,
        realNow: Date = Date(), calendar: TradingCalendar = .cmeEquityIndex
    ) async throws -> EmbeddedSimulator {
        let clock = ScaledWallClock(
            start: start ?? plannedStart(now: realNow, calendar: calendar), anchor: realNow, speed: speed)
        var configuration = SimulatorConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.seed = seed
        configuration.clock = clock
        let server = try await SimulatorServer.start(configuration)
        return EmbeddedSimulator(server: server, clock: clock)
    }
}
