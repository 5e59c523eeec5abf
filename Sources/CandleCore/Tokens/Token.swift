public import Foundation

/// A Tradovate session: the access token, the market-data token and when they expire.
///
/// `description`, `debugDescription` and reflection never show either token; use ``accessToken`` and
/// ``marketDataToken`` explicitly where the raw value is needed (an `Authorization` header, the WebSocket
/// `authorize` request).
public struct Token: Sendable, Hashable, Codable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The REST access token (`accessToken`).
    public var accessToken: String
    /// The market-data token (`mdAccessToken`); the access token when the server sent none.
    public var marketDataToken: String
    /// When the server says the token expires (`expirationTime`). Never a guessed lifetime.
    public var expirationTime: Date
    /// The Tradovate user id (`userId`).
    public var userID: Int
    /// The login name (`name`).
    public var login: String
    /// When this token was obtained (login or renewal), by the wall clock of the process that obtained it.
    public var issuedAt: Date

    /// Creates a token.
    public init(
        accessToken: String,
        marketDataToken: String? = nil,
        expirationTime: Date,
        userID: Int,
        login: String,
        issuedAt: Date
    ) {
        self.accessToken = accessToken
        self.marketDataToken = marketDataToken ?? accessToken
        self.expirationTime = expirationTime
        self.userID = userID
        self.login = login
        self.issuedAt = issuedAt
    }

    /// Seconds left until expiry at `now` (negative once expired).
    public func secondsLeft(at now: Date) -> TimeInterval { expirationTime.timeIntervalSince(now) }

    /// Whether the token has expired at `now`.
    public func isExpired(at now: Date) -> Bool { now >= expirationTime }

    /// A short fingerprint (first 8 hex digits of a non-cryptographic hash) to tell tokens apart in logs without
    /// revealing them.
    public var fingerprint: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in accessToken.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        let hex = String(hash >> 32, radix: 16)
        return String(repeating: "0", count: max(0, 8 - hex.count)) + hex
    }

    public var description: String {
        "Token(login: \(login), userID: \(userID), expires: \(expirationTime.formatted(.iso8601)), fp: \(fingerprint))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: ["login": login, "userID": userID, "expirationTime": expirationTime, "fingerprint": fingerprint],
            displayStyle: .struct)
    }
}
