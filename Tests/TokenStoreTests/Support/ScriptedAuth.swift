import CandleCore
import Foundation
import Logging
import TokenStore

/// A Tradovate auth stand-in that issues fake tokens with a fixed lifetime on a manual clock, counts calls, and can be
/// told to fail. Tokens are generated at run time (never committed).
actor ScriptedAuth: TradovateAuthenticating {
    let clock: any WallClock
    let lifetime: TimeInterval
    private(set) var loginCalls = 0
    private(set) var renewCalls = 0
    private(set) var issued: [String: Token] = [:]  // access token → token
    private var revoked: Set<String> = []
    var nextLoginError: TokenStoreError?
    var renewError: TokenStoreError?
    var renewDelay: TimeInterval = 0
    /// Instants at which a caller presented an expired token (should stay empty).
    private(set) var expiredUses: [Date] = []

    init(clock: any WallClock, lifetime: TimeInterval = 90 * 60) {
        self.clock = clock
        self.lifetime = lifetime
    }

    func failNextLogin(with error: TokenStoreError?) { nextLoginError = error }
    func failRenewals(with error: TokenStoreError?) { renewError = error }
    func setRenewDelay(_ seconds: TimeInterval) { renewDelay = seconds }
    func revoke(_ token: Token) { revoked.insert(token.accessToken) }

    private func mint(_ login: String) -> Token {
        let token = Token(
            accessToken: "fake-\(UUID().uuidString)", marketDataToken: "fake-md-\(UUID().uuidString)",
            expirationTime: clock.now().addingTimeInterval(lifetime), userID: 42, login: login, issuedAt: clock.now())
        issued[token.accessToken] = token
        return token
    }

    /// When each login call came.
    private(set) var loginTimes: [Date] = []
    /// When each renewal call came.
    private(set) var renewTimes: [Date] = []

    func requestAccessToken(_ credentials: TradovateCredentials) async throws -> Token {
        loginCalls += 1
        loginTimes.append(clock.now())
        if let error = nextLoginError {
            nextLoginError = nil
            throw error
        }
        return mint(credentials.name)
    }

    func renewAccessToken(_ token: Token) async throws -> Token {
        renewCalls += 1
        renewTimes.append(clock.now())
        if renewDelay > 0 { try await clock.sleep(for: renewDelay) }
        if let renewError { throw renewError }
        guard let known = issued[token.accessToken], !revoked.contains(token.accessToken) else {
            throw TokenStoreError(.tokenRejected, login: token.login, "HTTP 401")
        }
        if known.isExpired(at: clock.now()) {
            expiredUses.append(clock.now())
            throw TokenStoreError(.tokenRejected, login: token.login, "expired")
        }
        return mint(token.login)
    }

    func me(_ token: Token) async throws -> TradovateUser {
        TradovateUser(userID: 42, name: token.login, email: nil)
    }
}

/// Collects every log line (message and metadata rendered as text) for secret-leak assertions.
final class CapturedLogs: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    var all: [String] { lock.withLock { lines } }

    func append(_ line: String) { lock.withLock { lines.append(line) } }

    func logger(label: String = "test") -> Logger {
        var logger = Logger(label: label) { _ in CapturingHandler(sink: self) }
        logger.logLevel = .trace
        return logger
    }

    struct CapturingHandler: LogHandler {
        let sink: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = self.metadata.merging(event.metadata ?? [:]) { $1 }
            let error = event.error.map { " error=\($0)" } ?? ""
            sink.append(
                "\(event.level) \(event.message) \(merged.map { "\($0)=\($1)" }.sorted().joined(separator: " "))\(error)"
            )
        }
    }
}

/// Fake credentials generated per test run.
func fakeCredentials(_ name: String = "APEX_\(Int.random(in: 100_000...999_999))", aliases: [String] = [])
    -> TradovateCredentials
{
    TradovateCredentials(
        name: name, password: "pw-\(UUID().uuidString)", cid: 1, secret: "sec-\(UUID().uuidString)", aliases: aliases)
}

/// A no-op log handler (swift-log's is usable too; this keeps the tests independent of its name).
struct SwiftLogNoOpLogHandlerShim: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .critical
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }
    func log(event: LogEvent) {}
}
