public import CandleCore
internal import Collectors
public import Foundation
public import Logging
import PostgresSink
public import TokenStore

/// Everything `orca-run` needs to run the daemon: where tokens, market data and bars come from and go to.
///
/// Build one with ``load(file:environment:overrides:)`` (flags > environment > YAML file > defaults, validated) or
/// start from ``default`` and change fields in code (tests). Every default is documented on its property and in
/// `Docs/configuration.md`.
///
/// `description` is ``redactedDescription``: it never shows a password, API secret, token or URL password.
public struct OrcaConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// Start-up notices from loading, to log as warnings: deprecated keys or variables in use, with their
    /// replacement. Empty for a configuration built in code.
    public var notices: [String] = []

    /// Tradovate: environment, endpoints and logins.
    public var tradovate: Tradovate
    /// Redis, the token store; no URL means an in-memory token store.
    public var redis: Redis
    /// PostgreSQL, the bar store; no URL means the file sink.
    public var database: Database
    /// The file sink, used when ``Database/url`` is `nil`.
    public var files: Files
    /// The buffer between the collector and the sink.
    public var buffer: Buffer
    /// What to collect and how.
    public var collector: Collector
    /// Where checkpoints, the gap ledger, the device id and the spill file live (default `./orca-data/.state`).
    public var stateDirectory: String
    /// The HTTP endpoint for health and metrics.
    public var http: HTTP
    /// Logging.
    public var log: Log
    /// The in-process Tradovate simulator, used when ``Tradovate/environment`` is `simulator`.
    public var simulator: Simulator

    /// Creates a configuration; every argument defaults to its documented default.
    public init(
        tradovate: Tradovate = Tradovate(), redis: Redis = Redis(), database: Database = Database(),
        files: Files = Files(), buffer: Buffer = Buffer(), collector: Collector = Collector(),
        stateDirectory: String = OrcaConfiguration.defaultStateDirectory, http: HTTP = HTTP(), log: Log = Log(),
        simulator: Simulator = Simulator()
    ) {
        self.tradovate = tradovate
        self.redis = redis
        self.database = database
        self.files = files
        self.buffer = buffer
        self.collector = collector
        self.stateDirectory = stateDirectory
        self.http = http
        self.log = log
        self.simulator = simulator
    }

    /// The defaults: the simulator, in-memory tokens, CSV files under `./orca-data`, NQ MNQ ES MES × 5 15 30 60 min.
    public static let `default` = OrcaConfiguration()

    /// The default ``stateDirectory``.
    public static let defaultStateDirectory = "./orca-data/.state"

    public var description: String { redactedDescription }
}

// MARK: - Tradovate

extension OrcaConfiguration {
    /// Which Tradovate system to talk to.
    public enum TradovateEnvironment: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// The demo (simulated-trading) system: `https://demo.tradovateapi.com/v1`.
        case demo
        /// The live system: `https://live.tradovateapi.com/v1`. Requires at least one login.
        case live
        /// The in-process simulator (``OrcaConfiguration/simulator``); URLs come from the simulator once it listens.
        case simulator
        /// Explicit ``Tradovate/restURL`` and ``Tradovate/marketDataURL`` (both required), e.g. an external
        /// `orca-run simulate` or a staging system.
        case custom

        public var description: String { rawValue }

        /// The REST base URL of `demo` and `live`; `nil` for `simulator` and `custom`.
        public var defaultRESTURL: String? {
            switch self {
            case .demo: "https://demo.tradovateapi.com/v1"
            case .live: "https://live.tradovateapi.com/v1"
            case .simulator, .custom: nil
            }
        }

        /// The market-data WebSocket URL of `demo` and `live` (both `wss://md.tradovateapi.com/v1/websocket`, as the
        /// official samples use); `nil` for `simulator` and `custom`.
        public var defaultMarketDataURL: String? {
            switch self {
            case .demo, .live: "wss://md.tradovateapi.com/v1/websocket"
            case .simulator, .custom: nil
            }
        }
    }

    /// Tradovate endpoints and logins.
    ///
    /// Logins come from ``credentialsFile`` (JSON or YAML, mode 600, read by `TokenStore.CredentialsLoader`) or,
    /// without a file, from the `ORCA_TRADOVATE_*` variables (one login). They are never read from the
    /// configuration file itself, so it can be shared and committed.
    public struct Tradovate: Sendable, Hashable {
        /// demo, live, simulator or custom. Default: `simulator` when no credentials are configured, else `demo`.
        public var environment: TradovateEnvironment
        /// The REST base URL; after loading, filled from ``environment`` when it was absent (`nil` only for the
        /// simulator, whose address is known once it listens).
        public var restURL: String?
        /// The market-data WebSocket URL; filled like ``restURL``.
        public var marketDataURL: String?
        /// The credentials file the logins were read from, if any.
        public var credentialsFile: String?
        /// The logins whose tokens are kept fresh, in file order. Secrets redact themselves in descriptions.
        public var logins: [TradovateCredentials]
        /// The login whose token the market-data socket uses; `nil` means the first login.
        public var marketDataLogin: String?
        /// The file holding this machine's Tradovate device id; `nil` means `<stateDirectory>/device-id`.
        public var deviceIDFile: String?
        /// How long one REST request (login, renewal, `auth/me`) may take (default 15 s).
        public var requestTimeout: Duration

        /// Creates the Tradovate section; defaults: the simulator, no logins.
        public init(
            environment: TradovateEnvironment = .simulator, restURL: String? = nil, marketDataURL: String? = nil,
            credentialsFile: String? = nil, logins: [TradovateCredentials] = [], marketDataLogin: String? = nil,
            deviceIDFile: String? = nil, requestTimeout: Duration = .seconds(15)
        ) {
            self.requestTimeout = requestTimeout
            self.environment = environment
            self.restURL = restURL
            self.marketDataURL = marketDataURL
            self.credentialsFile = credentialsFile
            self.logins = logins
            self.marketDataLogin = marketDataLogin
            self.deviceIDFile = deviceIDFile
        }

        /// The REST URL in force: ``restURL``, else the environment's default.
        public var effectiveRESTURL: String? { restURL ?? environment.defaultRESTURL }
        /// The market-data URL in force: ``marketDataURL``, else the environment's default.
        public var effectiveMarketDataURL: String? { marketDataURL ?? environment.defaultMarketDataURL }

        /// The credentials of the market-data login: ``marketDataLogin`` (matched against login names and account
        /// aliases), else the first login; `nil` without logins.
        public var marketDataCredentials: TradovateCredentials? {
            guard let wanted = marketDataLogin else { return logins.first }
            return logins.first { $0.accounts.contains(wanted) }
        }
    }
}

// MARK: - Redis, database, files, buffer

extension OrcaConfiguration {
    /// The Redis token store.
    public struct Redis: Sendable, Hashable {
        /// `redis://` or `rediss://` (TLS); `nil` (default) keeps tokens in memory. A secret: it may hold a password;
        /// `TokenStore.RedisURL` masks it when printed.
        public var url: RedisURL?
        /// PEM CA file to trust for `rediss://` (default: the system store).
        public var tlsCAFile: String?
        /// Server name to verify in the Redis TLS certificate (default: the URL's host).
        public var tlsServerName: String?
        /// How often the daemon checks its token keys in Redis and writes lost ones again (default 10 s; see
        /// `TokenStore.TokenRefresher.Configuration.reconcileInterval`).
        public var reconcileInterval: Duration

        /// Creates the Redis section; default: no URL (in-memory tokens).
        public init(
            url: RedisURL? = nil, tlsCAFile: String? = nil, tlsServerName: String? = nil,
            reconcileInterval: Duration = .seconds(10)
        ) {
            self.url = url
            self.tlsCAFile = tlsCAFile
            self.tlsServerName = tlsServerName
            self.reconcileInterval = reconcileInterval
        }

        /// The TLS options `TokenStore.RedisTokenProvider` takes.
        public var tlsOptions: RedisTLSOptions { RedisTLSOptions(caFile: tlsCAFile, serverName: tlsServerName) }
    }

    /// How bars map to PostgreSQL tables (see `PostgresCandleSink.Layout`).
    public enum DatabaseLayout: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// `<schema>.<root>_candles_<label>` per series, the old system's layout (default).
        case tablePerSeries
        /// One `<schema>.candles` table for every series.
        case singleTable

        public var description: String { rawValue }
    }

    /// The PostgreSQL bar store.
    public struct Database: Sendable, Hashable {
        /// A libpq URI or key/value string; `nil` (default) writes bars to files instead. A secret: only
        /// ``redactedURL`` is ever shown.
        public var url: String?
        /// Schema of the tables (default `orca`), a plain lower-case identifier.
        public var schema: String
        /// Table layout (default ``DatabaseLayout/tablePerSeries``).
        public var layout: DatabaseLayout

        /// Creates the database section; defaults: no URL (file sink), schema `orca`, table per series.
        public init(url: String? = nil, schema: String = "orca", layout: DatabaseLayout = .tablePerSeries) {
            self.url = url
            self.schema = schema
            self.layout = layout
        }

        /// ``url`` with its password masked, safe to log; `nil` without a URL.
        public var redactedURL: String? { url.map(PostgresConnectionString.redact) }
    }

    /// The bar file format.
    public enum FileFormat: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// CSV with a header line (default).
        case csv
        /// JSON Lines.
        case jsonl

        public var description: String { rawValue }
    }

    /// The file sink, used when no database URL is configured.
    public struct Files: Sendable, Hashable {
        /// Root directory of the series files (default `./orca-data`).
        public var directory: String
        /// csv (default) or jsonl.
        public var format: FileFormat

        /// Creates the files section; defaults: `./orca-data`, CSV.
        public init(directory: String = "./orca-data", format: FileFormat = .csv) {
            self.directory = directory
            self.format = format
        }
    }

    /// The buffer between collector and sink (`BufferedCandleSink.Configuration`).
    public struct Buffer: Sendable, Hashable {
        /// Candles held in memory before spilling (default 100,000).
        public var memoryCapacity: Int
        /// The spill file; `nil` means `<stateDirectory>/spill.bin`.
        public var spillFile: String?
        /// Bytes the spill file may hold (default 1 GiB).
        public var spillCapacity: Int

        /// Creates the buffer section; defaults: 100,000 candles in memory, spill under the state directory, 1 GiB.
        public init(memoryCapacity: Int = 100_000, spillFile: String? = nil, spillCapacity: Int = 1 << 30) {
            self.memoryCapacity = memoryCapacity
            self.spillFile = spillFile
            self.spillCapacity = spillCapacity
        }
    }
}

// MARK: - Collector

extension OrcaConfiguration {
    /// What the collector collects and how.
    public struct Collector: Sendable, Hashable {
        /// The instruments (default NQ, MNQ, ES, MES).
        public var instruments: [Instrument]
        /// The bar timeframes (default 5, 15, 30, 60 minutes).
        public var timeframes: [Timeframe]
        /// How far back the first run (and a run after a long outage) fetches (default 3 days).
        public var healLookBack: Duration
        /// How long after a bar's end the collector waits for it to be final (default 5 s).
        public var settleTimeout: Duration
        /// How long after each expected bar's end a bar no newer live update closed is fetched from history and
        /// written (default 1 s; 0 turns it off). See `Collectors.Collector.Configuration.closeGrace`.
        public var closeGrace: Duration
        /// A chart whose bars had to be fetched at their close this many times in a row, with nothing live, is
        /// subscribed again (default 3).
        public var quietChartBars: Int
        /// How many of the latest bars are fetched again after each close, to catch late corrections (default 3).
        public var revisionWindowBars: Int
        /// How often the gap ledger is checked and holes refetched (default 15 min).
        public var healInterval: Duration
        /// Build 15/30/60-minute bars from the stored 5-minute bars and compare them with the broker's; mismatches
        /// are logged and counted, never written (default `false`).
        public var checkDerivedTimeframes: Bool
        /// Also store forming (not final) bars (default `false`).
        public var writeProvisional: Bool
        /// A cron schedule for collection instead of every bar close (default `nil`: every bar close).
        public var cron: CronSchedule?
        /// Days before expiry the front month rolls to the next contract (default 8).
        public var rollDaysBeforeExpiry: Int

        /// Creates the collector section; see the properties for the defaults.
        public init(
            instruments: [Instrument] = Instrument.builtIns, timeframes: [Timeframe] = Timeframe.seedDefaults,
            healLookBack: Duration = .seconds(3 * 86_400), settleTimeout: Duration = .seconds(5),
            revisionWindowBars: Int = 3, healInterval: Duration = .seconds(15 * 60),
            checkDerivedTimeframes: Bool = false, writeProvisional: Bool = false, cron: CronSchedule? = nil,
            rollDaysBeforeExpiry: Int = 8, closeGrace: Duration = .seconds(1), quietChartBars: Int = 3
        ) {
            self.closeGrace = closeGrace
            self.quietChartBars = quietChartBars
            self.instruments = instruments
            self.timeframes = timeframes
            self.healLookBack = healLookBack
            self.settleTimeout = settleTimeout
            self.revisionWindowBars = revisionWindowBars
            self.healInterval = healInterval
            self.checkDerivedTimeframes = checkDerivedTimeframes
            self.writeProvisional = writeProvisional
            self.cron = cron
            self.rollDaysBeforeExpiry = rollDaysBeforeExpiry
        }

        /// Every instrument × timeframe pair, instruments first.
        public var series: [Series] {
            instruments.flatMap { instrument in timeframes.map { Series(instrument, $0) } }
        }
    }
}

// MARK: - HTTP, log, simulator

extension OrcaConfiguration {
    /// The HTTP endpoint (health, metrics).
    public struct HTTP: Sendable, Hashable {
        /// Whether the endpoint runs (default `true`).
        public var enabled: Bool
        /// Address to bind (default `127.0.0.1`).
        public var host: String
        /// Port to bind (default 9464; 0 picks an ephemeral port).
        public var port: Int

        /// Creates the HTTP section; defaults: enabled on 127.0.0.1:9464.
        public init(enabled: Bool = true, host: String = "127.0.0.1", port: Int = 9464) {
            self.enabled = enabled
            self.host = host
            self.port = port
        }
    }

    /// How log lines look.
    public enum LogFormat: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// `human` on a terminal, `json` otherwise (default).
        case auto
        /// One readable line per event.
        case human
        /// One JSON object per line.
        case json

        public var description: String { rawValue }
    }

    /// Logging.
    public struct Log: Sendable, Hashable {
        /// The lowest level logged (default `info`).
        public var level: Logger.Level
        /// auto (default), human or json.
        public var format: LogFormat

        /// Creates the log section; defaults: info, auto.
        public init(level: Logger.Level = .info, format: LogFormat = .auto) {
            self.level = level
            self.format = format
        }
    }

    /// The simulated market: the in-process simulator's settings, and the virtual clock of an external simulator.
    ///
    /// Market time is `start + (real − anchor) × speed`. With the embedded simulator (`tradovate.environment:
    /// simulator`) every value configures it. With `tradovate.environment: custom` pointing at an `orca-run simulate`
    /// process, setting ``start`` (or a ``speed`` other than 1) makes Orca's market clock follow that simulator's:
    /// give the same `--start`, `--speed` and `--anchor` to both.
    public struct Simulator: Sendable, Hashable {
        /// The market seed (default 42).
        public var seed: UInt64
        /// Simulated seconds per real second (default 1).
        public var speed: Double
        /// The simulated instant at ``anchor``; `nil` (default): for the embedded simulator, now when the market is
        /// open, else the latest session's open (so bars flow at once on any day).
        public var start: Date?
        /// The real instant at which simulated time equals ``start``; `nil` (default): when the process starts
        /// (embedded), or 00:00 UTC today for an external simulator (as `orca-run simulate` assumes).
        public var anchor: Date?
        /// Port to bind (default 0, ephemeral).
        public var port: Int

        /// Creates the simulator section; defaults: seed 42, real time, now, ephemeral port.
        public init(seed: UInt64 = 42, speed: Double = 1, start: Date? = nil, anchor: Date? = nil, port: Int = 0) {
            self.seed = seed
            self.speed = speed
            self.start = start
            self.anchor = anchor
            self.port = port
        }
    }
}
