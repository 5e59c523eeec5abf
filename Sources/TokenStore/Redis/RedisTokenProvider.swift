public import CandleCore
public import Foundation
public import Logging

/// A ``TokenProvider`` in Redis, shared by every Orca process that points at the same server, and readable by the old
/// system's consumers.
///
/// **Layout** (see `Docs/tokens.md`):
/// - `token:<account>` → the raw access token, with a TTL equal to the time left until `expirationTime`, for the login
///   and every alias — exactly what the seed system wrote, so old readers keep working;
/// - `orca:account:<account>` → the login name that account belongs to (same TTL);
/// - `orca:token:<login>` → Orca's record as JSON: access and market-data token, expiry, user id, issue time, aliases
///   (same TTL);
/// - `orca:lock:<name>` → renewal locks (``TokenLocking``).
///
/// All keys of one store are written in one `MULTI`/`EXEC` transaction. Plain and TLS (`rediss://`) connections both go
/// over SwiftNIO with hiredis encoding commands and parsing replies. A lost connection is re-established on the next
/// call; a call that fails throws `TokenStoreError` `storageUnavailable` with the cause.
public actor RedisTokenProvider: TokenProvider, TokenLocking {
    /// Connection settings.
    public struct Configuration: Sendable {
        /// The server, `redis://` or `rediss://`.
        public var url: RedisURL
        /// TLS trust and name settings for `rediss://`.
        public var tls: RedisTLSOptions
        /// Bound on connecting (TCP and TLS handshake).
        public var connectTimeout: Duration
        /// Bound on each round trip.
        public var commandTimeout: Duration
        /// Prefix of the seed-compatible raw-token keys (`token:`).
        public var legacyPrefix: String
        /// Prefix of Orca's own keys (`orca:`).
        public var prefix: String

        /// Creates a configuration; defaults: 5 s connect and command timeouts, prefixes `token:` and `orca:`.
        public init(
            url: RedisURL,
            tls: RedisTLSOptions = RedisTLSOptions(),
            connectTimeout: Duration = .seconds(5),
            commandTimeout: Duration = .seconds(5),
            legacyPrefix: String = "token:",
            prefix: String = "orca:"
        ) {
            self.url = url
            self.tls = tls
            self.connectTimeout = connectTimeout
            self.commandTimeout = commandTimeout
            self.legacyPrefix = legacyPrefix
            self.prefix = prefix
        }
    }

    /// What Redis holds for one account key (for `orca-run tokens status`).
    public struct KeyStatus: Sendable, Hashable {
        /// The account.
        public var account: String
        /// Whether `token:<account>` exists.
        public var present: Bool
        /// Its remaining TTL in seconds (`nil` when absent or without expiry).
        public var ttl: TimeInterval?
        /// The login Orca's record maps the account to, when Orca wrote it.
        public var login: String?
        /// The record's expiration time, when Orca wrote it.
        public var expirationTime: Date?
    }

    /// The settings in use.
    public nonisolated let configuration: Configuration
    private let clock: any WallClock
    private let logger: Logger
    private var connection: RedisChannelConnection?

    /// Creates a provider; it connects on first use.
    public init(
        configuration: Configuration, clock: any WallClock = SystemWallClock(),
        logger: Logger = Logger(label: "orca.tokens.redis", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    // MARK: TokenProvider

    public func token(for account: String) async throws -> Token? {
        let replies = try await execute([
            ["GET", key("account:", account)],
            ["GET", configuration.legacyPrefix + account],
            ["PTTL", configuration.legacyPrefix + account],
        ])
        if let login = replies[0].stringValue,
            let json = try await execute([["GET", key("token:", login)]])[0].bytesValue,
            let record = try? JSONDecoder.orca.decode(Record.self, from: Data(json))
        {
            let token = record.token
            return token.isExpired(at: clock.now()) ? nil : token
        }
        // A key written by the old system (or by hand): the raw token and its TTL are all there is.
        guard let raw = replies[1].stringValue, let pttl = replies[2].integerValue, pttl > 0 else { return nil }
        let now = clock.now()
        return Token(
            accessToken: raw, expirationTime: now.addingTimeInterval(Double(pttl) / 1000), userID: 0, login: account,
            issuedAt: now)
    }

    public func store(_ token: Token, aliases: [String]) async throws {
        let milliseconds = Int64((token.secondsLeft(at: clock.now()) * 1000).rounded(.down))
        guard milliseconds > 0 else {
            throw TokenStoreError(
                .tokenExpired, login: token.login, "refusing to store a token that expired at \(token.expirationTime)")
        }
        let px = String(milliseconds)
        let accounts = [token.login] + aliases.filter { $0 != token.login }
        let previous = try await execute([["GET", key("token:", token.login)]])[0].bytesValue
            .flatMap { try? JSONDecoder.orca.decode(Record.self, from: Data($0)) }
        let record = Record(token: token, aliases: aliases)
        let json = String(decoding: try JSONEncoder.orca.encode(record), as: UTF8.self)

        var commands: [[String]] = [["MULTI"]]
        for account in accounts {
            commands.append(["SET", configuration.legacyPrefix + account, token.accessToken, "PX", px])
            commands.append(["SET", key("account:", account), token.login, "PX", px])
        }
        commands.append(["SET", key("token:", token.login), json, "PX", px])
        for stale in (previous?.aliases ?? []) where !accounts.contains(stale) {
            commands.append(["DEL", configuration.legacyPrefix + stale, key("account:", stale)])
        }
        commands.append(["EXEC"])
        let replies = try await execute(commands)
        guard let results = replies.last?.arrayValue, results.count == commands.count - 2 else {
            throw TokenStoreError(.storageUnavailable, login: token.login, "Redis did not apply the token transaction")
        }
        if let failure = results.first(where: { if case .error = $0 { return true } else { return false } }) {
            throw TokenStoreError(.storageUnavailable, login: token.login, "Redis rejected a token write: \(failure)")
        }
        logger.debug(
            "stored token",
            metadata: [
                "orca_login": "\(token.login)", "orca_accounts": "\(accounts.count)",
                "orca_token": "\(token.fingerprint)",
            ])
    }

    /// Checks every key of `token` in one atomic Lua script and writes again the ones that are missing or hold
    /// another value (`token:<account>`, `orca:account:<account>` for the login and each alias, and
    /// `orca:token:<login>`), each with the TTL left until the token's `expirationTime`. When `orca:token:<login>`
    /// holds a different token that expires later (another process renewed), nothing is written and that token is
    /// returned.
    public func reconcile(_ token: Token, aliases: [String]) async throws -> TokenReconciliation {
        let milliseconds = Int64((token.secondsLeft(at: clock.now()) * 1000).rounded(.down))
        guard milliseconds > 0 else {
            throw TokenStoreError(
                .tokenExpired, login: token.login, "refusing to restore a token that expired at \(token.expirationTime)")
        }
        let accounts = [token.login] + aliases.filter { $0 != token.login }
        let json = String(decoding: try JSONEncoder.orca.encode(Record(token: token, aliases: aliases)), as: UTF8.self)
        var keys = [key("token:", token.login)]
        for account in accounts {
            keys += [configuration.legacyPrefix + account, key("account:", account)]
        }
        let arguments = [
            token.accessToken, token.login, json, String(milliseconds),
            String(token.expirationTime.timeIntervalSinceReferenceDate),
        ]
        let reply = try await execute([["EVAL", Self.reconcileScript, String(keys.count)] + keys + arguments])[0]
        guard let items = reply.arrayValue, let kind = items.first?.stringValue, kind == "newer" || kind == "restored"
        else {
            throw TokenStoreError(.storageUnavailable, login: token.login, "Redis answered the token check unexpectedly")
        }
        if kind == "newer" {
            guard items.count == 2, let data = items[1].bytesValue,
                let record = try? JSONDecoder.orca.decode(Record.self, from: Data(data))
            else {
                throw TokenStoreError(
                    .storageUnavailable, login: token.login, "Redis holds an unreadable newer token record")
            }
            return .newer(record.token)
        }
        let restored = items.dropFirst().compactMap(\.stringValue)
        if !restored.isEmpty {
            logger.debug(
                "restored token keys",
                metadata: ["orca_login": "\(token.login)", "orca_keys": "\(restored.joined(separator: ","))"])
        }
        return restored.isEmpty ? .intact : .restored(restored)
    }

    /// KEYS: the record, then `token:<account>` and `orca:account:<account>` per account. ARGV: access token, login,
    /// record JSON, PX, expiration time (seconds since 2001, as the record encodes dates).
    private static let reconcileScript = """
        local record = redis.call('GET', KEYS[1])
        local intact = false
        if record then
          local ok, decoded = pcall(cjson.decode, record)
          if ok and type(decoded) == 'table' and type(decoded.token) == 'table' then
            local stored = decoded.token
            if stored.accessToken == ARGV[1] then
              intact = true
            elseif tonumber(stored.expirationTime) and tonumber(stored.expirationTime) > tonumber(ARGV[5]) then
              return {'newer', record}
            end
          end
        end
        local restored = {'restored'}
        if not intact then
          redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
          table.insert(restored, KEYS[1])
        end
        for i = 2, #KEYS, 2 do
          if redis.call('GET', KEYS[i]) ~= ARGV[1] then
            redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[4])
            table.insert(restored, KEYS[i])
          end
          if redis.call('GET', KEYS[i + 1]) ~= ARGV[2] then
            redis.call('SET', KEYS[i + 1], ARGV[2], 'PX', ARGV[4])
            table.insert(restored, KEYS[i + 1])
          end
        end
        return restored
        """

    public func remove(account: String) async throws {
        let record = try await execute([["GET", key("token:", account)]])[0].bytesValue
            .flatMap { try? JSONDecoder.orca.decode(Record.self, from: Data($0)) }
        var keys = [configuration.legacyPrefix + account, key("account:", account), key("token:", account)]
        for alias in record?.aliases ?? [] {
            keys += [configuration.legacyPrefix + alias, key("account:", alias)]
        }
        _ = try await execute([["DEL"] + keys])
    }

    // MARK: TokenLocking

    public func acquireLock(_ name: String, owner: String, ttl: Duration) async throws -> Bool {
        let ms = String(max(1, Int64(ttl.timeInterval * 1000)))
        return try await execute([["SET", key("lock:", name), owner, "NX", "PX", ms]])[0] == .status("OK")
    }

    public func releaseLock(_ name: String, owner: String) async throws {
        // Owner-checked release: only the holder deletes the lock, atomically.
        let script = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
        _ = try await execute([["EVAL", script, "1", key("lock:", name), owner]])
    }

    // MARK: Status

    /// What Redis holds for each of `accounts`.
    public func status(of accounts: [String]) async throws -> [KeyStatus] {
        var commands: [[String]] = []
        for account in accounts {
            commands.append(["PTTL", configuration.legacyPrefix + account])
            commands.append(["GET", key("account:", account)])
        }
        let replies = try await execute(commands)
        var result: [KeyStatus] = []
        for (index, account) in accounts.enumerated() {
            let pttl = replies[2 * index].integerValue ?? -2
            let login = replies[2 * index + 1].stringValue
            var expiration: Date?
            if let login, let json = try await execute([["GET", key("token:", login)]])[0].bytesValue {
                expiration = (try? JSONDecoder.orca.decode(Record.self, from: Data(json)))?.token.expirationTime
            }
            result.append(
                KeyStatus(
                    account: account, present: pttl != -2, ttl: pttl >= 0 ? Double(pttl) / 1000 : nil, login: login,
                    expirationTime: expiration))
        }
        return result
    }

    /// Sends `PING` (connecting first if needed); throws `TokenStoreError` `storageUnavailable` when Redis cannot be
    /// reached.
    public func ping() async throws {
        _ = try await execute([["PING"]])
    }

    /// Closes the connection; the next call reconnects.
    public func close() {
        connection?.close()
        connection = nil
    }

    // MARK: Internals

    private func key(_ kind: String, _ name: String) -> String { configuration.prefix + kind + name }

    private func execute(_ commands: [[String]]) async throws -> [RedisReply] {
        do {
            let connection = try await liveConnection()
            let replies = try await connection.pipeline(commands)
            if commands.count == 1, case .error(let text) = replies[0] {
                throw RedisError(.serverError, text, redacting: [configuration.url.password])
            }
            return replies
        } catch let error as RedisError {
            if error.code != .serverError {
                connection?.close()
                connection = nil
            }
            throw TokenStoreError(.storageUnavailable, "Redis at \(configuration.url.endpointDescription): \(error)")
        }
    }

    private func liveConnection() async throws -> RedisChannelConnection {
        if let connection, connection.isActive { return connection }
        connection = nil
        let fresh = try await RedisChannelConnection.connect(
            to: configuration.url, tls: configuration.tls, connectTimeout: configuration.connectTimeout,
            commandTimeout: configuration.commandTimeout)
        connection = fresh
        logger.debug("connected to Redis", metadata: ["orca_redis": "\(configuration.url)"])
        return fresh
    }

    /// Orca's record under `orca:token:<login>`.
    struct Record: Codable {
        var token: Token
        var aliases: [String]
    }
}

/// Mutual exclusion between processes for token renewal.
public protocol TokenLocking: Sendable {
    /// Takes the lock `name` for `owner` if nobody holds it; it expires by itself after `ttl`.
    func acquireLock(_ name: String, owner: String, ttl: Duration) async throws -> Bool
    /// Releases the lock if `owner` still holds it.
    func releaseLock(_ name: String, owner: String) async throws
}

extension JSONEncoder {
    /// Orca's Redis record encoding: dates as `Date`'s own number (seconds since 2001-01-01), which round-trips bit
    /// for bit; a conversion to seconds since 1970 can lose the last bit.
    static let orca: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .deferredToDate
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}

extension JSONDecoder {
    static let orca: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .deferredToDate
        return decoder
    }()
}
