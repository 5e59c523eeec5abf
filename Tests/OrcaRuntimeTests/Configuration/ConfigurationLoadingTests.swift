import CandleCore
import Foundation
import OrcaRuntime
import Testing

@Suite("Configuration: defaults, precedence, compatibility variables", .timeLimit(.minutes(10)))
struct ConfigurationLoadingTests {
    @Test("No file, no environment: the simulator, in-memory tokens, CSV files, NQ MNQ ES MES × 5 15 30 60")
    func defaults() async throws {
        let configuration = try await OrcaConfiguration.load(file: nil, environment: [:])
        #expect(configuration.tradovate.environment == .simulator)
        #expect(configuration.tradovate.logins.isEmpty)
        #expect(configuration.tradovate.restURL == nil)
        #expect(configuration.tradovate.deviceIDFile == "./orca-data/.state/device-id")
        #expect(configuration.redis.url == nil)
        #expect(configuration.redis.tokenProviderConfiguration == nil)
        #expect(configuration.database.url == nil)
        #expect(configuration.database.sinkConfiguration() == nil)
        #expect(configuration.database.schema == "orca")
        #expect(configuration.database.layout == .tablePerSeries)
        #expect(configuration.files.directory == "./orca-data")
        #expect(configuration.files.format == .csv)
        #expect(configuration.files.sinkConfiguration.format == .csv)
        #expect(configuration.buffer.memoryCapacity == 100_000)
        #expect(configuration.buffer.spillFile == "./orca-data/.state/spill.bin")
        #expect(configuration.buffer.spillCapacity == 1 << 30)
        #expect(configuration.collector.instruments.map(\.root) == ["NQ", "MNQ", "ES", "MES"])
        #expect(configuration.collector.timeframes.map(\.minutes) == [5, 15, 30, 60])
        #expect(configuration.collector.series.count == 16)
        #expect(configuration.collector.healLookBack == .seconds(3 * 86_400))
        #expect(configuration.collector.settleTimeout == .seconds(5))
        #expect(configuration.collector.revisionWindowBars == 3)
        #expect(configuration.collector.healInterval == .seconds(900))
        #expect(!configuration.collector.checkDerivedTimeframes)
        #expect(!configuration.collector.writeProvisional)
        #expect(configuration.collector.cron == nil)
        #expect(configuration.collector.rollDaysBeforeExpiry == 8)
        #expect(configuration.stateDirectory == "./orca-data/.state")
        #expect(configuration.http == OrcaConfiguration.HTTP(enabled: true, host: "127.0.0.1", port: 9464))
        #expect(configuration.log.level == .info)
        #expect(configuration.log.format == .auto)
        #expect(
            configuration.simulator == OrcaConfiguration.Simulator(seed: 42, speed: 1, start: nil, anchor: nil, port: 0)
        )
        // `.default` is the same apart from the paths that loading fills in.
        var filled = OrcaConfiguration.default
        filled.tradovate.deviceIDFile = "./orca-data/.state/device-id"
        filled.buffer.spillFile = "./orca-data/.state/spill.bin"
        #expect(filled == configuration)
    }

    /// One key's value in the file, the environment and the overrides, and how to read it back.
    struct PrecedenceCase: Sendable, CustomTestStringConvertible {
        var key: String
        var values: (file: String, environment: String, override: String)
        var expected: (file: String, environment: String, override: String)
        var read: @Sendable (OrcaConfiguration) -> String

        init(
            _ key: String, _ file: String, _ environment: String, _ override: String,
            expected: (String, String, String)? = nil, read: @escaping @Sendable (OrcaConfiguration) -> String
        ) {
            self.key = key
            self.values = (file, environment, override)
            self.expected = expected ?? (file, environment, override)
            self.read = read
        }

        var testDescription: String { key }
    }

    static let precedenceCases: [PrecedenceCase] = [
        PrecedenceCase("tradovate.environment", "demo", "live", "simulator") {
            $0.tradovate.environment.rawValue
        },
        PrecedenceCase(
            "tradovate.restURL", "http://a.example/v1", "http://b.example/v1", "http://c.example/v1"
        ) { $0.tradovate.restURL ?? "-" },
        PrecedenceCase(
            "tradovate.marketDataURL", "ws://a.example/ws", "ws://b.example/ws", "ws://c.example/ws"
        ) { $0.tradovate.marketDataURL ?? "-" },
        PrecedenceCase("tradovate.marketDataLogin", "APEX_1", "APEX_2", "PAAPEX_10001") {
            $0.tradovate.marketDataLogin ?? "-"
        },
        PrecedenceCase("tradovate.deviceIDFile", "/a/id", "/b/id", "/c/id") { $0.tradovate.deviceIDFile ?? "-" },
        PrecedenceCase("redis.url", "redis://a:6379", "redis://b:6379", "redis://c:6379", expected: ("a", "b", "c")) {
            $0.redis.url?.host ?? "-"
        },
        PrecedenceCase("redis.tlsServerName", "a", "b", "c") { $0.redis.tlsServerName ?? "-" },
        PrecedenceCase("tradovate.requestTimeout", "5s", "1m", "90", expected: ("5", "60", "90")) {
            String($0.tradovate.requestTimeout.components.seconds)
        },
        PrecedenceCase("redis.reconcileInterval", "5s", "1m", "2", expected: ("5", "60", "2")) {
            String($0.redis.reconcileInterval.components.seconds)
        },
        PrecedenceCase("database.url", "postgres://a/db", "postgres://b/db", "postgres://c/db") {
            $0.database.url ?? "-"
        },
        PrecedenceCase("database.schema", "a", "b", "c") { $0.database.schema },
        PrecedenceCase(
            "database.layout", "singleTable", "table-per-series", "single_table",
            expected: ("singleTable", "tablePerSeries", "singleTable")
        ) { $0.database.layout.rawValue },
        PrecedenceCase("files.directory", "/a", "/b", "/c") { $0.files.directory },
        PrecedenceCase("files.format", "jsonl", "csv", "JSONL", expected: ("jsonl", "csv", "jsonl")) {
            $0.files.format.rawValue
        },
        PrecedenceCase("buffer.memoryCapacity", "10", "20", "30") { String($0.buffer.memoryCapacity) },
        PrecedenceCase("buffer.spillFile", "/a.bin", "/b.bin", "/c.bin") { $0.buffer.spillFile ?? "-" },
        PrecedenceCase("buffer.spillCapacity", "1KiB", "1MiB", "1000", expected: ("1024", "1048576", "1000")) {
            String($0.buffer.spillCapacity)
        },
        PrecedenceCase("collector.instruments", "NQ", "ES,MES", "mnq", expected: ("NQ", "ES MES", "MNQ")) {
            $0.collector.instruments.map(\.root).joined(separator: " ")
        },
        PrecedenceCase("collector.timeframes", "5", "1h,15", "30min", expected: ("5min", "15min 1hour", "30min")) {
            $0.collector.timeframes.map(\.label).joined(separator: " ")
        },
        PrecedenceCase("collector.healLookBack", "90s", "5m", "3d", expected: ("90", "300", "259200")) {
            String($0.collector.healLookBack.components.seconds)
        },
        PrecedenceCase("collector.settleTimeout", "1", "2s", "0", expected: ("1", "2", "0")) {
            String($0.collector.settleTimeout.components.seconds)
        },
        PrecedenceCase("collector.revisionWindowBars", "1", "2", "0") { String($0.collector.revisionWindowBars) },
        PrecedenceCase("collector.closeGrace", "1", "2s", "0", expected: ("1", "2", "0")) {
            String($0.collector.closeGrace.components.seconds)
        },
        PrecedenceCase("collector.quietChartBars", "1", "2", "5") { String($0.collector.quietChartBars) },
        PrecedenceCase("collector.healInterval", "1h", "2h", "1h30m", expected: ("3600", "7200", "5400")) {
            String($0.collector.healInterval.components.seconds)
        },
        PrecedenceCase("collector.checkDerivedTimeframes", "true", "false", "yes", expected: ("true", "false", "true"))
        {
            String($0.collector.checkDerivedTimeframes)
        },
        PrecedenceCase("collector.writeProvisional", "true", "off", "on", expected: ("true", "false", "true")) {
            String($0.collector.writeProvisional)
        },
        PrecedenceCase("collector.cron", "*/5 * * * *", "0 * * * *", "*/15 * * * *") {
            $0.collector.cron?.expression ?? "-"
        },
        PrecedenceCase("collector.rollDaysBeforeExpiry", "7", "6", "5") { String($0.collector.rollDaysBeforeExpiry) },
        PrecedenceCase("stateDirectory", "/a", "/b", "/c") { $0.stateDirectory },
        PrecedenceCase("http.enabled", "false", "true", "false") { String($0.http.enabled) },
        PrecedenceCase("http.host", "0.0.0.0", "::1", "localhost") { $0.http.host },
        PrecedenceCase("http.port", "1", "2", "0") { String($0.http.port) },
        PrecedenceCase("log.level", "debug", "warning", "TRACE", expected: ("debug", "warning", "trace")) {
            $0.log.level.rawValue
        },
        PrecedenceCase("log.format", "human", "json", "auto") { $0.log.format.rawValue },
        PrecedenceCase("simulator.seed", "1", "2", "3") { String($0.simulator.seed) },
        PrecedenceCase("simulator.speed", "2", "0.5", "60", expected: ("2.0", "0.5", "60.0")) {
            String($0.simulator.speed)
        },
        PrecedenceCase(
            "simulator.start", "2025-01-06T14:30:00Z", "2025-01-07T00:00:00Z", "2025-01-08T09:15:00.500Z",
            expected: ("1736173800.0", "1736208000.0", "1736327700.5")
        ) { String($0.simulator.start?.timeIntervalSince1970 ?? 0) },
        PrecedenceCase(
            "simulator.anchor", "2025-01-06T00:00:00Z", "2025-01-07T00:00:00Z", "2025-01-08T00:00:00Z",
            expected: ("1736121600.0", "1736208000.0", "1736294400.0")
        ) { String($0.simulator.anchor?.timeIntervalSince1970 ?? 0) },
        PrecedenceCase("simulator.port", "1", "2", "3") { String($0.simulator.port) },
    ]

    @Test("Every key: file < environment < override", arguments: precedenceCases)
    func precedence(_ test: PrecedenceCase) async throws {
        let scratch = try ConfigurationScratch()
        defer { scratch.remove() }
        guard let key = OrcaConfiguration.key(named: test.key) else {
            Issue.record("no key \(test.key)")
            return
        }
        // Keys that need a Tradovate environment other than the simulator get logins and a custom environment.
        var baseEnvironment: [String: String] = [:]
        var fileExtra = ""
        if test.key.hasPrefix("tradovate.") {
            let credentials = try scratch.credentials()
            baseEnvironment["ORCA_TRADOVATE_CREDENTIALS_FILE"] = credentials.path
            if test.key == "tradovate.restURL" {
                fileExtra = "tradovate:\n  environment: custom\n"
            } else if test.key != "tradovate.environment" {
                fileExtra = "tradovate:\n  environment: custom\n  restURL: http://x.example/v1\n"
            }
        }
        let components = test.key.split(separator: ".").map(String.init)
        func yaml(_ value: String) -> String {
            let quoted = "\"\(value)\""
            guard components.count == 2 else { return "\(components[0]): \(quoted)\n" + fileExtra }
            if components[0] == "tradovate", !fileExtra.isEmpty {
                return fileExtra + "  \(components[1]): \(quoted)\n"
            }
            return "\(components[0]):\n  \(components[1]): \(quoted)\n" + fileExtra
        }
        let file = try scratch.write("orca.yaml", yaml(test.values.file), mode: 0o644)

        let fromFile = try await OrcaConfiguration.load(file: file, environment: baseEnvironment)
        #expect(test.read(fromFile) == test.expected.file, "file")

        var environment = baseEnvironment
        environment[key.environmentVariable] = test.values.environment
        let fromEnvironment = try await OrcaConfiguration.load(file: file, environment: environment)
        #expect(test.read(fromEnvironment) == test.expected.environment, "environment")

        let fromOverride = try await OrcaConfiguration.load(
            file: file, environment: environment, overrides: [test.key: test.values.override])
        #expect(test.read(fromOverride) == test.expected.override, "override")
    }

    @Test("Every key has a precedence case and a distinct ORCA_ variable")
    func keyTable() {
        let tested = Set(Self.precedenceCases.map(\.key))
        let all = OrcaConfiguration.keys.map(\.name)
        // The credentials file is covered by the compatibility test (it must name a real file).
        #expect(Set(all).subtracting(tested) == ["tradovate.credentialsFile", "redis.tlsCAFile"])
        let variables = OrcaConfiguration.keys.map(\.environmentVariable)
        #expect(Set(variables).count == variables.count)
        #expect(variables.allSatisfy { $0.hasPrefix("ORCA_") && $0 == $0.uppercased() })
        #expect(
            OrcaConfiguration.key(named: "collector.healLookBack")?.environmentVariable
                == "ORCA_COLLECTOR_HEAL_LOOK_BACK")
        #expect(
            OrcaConfiguration.key(named: "collector.rollDaysBeforeExpiry")?.environmentVariable
                == "ORCA_COLLECTOR_ROLL_DAYS_BEFORE_EXPIRY")
    }

    @Test("DATABASE_URL and REDIS_URL; the ORCA_ variables win over them")
    func commonVariables() async throws {
        let password = fakeSecret()
        let environment = [
            "DATABASE_URL": "postgresql://orca:\(password)@db.example.com:5432/orca?sslmode=require",
            "REDIS_URL": "rediss://:\(password)@redis.example.com:6380/0",
        ]
        let configuration = try await OrcaConfiguration.load(environment: environment)
        #expect(configuration.database.url == environment["DATABASE_URL"])
        #expect(configuration.database.sinkConfiguration(series: [])?.url == environment["DATABASE_URL"])
        #expect(configuration.redis.url?.host == "redis.example.com")
        #expect(configuration.redis.url?.port == 6380)
        #expect(configuration.redis.url?.usesTLS == true)
        #expect(configuration.redis.url?.password == password)
        #expect(configuration.redis.tokenProviderConfiguration?.url.host == "redis.example.com")

        var both = environment
        both["ORCA_DATABASE_URL"] = "postgres://other/db"
        both["ORCA_REDIS_URL"] = "redis://other:6379"
        let preferred = try await OrcaConfiguration.load(environment: both)
        #expect(preferred.database.url == "postgres://other/db")
        #expect(preferred.redis.url?.host == "other")

        // Empty variables count as unset.
        let empty = try await OrcaConfiguration.load(environment: ["DATABASE_URL": "", "REDIS_URL": " "])
        #expect(empty.database.url == nil)
        #expect(empty.redis.url == nil)
    }

    @Test("What `orca-run tokens refresh` reads: ORCA_TRADOVATE_*, ORCA_TRADOVATE_URL, ORCA_CREDENTIALS_FILE")
    func tokenStoreCompatibility() async throws {
        let scratch = try ConfigurationScratch()
        defer { scratch.remove() }
        let password = fakeSecret()
        let sec = fakeSecret()
        let environment = [
            "ORCA_TRADOVATE_USERNAME": "APEX_9", "ORCA_TRADOVATE_PASSWORD": password, "ORCA_TRADOVATE_CID": "42",
            "ORCA_TRADOVATE_SEC": sec, "ORCA_TRADOVATE_ACCOUNTS": "PA1, PA2", "ORCA_TRADOVATE_APP_ID": "App",
            "ORCA_TRADOVATE_URL": "http://127.0.0.1:8080/v1",
        ]
        let configuration = try await OrcaConfiguration.load(environment: environment)
        #expect(configuration.tradovate.environment == .custom)
        #expect(configuration.tradovate.restURL == "http://127.0.0.1:8080/v1")
        #expect(configuration.tradovate.marketDataURL == "ws://127.0.0.1:8080/v1/websocket")
        #expect(configuration.tradovate.logins.count == 1)
        let login = try #require(configuration.tradovate.logins.first)
        #expect(login.name == "APEX_9")
        #expect(login.password == password)
        #expect(login.secret == sec)
        #expect(login.cid == 42)
        #expect(login.appID == "App")
        #expect(login.aliases == ["PA1", "PA2"])
        #expect(configuration.tradovate.marketDataCredentials?.name == "APEX_9")

        // Logins without a URL: demo. ORCA_TRADOVATE_REST_URL wins over ORCA_TRADOVATE_URL.
        var demo = environment
        demo["ORCA_TRADOVATE_URL"] = nil
        let demoConfiguration = try await OrcaConfiguration.load(environment: demo)
        #expect(demoConfiguration.tradovate.environment == .demo)
        #expect(demoConfiguration.tradovate.restURL == "https://demo.tradovateapi.com/v1")
        #expect(demoConfiguration.tradovate.marketDataURL == "wss://md.tradovateapi.com/v1/websocket")
        var both = environment
        both["ORCA_TRADOVATE_REST_URL"] = "https://live.tradovateapi.com/v1"
        let live = try await OrcaConfiguration.load(environment: both)
        #expect(live.tradovate.environment == .live)
        #expect(live.tradovate.restURL == "https://live.tradovateapi.com/v1")

        // ORCA_CREDENTIALS_FILE (the old name) and the file winning over the variables.
        let file = try scratch.credentials(logins: ["APEX_1", "APEX_2", "APEX_3"])
        var withFile = environment
        withFile["ORCA_CREDENTIALS_FILE"] = file.path
        let fromFile = try await OrcaConfiguration.load(environment: withFile)
        #expect(fromFile.tradovate.logins.map(\.name) == ["APEX_1", "APEX_2", "APEX_3"])
        #expect(fromFile.tradovate.credentialsFile == file.path)
        #expect(fromFile.tradovate.logins[1].accounts == ["APEX_2", "PAAPEX_20001", "PAAPEX_20002"])
        let byAlias = try await OrcaConfiguration.load(
            environment: withFile, overrides: ["tradovate.marketDataLogin": "PAAPEX_30002"])
        #expect(byAlias.tradovate.marketDataCredentials?.name == "APEX_3")
    }

    @Test("A leading ~/ in paths is expanded with HOME")
    func homeExpansion() async throws {
        // Nothing is created: the paths are only computed.
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("orca-home-\(UUID().uuidString)").path
        let configuration = try await OrcaConfiguration.load(
            environment: ["HOME": home, "ORCA_STATE_DIRECTORY": "~/state", "ORCA_FILES_DIRECTORY": "~/bars"])
        #expect(configuration.stateDirectory == home + "/state")
        #expect(configuration.files.directory == home + "/bars")
        #expect(configuration.tradovate.deviceIDFile == home + "/state/device-id")
        #expect(configuration.buffer.spillFile == home + "/state/spill.bin")
    }

    @Test("List keys: YAML sequences, comma-separated strings in YAML, the environment and overrides")
    func lists() async throws {
        let scratch = try ConfigurationScratch()
        defer { scratch.remove() }
        let sequence = try scratch.write("a.yaml", "collector:\n  instruments: [es, NQ]\n  timeframes: [60, 5]\n")
        let fromSequence = try await OrcaConfiguration.load(file: sequence, environment: [:])
        #expect(fromSequence.collector.instruments.map(\.root) == ["ES", "NQ"])
        #expect(fromSequence.collector.timeframes.map(\.minutes) == [5, 60])
        let scalar = try scratch.write("b.yaml", "collector:\n  instruments: MES, MNQ\n  timeframes: 15\n")
        let fromScalar = try await OrcaConfiguration.load(file: scalar, environment: [:])
        #expect(fromScalar.collector.instruments.map(\.root) == ["MES", "MNQ"])
        #expect(fromScalar.collector.timeframes.map(\.minutes) == [15])
    }

    @Test("Component configurations: file sink, buffer, Postgres sink, simulator")
    func components() async throws {
        let configuration = try await OrcaConfiguration.load(
            environment: [
                "ORCA_FILES_FORMAT": "jsonl", "ORCA_FILES_DIRECTORY": "/data", "ORCA_BUFFER_SPILL_CAPACITY": "2MiB",
                "DATABASE_URL": "postgres://h/db", "ORCA_DATABASE_LAYOUT": "singleTable",
                "ORCA_SIMULATOR_SEED": "7", "ORCA_SIMULATOR_PORT": "0", "ORCA_COLLECTOR_ROLL_DAYS_BEFORE_EXPIRY": "5",
            ])
        #expect(configuration.files.sinkConfiguration.format == .jsonLines)
        #expect(configuration.files.sinkConfiguration.directory.path == "/data")
        let buffer = configuration.buffer.sinkConfiguration(stateDirectory: configuration.stateDirectory)
        #expect(buffer.spillCapacity == 2 << 20)
        #expect(buffer.spillFile?.path.hasSuffix(".state/spill.bin") == true)
        let sink = try #require(configuration.database.sinkConfiguration(series: configuration.collector.series))
        #expect(sink.layout == .singleTable)
        #expect(sink.series.count == 16)
        let simulator = try configuration.simulator.serverConfiguration()
        #expect(simulator.seed == 7)
        #expect(simulator.port == 0)
        #expect(configuration.collector.contractCalendar.rollDaysBeforeExpiry == 5)
    }
}
