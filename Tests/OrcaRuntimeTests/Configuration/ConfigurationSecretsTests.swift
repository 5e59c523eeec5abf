import Foundation
import OrcaRuntime
import Testing

@Suite("Configuration: secrets and the example file", .timeLimit(.minutes(10)))
struct ConfigurationSecretsTests {
    @Test("Passwords, API secrets and URL passwords never appear in descriptions or errors")
    func secretsAbsent() async throws {
        let scratch = try ConfigurationScratch()
        defer { scratch.remove() }
        let credentials = try scratch.credentials(logins: ["APEX_1", "APEX_2", "APEX_3"])
        let redisPassword = fakeSecret()
        let databasePassword = fakeSecret()
        let environment = [
            "ORCA_TRADOVATE_CREDENTIALS_FILE": credentials.path,
            "REDIS_URL": "rediss://default:\(redisPassword)@redis.example.com:6380/0",
            "DATABASE_URL": "postgres://orca:\(databasePassword)@db.example.com:5432/orca?sslmode=require",
        ]
        let configuration = try await OrcaConfiguration.load(environment: environment)
        let secrets = credentials.secrets + [redisPassword, databasePassword]
        #expect(configuration.tradovate.logins.count == 3)
        let texts = [
            configuration.redactedDescription, configuration.description, String(describing: configuration),
            String(reflecting: configuration), "\(configuration.summary())", "\(configuration.tradovate.logins)",
            "\(configuration.redis)", "\(configuration.database.redactedURL ?? "")",
        ]
        for text in texts {
            for secret in secrets {
                #expect(!text.contains(secret))
            }
        }
        #expect(configuration.redactedDescription.contains("redis.url = rediss://default:***@redis.example.com:6380/0"))
        #expect(
            configuration.redactedDescription.contains(
                "database.url = postgres://orca:***@db.example.com:5432/orca?sslmode=require"))
        #expect(configuration.redactedDescription.contains("tradovate.logins[2] = APEX_3 (cid 102"))
        #expect(configuration.redactedDescription.contains("password ***, sec ***"))
        // The secrets are still there for the components that need them.
        #expect(configuration.redis.url?.password == redisPassword)
        #expect(configuration.database.url?.contains(databasePassword) == true)
        #expect(configuration.tradovate.logins[0].password == credentials.secrets[0])
    }

    @Test("Errors about secret values never quote them")
    func secretErrors() async throws {
        let password = fakeSecret()
        let cases: [[String: String]] = [
            ["REDIS_URL": "redis://:\(password)@host:0"],
            ["REDIS_URL": "redis://:\(password)@host/db?x=1"],
            ["DATABASE_URL": "postgres://u:\(password)@host:70000/db"],
            ["DATABASE_URL": "mysql://u:\(password)@host/db"],
            // The '@' lost (found by fuzzing): "user:password" reads as "host:port".
            ["DATABASE_URL": "postgres://orca:\(password)db.example.com:5432/orca"],
            ["DATABASE_URL": "postgres://orca:\(password)/orca"],
            ["REDIS_URL": "redis://default:\(password)/0"],
            ["ORCA_DATABASE_URL": "\(password)"],
            [
                "ORCA_TRADOVATE_USERNAME": "A", "ORCA_TRADOVATE_PASSWORD": password, "ORCA_TRADOVATE_CID": "x",
                "ORCA_TRADOVATE_SEC": password,
            ],
        ]
        for environment in cases {
            let error = try #require(await loadError(environment: environment))
            #expect(!error.description.contains(password), "\(error)")
            #expect(!String(reflecting: error).contains(password))
        }
        // A secret key with a wrong shape in the file.
        let scratch = try ConfigurationScratch()
        defer { scratch.remove() }
        let file = try scratch.write("a.yaml", "redis:\n  url: [\"redis://:\(password)@h\"]\n", mode: 0o644)
        let error = try #require(await loadError(file: file))
        #expect(error.key == "redis.url")
        #expect(!error.description.contains(password))
    }

    static var examplePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Examples/orca.yaml").path
    }

    @Test("Examples/orca.yaml loads and validates: live, 4 roots × 4 timeframes, Redis over TLS, PostgreSQL")
    func exampleFile() async throws {
        let scratch = try ConfigurationScratch()
        defer { scratch.remove() }
        let credentials = try scratch.credentials(logins: ["APEX_123456", "APEX_234567", "APEX_345678"])
        let redisPassword = fakeSecret()
        let databasePassword = fakeSecret()
        let environment = [
            "HOME": scratch.directory,
            "REDIS_URL": "rediss://:\(redisPassword)@redis.example.com:6380/0",
            "DATABASE_URL": "postgres://orca:\(databasePassword)@db.example.com:5432/orca?sslmode=require",
            "ORCA_TRADOVATE_CREDENTIALS_FILE": credentials.path,
            "ORCA_STATE_DIRECTORY": scratch.directory + "/state",
        ]
        let configuration = try await OrcaConfiguration.load(file: Self.examplePath, environment: environment)
        #expect(configuration.tradovate.environment == .live)
        #expect(configuration.tradovate.restURL == "https://live.tradovateapi.com/v1")
        #expect(configuration.tradovate.marketDataURL == "wss://md.tradovateapi.com/v1/websocket")
        #expect(configuration.tradovate.logins.map(\.name) == ["APEX_123456", "APEX_234567", "APEX_345678"])
        #expect(configuration.tradovate.logins.flatMap(\.accounts).count == 9)
        #expect(configuration.tradovate.marketDataCredentials?.name == "APEX_123456")
        #expect(configuration.redis.url?.usesTLS == true)
        #expect(configuration.redis.url?.port == 6380)
        #expect(configuration.redis.tlsServerName == "redis.example.com")
        #expect(configuration.database.url?.hasPrefix("postgres://orca:") == true)
        #expect(configuration.database.schema == "orca")
        #expect(configuration.database.layout == .tablePerSeries)
        #expect(configuration.collector.series.count == 16)
        #expect(configuration.collector.instruments.map(\.root) == ["NQ", "MNQ", "ES", "MES"])
        #expect(configuration.collector.timeframes.map(\.minutes) == [5, 15, 30, 60])
        #expect(configuration.buffer.spillCapacity == 1 << 30)
        #expect(configuration.buffer.spillFile == scratch.directory + "/state/spill.bin")
        #expect(configuration.log.format == .json)

        // Without the override, the example's own credentials path (~/.config/orca/credentials.yaml) is used.
        var withoutOverride = environment
        withoutOverride["ORCA_TRADOVATE_CREDENTIALS_FILE"] = nil
        let missing = try #require(await loadError(file: Self.examplePath, environment: withoutOverride))
        #expect(missing.key == "tradovate.credentialsFile")
        #expect(missing.message.contains(scratch.directory + "/.config/orca/credentials.yaml"))
        #expect(missing.message.contains("(set in \(Self.examplePath))"))
    }
}
