public import CandleCore
import Foundation

/// Where Orca keeps the current token of each login, readable by account name.
///
/// An *account* is any name a token is stored under: the login name itself or one of its aliases (trading-account names
/// such as `PAAPEX1234560000001`). All accounts of one login carry the same token.
///
/// Backends: ``InMemoryTokenProvider`` (one process) and ``RedisTokenProvider`` (shared by several processes and by
/// the old system's readers through the `token:<account>` keys).
public protocol TokenProvider: Sendable {
    /// The stored, unexpired token for `account` (a login name or an alias), or `nil` when none is stored or it has
    /// expired.
    func token(for account: String) async throws -> Token?

    /// Stores `token` under its login and every name in `aliases`, replacing what was there. Entries expire with the
    /// token's `expirationTime`.
    func store(_ token: Token, aliases: [String]) async throws

    /// Removes the token stored under `account` (the login's record and, when `account` is a login, every alias that
    /// was stored with it).
    func remove(account: String) async throws

    /// Makes sure every entry of `token` (its login and each of `aliases`) is stored and holds `token`, rewriting the
    /// ones that are missing or hold something else — unless the store already holds a *newer* token for the login
    /// (another process renewed), which is then returned and nothing is written.
    ///
    /// The ``TokenRefresher`` calls it periodically, so a store that lost its keys (a Redis restarted without
    /// persistence, a failover, a `FLUSHALL`) gets them back from the token the process holds. The default
    /// implementation compares through ``token(for:)`` and rewrites through ``store(_:aliases:)``;
    /// ``RedisTokenProvider`` checks and repairs every key in one atomic script.
    func reconcile(_ token: Token, aliases: [String]) async throws -> TokenReconciliation
}

/// What ``TokenProvider/reconcile(_:aliases:)`` found.
public enum TokenReconciliation: Sendable, Hashable {
    /// Every entry was present and held the token.
    case intact
    /// These entries were missing or held another, older token, and were written again (names as the store calls
    /// them, e.g. `token:PA1`; never a token value).
    case restored([String])
    /// The store holds a newer token for the login (renewed elsewhere); nothing was written.
    case newer(Token)
}

extension TokenProvider {
    /// The default reconciliation: reads the login and every alias, and stores the token again when any of them is
    /// missing or differs (unless the login's stored token expires later, which is returned as ``TokenReconciliation/newer(_:)``).
    public func reconcile(_ token: Token, aliases: [String]) async throws -> TokenReconciliation {
        let accounts = [token.login] + aliases.filter { $0 != token.login }
        if let stored = try await self.token(for: token.login), stored.accessToken != token.accessToken,
            stored.expirationTime > token.expirationTime
        {
            return .newer(stored)
        }
        var wrong: [String] = []
        for account in accounts where try await self.token(for: account)?.accessToken != token.accessToken {
            wrong.append(account)
        }
        guard !wrong.isEmpty else { return .intact }
        try await store(token, aliases: aliases)
        return .restored(wrong)
    }
}
