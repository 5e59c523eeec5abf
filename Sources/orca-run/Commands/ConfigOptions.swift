import ArgumentParser
import Foundation
import Logging
import OrcaRuntime

/// The options every command that reads the configuration shares: the file and the flags that override the keys
/// every part uses (Redis, the state directory, logging).
///
/// Precedence: these flags > `ORCA_*` environment variables (and `DATABASE_URL`, `REDIS_URL`) > the YAML file >
/// defaults. Every key is documented in Docs/configuration.md.
struct SharedConfigOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: "YAML configuration file (see Docs/configuration.md).")
    var configFile: String?

    @Option(help: "Redis URL, redis:// or rediss:// (redis.url; default: $REDIS_URL, else tokens in memory).")
    var redisURL: String?

    @Option(help: "State directory: checkpoints, ledger, spill file, device id (default ./orca-data/.state).")
    var stateDir: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (log.level; default info).")
    var logLevel: String?

    @Option(help: "Log format: auto (human on a terminal, JSON lines otherwise), human or json (log.format).")
    var logFormat: String?

    /// The flags as configuration overrides (dotted keys).
    var overrides: [String: String] {
        var values: [String: String] = [:]
        values["redis.url"] = redisURL
        values["stateDirectory"] = stateDir
        values["log.level"] = logLevel
        values["log.format"] = logFormat
        return values
    }

    /// Bootstraps logging once from `configuration.log`, then logs the configuration's start-up notices (deprecated
    /// keys, unknown variables) as warnings. Commands that print their own report pass a `quietLevel`: the
    /// configured level `info` (the default) is raised to it, so log lines do not drown the report.
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

/// Options every daemon-side command shares: the shared ones plus the sink, the series and the embedded simulator.
struct ConfigOptions: ParsableArguments {
    @OptionGroup var shared: SharedConfigOptions

    @Option(help: "PostgreSQL URL (database.url; default: $DATABASE_URL, else the file sink).")
    var databaseURL: String?

    @Option(help: "Directory of the file sink (files.directory; default ./orca-data).")
    var dataDir: String?

    @Option(help: "Instruments, comma-separated (collector.instruments; default NQ,MNQ,ES,MES).")
    var instruments: String?

    @Option(help: "Timeframes, comma-separated, e.g. 5,15,30,60 (collector.timeframes; default 5,15,30,60).")
    var timeframes: String?

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
        values["files.directory"] = dataDir
        values["collector.instruments"] = instruments
        values["collector.timeframes"] = timeframes
        values["simulator.speed"] = speed.map { String($0) }
        values["simulator.seed"] = seed.map { String($0) }
        values["simulator.start"] = simulatorStart
        return values
    }

    /// See ``SharedConfigOptions/bootstrapLogging(_:quietLevel:)``.
    func bootstrapLogging(_ configuration: OrcaConfiguration, quietLevel: Logger.Level? = nil) {
        shared.bootstrapLogging(configuration, quietLevel: quietLevel)
    }

    /// Loads and validates the configuration with these flags and `extra` (exit 78 on a configuration error).
    func load(extra: [String: String] = [:]) async throws -> OrcaConfiguration {
        try await shared.load(extra: overrides.merging(extra) { _, new in new })
    }
}
