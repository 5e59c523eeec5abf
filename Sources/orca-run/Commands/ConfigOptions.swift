import ArgumentParser
import Foundation
import Logging
import OrcaRuntime

/// Options every daemon-side command shares: the configuration file and the flags that override it.
///
/// Precedence: these flags > `ORCA_*` environment variables (and `DATABASE_URL`, `REDIS_URL`) > the YAML file >
/// defaults. Every key is documented in Docs/configuration.md.
struct ConfigOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: "YAML configuration file (see Docs/configuration.md).")
    var configFile: String?

    @Option(help: "PostgreSQL URL (database.url; default: $DATABASE_URL, else the file sink).")
    var databaseURL: String?

    @Option(help: "Redis URL, redis:// or rediss:// (redis.url; default: $REDIS_URL, else tokens in memory).")
    var redisURL: String?

    @Option(help: "Directory of the file sink (files.directory; default ./orca-data).")
    var dataDir: String?

    @Option(help: "State directory: checkpoints, ledger, spill file, device id (default ./orca-data/.state).")
    var stateDir: String?

    @Option(help: "Instruments, comma-separated (collector.instruments; default NQ,MNQ,ES,MES).")
    var instruments: String?

    @Option(help: "Timeframes, comma-separated, e.g. 5,15,30,60 (collector.timeframes; default 5,15,30,60).")
    var timeframes: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (log.level; default info).")
    var logLevel: String?

    @Option(help: "Log format: auto (human on a terminal, JSON lines otherwise), human or json (log.format).")
    var logFormat: String?

    @Option(help: "Embedded simulator only: simulated seconds per real second (simulator.speed; default 1).")
    var speed: Double?

    @Option(help: "Embedded simulator only: market seed (simulator.seed; default 42).")
    var seed: UInt64?

    @Option(
        help: """
            Embedded simulator only: simulated start instant, ISO-8601 (default: now, or the latest session's open \
            when the market is closed).
            """)
    var simulatorStart: String?

    /// The flags as configuration overrides (dotted keys).
    var overrides: [String: String] {
        var values: [String: String] = [:]
        values["database.url"] = databaseURL
        values["redis.url"] = redisURL
        values["files.directory"] = dataDir
        values["stateDirectory"] = stateDir
        values["collector.instruments"] = instruments
        values["collector.timeframes"] = timeframes
        values["log.level"] = logLevel
        values["log.format"] = logFormat
        values["simulator.speed"] = speed.map { String($0) }
        values["simulator.seed"] = seed.map { String($0) }
        values["simulator.start"] = simulatorStart
        return values
    }

    /// Bootstraps logging once from `configuration.log`. Commands that print their own report pass a `quietLevel`:
    /// the configured level `info` (the default) is raised to it, so log lines do not drown the report.
    func bootstrapLogging(_ configuration: OrcaConfiguration, quietLevel: Logger.Level? = nil) {
        let level = configuration.log.level
        _ = OrcaLogging.bootstrap(
            format: OrcaLogging.FormatChoice(parsing: configuration.log.format.rawValue) ?? .auto,
            level: level == .info ? quietLevel ?? level : level)
        let logger = Logger(label: "orca.configuration")
        for notice in configuration.notices { logger.warning("\(notice)") }
    }

    /// Loads and validates the configuration, adding `extra` overrides (a command's own flags).
    ///
    /// A configuration error ends the process with exit status 78 (EX_CONFIG) and a message naming the key.
    func load(extra: [String: String] = [:]) async throws -> OrcaConfiguration {
        do {
            return try await OrcaConfiguration.load(
                file: configFile, environment: ProcessInfo.processInfo.environment,
                overrides: overrides.merging(extra) { _, new in new })
        } catch {
            FileHandle.standardError.write(Data("orca-run: configuration error: \(error)\n".utf8))
            throw ExitCode(78)
        }
    }
}
