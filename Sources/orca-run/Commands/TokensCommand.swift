import ArgumentParser
import CandleCore
import Foundation
import Logging
import OrcaRuntime
import TokenStore

/// Options shared by `tokens refresh` and `tokens status`: the shared configuration (`--config`, the `ORCA_*`
/// variables, `REDIS_URL`) plus the token flags, each an override of a configuration key.
struct TokenOptions: ParsableArguments {
    @OptionGroup var config: SharedConfigOptions

    @Option(
        help:
            "Credentials file (JSON or YAML, mode 600) (tradovate.credentialsFile; default: $ORCA_CREDENTIALS_FILE, else ORCA_TRADOVATE_* variables)."
    )
    var credentials: String?

    @Option(help: "PEM CA file to trust for rediss:// (redis.tlsCAFile; default: the system store).")
    var redisCAFile: String?

    @Option(help: "Server name to verify in the Redis TLS certificate (redis.tlsServerName; default: the URL's host).")
    var redisServerName: String?

    @Option(
        help: "Tradovate REST base URL (tradovate.restURL; default: $ORCA_TRADOVATE_URL, else the environment's URL).")
    var apiURL: String?

    @Option(help: "Device id file (tradovate.deviceIDFile; default <stateDirectory>/device-id, as orca-run run).")
    var deviceIDFile: String?

    /// The configuration with these flags applied; logging bootstrapped quietly (the command prints a table).
    func load() async throws -> OrcaConfiguration {
        var extra: [String: String] = [:]
        extra["tradovate.credentialsFile"] = credentials
        extra["redis.tlsCAFile"] = redisCAFile
        extra["redis.tlsServerName"] = redisServerName
        extra["tradovate.restURL"] = apiURL
        extra["tradovate.deviceIDFile"] = deviceIDFile
        let configuration = try await config.load(extra: extra)
        config.bootstrapLogging(configuration, quietLevel: .warning)
        return configuration
    }

    /// The logins of `configuration`; the embedded simulator's demo login does not count.
    func logins(_ configuration: OrcaConfiguration) throws -> [TradovateCredentials] {
        guard configuration.tradovate.environment != .simulator, !configuration.tradovate.logins.isEmpty else {
            throw ValidationError(
                "no credentials: pass --credentials FILE, set ORCA_CREDENTIALS_FILE, or set ORCA_TRADOVATE_USERNAME, "
                    + "ORCA_TRADOVATE_PASSWORD, ORCA_TRADOVATE_CID and ORCA_TRADOVATE_SEC")
        }
        return configuration.tradovate.logins
    }

    /// The token components every command builds (same store, device id and refresher as `orca-run run`).
    func tokenComponents(
        _ configuration: OrcaConfiguration, logins: [TradovateCredentials], clock: any WallClock
    ) throws -> TokenComponents {
        guard let rest = configuration.tradovate.effectiveRESTURL else {
            throw ValidationError("no Tradovate REST URL: pass --api-url or set tradovate.restURL")
        }
        return try configuration.makeTokenComponents(
            restURL: rest, logins: logins, clock: clock, logger: Logger(label: "orca.tokens"))
    }
}

struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Log in to Tradovate or renew tokens now, and show what Redis holds.",
        subcommands: [Refresh.self, Status.self]
    )

    struct Refresh: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Renew (or log in) every configured login now and write all token keys.",
            discussion: """
                Each login's token is renewed while it is still valid, or replaced by a fresh login when it has \
                expired or was revoked. The result is written to Redis under token:<account> for the login and \
                every alias (the old system's layout, TTL = time left until expirationTime) and under Orca's own \
                orca:* keys. Several processes running this at once renew each login once: a Redis lock makes the \
                others pick up the new token, and a token issued less than --if-older-than ago is used as \
                it is. Exit code 1 when any login failed.

                It reads the same configuration as orca-run run (--config, ORCA_* variables), so both use one \
                device id per login: <stateDirectory>/device-id.

                EXAMPLES
                  orca-run tokens refresh --config /etc/orca/orca.yaml
                  orca-run tokens refresh --credentials ~/.config/orca/credentials.yaml --redis-url rediss://:PASSWORD@redis.example.com:6380/0
                  REDIS_URL=redis://127.0.0.1:6379/0 ORCA_TRADOVATE_URL=http://127.0.0.1:8080/v1 orca-run tokens refresh
                """
        )

        @OptionGroup var options: TokenOptions

        @Option(help: "Use a token issued less than this long ago as it is (another process just renewed it): 60, 1m.")
        var ifOlderThan = DurationArgument(.seconds(60))

        func run() async throws {
            let clock = SystemWallClock()
            let configuration = try await options.load()
            let logins = try options.logins(configuration)
            let tokens = try options.tokenComponents(configuration, logins: logins, clock: clock)
            let redis = tokens.redis
            if redis == nil {
                print("note: no --redis-url / REDIS_URL: tokens are kept in memory and lost when this command exits")
            }
            let refresher = tokens.refresher
            var failed = false
            let results = await withTaskGroup(of: (String, Result<Token, any Error>).self) { group in
                for login in logins {
                    group.addTask {
                        do {
                            return (
                                login.name,
                                .success(try await refresher.refreshNow(login.name, grace: ifOlderThan.duration))
                            )
                        } catch {
                            return (login.name, .failure(error))
                        }
                    }
                }
                return await group.reduce(into: [String: Result<Token, any Error>]()) { $0[$1.0] = $1.1 }
            }
            print(TerminalText.row(["LOGIN", "ACCOUNTS WRITTEN", "EXPIRES IN", "RESULT"]))
            for login in logins {
                switch results[login.name] {
                case .success(let token)?:
                    let left = TerminalText.duration(token.secondsLeft(at: Date()))
                    let how: String
                    switch await refresher.source(of: login.name) {
                    case .login?: how = "logged in"
                    case .renewal?: how = "renewed"
                    default:
                        how =
                            "adopted (issued \(Int(Date().timeIntervalSince(token.issuedAt))) s ago, e.g. by another process)"
                    }
                    print(TerminalText.row([login.name, "\(redis == nil ? 0 : login.accounts.count)", left, how]))
                case .failure(let error)?:
                    failed = true
                    print(TerminalText.row([login.name, "0", "-", "FAILED: \(error)"]))
                case nil:
                    failed = true
                }
            }
            await redis?.close()
            if failed { throw ExitCode(1) }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show, per account key, whether a token is present, its TTL and expiry.",
            discussion: """
                Reads token:<account> (the old system's key) and Orca's record for every login and alias of the \
                credentials, or for the accounts given with --account. Exit code 1 when any key is missing or \
                expires within the margin (default 15 minutes).

                EXAMPLES
                  orca-run tokens status --credentials credentials.yaml --redis-url redis://127.0.0.1:6379/0
                  orca-run tokens status --account APEX_123456 --account PAAPEX1234560000001
                """
        )

        @OptionGroup var options: TokenOptions

        @Option(
            name: .customLong("account"), help: "An account key to check; repeat for several (default: all configured)."
        )
        var accounts: [String] = []

        @Option(help: "How long before expiry a key counts as expiring: 900, 15m.")
        var margin = DurationArgument(.seconds(900))

        func run() async throws {
            let configuration = try await options.load()
            guard let redisConfiguration = configuration.redis.tokenProviderConfiguration else {
                throw ValidationError("tokens status reads Redis: pass --redis-url or set REDIS_URL")
            }
            let redis = RedisTokenProvider(configuration: redisConfiguration, clock: SystemWallClock())
            let names = accounts.isEmpty ? try options.logins(configuration).flatMap(\.accounts) : accounts
            let status = try await redis.status(of: names)
            await redis.close()
            var bad = false
            print(TerminalText.row(["ACCOUNT", "PRESENT", "TTL", "EXPIRES AT", "SOURCE"]))
            for entry in status {
                let ttl = entry.ttl.map { TerminalText.duration($0) } ?? "-"
                let expires = entry.expirationTime?.formatted(.iso8601) ?? "-"
                let source = entry.login.map { "orca (login \($0))" } ?? (entry.present ? "legacy key only" : "-")
                if !entry.present || (entry.ttl ?? 0) < margin.duration.timeInterval { bad = true }
                print(TerminalText.row([entry.account, entry.present ? "yes" : "MISSING", ttl, expires, source]))
            }
            if bad { throw ExitCode(1) }
        }
    }
}
