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
}
