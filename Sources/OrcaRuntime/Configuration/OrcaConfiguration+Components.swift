public import CandleCore
public import Collectors
internal import Foundation
public import TokenStore
public import TradovateSimulator

// What each section produces for the components that take it.

extension OrcaConfiguration.Tradovate {
    /// The auth client's configuration for `restURL` (``effectiveRESTURL``, or the simulator's address when the
    /// environment is `simulator`) and the machine's device id.
    public func authClientConfiguration(restURL: String, deviceID: String) -> TradovateAuthClient.Configuration {
        TradovateAuthClient.Configuration(baseURL: restURL, deviceID: deviceID)
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
    public func sinkConfiguration(series: [Series] = []) -> PostgresCandleSink.Configuration? {
        url.map { PostgresCandleSink.Configuration(url: $0, schema: schema, layout: sinkLayout, series: series) }
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
