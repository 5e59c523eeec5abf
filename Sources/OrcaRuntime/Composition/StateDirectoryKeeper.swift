public import CandleCore
public import Logging
public import ServiceLifecycle
import TokenStore

/// Keeps the daemon's device id file in the state directory while it runs.
///
/// When the file, or the whole state directory, is removed while the daemon runs (by hand, a clean-up job, a wiped
/// volume), it is written again within one ``interval`` with the id the daemon logs in with, and a warning says so:
/// otherwise the next start would make a new id, the usual cause of 401 "Access is denied" on live accounts. The
/// other files there repair themselves when next used: the spill file (`BufferedCandleSink`) and the
/// confirmed-empty ledger are written again from what the process holds.
public struct StateDirectoryKeeper: Service {
    /// The id the process uses.
    public let deviceID: String
    /// Where it must stay.
    public let deviceIDPath: String
    /// How often to look (default 10 s).
    public let interval: Duration

    private let clock: any WallClock
    private let logger: Logger

    /// Creates a keeper; nothing happens until ``run()`` or ``checkOnce()``.
    public init(
        deviceID: String, deviceIDPath: String, interval: Duration = .seconds(10),
        clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "orca.state")
    ) {
        self.deviceID = deviceID
        self.deviceIDPath = deviceIDPath
        self.interval = max(.milliseconds(10), interval)
        self.clock = clock
        self.logger = logger
    }

    /// Writes the device id file again when it is missing or holds another id; `true` when it did.
    @discardableResult
    public func checkOnce() -> Bool {
        do {
            guard try DeviceID.restore(deviceID, at: deviceIDPath) else { return false }
            logger.warning(
                "the device id file was missing or changed while running (state directory removed?); written again",
                metadata: ["orca_path": "\(deviceIDPath)"])
            return true
        } catch {
            logger.error(
                "cannot write the device id file again; the next start may log in with a new device id",
                metadata: ["orca_path": "\(deviceIDPath)", "orca_error": "\(error)"])
            return false
        }
    }

    /// Checks every ``interval`` until cancelled or gracefully shut down.
    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                self.checkOnce()
                do {
                    try await self.clock.sleep(for: self.interval)
                } catch is CancellationError {
                    return
                }
            }
        }
    }
}
