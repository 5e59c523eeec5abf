import ArgumentParser
import CandleCore
import Collectors
import Foundation
import Logging
import OrcaRuntime

/// `orca-run health`: the old shell health check, judged against the trading calendar.
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Token TTLs, Redis and PostgreSQL reachability, per-series freshness; exit 0/1/2.",
        discussion: """
            Checks, without a running daemon: the token of every login in the token store (seconds to expiry), \
            Redis (PING round trip), the sink (PostgreSQL or files: reachable?), and for every configured series \
            whether the latest stored bar is as recent as the CME calendar says it should be — a closed market \
            (weekend, daily halt, holiday) is not stale. A running daemon serves the same report, with its live \
            components, at GET /health.

            Exit status: 0 healthy, 1 degraded (something needs attention but data still flows), 2 down (no bar \
            can be stored or no token is usable), 78 configuration error.

            EXAMPLES
              orca-run health
              REDIS_URL=rediss://:pw@redis:6380/0 DATABASE_URL=postgres://orca@db/orca orca-run health --json
            """)

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Print JSON instead of the table.")
    var json = false

    func run() async throws {
        let configuration = try await options.load()
        options.bootstrapLogging(configuration, quietLevel: .error)
        let logger = Logger(label: "orca.health")
        let environment = try await OrcaEnvironment.make(configuration, logger: logger)
        let report: HealthReport
        var sink: (any CandleSink)?
        do {
            sink = try environment.makeBackendSink()
        } catch {
            sink = nil
            logger.warning("the sink cannot be opened", metadata: ["error": "\(error)"])
        }
        let probes = HealthProbes(
            tokens: HealthProbes.tokens(from: environment.tokenStore, logins: environment.logins.map(\.name)),
            redis: environment.redis.map(HealthProbes.redis), sink: sink,
            sinkName: configuration.database.url == nil ? "files" : "postgres")
        let checker = HealthChecker(
            series: configuration.collector.series, probes: probes, clock: environment.clock)
        report = await checker.check()
        try? await sink?.close()
        await environment.shutdown()
        print(json ? report.json() : report.table())
        let code = report.status.exitCode
        if code != 0 { throw ExitCode(code) }
    }
}
