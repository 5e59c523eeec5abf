public import Foundation
import Synchronization

/// The token set a successful login or renewal returns.
public struct AccessGrant: Sendable, Hashable {
    /// `accessToken`: a random opaque string (never JWT-shaped).
    public let accessToken: String
    /// `mdAccessToken`, unless the configuration omits it.
    public let mdAccessToken: String?
    /// `expirationTime` (simulation clock).
    public let expirationTime: Date
    /// `userId`.
    public let userId: Int
    /// `name`.
    public let name: String
    /// `userStatus`.
    public let userStatus: String
    /// `hasLive`.
    public let hasLive: Bool

    /// The JSON body Tradovate returns for a login or renewal.
    var json: JSONValue {
        var members: [String: JSONValue] = [
            "accessToken": .string(accessToken),
            "expirationTime": .string(ISOTime.format(expirationTime)),
            "passwordExpirationTime": .string(ISOTime.format(expirationTime.addingTimeInterval(180 * 86_400))),
            "userStatus": .string(userStatus),
            "userId": .int(userId),
            "name": .string(name),
            "hasLive": .bool(hasLive),
            "hasSimPlus": .bool(false),
        ]
        if let mdAccessToken { members["mdAccessToken"] = .string(mdAccessToken) }
        return .object(members)
    }
}

/// A penalty ticket as sent to the client.
struct PenaltyTicket: Sendable, Hashable {
    let ticket: String
    let seconds: Int
    let captcha: Bool

    var json: JSONValue {
        .object(["p-ticket": .string(ticket), "p-time": .int(seconds), "p-captcha": .bool(captcha)])
    }
}

/// Tokens, sessions, penalty tickets and rolling limits — shared by REST and the WebSocket.
final class AuthService: Sendable {
    struct TokenRecord: Sendable {
        let token: String
        let isMD: Bool
        let login: SimulatorLogin
        let sessionID: Int
        var expiresAt: Date
        var revokedAt: Date?
    }

    enum TokenCheck: Sendable {
        case valid(TokenRecord)
        case expired(TokenRecord)
        case revoked(TokenRecord)
        case unknown

        var record: TokenRecord? {
            switch self {
            case .valid(let r), .expired(let r), .revoked(let r): return r
            case .unknown: return nil
            }
        }
    }

    enum TicketStatus: Sendable {
        /// No (known) ticket in the request.
        case none
        /// The ticket's wait is over: the request goes through without further throttling.
        case honoured
        /// Resent too early: answer with the same ticket and the remaining wait.
        case wait(PenaltyTicket)
    }

    enum LoginOutcome: Sendable {
        case granted(AccessGrant, revokedTokens: [String])
        case badCredentials
        case penalty(PenaltyTicket)
    }

    enum RenewOutcome: Sendable {
        case granted(AccessGrant, revokedTokens: [String])
        case rejected(TokenCheck)
        case penalty(PenaltyTicket)
    }

    private struct Session {
        let user: String
        var tokens: [String]
    }

    private struct Ticket {
        let issuedAt: Date
        let seconds: Int
        let captcha: Bool
    }

    private struct State {
        var tokens: [String: TokenRecord] = [:]
        var sessions: [Int: Session] = [:]
        var sessionOrder: [String: [Int]] = [:]
        var nextSession = 1
        var failedLogins: [Date] = []
        var renewals: [Date] = []
        var tickets: [String: Ticket] = [:]
        var rateWindows: [String: (start: Date, count: Int)] = [:]
    }

    private let settings: SimulatorConfiguration.Auth
    private let logins: [SimulatorLogin]
    private let state = Mutex(State())

    init(settings: SimulatorConfiguration.Auth, logins: [SimulatorLogin]) {
        self.settings = settings
        self.logins = logins
    }

    // MARK: - Tokens

    static func randomToken() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var generator = SystemRandomNumberGenerator()
        return String(decoding: (0..<48).map { _ in alphabet[Int(generator.next() % 64)] }, as: UTF8.self)
    }

    /// Issues tokens in `sessionID` (state must be locked by the caller).
    private func issue(
        _ login: SimulatorLogin, sessionID: Int, now: Date, includeMD: Bool, state: inout State
    ) -> AccessGrant {
        let expiry = now.addingTimeInterval(settings.tokenLifetime.timeInterval)
        let access = Self.randomToken()
        state.tokens[access] = TokenRecord(
            token: access, isMD: false, login: login, sessionID: sessionID, expiresAt: expiry, revokedAt: nil)
        state.sessions[sessionID]?.tokens.append(access)
        var md: String? = nil
        if includeMD {
            switch settings.mdAccessToken {
            case .distinct:
                let token = Self.randomToken()
                state.tokens[token] = TokenRecord(
                    token: token, isMD: true, login: login, sessionID: sessionID, expiresAt: expiry, revokedAt: nil)
                state.sessions[sessionID]?.tokens.append(token)
                md = token
            case .sameAsAccessToken: md = access
            case .omitted: md = nil
            }
        }
        return AccessGrant(
            accessToken: access, mdAccessToken: md, expirationTime: expiry, userId: login.userId, name: login.name,
            userStatus: login.userStatus, hasLive: login.hasLive)
    }

    private func revokeSession(_ id: Int, now: Date, state: inout State) -> [String] {
        guard let session = state.sessions.removeValue(forKey: id) else { return [] }
        state.sessionOrder[session.user]?.removeAll { $0 == id }
        for token in session.tokens where state.tokens[token]?.revokedAt == nil {
            state.tokens[token]?.revokedAt = now
        }
        return session.tokens
    }

    /// Grants tokens for a configured login directly (no request, no limits): a new session.
    func grant(name: String, now: Date) -> (AccessGrant, revokedTokens: [String])? {
        guard let login = logins.first(where: { $0.name == name }) else { return nil }
        return state.withLock { state in startSession(login, now: now, state: &state) }
    }

    private func startSession(_ login: SimulatorLogin, now: Date, state: inout State) -> (AccessGrant, [String]) {
        var revoked: [String] = []
        if let max = settings.maxSessionsPerUser {
            while (state.sessionOrder[login.name]?.count ?? 0) >= max,
                let oldest = state.sessionOrder[login.name]?.first
            {
                revoked += revokeSession(oldest, now: now, state: &state)
            }
        }
        let id = state.nextSession
        state.nextSession += 1
        state.sessions[id] = Session(user: login.name, tokens: [])
        state.sessionOrder[login.name, default: []].append(id)
        return (issue(login, sessionID: id, now: now, includeMD: true, state: &state), revoked)
    }

    /// Looks a token up.
    func check(_ token: String, now: Date) -> TokenCheck {
        state.withLock { state in
            guard let record = state.tokens[token] else { return .unknown }
            if record.revokedAt != nil { return .revoked(record) }
            if record.expiresAt <= now { return .expired(record) }
            return .valid(record)
        }
    }

    /// Revokes one token (and, for a session's access token, nothing else). Returns whether it existed and was live.
    @discardableResult
    func revoke(_ token: String, now: Date) -> Bool {
        state.withLock { state in
            guard let record = state.tokens[token], record.revokedAt == nil else { return false }
            state.tokens[token]?.revokedAt = now
            return true
        }
    }

    /// Revokes every live token; returns them.
    func revokeAll(now: Date) -> [String] {
        state.withLock { state in
            let live = state.tokens.values.filter { $0.revokedAt == nil }.map(\.token)
            for token in live { state.tokens[token]?.revokedAt = now }
            return live
        }
    }

    // MARK: - Penalty tickets

    /// Issues a penalty ticket.
    func issuePenalty(_ terms: PenaltyTerms, now: Date) -> PenaltyTicket {
        state.withLock { state in Self.issuePenalty(terms, now: now, state: &state) }
    }

    /// Issues a penalty ticket inside a locked section.
    private static func issuePenalty(_ terms: PenaltyTerms, now: Date, state: inout State) -> PenaltyTicket {
        let ticket = randomToken()
        state.tickets[ticket] = Ticket(issuedAt: now, seconds: terms.seconds, captcha: terms.captcha)
        return PenaltyTicket(ticket: ticket, seconds: terms.seconds, captcha: terms.captcha)
    }

    /// Checks a resent request's `p-ticket`. An honoured ticket is consumed.
    func checkTicket(_ ticket: String?, now: Date) -> TicketStatus {
        guard let ticket, !ticket.isEmpty else { return .none }
        return state.withLock { state in
            guard let found = state.tickets[ticket] else { return .none }
            let ready = found.issuedAt.addingTimeInterval(TimeInterval(found.seconds))
            if now >= ready {
                state.tickets[ticket] = nil
                return .honoured
            }
            let remaining = Int(ready.timeIntervalSince(now).rounded(.up))
            return .wait(PenaltyTicket(ticket: ticket, seconds: max(1, remaining), captcha: found.captcha))
        }
    }

    // MARK: - Requests

    /// `auth/accesstokenrequest`.
    func login(body: JSONValue, ticket: TicketStatus, now: Date) -> LoginOutcome {
        let hour: TimeInterval = 3600
        let name = body["name"]?.stringValue ?? ""
        let password = body["password"]?.stringValue ?? ""
        let cid = body["cid"]?.intValue
        let sec = body["sec"]?.stringValue ?? ""
        return state.withLock { state in
            state.failedLogins.removeAll { $0 <= now.addingTimeInterval(-hour) }
            if case .none = ticket, let threshold = settings.failedLoginsBeforePenalty,
                state.failedLogins.count >= threshold
            {
                return .penalty(Self.issuePenalty(settings.loginPenalty, now: now, state: &state))
            }
            guard
                let login = logins.first(where: {
                    $0.name == name && $0.password == password && $0.cid == cid && $0.sec == sec
                })
            else {
                state.failedLogins.append(now)
                return .badCredentials
            }
            state.failedLogins.removeAll()
            let (grant, revoked) = startSession(login, now: now, state: &state)
            return .granted(grant, revokedTokens: revoked)
        }
    }

    /// `auth/renewaccesstoken` with the presented token.
    func renew(token: String, ticket: TicketStatus, now: Date) -> RenewOutcome {
        let hour: TimeInterval = 3600
        return state.withLock { state in
            guard let record = state.tokens[token] else { return .rejected(.unknown) }
            if record.revokedAt != nil { return .rejected(.revoked(record)) }
            if record.expiresAt <= now { return .rejected(.expired(record)) }
            state.renewals.removeAll { $0 <= now.addingTimeInterval(-hour) }
            if case .none = ticket, let max = settings.maxRenewalsPerHour, state.renewals.count >= max {
                return .penalty(Self.issuePenalty(settings.renewalPenalty, now: now, state: &state))
            }
            state.renewals.append(now)
            let grant = issue(
                record.login, sessionID: record.sessionID, now: now,
                includeMD: settings.renewalReturnsMDAccessToken, state: &state)
            var revoked: [String] = []
            if settings.renewalInvalidatesOldToken {
                state.tokens[token]?.revokedAt = now
                revoked.append(token)
            }
            return .granted(grant, revokedTokens: revoked)
        }
    }

    /// Counts one request against the user-level limit; `false` means answer 429.
    func admit(key: String, now: Date) -> Bool {
        guard let limit = settings.rateLimit else { return true }
        return state.withLock { state in
            let window = limit.window.timeInterval
            var entry = state.rateWindows[key] ?? (now, 0)
            if now >= entry.start.addingTimeInterval(window) { entry = (now, 0) }
            entry.count += 1
            state.rateWindows[key] = entry
            return entry.count <= limit.requests
        }
    }
}
