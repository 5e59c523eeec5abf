import ArgumentParser
import CandleCore
import Foundation
import TokenStore

/// Options shared by `tokens refresh` and `tokens status`.
struct TokenOptions: ParsableArguments {
    @Option(
        help:
            "Credentials file (JSON or YAML, mode 600). Default: $ORCA_CREDENTIALS_FILE, else ORCA_TRADOVATE_* variables."
    )
    var credentials: String?

    @Option(help: "Redis URL, redis:// or rediss://. Default: $REDIS_URL.")
    var redisURL: String?

    @Option(help: "PEM CA file to trust for rediss:// (default: the system store).")
    var redisCAFile: String?

    @Option(help: "Server name to verify in the Redis TLS certificate (default: the URL's host).")
    var redisServerName: String?

    @Option(help: "Tradovate REST base URL. Default: $ORCA_TRADOVATE_URL, else https://demo.tradovateapi.com/v1.")
    var apiURL: String?

    @Option(help: "File holding this machine's Tradovate device id (created if missing).")
    var deviceIDFile: String?

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    func loadCredentials() throws -> [TradovateCredentials] {
        if let path = credentials ?? environment["ORCA_CREDENTIALS_FILE"] {
            return try CredentialsLoader.load(path: path)
        }
        if let single = try CredentialsLoader.fromEnvironment(environment) { return [single] }
        throw ValidationError(
            "no credentials: pass --credentials FILE, set ORCA_CREDENTIALS_FILE, or set ORCA_TRADOVATE_USERNAME, "
                + "ORCA_TRADOVATE_PASSWORD, ORCA_TRADOVATE_CID and ORCA_TRADOVATE_SEC")
    }

    func redisProvider(clock: any WallClock) throws -> RedisTokenProvider? {
        guard let text = redisURL ?? environment["REDIS_URL"] else { return nil }
        let url: RedisURL
        do { url = try RedisURL(text) } catch { throw ValidationError("--redis-url / REDIS_URL: \(error)") }
        return RedisTokenProvider(
            configuration: .init(url: url, tls: .init(caFile: redisCAFile, serverName: redisServerName)), clock: clock)
    }

    func authClient(clock: any WallClock) throws -> TradovateAuthClient {
        let base = apiURL ?? environment["ORCA_TRADOVATE_URL"] ?? "https://demo.tradovateapi.com/v1"
        let deviceID = try DeviceID.loadOrCreate(at: deviceIDFile ?? DeviceID.defaultPath(environment: environment))
        return TradovateAuthClient(configuration: .init(baseURL: base, deviceID: deviceID), clock: clock)
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
                others pick up the new token, and a token issued less than --if-older-than seconds ago is used as \
                it is. Exit code 1 when any login failed.

                EXAMPLES
                  orca-run tokens refresh --credentials ~/.config/orca/credentials.yaml --redis-url rediss://:PASSWORD@redis.example.com:6380/0
                  REDIS_URL=redis://127.0.0.1:6379/0 ORCA_TRADOVATE_URL=http://127.0.0.1:8080/v1 orca-run tokens refresh
                """
        )

        @OptionGroup var options: TokenOptions

        @Option(help: "Use a token issued less than this many seconds ago as it is (another process just renewed it).")
        var ifOlderThan: Double = 60

        func run() async throws {
            let clock = SystemWallClock()
            let logins = try options.loadCredentials()
            let redis = try options.redisProvider(clock: clock)
            if redis == nil {
                print("note: no --redis-url / REDIS_URL: tokens are kept in memory and lost when this command exits")
            }
            let store: any TokenProvider = redis ?? InMemoryTokenProvider(clock: clock)
            let refresher = TokenRefresher(
                logins: logins, auth: try options.authClient(clock: clock), store: store, locks: redis, clock: clock)
            var failed = false
            let results = await withTaskGroup(of: (String, Result<Token, any Error>).self) { group in
                for login in logins {
                    group.addTask {
                        do {
                            return (
                                login.name, .success(try await refresher.refreshNow(login.name, grace: ifOlderThan))
                            )
                        } catch {
                            return (login.name, .failure(error))
                        }
                    }
                }
                return await group.reduce(into: [String: Result<Token, any Error>]()) { $0[$1.0] = $1.1 }
            }
            print(Table.row(["LOGIN", "ACCOUNTS WRITTEN", "EXPIRES IN", "RESULT"]))
            for login in logins {
                switch results[login.name] {
                case .success(let token)?:
                    let left = Table.duration(token.secondsLeft(at: Date()))
                    let how: String
                    switch await refresher.source(of: login.name) {
                    case .login?: how = "logged in"
                    case .renewal?: how = "renewed"
                    default:
                        how =
                            "adopted (issued \(Int(Date().timeIntervalSince(token.issuedAt))) s ago, e.g. by another process)"
                    }
                    print(Table.row([login.name, "\(redis == nil ? 0 : login.accounts.count)", left, how]))
                case .failure(let error)?:
                    failed = true
                    print(Table.row([login.name, "0", "-", "FAILED: \(error)"]))
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

        @Option(help: "Seconds before expiry at which a key counts as expiring.")
        var margin: Double = 900

        func run() async throws {
            guard let redis = try options.redisProvider(clock: SystemWallClock()) else {
                throw ValidationError("tokens status reads Redis: pass --redis-url or set REDIS_URL")
            }
            let names = accounts.isEmpty ? try options.loadCredentials().flatMap(\.accounts) : accounts
            let status = try await redis.status(of: names)
            await redis.close()
            var bad = false
            print(Table.row(["ACCOUNT", "PRESENT", "TTL", "EXPIRES AT", "SOURCE"]))
            for entry in status {
                let ttl = entry.ttl.map { Table.duration($0) } ?? "-"
                let expires = entry.expirationTime?.formatted(.iso8601) ?? "-"
                let source = entry.login.map { "orca (login \($0))" } ?? (entry.present ? "legacy key only" : "-")
                if !entry.present || (entry.ttl ?? 0) < margin { bad = true }
                print(Table.row([entry.account, entry.present ? "yes" : "MISSING", ttl, expires, source]))
            }
            if bad { throw ExitCode(1) }
        }
    }
}

/// Fixed-width table rows for terminal output.
enum Table {
    static func row(_ cells: [String]) -> String {
        let widths = [24, 18, 12, 26]
        return cells.enumerated().map { index, cell in
            index < widths.count && index < cells.count - 1
                ? cell.padding(toLength: max(widths[index], cell.count + 1), withPad: " ", startingAt: 0) : cell
        }.joined()
    }

    static func duration(_ seconds: TimeInterval) -> String {
        guard seconds > 0 else { return "expired" }
        let s = Int(seconds)
        return s >= 3600
            ? "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" : "\(s / 60)m\(String(format: "%02d", s % 60))s"
    }
}
