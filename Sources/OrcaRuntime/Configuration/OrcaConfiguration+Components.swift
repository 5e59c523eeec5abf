public import CandleCore
public import Collectors
public import Foundation
public import Logging
public import PostgresSink
public import TokenStore
public import TradovateSimulator

// The one adapter from configuration to components: what each section produces for the components that take it.
// Every command (`run`, `backfill`, `verify`, `health`, `tokens`, `schedule`, `simulate`) builds its parts here,
// directly or through `OrcaEnvironment`.

/// The token side of Orca, built from one configuration: the store (Redis or memory), the device id, the auth client
/// and the refresher. `OrcaEnvironment` and `orca-run tokens` both take it from
/// ``OrcaConfiguration/makeTokenComponents(restURL:logins:clock:logger:environment:)``, so one login has one device id.
public struct TokenComponents: Sendable {
    /// The Redis provider, when `redis.url` is set (also the cross-process lock).
    public let redis: RedisTokenProvider?
    /// Where tokens are shared: ``redis``, else memory.
    public let store: any TokenProvider
    /// The machine's device id (from ``OrcaConfiguration/deviceIDPath``).
    public let deviceID: String
    /// Keeps every login's token fresh.
    public let refresher: TokenRefresher
}

extension OrcaConfiguration {
    /// The device id file every command uses: `tradovate.deviceIDFile`, else `<stateDirectory>/device-id`.
    public var deviceIDPath: String { tradovate.deviceIDFile ?? stateDirectory + "/device-id" }

    /// Builds the token store, device id, auth client and refresher for `logins` against `restURL`.
    ///
    /// The device id is read from ``deviceIDPath``; when that file is missing but the location used by
    /// `orca-run tokens` before 0.3 (`DeviceID.legacyPath(environment:)`) holds one, it is copied over and a notice
    /// is logged (a warning, once: the next start finds the new file), so the id a login already uses is kept.
    ///
    /// - Parameters:
    ///   - restURL: the Tradovate REST base URL the auth client uses.
    ///   - logger: where events are logged.
    ///   - logins: the logins whose tokens are kept fresh.
    ///   - clock: the wall clock the component waits on and reads "now" from.
    ///   - environment: the process environment (for the legacy device-id location only).
    public func makeTokenComponents(
        restURL: String, logins: [TradovateCredentials], clock: any WallClock, logger: Logger,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> TokenComponents {
        let redis = redis.tokenProviderConfiguration.map {
            RedisTokenProvider(configuration: $0, clock: clock, logger: Logger(label: "orca.tokens.redis"))
        }
        let store: any TokenProvider = redis ?? InMemoryTokenProvider(clock: clock)
        let legacy = DeviceID.legacyPath(environment: environment)
        let device = try DeviceID.loadOrCreate(at: deviceIDPath, migratingFrom: legacy)
        if case .migrated(let from) = device.origin {
            logger.warning(
                "device id moved to the state directory (one id per login for every command)",
                metadata: ["from": "\(from)", "to": "\(deviceIDPath)"])
        }
        let auth = TradovateAuthClient(
            configuration: tradovate.authClientConfiguration(restURL: restURL, deviceID: device.id), clock: clock,
            logger: Logger(label: "orca.tokens.auth"))
        let refresher = TokenRefresher(
            logins: logins, auth: auth, store: store, locks: redis,
            // Only a shared store can lose keys behind the daemon's back; the in-memory one is this process.
            configuration: TokenRefresher.Configuration(
                reconcileInterval: redis == nil ? nil : self.redis.reconcileInterval),
            clock: clock,
            logger: Logger(label: "orca.tokens.refresher"))
        return TokenComponents(redis: redis, store: store, deviceID: device.id, refresher: refresher)
    }
}

extension OrcaConfiguration.Tradovate {
    /// The auth client's configuration for `restURL` (``effectiveRESTURL``, or the simulator's address when the
    /// environment is `simulator`) and the machine's device id.
    public func authClientConfiguration(restURL: String, deviceID: String) -> TradovateAuthClient.Configuration {
        TradovateAuthClient.Configuration(baseURL: restURL, deviceID: deviceID, requestTimeout: requestTimeout)
    }
}

extension OrcaConfiguration.Redis {
    /// The token provider's configuration, or `nil` without a URL (use an in-memory token store).
    public var tokenProviderConfiguration: RedisTokenProvider.Configuration? {
        url.map { RedisTokenProvider.Configuration(url: $0, tls: tlsOptions) }
    }
}

extension OrcaConfiguration.Database {
    /// `PostgresCandleSink`'s layout.
    public var sinkLayout: PostgresCandleSink.Layout {
        switch layout {
        case .tablePerSeries: .tablePerSeries
        case .singleTable: .singleTable
        }
    }

    /// The PostgreSQL sink's configuration preparing `series` up front, or `nil` without a URL (use the file sink).
    public func sinkConfiguration(
        series: [Series] = [], applicationName: String = "orca"
    ) -> PostgresCandleSink.Configuration? {
        url.map {
            PostgresCandleSink.Configuration(
                url: $0, schema: schema, layout: sinkLayout, applicationName: applicationName, series: series)
        }
    }
}

extension OrcaConfiguration.Files {
    /// `FileCandleSink`'s format.
    public var candleFileFormat: CandleFileFormat {
        switch format {
        case .csv: .csv
        case .jsonl: .jsonLines
        }
    }

    /// The file sink's configuration.
    public var sinkConfiguration: FileCandleSink.Configuration {
        FileCandleSink.Configuration(directory: URL(fileURLWithPath: directory), format: candleFileFormat)
    }
}

extension OrcaConfiguration.Buffer {
    /// The buffer's configuration; the spill file is ``spillFile``, else `<stateDirectory>/spill.bin`.
    public func sinkConfiguration(stateDirectory: String) -> BufferedCandleSink.Configuration {
        BufferedCandleSink.Configuration(
            memoryCapacity: memoryCapacity, spillFile: URL(fileURLWithPath: spillFile ?? stateDirectory + "/spill.bin"),
            spillCapacity: spillCapacity)
    }
}

extension OrcaConfiguration.Collector {
    /// The contract calendar for ``rollDaysBeforeExpiry`` (validated to 0…60 when loaded; out of range values fall
    /// back to the standard 8 days).
    public var contractCalendar: ContractCalendar {
        (try? ContractCalendar(rollDaysBeforeExpiry: rollDaysBeforeExpiry)) ?? .standard
    }
}

extension OrcaConfiguration.Collector {
    /// The collector's configuration: series, live or cron mode (cron expressions in UTC), roll rule, settle wait,
    /// provisional writes, heal look-back and interval, revision window and the derived-timeframe check.
    public var collectorConfiguration: Collector.Configuration {
        Collector.Configuration(
            series: series, mode: cron.map { .cron($0, timeZone: TimeZone(identifier: "UTC")!) } ?? .live,
            rollDaysBeforeExpiry: rollDaysBeforeExpiry, settleTimeout: settleTimeout, closeGrace: closeGrace,
            quietChartBars: quietChartBars, writeProvisional: writeProvisional, healLookBack: healLookBack,
            healInterval: healInterval, revisionWindowBars: revisionWindowBars,
            checkDerivedTimeframes: checkDerivedTimeframes)
    }
}

extension OrcaConfiguration.Simulator {
    /// The simulator server's configuration: seed, port, the clock for ``start``, ``speed`` and ``anchor`` (real time
    /// for the defaults; otherwise `VirtualClock.fromOptions`, whose anchor defaults to 00:00 UTC today, as
    /// `orca-run simulate` does), and `logins` as its accepted logins (empty: its demo login).
    ///
    /// - Throws: ``ConfigurationError`` (`simulator.speed`) when the speed is not a positive finite number.
    public func serverConfiguration(
        host: String = "127.0.0.1", logins: [TradovateCredentials] = []
    ) throws(ConfigurationError) -> SimulatorConfiguration {
        var configuration = SimulatorConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.seed = seed
        do {
            configuration.clock = try VirtualClock.fromOptions(start: start, speed: speed, anchor: anchor)
        } catch {
            throw ConfigurationError(.outOfRange, key: "simulator.speed", "\(error)")
        }
        configuration.logins = logins.enumerated().map { index, login in
            SimulatorLogin(
                name: login.name, password: login.password, cid: login.cid, sec: login.secret, userId: 1_000 + index)
        }
        return configuration
    }
}
