import Foundation
import OrcaTestSupport
import Testing
import TradovateSimulator

/// `orca-run tokens refresh --config X` and `orca-run run --config X` log in with one device id: both build their
/// token parts through `OrcaConfiguration.makeTokenComponents`, which keeps it at `<stateDirectory>/device-id`.
@Suite("device id shared by every command (binary)", .serialized, .timeLimit(.minutes(10)))
struct DeviceIDCLITests {
    @Test("tokens refresh and run with the same --config present the same deviceId; a legacy file is migrated")
    func sameDeviceID() async throws {
        let user = SimulatorLogin(
            name: "DEV_\(UUID().uuidString.prefix(6))", password: "pw-\(UUID())", cid: 7, sec: "s-\(UUID())")
        var simulatorConfiguration = SimulatorConfiguration()
        simulatorConfiguration.logins = [user]
        let sim = try await SimulatorServer.start(simulatorConfiguration)
        let harness = try OrcaRunHarness()
        defer { harness.remove() }

        // The id `orca-run tokens` used to keep under $HOME (the harness's HOME is its directory).
        let legacyID = UUID().uuidString.lowercased()
        let legacy = harness.directory.appendingPathComponent(".local/state/orca/device-id")
        try FileManager.default.createDirectory(
            at: legacy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data((legacyID + "\n").utf8).write(to: legacy)

        let credentials = harness.directory.appendingPathComponent("credentials.json")
        let entry: [String: any Sendable] = [
            "name": user.name, "password": user.password, "cid": user.cid, "sec": user.sec, "accounts": [user.name],
        ]
        try JSONSerialization.data(withJSONObject: ["logins": [entry]]).write(to: credentials)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: credentials.path)
        let config = harness.directory.appendingPathComponent("orca.yaml")
        try """
        stateDirectory: \(harness.directory.path)/state
        tradovate:
          environment: custom
          restURL: \(sim.restBaseURL.absoluteString)
          marketDataURL: \(sim.webSocketURL.absoluteString)
          credentialsFile: \(credentials.path)
          requestTimeout: 120s  # the simulator is in this test process: on a loaded machine it can answer late
        files:
          directory: \(harness.directory.path)/data
        collector:
          instruments: [NQ]
          timeframes: [5]
          healLookBack: 1h
        http:
          enabled: false
        """.write(to: config, atomically: true, encoding: .utf8)

        let refresh = try await harness.run(["tokens", "refresh", "--config", config.path])
        #expect(refresh.status == 0, "\(refresh.output)")
        #expect(refresh.output.contains("device id moved"), "the migration is said once:\n\(refresh.output)")
        let stored = try String(
            contentsOf: harness.directory.appendingPathComponent("state/device-id"), encoding: .utf8
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(stored == legacyID)

        let run = try await harness.run(["run", "--config", config.path, "--duration", "3s", "--status", "none"])
        #expect(run.status == 0, "\(run.output.suffix(2_000))")
        #expect(!run.output.contains("device id moved"), "migrated once, not on every start")

        let stats = sim.stats.snapshot()
        #expect(stats.loginsSucceeded >= 2, "tokens refresh and run each log in (no Redis between them)")
        #expect(stats.deviceIDsByLogin[user.name] == [legacyID])
        await sim.shutdown()
    }
}
