import CandleCore
import Foundation
import OrcaRuntime
import Testing

@Suite("State directory keeper: the device id file comes back while the daemon runs")
struct StateDirectoryKeeperTests {
    let root = FileManager.default.temporaryDirectory.appending(path: "orca-state-\(UUID().uuidString)")
    var path: String { root.appending(path: "state/device-id").path(percentEncoded: false) }

    private func stored() -> String? {
        FileManager.default.contents(atPath: path).map {
            String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    @Test("checkOnce writes the id again when the file, or its directory, is gone or holds another id")
    func checkOnce() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let keeper = StateDirectoryKeeper(deviceID: "d-1", deviceIDPath: path)
        #expect(keeper.checkOnce())  // nothing there yet
        #expect(stored() == "d-1")
        #expect(!keeper.checkOnce())  // in place: nothing written
        try FileManager.default.removeItem(at: root)
        #expect(keeper.checkOnce())
        #expect(stored() == "d-1")
        try Data("someone-else\n".utf8).write(to: URL(filePath: path))
        #expect(keeper.checkOnce())
        #expect(stored() == "d-1")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("run() looks every interval on the injected clock until cancelled")
    func runLoop() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let clock = ManualWallClock(now: Date(timeIntervalSince1970: 1_764_547_200))
        let keeper = StateDirectoryKeeper(deviceID: "d-2", deviceIDPath: path, interval: .seconds(10), clock: clock)
        let running = Task { try await keeper.run() }
        await clock.waitForSleepers(1)
        #expect(stored() == "d-2")
        try FileManager.default.removeItem(at: root)
        clock.advance(by: .seconds(5))
        #expect(stored() == nil)  // not yet: the interval has not passed
        clock.advance(by: .seconds(5))
        await clock.waitForSleepers(1)
        let deadline = ContinuousClock.now + .seconds(60)
        while stored() == nil && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(stored() == "d-2")
        running.cancel()
        try await running.value
    }
}
