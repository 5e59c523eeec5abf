internal import CandleCore
internal import Foundation

/// A parsed `redis://[[user]:password@]host[:port][/db]` or `rediss://...` URL.
///
/// ``description`` (and therefore string interpolation, `print`, and `dump`) masks the password as `***`, so a
/// `RedisURL` can be logged safely. The password is still available through ``password`` for authentication.
///
/// Accepted forms, following the IANA `redis` URI scheme and redis-py's conventions:
/// - `redis://host`, `redis://host:6380`, `redis://[::1]:6379` (IPv6 in brackets)
/// - `redis://:password@host` (password only: `AUTH password`)
/// - `redis://user:password@host` (ACL user: `AUTH user password`)
/// - `redis://host:6379/2` (database index, sent as `SELECT 2`; default 0)
///
/// User and password are percent-decoded, so reserved characters can be written as `%40` (`@`), `%3A` (`:`)
/// and so on. Query strings and fragments are rejected rather than silently ignored.
public struct RedisURL: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
    /// The URL scheme; it decides whether the connection must use TLS.
    public enum Scheme: String, Sendable, Hashable {
        /// Plain TCP.
        case redis
        /// TLS. Not supported by `RedisConnection` yet: connecting throws `tlsUnsupported`.
        case rediss
    }

    /// The default Redis port.
    public static let defaultPort = 6379

    /// `redis` or `rediss`.
    public var scheme: Scheme
    /// Host name or IP address (IPv6 without brackets).
    public var host: String
    /// TCP port, 1...65535.
    public var port: Int
    /// ACL user name, or `nil` for the default user.
    public var username: String?
    /// The password sent with `AUTH`, or `nil` to skip authentication.
    public var password: String?
    /// The logical database selected after connecting (`SELECT`), 0 by default.
    public var database: Int

    /// `true` for `rediss://` URLs.
    public var usesTLS: Bool { scheme == .rediss }

    /// Creates a URL from its parts.
    public init(
        scheme: Scheme = .redis,
        host: String,
        port: Int = RedisURL.defaultPort,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0
    ) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses a `redis://` or `rediss://` URL.
    /// - Throws: ``RedisError`` with code `invalidURL`; the message never contains the password.
    public init(_ string: String) throws {
        guard let schemeEnd = string.range(of: "://") else {
            throw RedisError(.invalidURL, "expected a URL of the form redis://[user:password@]host[:port][/db]")
        }
        let schemeText = string[..<schemeEnd.lowerBound].lowercased()
        guard let scheme = Scheme(rawValue: schemeText) else {
            throw RedisError(.invalidURL, "unsupported scheme '\(schemeText)'; expected redis:// or rediss://")
        }
        let rest = string[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        let tail = rest[authorityEnd...]

        // User info. The last '@' ends it, so an unencoded '@' inside a password still parses.
        var username: String?
        var password: String?
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            // Anything derived from user info is a potential secret: keep it out of error messages.
            let rawSecret = String(userInfo)
            func decode(_ part: Substring, _ what: String) throws -> String? {
                guard !part.isEmpty else { return nil }
                guard let decoded = String(part).removingPercentEncoding else {
                    throw RedisError(.invalidURL, "invalid percent-encoding in the \(what)", redacting: [rawSecret])
                }
                return decoded
            }
            if let colon = userInfo.firstIndex(of: ":") {
                username = try decode(userInfo[..<colon], "user name")
                password = try decode(userInfo[userInfo.index(after: colon)...], "password")
            } else {
                username = try decode(userInfo, "user name")
            }
        }

        // Host and port.
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw RedisError(.invalidURL, "unterminated IPv6 address in the host")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let afterHost = authority[authority.index(after: close)...]
            if !afterHost.isEmpty {
                guard afterHost.hasPrefix(":") else {
                    throw RedisError(.invalidURL, "unexpected characters after the IPv6 address")
                }
                portText = afterHost.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else {
            throw RedisError(.invalidURL, "missing host")
        }
        var port = Self.defaultPort
        if let portText {
            guard let value = Int(portText), (1...65_535).contains(value) else {
                // Never echoed: with the '@' missing, the "port" is the password.
                throw RedisError(
                    .invalidURL,
                    "the port after the host is not a number in 1...65535 (with a password, check the '@' before "
                        + "the host)")
            }
            port = value
        }

        // Database from the path; no query or fragment.
        var database = 0
        let path = tail
        guard !path.contains(where: { $0 == "?" || $0 == "#" }) else {
            throw RedisError(.invalidURL, "query parameters and fragments are not supported in Redis URLs")
        }
        let databaseText = path.drop { $0 == "/" }
        if !databaseText.isEmpty {
            guard path.hasPrefix("/"), path.dropFirst().first != "/",
                let value = Int(databaseText), value >= 0
            else {
                throw RedisError(.invalidURL, "invalid database '\(databaseText)'; expected a non-negative integer")
            }
            database = value
        }

        self.init(
            scheme: scheme, host: String(host), port: port,
            username: username, password: password, database: database)
    }

    /// The host as written in a URL: IPv6 addresses in brackets.
    var hostForURL: String { host.contains(":") ? "[\(host)]" : host }

    /// `host:port`, for messages.
    package var endpoint: String { "\(hostForURL):\(port)" }

    /// The URL with the password replaced by `***`; safe to log.
    public var description: String {
        var userInfo = ""
        if let username {
            userInfo = Self.encodeUserInfo(username)
        }
        if password != nil {
            userInfo += ":***"
        }
        if !userInfo.isEmpty {
            userInfo += "@"
        }
        return "\(scheme.rawValue)://\(userInfo)\(endpoint)/\(database)"
    }

    /// A mirror without the password, so `dump(url)` does not print it either.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "scheme": scheme, "host": host, "port": port, "username": username as Any,
                "password": password == nil ? "nil" : SecretRedaction.mask, "database": database,
            ],
            displayStyle: .struct)
    }

    private static func encodeUserInfo(_ text: String) -> String {
        var allowed = CharacterSet.urlUserAllowed
        allowed.remove(charactersIn: ":@")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
