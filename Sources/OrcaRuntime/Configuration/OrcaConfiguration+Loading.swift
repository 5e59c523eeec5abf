internal import CandleCore
public import Foundation
internal import Logging
internal import TokenStore

extension OrcaConfiguration {
    /// Loads and validates the configuration.
    ///
    /// Precedence, highest first: `overrides` (dotted keys, e.g. `["collector.healLookBack": "2d"]`, what `orca-run`'s
    /// flags set) > `ORCA_*` environment variables > the compatibility variables `DATABASE_URL`, `REDIS_URL`,
    /// `ORCA_TRADOVATE_URL`, `ORCA_CREDENTIALS_FILE` > the YAML `file` > the defaults. Empty variables count as
    /// unset. Logins come from the credentials file (`tradovate.credentialsFile`) or, without one, from the
    /// `ORCA_TRADOVATE_USERNAME` / `_PASSWORD` / `_CID` / `_SEC` / `_APP_ID` / `_APP_VERSION` / `_ACCOUNTS` variables,
    /// exactly as `orca-run tokens refresh` reads them.
    ///
    /// After loading, `tradovate.environment` is set (simulator without logins, custom when only a REST URL is
    /// given, else demo), the Tradovate URLs are filled for demo, live and custom, and `tradovate.deviceIDFile` and
    /// `buffer.spillFile` default to files in `stateDirectory`. Paths starting with `~/` are expanded with `HOME`.
    ///
    /// - Parameters:
    ///   - file: A YAML configuration file, or `nil` for none.
    ///   - environment: The environment (default: the process's).
    ///   - overrides: Values by dotted key; list keys take comma-separated values.
    /// - Throws: ``ConfigurationError`` naming the key, the problem and the fix; never a secret.
    public static func load(
        file: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        overrides: [String: String] = [:]
    ) async throws(ConfigurationError) -> OrcaConfiguration {
        let sources = try await ConfigurationSources.make(file: file, environment: environment, overrides: overrides)
        var loader = Loader(sources: sources, home: environment["HOME"])
        return try loader.load(environment: environment)
    }
}

/// Reads every key from the sources into an ``OrcaConfiguration`` and checks it.
private struct Loader {
    let sources: ConfigurationSources
    let home: String?

    init(sources: ConfigurationSources, home: String?) {
        self.sources = sources
        self.home = home
    }

    private func key(_ name: String) -> OrcaConfiguration.Key {
        guard let key = OrcaConfiguration.key(named: name) else {
            preconditionFailure("configuration key \(name) is missing from OrcaConfiguration.keys")
        }
        return key
    }

    /// Deprecation lines collected while reading (a reference, so the non-mutating readers can add to it).
    private let notices = Notices()

    private final class Notices {
        var lines: [String] = []
    }

    /// The parser for `name`'s value, or `nil` when unset. When unset, a deprecated key that `name` replaces is read
    /// instead (under its old name in the file and overrides, or its old variable), with a deprecation notice.
    private func value(_ name: String) throws(ConfigurationError) -> ConfigurationParser? {
        let key = key(name)
        let current = try sources.scalar(key)
        for old in OrcaConfiguration.deprecatedKeys where old.replacement == name {
            guard let raw = try sources.scalar(old) else { continue }
            notices.lines.append(
                "\(old.name) (\(raw.source.phrase)) is deprecated: use \(name) (\(key.environmentVariable))"
                    + (current == nil ? "" : "; \(name) is also set and wins"))
            if current == nil { return ConfigurationParser(key, raw) }
        }
        return current.map { ConfigurationParser(key, $0) }
    }

    mutating func load(environment: [String: String]) throws(ConfigurationError) -> OrcaConfiguration {
        var configuration = OrcaConfiguration()
        if let state = try value("stateDirectory") { configuration.stateDirectory = state.path(home: home) }
        configuration.redis = try loadRedis()
        configuration.database = try loadDatabase()
        configuration.files = try loadFiles()
        configuration.buffer = try loadBuffer(stateDirectory: configuration.stateDirectory)
        configuration.collector = try loadCollector()
        configuration.http = try loadHTTP()
        configuration.log = try loadLog()
        configuration.simulator = try loadSimulator()
        configuration.tradovate = try loadTradovate(
            environment: environment, stateDirectory: configuration.stateDirectory)
        for (name, suggestion) in OrcaConfiguration.unknownEnvironmentVariables(in: environment) {
            notices.lines.append(
                "\(name) is not a variable Orca reads; it is ignored"
                    + (suggestion.map { " (did you mean \($0)?)" } ?? " (see Docs/configuration.md)"))
        }
        configuration.notices = notices.lines
        return configuration
    }

    // MARK: Tradovate

    private func loadTradovate(
        environment: [String: String], stateDirectory: String
    ) throws(ConfigurationError) -> OrcaConfiguration.Tradovate {
        var tradovate = OrcaConfiguration.Tradovate()
        let environmentValue = try value("tradovate.environment")
        let explicitEnvironment = try environmentValue?.choice(
            OrcaConfiguration.TradovateEnvironment.allCases.map { ($0.rawValue, $0) })
        let rest = try value("tradovate.restURL")
        let marketData = try value("tradovate.marketDataURL")
        if let rest {
            tradovate.restURL = try tradovateURL(
                rest, schemes: ["https", "http"], example: "https://demo.tradovateapi.com/v1")
        }
        if let marketData {
            tradovate.marketDataURL = try tradovateURL(
                marketData, schemes: ["wss", "ws"], example: "wss://md.tradovateapi.com/v1/websocket")
        }

        // Logins: the credentials file, else the ORCA_TRADOVATE_* variables.
        if let file = try value("tradovate.credentialsFile") {
            let path = file.path(home: home)
            tradovate.credentialsFile = path
            do {
                tradovate.logins = try CredentialsLoader.load(path: path)
            } catch {
                throw credentialsError(error, key: "tradovate.credentialsFile", source: file.raw.source)
            }
        } else {
            do {
                if let login = try CredentialsLoader.fromEnvironment(environment) { tradovate.logins = [login] }
            } catch {
                throw credentialsError(error, key: "tradovate.logins", source: nil)
            }
            if tradovate.logins.isEmpty {
                let partial = ["ORCA_TRADOVATE_PASSWORD", "ORCA_TRADOVATE_CID", "ORCA_TRADOVATE_SEC"]
                    .filter { !(environment[$0] ?? "").isEmpty }
                if !partial.isEmpty {
                    throw ConfigurationError(
                        .missingCredentials, key: "tradovate.logins",
                        "\(partial.joined(separator: ", ")) set but ORCA_TRADOVATE_USERNAME is not; set it to the "
                            + "login name, or use a credentials file (tradovate.credentialsFile)")
                }
            }
        }

        // The environment: explicit, else simulator without logins, custom with only a REST URL, else demo.
        let resolved: OrcaConfiguration.TradovateEnvironment
        if let explicitEnvironment {
            resolved = explicitEnvironment
        } else if tradovate.logins.isEmpty && tradovate.restURL == nil && tradovate.marketDataURL == nil {
            resolved = .simulator
        } else if let restURL = tradovate.restURL,
            ![OrcaConfiguration.TradovateEnvironment.demo, .live].contains(where: { $0.defaultRESTURL == restURL })
        {
            resolved = .custom
        } else {
            resolved = restURL(is: .live, tradovate.restURL) ? .live : .demo
        }
        tradovate.environment = resolved
        let sourceNote = environmentValue.map { " (\($0.raw.source.phrase))" } ?? ""

        switch resolved {
        case .simulator:
            if let url = rest ?? marketData {
                throw url.error(
                    .invalidValue,
                    "\(url.shown) is not used with tradovate.environment 'simulator' (the in-process simulator's address is "
                        + "used); remove it, or set tradovate.environment to custom for an external server")
            }
        case .demo, .live:
            tradovate.restURL = tradovate.restURL ?? resolved.defaultRESTURL
            tradovate.marketDataURL = tradovate.marketDataURL ?? resolved.defaultMarketDataURL
        case .custom:
            guard let restURL = tradovate.restURL else {
                throw ConfigurationError(
                    .missingCredentials, key: "tradovate.restURL",
                    "tradovate.environment 'custom'\(sourceNote) needs a REST URL; set tradovate.restURL "
                        + "(ORCA_TRADOVATE_REST_URL), e.g. http://127.0.0.1:8080/v1")
            }
            tradovate.marketDataURL = tradovate.marketDataURL ?? Self.marketDataURL(forREST: restURL)
        }
        if resolved != .simulator && tradovate.logins.isEmpty {
            throw ConfigurationError(
                .missingCredentials, key: "tradovate.logins",
                "tradovate.environment '\(resolved)'\(sourceNote) needs at least one login; set "
                    + "tradovate.credentialsFile (ORCA_TRADOVATE_CREDENTIALS_FILE) to a credentials file (chmod 600), "
                    + "or set ORCA_TRADOVATE_USERNAME, ORCA_TRADOVATE_PASSWORD, ORCA_TRADOVATE_CID and "
                    + "ORCA_TRADOVATE_SEC; or use tradovate.environment: simulator")
        }

        if let login = try value("tradovate.marketDataLogin") {
            guard tradovate.logins.contains(where: { $0.accounts.contains(login.text) }) else {
                let names = tradovate.logins.map(\.name)
                throw login.error(
                    .invalidCredentials,
                    "no login or account alias is named '\(login.text)'; "
                        + (names.isEmpty ? "no logins are configured" : "use one of \(names.joined(separator: ", "))"))
            }
            tradovate.marketDataLogin = login.text
        }
        tradovate.deviceIDFile = try value("tradovate.deviceIDFile")?.path(home: home) ?? stateDirectory + "/device-id"
        if let timeout = try value("tradovate.requestTimeout") { tradovate.requestTimeout = try timeout.duration() }
        return tradovate
    }

    private func restURL(is environment: OrcaConfiguration.TradovateEnvironment, _ url: String?) -> Bool {
        url != nil && url == environment.defaultRESTURL
    }

    /// `http(s)://host:port/v1` → `ws(s)://host:port/v1/websocket`, where the simulator and Tradovate serve it.
    static func marketDataURL(forREST rest: String) -> String {
        var components = URLComponents(string: rest) ?? URLComponents()
        components.scheme = components.scheme == "https" ? "wss" : "ws"
        var path = components.path
        while path.hasSuffix("/") { path.removeLast() }
        components.path = path + "/websocket"
        return components.string ?? rest
    }

    private func tradovateURL(
        _ parser: ConfigurationParser, schemes: [String], example: String
    ) throws(ConfigurationError) -> String {
        guard let components = URLComponents(string: parser.text), let scheme = components.scheme?.lowercased(),
            schemes.contains(scheme), let host = components.host, !host.isEmpty
        else {
            throw parser.error(
                .invalidURL,
                "\(parser.shown) is not a \(schemes.joined(separator: " or ")) URL with a host; write it like \(example)"
            )
        }
        if let port = components.port, !(1...65_535).contains(port) {
            throw parser.error(.invalidURL, "\(parser.shown) has port \(port); use 1...65535")
        }
        return parser.text
    }

    private func credentialsError(
        _ error: any Error, key: String, source: ConfigurationSource?
    ) -> ConfigurationError {
        let note = source.map { " (\($0.phrase))" } ?? ""
        guard let error = error as? TokenStoreError else {
            return ConfigurationError(.invalidCredentials, key: key, "the credentials cannot be read\(note)")
        }
        let code: ConfigurationError.Code
        var message = error.message
        if let login = error.login, !message.contains(login) { message = "login \(login): " + message }
        switch error.code {
        case .credentialsUnreadable: code = .fileUnreadable
        case .credentialsFileTooOpen: code = .fileTooOpen
        case .missingCredentials: code = .missingCredentials
        default:
            code =
                message.contains("missing field") || message.contains("is empty")
                ? .missingCredentials
                : .invalidCredentials
        }
        return ConfigurationError(code, key: key, message + note)
    }

    // MARK: Stores

    private func loadRedis() throws(ConfigurationError) -> OrcaConfiguration.Redis {
        var redis = OrcaConfiguration.Redis()
        if let url = try value("redis.url") {
            do {
                redis.url = try RedisURL(url.text)
            } catch {
                // RedisError's message never contains the password.
                let problem = (error as? RedisError)?.message ?? "cannot be parsed"
                throw url.error(
                    .invalidURL,
                    "not a Redis URL: \(problem); write it like redis://host:6379/0 or rediss://:PASSWORD@host:6380/0")
            }
        }
        if let file = try value("redis.tlsCAFile") {
            let path = file.path(home: home)
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw file.error(.fileUnreadable, "CA file \(path) does not exist or cannot be read; name a PEM file")
            }
            redis.tlsCAFile = path
        }
        redis.tlsServerName = try value("redis.tlsServerName")?.text
        if let interval = try value("redis.reconcileInterval") { redis.reconcileInterval = try interval.duration() }
        return redis
    }

    private func loadDatabase() throws(ConfigurationError) -> OrcaConfiguration.Database {
        var database = OrcaConfiguration.Database()
        if let url = try value("database.url") {
            try PostgresURLCheck.validate(url)
            database.url = url.text
        }
        if let schema = try value("database.schema") {
            let valid =
                schema.text.count <= 63 && schema.text.first.map { $0 == "_" || ("a"..."z").contains($0) } == true
                && schema.text.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
            guard valid else {
                throw schema.error(
                    .invalidValue,
                    "\(schema.shown) is not a plain lower-case identifier; use letters a-z, digits and _, like orca")
            }
            database.schema = schema.text
        }
        if let layout = try value("database.layout") {
            database.layout = try layout.choice(OrcaConfiguration.DatabaseLayout.allCases.map { ($0.rawValue, $0) })
        }
        return database
    }

    private func loadFiles() throws(ConfigurationError) -> OrcaConfiguration.Files {
        var files = OrcaConfiguration.Files()
        if let directory = try value("files.directory") { files.directory = directory.path(home: home) }
        if let format = try value("files.format") {
            files.format = try format.choice([("csv", .csv), ("jsonl", .jsonl)])
        }
        return files
    }

    private func loadBuffer(stateDirectory: String) throws(ConfigurationError) -> OrcaConfiguration.Buffer {
        var buffer = OrcaConfiguration.Buffer()
        if let capacity = try value("buffer.memoryCapacity") {
            buffer.memoryCapacity = try capacity.integer(in: 1...Int.max, what: "a number of candles")
        }
        buffer.spillFile = try value("buffer.spillFile")?.path(home: home) ?? stateDirectory + "/spill.bin"
        if let capacity = try value("buffer.spillCapacity") { buffer.spillCapacity = try capacity.bytes() }
        return buffer
    }

    // MARK: Collector

    private func loadCollector() throws(ConfigurationError) -> OrcaConfiguration.Collector {
        var collector = OrcaConfiguration.Collector()
        if let instruments = try sources.list(key("collector.instruments")) {
            var seen: [Instrument] = []
            for root in instruments.value {
                let parser = ConfigurationParser(
                    key("collector.instruments"), RawValue(value: root, source: instruments.source))
                guard let instrument = Instrument.builtIn(root: root) else {
                    let known = Instrument.builtIns.map(\.root).joined(separator: ", ")
                    throw parser.error(.invalidValue, "unknown instrument '\(root)'; use one of \(known)")
                }
                guard !seen.contains(instrument) else {
                    throw parser.error(.invalidValue, "instrument \(instrument.root) is listed twice; list it once")
                }
                seen.append(instrument)
            }
            collector.instruments = seen
        }
        if let timeframes = try sources.list(key("collector.timeframes")) {
            var seen: [Timeframe] = []
            for text in timeframes.value {
                let parser = ConfigurationParser(
                    key("collector.timeframes"), RawValue(value: text, source: timeframes.source))
                let timeframe: Timeframe
                do {
                    timeframe = try Timeframe(parsing: text)
                } catch {
                    throw parser.error(
                        .invalidValue,
                        "bad timeframe '\(text)': \(error.message.replacingOccurrences(of: "cannot read timeframe '\(text)': ", with: "")); "
                            + "use minutes like 5, 15min or hours like 1h (1 minute to 1 day)")
                }
                guard !seen.contains(timeframe) else {
                    throw parser.error(.invalidValue, "timeframe \(timeframe.label) is listed twice; list it once")
                }
                seen.append(timeframe)
            }
            collector.timeframes = seen.sorted()
        }
        if let lookBack = try value("collector.healLookBack") { collector.healLookBack = try lookBack.duration() }
        if let settle = try value("collector.settleTimeout") {
            collector.settleTimeout = try settle.duration(allowZero: true)
        }
        if let grace = try value("collector.closeGrace") {
            collector.closeGrace = try grace.duration(allowZero: true)
            guard collector.closeGrace < .seconds(3600) else {
                throw grace.error(.outOfRange, "\(grace.shown) is too long; the grace is seconds, like 1s (0 turns it off)")
            }
        }
        if let quiet = try value("collector.quietChartBars") {
            collector.quietChartBars = try quiet.integer(in: 1...1_000, what: "a number of bars")
        }
        if let window = try value("collector.revisionWindowBars") {
            collector.revisionWindowBars = try window.integer(in: 0...1_000, what: "a number of bars")
        }
        if let heal = try value("collector.healInterval") { collector.healInterval = try heal.duration() }
        if let derived = try value("collector.checkDerivedTimeframes") {
            collector.checkDerivedTimeframes = try derived.bool()
        }
        if let provisional = try value("collector.writeProvisional") {
            collector.writeProvisional = try provisional.bool()
        }
        if let cron = try value("collector.cron") {
            do {
                collector.cron = try CronSchedule(cron.text)
            } catch {
                throw cron.error(.invalidValue, "bad cron expression: \(error); use five fields like */5 * * * *")
            }
        }
        if let roll = try value("collector.rollDaysBeforeExpiry") {
            collector.rollDaysBeforeExpiry = try roll.integer(in: 0...60, what: "a number of days")
        }
        return collector
    }

    // MARK: HTTP, log, simulator

    private func loadHTTP() throws(ConfigurationError) -> OrcaConfiguration.HTTP {
        var http = OrcaConfiguration.HTTP()
        if let enabled = try value("http.enabled") { http.enabled = try enabled.bool() }
        if let host = try value("http.host") { http.host = host.text }
        if let port = try value("http.port") { http.port = try port.port() }
        return http
    }

    private func loadLog() throws(ConfigurationError) -> OrcaConfiguration.Log {
        var log = OrcaConfiguration.Log()
        if let level = try value("log.level") {
            log.level = try level.choice(Logger.Level.allCases.map { ($0.rawValue, $0) })
        }
        if let format = try value("log.format") {
            log.format = try format.choice(OrcaConfiguration.LogFormat.allCases.map { ($0.rawValue, $0) })
        }
        return log
    }

    private func loadSimulator() throws(ConfigurationError) -> OrcaConfiguration.Simulator {
        var simulator = OrcaConfiguration.Simulator()
        if let seed = try value("simulator.seed") { simulator.seed = try seed.unsigned64() }
        if let speed = try value("simulator.speed") { simulator.speed = try speed.double(positive: true) }
        if let start = try value("simulator.start") { simulator.start = try start.instant() }
        if let anchor = try value("simulator.anchor") { simulator.anchor = try anchor.instant() }
        if let port = try value("simulator.port") { simulator.port = try port.port() }
        return simulator
    }
}

/// Checks a PostgreSQL connection string's shape without echoing it (it may hold a password).
enum PostgresURLCheck {
    static func validate(_ parser: ConfigurationParser) throws(ConfigurationError) {
        let text = parser.text
        let example = "write it like postgres://user:PASSWORD@host:5432/db?sslmode=require, or host=… dbname=…"
        guard let schemeEnd = text.range(of: "://") else {
            // libpq key/value form: `key=value` pairs.
            let pairs = text.split(whereSeparator: \.isWhitespace)
            guard !pairs.isEmpty, let first = pairs.first, first.contains("="), !first.hasPrefix("=") else {
                throw parser.error(.invalidURL, "not a PostgreSQL URL or key/value connection string; \(example)")
            }
            return
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw parser.error(
                .invalidURL, "unsupported scheme '\(scheme)'; use postgres:// or postgresql:// (\(example))")
        }
        let rest = text[schemeEnd.upperBound...]
        let queryStart = rest.firstIndex(of: "?") ?? rest.endIndex
        let beforeQuery = rest[..<queryStart]
        // User info ends at the last '@' before the query; the host list ends at the next '/'.
        let hostStart = beforeQuery.lastIndex(of: "@").map { beforeQuery.index(after: $0) } ?? beforeQuery.startIndex
        let afterUser = beforeQuery[hostStart...]
        let hostList = afterUser.prefix { $0 != "/" }
        for host in hostList.split(separator: ",", omittingEmptySubsequences: false) {
            var portText: Substring?
            if host.hasPrefix("[") {
                guard let close = host.firstIndex(of: "]") else {
                    throw parser.error(.invalidURL, "unterminated IPv6 address in the host; \(example)")
                }
                let after = host[host.index(after: close)...]
                if after.hasPrefix(":") { portText = after.dropFirst() }
            } else if let colon = host.firstIndex(of: ":") {
                portText = host[host.index(after: colon)...]
            }
            if let portText, !portText.isEmpty {
                guard let port = Int(portText), (1...65_535).contains(port) else {
                    // Never echoed: with the '@' missing, the "port" is the password (found by fuzzing).
                    throw parser.error(
                        .invalidURL,
                        "the port after the host is not a number in 1...65535 (with a password, check the '@' "
                            + "before the host); \(example)")
                }
            }
        }
    }
}
