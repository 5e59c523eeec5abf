public import CandleCore
import Foundation

/// A ``TokenProvider`` that keeps tokens in this process, expiring them on an injected clock.
public actor InMemoryTokenProvider: TokenProvider {
    private let clock: any WallClock
    private var tokens: [String: Token] = [:]
    private var aliasesByLogin: [String: Set<String>] = [:]

    /// Creates an empty provider whose expiry is judged by `clock`.
    public init(clock: any WallClock = SystemWallClock()) {
        self.clock = clock
    }

    public func token(for account: String) -> Token? {
        guard let token = tokens[account] else { return nil }
        if token.isExpired(at: clock.now()) {
            tokens[account] = nil
            return nil
        }
        return token
    }

    public func store(_ token: Token, aliases: [String]) {
        for old in aliasesByLogin[token.login, default: []] where !aliases.contains(old) {
            tokens[old] = nil
        }
        tokens[token.login] = token
        for alias in aliases { tokens[alias] = token }
        aliasesByLogin[token.login] = Set(aliases)
    }

    public func remove(account: String) {
        if let aliases = aliasesByLogin.removeValue(forKey: account) {
            for alias in aliases { tokens[alias] = nil }
        }
        tokens[account] = nil
    }

    /// Every account name currently holding an unexpired token, sorted.
    public func accounts() -> [String] {
        let now = clock.now()
        return tokens.filter { !$0.value.isExpired(at: now) }.keys.sorted()
    }
}
