import Foundation
import OrcaRuntime
import Testing

@Suite("Configuration: validation errors name the key, the problem and the fix", .timeLimit(.minutes(10)))
struct ConfigurationValidationTests {
    /// A bad value set by an environment variable, and what the error must say.
    struct Case: Sendable, CustomTestStringConvertible {
        var variables: [String: String]
        var code: ConfigurationError.Code
        var key: String
        var message: String

        init(_ variables: [String: String], _ code: ConfigurationError.Code, _ key: String, _ message: String) {
            self.variables = variables
            self.code = code
            self.key = key
            self.message = message
        }

        var testDescription: String { "\(key): \(variables.values.sorted().joined(separator: " "))" }
    }

    static let cases: [Case] = [
        Case(
            ["ORCA_COLLECTOR_INSTRUMENTS": "NQ,XQ"], .invalidValue, "collector.instruments",
            "unknown instrument 'XQ'; use one of NQ, MNQ, ES, MES (set by ORCA_COLLECTOR_INSTRUMENTS)"),
        Case(
            ["ORCA_COLLECTOR_INSTRUMENTS": "NQ,nq"], .invalidValue, "collector.instruments",
            "instrument NQ is listed twice; list it once"),
        Case(["ORCA_COLLECTOR_TIMEFRAMES": "5,7x"], .invalidValue, "collector.timeframes", "bad timeframe '7x'"),
        Case(["ORCA_COLLECTOR_TIMEFRAMES": "2000"], .invalidValue, "collector.timeframes", "bad timeframe '2000'"),
        Case(
            ["ORCA_COLLECTOR_HEAL_LOOK_BACK": "0"], .outOfRange, "collector.healLookBack",
            "'0' must be greater than zero; use e.g. 90s or 5m (set by ORCA_COLLECTOR_HEAL_LOOK_BACK)"),
        Case(
            ["ORCA_COLLECTOR_HEAL_INTERVAL": "-5m"], .outOfRange, "collector.healInterval",
            "'-5m' must be greater than zero"),
        Case(
            ["ORCA_COLLECTOR_SETTLE_TIMEOUT": "-1"], .outOfRange, "collector.settleTimeout", "'-1' must be zero or more"
        ),
        Case(
            ["ORCA_COLLECTOR_HEAL_LOOK_BACK": "3 fortnights"], .invalidValue, "collector.healLookBack",
            "'3 fortnights' is not a duration; write it like 90s, 5m, 1h30m, 3d or a number of seconds"),
        Case(
            ["ORCA_COLLECTOR_REVISION_WINDOW_BARS": "many"], .invalidValue, "collector.revisionWindowBars",
            "'many' is not a number"),
        Case(
            ["ORCA_COLLECTOR_REVISION_WINDOW_BARS": "-1"], .outOfRange, "collector.revisionWindowBars",
            "-1 is out of range; use 0...1000"),
        Case(["ORCA_COLLECTOR_CRON": "*/5 * *"], .invalidValue, "collector.cron", "bad cron expression"),
        Case(
            ["ORCA_COLLECTOR_ROLL_DAYS_BEFORE_EXPIRY": "90"], .outOfRange, "collector.rollDaysBeforeExpiry",
            "90 is out of range; use 0...60"),
        Case(
            ["ORCA_COLLECTOR_WRITE_PROVISIONAL": "maybe"], .invalidValue, "collector.writeProvisional",
            "use true or false"),
        Case(
            ["ORCA_HTTP_PORT": "70000"], .outOfRange, "http.port",
            "port 70000 is out of range; use 1...65535, or 0 for an ephemeral port (set by ORCA_HTTP_PORT)"),
        Case(["ORCA_HTTP_PORT": "http"], .invalidValue, "http.port", "'http' is not a port number"),
        Case(["ORCA_SIMULATOR_PORT": "-1"], .outOfRange, "simulator.port", "port -1 is out of range"),
        Case(["ORCA_SIMULATOR_SPEED": "0"], .outOfRange, "simulator.speed", "'0' must be greater than zero"),
        Case(["ORCA_SIMULATOR_SEED": "-3"], .invalidValue, "simulator.seed", "is not a non-negative whole number"),
        Case(["ORCA_SIMULATOR_START": "yesterday"], .invalidValue, "simulator.start", "is not an ISO-8601 instant"),
        Case(["ORCA_SIMULATOR_ANCHOR": "noon"], .invalidValue, "simulator.anchor", "'noon' is not an ISO-8601 instant"),
        Case(
            ["ORCA_LOG_LEVEL": "verbose"], .invalidValue, "log.level", "'verbose' is not valid; use one of trace, debug"
        ),
        Case(["ORCA_LOG_FORMAT": "xml"], .invalidValue, "log.format", "use one of auto, human, json"),
        Case(["ORCA_FILES_FORMAT": "parquet"], .invalidValue, "files.format", "use one of csv, jsonl"),
        Case(
            ["ORCA_DATABASE_LAYOUT": "sharded"], .invalidValue, "database.layout",
            "use one of tablePerSeries, singleTable"),
        Case(
            ["ORCA_DATABASE_SCHEMA": "Orca-1"], .invalidValue, "database.schema", "is not a plain lower-case identifier"
        ),
        Case(
            ["ORCA_BUFFER_MEMORY_CAPACITY": "0"], .outOfRange, "buffer.memoryCapacity",
            "0 is out of range; use 1 or more"),
        Case(["ORCA_BUFFER_SPILL_CAPACITY": "lots"], .invalidValue, "buffer.spillCapacity", "is not a size"),
        Case(["ORCA_HTTP_ENABLED": "2"], .invalidValue, "http.enabled", "is not a boolean"),
        Case(
            ["REDIS_URL": "http://redis.example.com"], .invalidURL, "redis.url",
            "not a Redis URL: unsupported scheme 'http'; expected redis:// or rediss://"),
        Case(["REDIS_URL": "redis://host:99999"], .invalidURL, "redis.url", "(set by REDIS_URL)"),
        Case(
            ["DATABASE_URL": "mysql://u@h/db"], .invalidURL, "database.url",
            "unsupported scheme 'mysql'; use postgres:// or postgresql://"),
        Case(
            ["DATABASE_URL": "postgres://u@h:0/db"], .invalidURL, "database.url",
            "the port after the host is not a number in 1...65535"),
        Case(["ORCA_DATABASE_URL": "just words"], .invalidURL, "database.url", "(set by ORCA_DATABASE_URL)"),
        Case(
            ["ORCA_TRADOVATE_ENVIRONMENT": "custom", "ORCA_TRADOVATE_REST_URL": "ftp://x/v1"], .invalidURL,
            "tradovate.restURL", "'ftp://x/v1' is not a https or http URL with a host"),
        Case(
            ["ORCA_TRADOVATE_MARKET_DATA_URL": "https://md.example/v1"], .invalidURL, "tradovate.marketDataURL",
            "is not a wss or ws URL with a host"),
        Case(
            ["ORCA_TRADOVATE_ENVIRONMENT": "staging"], .invalidValue, "tradovate.environment",
            "'staging' is not valid; use one of demo, live, simulator, custom"),
        Case(
            ["ORCA_TRADOVATE_ENVIRONMENT": "live"], .missingCredentials, "tradovate.logins",
            "tradovate.environment 'live' (set by ORCA_TRADOVATE_ENVIRONMENT) needs at least one login"),
        Case(
            ["ORCA_TRADOVATE_ENVIRONMENT": "custom"], .missingCredentials, "tradovate.restURL",
            "tradovate.environment 'custom' (set by ORCA_TRADOVATE_ENVIRONMENT) needs a REST URL"),
        Case(
            ["ORCA_TRADOVATE_ENVIRONMENT": "simulator", "ORCA_TRADOVATE_REST_URL": "http://h/v1"], .invalidValue,
            "tradovate.restURL", "is not used with tradovate.environment 'simulator'"),
        Case(
            ["ORCA_TRADOVATE_USERNAME": "APEX_1", "ORCA_TRADOVATE_CID": "1", "ORCA_TRADOVATE_SEC": "x"],
            .missingCredentials, "tradovate.logins", "ORCA_TRADOVATE_PASSWORD"),
        Case(
            ["ORCA_TRADOVATE_PASSWORD": "x", "ORCA_TRADOVATE_SEC": "y"], .missingCredentials, "tradovate.logins",
            "ORCA_TRADOVATE_PASSWORD, ORCA_TRADOVATE_SEC set but ORCA_TRADOVATE_USERNAME is not"),
        Case(
            ["ORCA_TRADOVATE_MARKET_DATA_LOGIN": "APEX_7"], .invalidCredentials, "tradovate.marketDataLogin",
            "no login or account alias is named 'APEX_7'; no logins are configured"),
        Case(
            ["ORCA_TRADOVATE_CREDENTIALS_FILE": "/nonexistent/credentials.yaml"], .fileUnreadable,
            "tradovate.credentialsFile", "/nonexistent/credentials.yaml cannot be read"),
        Case(
            ["ORCA_REDIS_TLS_CA_FILE": "/nonexistent/ca.pem"], .fileUnreadable, "redis.tlsCAFile",
            "CA file /nonexistent/ca.pem does not exist or cannot be read"),
    ]

    @Test("Bad values from the environment", arguments: cases)
    func environmentErrors(_ test: Case) async throws {
        let error = try #require(await loadError(environment: test.variables))
        #expect(error.code == test.code)
        #expect(error.key == test.key)
        #expect(error.message.contains(test.message), "\(error.message)")
        #expect(error.description.hasPrefix("\(test.key): "))
    }

    @Test("The error names the file or the command line as the source")
    func sources() async throws {
        let scratch = try ConfigurationScratch()
        defer { scratch.remove() }
        let file = try scratch.write("orca.yaml", "http:\n  port: 65536\n", mode: 0o644)
        let fromFile = try #require(await loadError(file: file))
        #expect(fromFile.key == "http.port")
        #expect(fromFile.message.hasSuffix("(set in \(file))"))
        let fromOverride = try #require(await loadError(file: file, overrides: ["http.port": "-2"]))
        #expect(fromOverride.message.hasSuffix("(set on the command line)"))
        #expect(fromOverride.message.contains("port -2"))
    }

    @Test("Unknown keys in the file are errors with a suggestion")
    func unknownKeys() async throws {
        let scratch = try ConfigurationScratch()
        defer { scratch.remove() }
        let typo = try scratch.write("a.yaml", "collector:\n  lookbak: 2d\n", mode: 0o644)
        let error = try #require(await loadError(file: typo))
        #expect(error.code == .unknownKey)
        #expect(error.key == "collector.lookbak")
        #expect(error.message == "unknown key in \(typo); did you mean 'collector.healLookBack'?")

        let section = try scratch.write("b.yaml", "colector:\n  instruments: [NQ]\n", mode: 0o644)
        let sectionError = try #require(await loadError(file: section))
        #expect(sectionError.key == "colector.instruments")
        #expect(sectionError.message.hasSuffix("did you mean 'collector.instruments'?"))

        let misplaced = try scratch.write("c.yaml", "redis:\n  schema: orca\n", mode: 0o644)
        let misplacedError = try #require(await loadError(file: misplaced))
        #expect(misplacedError.message.hasSuffix("did you mean 'database.schema'?"))

        let logins = try scratch.write("d.yaml", "tradovate:\n  logins: [a, b]\n", mode: 0o644)
        let loginsError = try #require(await loadError(file: logins))
        #expect(loginsError.key == "tradovate.logins")
        #expect(loginsError.message.contains("logins are not read from the configuration file"))

        let nonsense = try scratch.write("e.yaml", "zzzzzzzzzzzzz: 1\n", mode: 0o644)
        let nonsenseError = try #require(await loadError(file: nonsense))
        #expect(nonsenseError.message.hasSuffix("see Docs/configuration.md for the keys"))

        let override = try #require(await loadError(overrides: ["http.prot": "1"]))
        #expect(override.code == .unknownKey)
        #expect(override.message == "unknown key in the overrides; did you mean 'http.port'?")
    }

    @Test("A scalar key given a list, a list of mappings, and malformed YAML")
    func shapes() async throws {
        let scratch = try ConfigurationScratch()
        defer { scratch.remove() }
        let list = try scratch.write("a.yaml", "http:\n  port: [1, 2]\n", mode: 0o644)
        let listError = try #require(await loadError(file: list))
        #expect(listError.key == "http.port")
        #expect(listError.message == "expected a single value, not a list (set in \(list))")

        let secret = fakeSecret()
        let broken = try scratch.write("b.yaml", "database:\n  url: \"postgres://u:\(secret)@h/db\n", mode: 0o644)
        let brokenError = try #require(await loadError(file: broken))
        #expect(brokenError.code == .invalidFile)
        #expect(brokenError.key == nil)
        #expect(
            brokenError.message.contains(
                "configuration file \(broken) cannot be used: not valid YAML at line:column 3:1"))
        #expect(!brokenError.message.contains(secret))

        let loginMappings = try scratch.write(
            "d.yaml", "tradovate:\n  logins:\n    - name: a\n      password: \"\(secret)\"\n", mode: 0o644)
        let loginMappingsError = try #require(await loadError(file: loginMappings))
        #expect(loginMappingsError.code == .invalidFile)
        #expect(loginMappingsError.message.contains("logins are not read from the configuration file"))
        #expect(!loginMappingsError.message.contains(secret))

        let notMapping = try scratch.write("c.yaml", "- a\n- b\n", mode: 0o644)
        let notMappingError = try #require(await loadError(file: notMapping))
        #expect(notMappingError.message.contains("the top level is not a mapping"))
    }

    @Test("Missing and unreadable files")
    func files() async throws {
        let scratch = try ConfigurationScratch()
        defer { scratch.remove() }
        let missing = try #require(await loadError(file: scratch.directory + "/none.yaml"))
        #expect(missing.code == .fileUnreadable)
        #expect(missing.key == nil)
        #expect(missing.message.contains("none.yaml does not exist"))
        let directory = try #require(await loadError(file: scratch.directory))
        #expect(directory.message.contains("is a directory"))
        if getuid() != 0 {
            let locked = try scratch.write("locked.yaml", "http:\n  port: 1\n", mode: 0o000)
            let lockedError = try #require(await loadError(file: locked))
            #expect(lockedError.code == .fileUnreadable)
            #expect(lockedError.message.contains("cannot be read by this user"))
        }
    }

    @Test("Credentials files: too open, a login without password or sec, bad cid")
    func credentialsFiles() async throws {
        let scratch = try ConfigurationScratch()
        defer { scratch.remove() }
        let open = try scratch.credentials(mode: 0o644)
        let openError = try #require(await loadError(environment: ["ORCA_TRADOVATE_CREDENTIALS_FILE": open.path]))
        #expect(openError.code == .fileTooOpen)
        #expect(openError.key == "tradovate.credentialsFile")
        #expect(openError.message.contains("chmod 600 \(open.path)"))
        #expect(openError.message.hasSuffix("(set by ORCA_TRADOVATE_CREDENTIALS_FILE)"))

        let sec = fakeSecret()
        let noPassword = try scratch.write(
            "nopw.yaml", "logins:\n  - name: APEX_1\n    cid: 1\n    sec: \"\(sec)\"\n", mode: 0o600)
        let noPasswordError = try #require(
            await loadError(environment: ["ORCA_CREDENTIALS_FILE": noPassword]))
        // CredentialsLoader reports the last decoding attempt of a `logins:` file ("missing field 'name'"), not the
        // missing password; the code and key are still right.
        #expect(noPasswordError.code == .missingCredentials)
        #expect(noPasswordError.key == "tradovate.credentialsFile")
        #expect(noPasswordError.message.contains("missing field"))
        #expect(!noPasswordError.description.contains(sec))

        let emptyPassword = try scratch.write(
            "emptypw.yaml", "- name: APEX_1\n  password: \"\"\n  cid: 1\n  sec: \"\(sec)\"\n", mode: 0o600)
        let emptyPasswordError = try #require(await loadError(environment: ["ORCA_CREDENTIALS_FILE": emptyPassword]))
        #expect(emptyPasswordError.code == .missingCredentials)
        #expect(emptyPasswordError.message.contains("'password' is empty"))
        #expect(emptyPasswordError.message.contains("APEX_1"))
        #expect(!emptyPasswordError.description.contains(sec))

        let password = fakeSecret()
        let emptySec = try scratch.write(
            "nosec.yaml", "logins:\n  - name: APEX_1\n    password: \"\(password)\"\n    cid: 1\n    sec: \"\"\n",
            mode: 0o600)
        let emptySecError = try #require(await loadError(overrides: ["tradovate.credentialsFile": emptySec]))
        #expect(emptySecError.code == .missingCredentials)
        #expect(emptySecError.message.contains("'sec' is empty"))
        #expect(emptySecError.message.hasSuffix("(set on the command line)"))
        #expect(!emptySecError.description.contains(password))

        let badCID = try scratch.write("cid.json", #"{"name":"A","password":"p","cid":"abc","sec":"s"}"#, mode: 0o600)
        let badCIDError = try #require(await loadError(overrides: ["tradovate.credentialsFile": badCID]))
        #expect(badCIDError.code == .invalidCredentials)
        #expect(badCIDError.message.contains("cid must be a number"))

        let duplicate = try scratch.write(
            "dup.yaml", "- {name: A, password: p, cid: 1, sec: s}\n- {name: A, password: q, cid: 2, sec: t}\n",
            mode: 0o600)
        let duplicateError = try #require(await loadError(overrides: ["tradovate.credentialsFile": duplicate]))
        #expect(duplicateError.code == .invalidCredentials)
        #expect(duplicateError.message.contains("lists login A twice"))
    }

    @Test("Durations and sizes")
    func durations() async throws {
        let cases: [(String, Int64)] = [
            ("90", 90), ("90s", 90), ("5m", 300), ("3d", 259_200), ("1h30m", 5_400), ("2 hours", 7_200),
            ("1.5", 1), ("1d12h", 129_600),
        ]
        for (text, seconds) in cases {
            let configuration = try await OrcaConfiguration.load(environment: ["ORCA_COLLECTOR_HEAL_LOOK_BACK": text])
            #expect(configuration.collector.healLookBack.components.seconds == seconds, "\(text)")
        }
        let half = try await OrcaConfiguration.load(environment: ["ORCA_COLLECTOR_SETTLE_TIMEOUT": "250ms"])
        #expect(half.collector.settleTimeout == .milliseconds(250))
        for (text, bytes) in [("1GiB", 1 << 30), ("100MB", 100_000_000), ("64KiB", 65_536), ("1_000", 1_000)] {
            let configuration = try await OrcaConfiguration.load(environment: ["ORCA_BUFFER_SPILL_CAPACITY": text])
            #expect(configuration.buffer.spillCapacity == bytes, "\(text)")
        }
    }
}

@Suite("Configuration: unknown ORCA_ variables are reported for warnings", .timeLimit(.minutes(10)))
struct ConfigurationEnvironmentWarningTests {
    @Test func unknownVariables() {
        let unknown = OrcaConfiguration.unknownEnvironmentVariables(in: [
            "ORCA_COLECTOR_LOOKBACK": "2d", "ORCA_COLLECTOR_HEAL_LOOK_BACK": "3d", "ORCA_TRADOVATE_PASSWORD": "x",
            "ORCA_TEST_DATABASE_URL": "postgres://h/db", "ORCA_SOMETHING_ELSE_ENTIRELY": "1", "PATH": "/bin",
            "ORCA_CREDENTIALS_FILE": "/c", "REDIS_URL": "redis://h",
        ])
        #expect(unknown.map(\.name) == ["ORCA_COLECTOR_LOOKBACK", "ORCA_SOMETHING_ELSE_ENTIRELY"])
        #expect(unknown.first?.suggestion == "ORCA_COLLECTOR_HEAL_LOOK_BACK")
        #expect(unknown.last?.suggestion == nil)
    }
}
