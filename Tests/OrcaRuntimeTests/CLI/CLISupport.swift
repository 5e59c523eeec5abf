import Foundation
import OrcaTestSupport
import Testing
import TokenStore

/// Runs the built `orca-run` in a fresh temporary directory.
struct OrcaRunHarness {
    let binary: String
    let directory: URL
    let environment: [String: String]

    /// A harness in a new temporary directory; the environment has no `ORCA_*`, `DATABASE_URL` or `REDIS_URL` from
    /// the test run unless given in `extra`.
    init(extra: [String: String] = [:]) throws {
        binary = try #require(orcaRunBinary, "orca-run must be built next to the test bundle (swift build)")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("orca-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment.filter { key, _ in
            !key.hasPrefix("ORCA_") && key != "DATABASE_URL" && key != "REDIS_URL"
        }
        environment["HOME"] = directory.path
        environment.merge(extra) { _, new in new }
        self.environment = environment
    }

    /// Runs `orca-run arguments…` to completion.
    func run(_ arguments: [String], environment extra: [String: String] = [:]) async throws -> (
        status: Int32, output: String
    ) {
        try await runProcess(
            binary, arguments, environment: environment.merging(extra) { _, new in new },
            workingDirectory: directory.path)
    }

    /// Starts `orca-run arguments…` in the background with its output in a file.
    func start(_ arguments: [String], environment extra: [String: String] = [:]) throws -> RunningOrca {
        let log = directory.appendingPathComponent("orca-run-\(UUID().uuidString).log").path
        let child = try ChildProcess(
            binary, arguments, outputFile: log, environment: environment.merging(extra) { _, new in new },
            workingDirectory: directory.path)
        return RunningOrca(child: child, log: log)
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A background `orca-run`.
struct RunningOrca {
    let child: ChildProcess
    let log: String

    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Polls the output (every 100 ms, up to `seconds`) until `predicate` holds; returns the output then.
    func waitForOutput(seconds: Double = 120, _ predicate: (String) -> Bool) async throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let text = output
            if predicate(text) { return text }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out waiting for orca-run output; got:\n\(output.suffix(3_000))")
        throw CancellationError()
    }

    /// The HTTP port from the start line (`HTTP http://127.0.0.1:PORT/health`).
    func httpPort() async throws -> Int {
        let text = try await waitForOutput { $0.contains("/health and /metrics") }
        let line = try #require(text.split(separator: "\n").first { $0.contains("/health and /metrics") })
        let afterHost = try #require(line.range(of: "127.0.0.1:"))
        let digits = line[afterHost.upperBound...].prefix { $0.isNumber }
        return try #require(Int(digits))
    }

    /// Stops the process with `signal` and waits (up to `seconds`) for its exit status.
    func stop(_ signal: Int32 = SIGTERM, seconds: Double = 60) async -> Int32? {
        child.kill(signal)
        return await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await child.exitStatus() }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = await group.next() ?? nil
            if first == nil { child.kill(SIGKILL) }
            group.cancelAll()
            return first
        }
    }
}

/// GET `url` with libcurl; returns the status and the body as text.
func httpGet(_ url: String) async throws -> (status: Int, body: String) {
    let response = try await CurlHTTPClient().get(url, timeout: .seconds(10))
    return (response.status, String(decoding: response.body, as: UTF8.self))
}
