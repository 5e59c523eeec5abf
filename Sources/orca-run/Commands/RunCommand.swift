import ArgumentParser
import CandleCore
import Collectors
import Foundation
import Logging
import OrcaRuntime

/// `orca-run run` (also `orca-run` with no subcommand): the daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Collect every closed bar live, heal holes, keep tokens fresh, serve /health and /metrics.",
        discussion: """
            Runs the token refresher, the market-data client (one WebSocket), the collector, the buffered sink and \
            the HTTP endpoint until SIGTERM or SIGINT, then shuts down gracefully: stops fetching, cancels charts, \
            releases Redis locks, drains or spills the buffer and closes the sink (exit 0).

            With no configuration at all it runs the embedded default: the Tradovate simulator in-process, tokens \
            in memory and CSV files under ./orca-data. Each part falls back on its own: no Tradovate credentials → \
            the simulator; no DATABASE_URL → files; no REDIS_URL → tokens in memory. When the real market is \
            closed, the simulated clock starts at the latest session's open, and the look-back heal writes the \
            bars before it at once, so bars appear within seconds on any day.

            EXAMPLES
              orca-run                                  # the embedded demo, real speed
              orca-run run --speed 60 --duration 60     # an hour of simulated market in a minute
              DATABASE_URL=postgres://orca@localhost/orca REDIS_URL=rediss://:pw@redis:6380/0 \\
                ORCA_TRADOVATE_CREDENTIALS_FILE=/etc/orca/credentials.yaml orca-run run --config /etc/orca/orca.yaml
            """)

    @OptionGroup var options: ConfigOptions

    @Option(help: "Stop by itself after this much real time: 60, 45s, 5m, 1h30m (default: run until SIGTERM/SIGINT).")
    var duration: DurationArgument?

    @Option(help: "Status output: auto (a table on a terminal, lines otherwise), lines, table or none.")
    var status = "auto"

    @Option(help: "HTTP port for /health and /metrics (http.port; default 9464; 0 = any free port).")
    var httpPort: Int?

    @Flag(help: "Do not serve /health and /metrics (http.enabled = false).")
    var noHTTP = false

    func validate() throws {
        guard StatusPrinter.Style(rawValue: status) != nil else {
            throw ValidationError("--status must be auto, lines, table or none (got '\(status)')")
        }
        if let duration, !(duration.duration > .zero) {
            throw ValidationError("--duration must be a positive number of seconds or a duration like 45s or 5m")
        }
    }

    func run() async throws {
        var extra: [String: String] = [:]
        if let httpPort { extra["http.port"] = String(httpPort) }
        if noHTTP { extra["http.enabled"] = "false" }
        let configuration = try await options.load(extra: extra)
        options.bootstrapLogging(configuration)
        let logger = Logger(label: "orca.run")
        let environment = try await OrcaEnvironment.make(configuration, logger: logger)
        let daemon: OrcaDaemon
        do {
            daemon = try await OrcaDaemon.make(environment: environment, logger: logger)
        } catch {
            await environment.shutdown()
            throw error
        }
        let printer = StatusPrinter(
            style: StatusPrinter.Style(rawValue: status) ?? .auto, series: configuration.collector.series,
            isTerminal: isatty(1) == 1)
        let sinkDescription = environment.sinkDescription
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The status output ends when the collector's event stream does (after the daemon's services stopped).
            group.addTask { await printer.print(daemon.events, marketClock: environment.clock) }
            do {
                try await daemon.run(duration: duration?.duration) { port in
                    let endpoint =
                        port.map { "http://\(configuration.http.host):\($0)/health and /metrics" } ?? "disabled"
                    Self.say(
                        "orca-run: collecting \(configuration.collector.series.count) series into \(sinkDescription); "
                            + "HTTP \(endpoint)")
                }
            } catch {
                group.cancelAll()
                throw error
            }
            try await group.waitForAll()
        }
        let statistics = await daemon.collector.statistics
        Self.say("orca-run: stopped; \(statistics.barsWritten) bars written")
    }

    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
