import CandleCore
import Foundation
import OrcaTestSupport
import ServerTestSupport
import Testing
import TokenStore
import TradovateSimulator

private let env = ProcessInfo.processInfo.environment

/// Three `orca-run tokens refresh` processes sharing one Redis and one simulator renew each login exactly once.
@Suite(
    "Token refresh across processes (orca-run binary, real Redis, simulator)", .timeLimit(.minutes(10)),
    .enabled(
        if: env["ORCA_TEST_REDIS_URL"] != nil,
        "set ORCA_TEST_REDIS_URL (scripts/test.sh does) to run against a real Redis"))
struct CrossProcessRefreshTests {
    /// `orca-run`, built next to the test bundle by `swift build` / `swift test`.
    static var binary: URL? { orcaRunBinary.map { URL(fileURLWithPath: $0) } }

    @Test("three processes at once → one renewal per login; old-layout keys written with the server's TTL")
    func threeProcesses() async throws {
        let binary = try #require(Self.binary, "orca-run must be built (swift build) next to the test bundle")
        let users = (0..<2).map {
            SimulatorLogin(
                name: "XP_\($0)_\(UUID().uuidString.prefix(6))", password: "pw-\(UUID())", cid: $0 + 1,
                sec: "s-\(UUID())")
        }
        var configuration = SimulatorConfiguration()
        configuration.logins = users
        let sim = try await SimulatorServer.start(configuration)
        defer { Task { await sim.shutdown() } }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("orca-xp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let credentials = directory.appendingPathComponent("credentials.json").path
        let entries = users.map {
            [
                "name": $0.name, "password": $0.password, "cid": $0.cid, "sec": $0.sec,
                "accounts": ["\($0.name)-A", "\($0.name)-B"],
            ]
                as [String: any Sendable]
        }
        try JSONSerialization.data(withJSONObject: ["logins": entries]).write(to: URL(fileURLWithPath: credentials))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: credentials)
        let environment = [
            "REDIS_URL": env["ORCA_TEST_REDIS_URL"]!, "ORCA_TRADOVATE_URL": sim.restBaseURL.absoluteString,
            // The simulator lives in this test process: on a loaded machine it can take more than 15 s to answer.
            "ORCA_TRADOVATE_REQUEST_TIMEOUT": "120s",
            "XDG_STATE_HOME": directory.path, "ORCA_STATE_DIRECTORY": directory.path + "/state",
            "PATH": env["PATH"] ?? "/usr/bin",
        ]
        func refresh() async throws -> (Int32, String) {
            try await runProcess(
                binary.path, ["tokens", "refresh", "--credentials", credentials, "--if-older-than", "5"],
                environment: environment)
        }

        let (firstStatus, firstOutput) = try await refresh()  // logs in
        #expect(firstStatus == 0, "\(firstOutput)")
        #expect(sim.stats.snapshot().loginsSucceeded == users.count)
        // Older than --if-older-than: the next runs must renew (and the three may start up to 5 s apart on a loaded
        // machine and still count as one refresh).
        try await Task.sleep(for: .milliseconds(5500))

        async let a = refresh()
        async let b = refresh()
        async let c = refresh()
        let results = try await [a, b, c]
        for (status, output) in results { #expect(status == 0, "\(output)") }
        let stats = sim.stats.snapshot()
        #expect(stats.renewalsSucceeded == users.count)  // one per login, not three
        #expect(stats.loginsSucceeded == users.count)
        #expect(results.map(\.1).joined().contains("adopted"))

        // The seed layout: every account key holds the raw token with the server's TTL.
        let redis = try RedisClient(url: env["ORCA_TEST_REDIS_URL"]!)
        for user in users {
            let tokens = try await Set(
                [user.name, "\(user.name)-A", "\(user.name)-B"].asyncMap {
                    try await redis.command("GET", "token:\($0)").stringValue ?? "missing"
                })
            #expect(tokens.count == 1)
            #expect(!tokens.contains("missing"))
            let ttl = try #require(try await redis.command("TTL", "token:\(user.name)").integerValue)
            #expect(ttl > 5300 && ttl <= 5400)
        }
        let (statusCode, statusOutput) = try await runProcess(
            binary.path, ["tokens", "status", "--credentials", credentials], environment: environment)
        #expect(statusCode == 0, "\(statusOutput)")
        #expect(statusOutput.contains("\(users[0].name)-B"))
    }
}

extension Array where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}

