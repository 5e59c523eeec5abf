public import CandleCore
public import Collectors
public import Foundation
public import Logging
public import MarketData
import PostgresSink
public import TokenStore
import TradovateSimulator

/// The parts every `orca-run` command shares, built from an ``OrcaConfiguration``: the market clock, the Tradovate
/// endpoints and logins (the embedded simulator when none are configured), the token store and refresher, and the
/// candle sink.
///
/// Each part falls back to its embedded default on its own: no Tradovate credentials → the in-process simulator;
/// no `DATABASE_URL` → the file sink under `files.directory`; no `REDIS_URL` → in-memory tokens.
public struct OrcaEnvironment: Sendable {
    /// The configuration it was built from.
    public let configuration: OrcaConfiguration
    /// Market time for every component: the system clock, or the embedded simulator's scaled clock.
    public let clock: any WallClock
    /// The in-process simulator, when no Tradovate credentials are configured.
    public let simulator: EmbeddedSimulator?
    /// The REST base URL in use (`…/v1`).
    public let restURL: String
    /// The market-data WebSocket URL in use.
    public let marketDataURL: String
    /// The logins whose tokens are kept fresh.
    public let logins: [TradovateCredentials]
    /// The login the market-data socket uses.
    public let marketDataLogin: String
    /// Where tokens are shared.
    public let tokenStore: any TokenProvider
    /// The Redis provider, when `redis.url` is set (also the cross-process lock).
    public let redis: RedisTokenProvider?
    /// Keeps every login's token fresh; its `run()` belongs in the service group.
    public let refresher: TokenRefresher
    /// The device id every login of this process sends (kept at ``OrcaConfiguration/deviceIDPath``).
    public let deviceID: String

    /// Builds the environment. Starts the embedded simulator when the configuration names no Tradovate
    /// credentials (environment `simulator`).
    ///
    /// - Parameters:
    ///   - configuration: the configuration.
    ///   - logger: where events are logged.
    ///   - realNow: the real time now (the embedded simulator's anchor).
    public static func make(
        _ configuration: OrcaConfiguration, realNow: Date = Date(), logger: Logger
    ) async throws -> OrcaEnvironment {
        let simulator: EmbeddedSimulator?
        let clock: any WallClock
        let restURL: String
        let marketDataURL: String
        let logins: [TradovateCredentials]
        if configuration.tradovate.environment == .simulator {
            let settings = configuration.simulator
            let embedded = try await EmbeddedSimulator.start(
                seed: settings.seed, speed: settings.speed, start: settings.start, port: settings.port,
                realNow: settings.anchor ?? realNow)
            simulator = embedded
            clock = embedded.clock
            restURL = embedded.server.restBaseURL.absoluteString
            marketDataURL = embedded.server.webSocketURL.absoluteString
            let demo = SimulatorLogin.demo
            logins =
                configuration.tradovate.logins.isEmpty
                ? [TradovateCredentials(name: demo.name, password: demo.password, cid: demo.cid, secret: demo.sec)]
                : configuration.tradovate.logins
            logger.info(
                "No Tradovate credentials configured: using the embedded simulator",
                metadata: [
                    "rest": "\(restURL)", "speed": "\(settings.speed)",
                    "simulatedStart": "\(ISO8601DateFormatter().string(from: embedded.clock.start))",
                ])
        } else {
            simulator = nil
            let settings = configuration.simulator
            if settings.start != nil || settings.speed != 1 || settings.anchor != nil {
                // An external simulator on a virtual clock: follow it (same start, speed and anchor).
                clock = try VirtualClock.fromOptions(
                    start: settings.start, speed: settings.speed, anchor: settings.anchor)
                logger.notice(
                    "market time follows a simulator's virtual clock",
                    metadata: ["speed": "\(settings.speed)", "now": "\(clock.now())"])
            } else {
                clock = SystemWallClock()
            }
            guard let rest = configuration.tradovate.effectiveRESTURL,
                let md = configuration.tradovate.effectiveMarketDataURL
            else {
                throw ConfigurationError(
                    .invalidURL, key: "tradovate.restURL",
                    "the \(configuration.tradovate.environment) environment needs tradovate.restURL and "
                        + "tradovate.marketDataURL; set both, or choose environment demo or live")
            }
            restURL = rest
            marketDataURL = md
            logins = configuration.tradovate.logins
        }
        guard let mdLogin = configuration.tradovate.marketDataCredentials ?? logins.first else {
            throw ConfigurationError(
                .missingCredentials, key: "tradovate.credentialsFile",
                "no Tradovate login is configured; set tradovate.credentialsFile or the ORCA_TRADOVATE_* variables")
        }

        let tokens = try configuration.makeTokenComponents(
            restURL: restURL, logins: logins, clock: clock, logger: logger)
        return OrcaEnvironment(
            configuration: configuration, clock: clock, simulator: simulator, restURL: restURL,
            marketDataURL: marketDataURL, logins: logins, marketDataLogin: mdLogin.name, tokenStore: tokens.store,
            redis: tokens.redis, refresher: tokens.refresher, deviceID: tokens.deviceID)
    }

    /// The configured backend sink: PostgreSQL when `database.url` is set, else files under `files.directory`.
    public func makeBackendSink() throws -> any CandleSink {
        if let postgres = configuration.database.sinkConfiguration(
            series: configuration.collector.series, applicationName: "orca-run")
        {
            return try PostgresCandleSink(configuration: postgres, logger: Logger(label: "orca.sink.postgres"))
        }
        return try FileCandleSink(
            configuration: configuration.files.sinkConfiguration, logger: Logger(label: "orca.sink.file"))
    }

    /// The market-data client for the market-data login (tokens from ``refresher``) and the candle source on it.
    /// Run the client in the service group, or around a command with `MarketDataClient.withRunning(_:)`.
    public func makeMarketData() throws -> (client: MarketDataClient, source: TradovateCandleSource) {
        guard let url = URL(string: marketDataURL), url.scheme != nil else {
            throw ConfigurationError(.invalidURL, key: "tradovate.marketDataURL", "'\(marketDataURL)' is not a URL")
        }
        let refresher = refresher
        let login = marketDataLogin
        let client = try MarketDataClient(
            configuration: MarketDataClientConfiguration(url: url),
            tokenProvider: { try await refresher.token(for: login) },
            onTokenRefused: { token in
                // Revoked, or issued by another server (a token left in Redis by an earlier simulator): renew, and
                // when the server refuses that too, log in again. The refresher's budget guard bounds the renewals.
                _ = try? await refresher.tokenRefused(token)
            }, wallClock: clock,
            logger: Logger(label: "orca.marketdata"))
        return (client, TradovateCandleSource(client: client, wallClock: clock))
    }

    /// The confirmed-empty ledger in the state directory (bars the broker has no trades for).
    public func makeLedger() async throws -> FileConfirmedEmptyLedger {
        let ledger = FileConfirmedEmptyLedger(
            directory: URL(fileURLWithPath: configuration.stateDirectory).appendingPathComponent("confirmed-empty"))
        try await ledger.open()
        return ledger
    }

    /// A human name for the sink in use (password-free).
    public var sinkDescription: String {
        if let url = configuration.database.redactedURL { return "PostgreSQL \(url)" }
        return "files in \(configuration.files.directory) (\(configuration.files.format))"
    }

    /// Stops the embedded simulator, if any.
    public func shutdown() async {
        await simulator?.server.shutdown()
    }
}
