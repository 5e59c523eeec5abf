public import CandleCore
import Foundation
public import Logging

/// The Tradovate authentication calls Orca needs. ``TradovateAuthClient`` talks to the real API (or the simulator); tests
/// substitute scripted implementations.
public protocol TradovateAuthenticating: Sendable {
    /// `POST /auth/accesstokenrequest`: a new session from credentials.
    func requestAccessToken(_ credentials: TradovateCredentials) async throws -> Token
    /// `GET /auth/renewaccesstoken`: extends a still-valid token's session.
    func renewAccessToken(_ token: Token) async throws -> Token
    /// `GET /auth/me`: checks a token and returns the user.
    func me(_ token: Token) async throws -> TradovateUser
}

/// The user `auth/me` describes.
public struct TradovateUser: Sendable, Hashable, Codable {
    /// `userId`.
    public var userID: Int
    /// `name`.
    public var name: String
    /// `email`, when sent.
    public var email: String?

    /// Creates a user description.
    public init(userID: Int, name: String, email: String? = nil) {
        self.userID = userID
        self.name = name
        self.email = email
    }
}

/// Tradovate's REST authentication over HTTP (libcurl), per `../shared/docs/tradovate-protocol.md` §3.
///
/// - `errorText` (HTTP 200) and HTTP 401 on login → `loginRejected`; 401 on renewal or `me` →
///   `tokenRejected`.
/// - **Penalty tickets**: a `{"p-ticket", "p-time"}` answer is waited out on the injected clock (up to
///   ``Configuration/maximumPenaltyWait``) and the identical request is resent with `"p-ticket"` added, up to
///   ``Configuration/maximumPenaltyRetries`` times. `p-captcha: true` → `captchaRequired` at once
///   (a program cannot solve it; the refresher stops logging in for an hour).
/// - HTTP 429 → `rateLimited` with the `Retry-After` seconds when sent; the caller backs off.
/// - Transport failures → `transport`. No error text ever contains a password, secret or token.
public struct TradovateAuthClient: TradovateAuthenticating {
    /// Client settings.
    public struct Configuration: Sendable {
        /// The REST base, e.g. `https://demo.tradovateapi.com/v1` or the simulator's `http://127.0.0.1:PORT/v1`.
        public var baseURL: String
        /// The stable per-machine device id (see ``DeviceID``).
        public var deviceID: String
        /// Bound on each HTTP request.
        public var requestTimeout: Duration
        /// Bound on connecting.
        public var connectTimeout: Duration
        /// How many penalty tickets in a row are waited out before giving up.
        public var maximumPenaltyRetries: Int
        /// The longest `p-time` (seconds) waited out; a longer one is reported as `penalty`.
        public var maximumPenaltyWait: Double
        /// A PEM CA bundle for TLS, `nil` for the system trust store.
        public var caBundlePath: String?

        /// Creates a configuration; defaults: 15 s requests, 10 s connect, 3 penalty retries of at most 120 s.
        public init(
            baseURL: String, deviceID: String, requestTimeout: Duration = .seconds(15),
            connectTimeout: Duration = .seconds(10), maximumPenaltyRetries: Int = 3, maximumPenaltyWait: Double = 120,
            caBundlePath: String? = nil
        ) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.deviceID = deviceID
            self.requestTimeout = requestTimeout
            self.connectTimeout = connectTimeout
            self.maximumPenaltyRetries = maximumPenaltyRetries
            self.maximumPenaltyWait = maximumPenaltyWait
            self.caBundlePath = caBundlePath
        }
    }

    /// The settings in use.
    public let configuration: Configuration
    private let http: CurlHTTPClient
    private let clock: any WallClock
    private let logger: Logger

    /// Creates a client.
    public init(
        configuration: Configuration, clock: any WallClock = SystemWallClock(),
        logger: Logger = Logger(label: "orca.tokens.auth", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.http = CurlHTTPClient(
            configuration: .init(
                connectTimeout: configuration.connectTimeout, timeout: configuration.requestTimeout,
                caBundlePath: configuration.caBundlePath, userAgent: "orca"))
        self.clock = clock
        self.logger = logger
    }

    public func requestAccessToken(_ credentials: TradovateCredentials) async throws -> Token {
        let body: [String: any Sendable] = [
            "name": credentials.name, "password": credentials.password, "appId": credentials.appID,
            "appVersion": credentials.appVersion, "cid": credentials.cid, "sec": credentials.secret,
            "deviceId": configuration.deviceID,
        ]
        let json = try await send(
            path: "/auth/accesstokenrequest", method: .post, bearer: nil, body: body, login: credentials.name,
            secrets: [credentials.password, credentials.secret], unauthorized: .loginRejected)
        return try token(from: json, login: credentials.name, failure: .loginRejected)
    }

    public func renewAccessToken(_ token: Token) async throws -> Token {
        let json = try await send(
            path: "/auth/renewaccesstoken", method: .get, bearer: token.accessToken, body: nil, login: token.login,
            secrets: [token.accessToken, token.marketDataToken], unauthorized: .tokenRejected)
        var renewed = try self.token(from: json, login: token.login, failure: .tokenRejected)
        if json["mdAccessToken"] == nil { renewed.marketDataToken = renewed.accessToken }
        return renewed
    }

    public func me(_ token: Token) async throws -> TradovateUser {
        let json = try await send(
            path: "/auth/me", method: .get, bearer: token.accessToken, body: nil, login: token.login,
            secrets: [token.accessToken], unauthorized: .tokenRejected)
        guard let id = (json["userId"] as? NSNumber)?.intValue, let name = json["name"] as? String else {
            throw TokenStoreError(.malformedResponse, login: token.login, "auth/me answered without userId and name")
        }
        return TradovateUser(userID: id, name: name, email: json["email"] as? String)
    }

    // MARK: - HTTP with penalty tickets

    private func send(
        path: String, method: CurlHTTPClient.Method, bearer: String?, body: [String: any Sendable]?, login: String,
        secrets: [String], unauthorized: TokenStoreError.Code
    ) async throws -> [String: Any] {
        var ticket: String?
        var attempt = 0
        while true {
            var headers: CurlHTTPClient.Headers = ["Accept": "application/json"]
            if let bearer { headers.add(name: "Authorization", value: "Bearer \(bearer)") }
            var url = configuration.baseURL + path
            var payload: Data?
            if var body {
                if let ticket { body["p-ticket"] = ticket }
                payload = try JSONSerialization.data(withJSONObject: body)
                headers.add(name: "Content-Type", value: "application/json")
            } else if let ticket {
                url += "?p-ticket=" + (ticket.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ticket)
            }
            let response: CurlHTTPClient.Response
            do {
                response = try await http.send(.init(method: method, url: url, headers: headers, body: payload))
            } catch let error as CurlHTTPError {
                throw TokenStoreError(
                    .transport, login: login, "\(path): \(SecretRedaction.redact("\(error)", secrets))")
            }
            switch response.status {
            case 200..<300: break
            case 401:
                throw TokenStoreError(unauthorized, login: login, "\(path): HTTP 401 (credentials or token refused)")
            case 429:
                let retry = response.headers["Retry-After"].flatMap(Double.init)
                throw TokenStoreError(
                    .rateLimited, login: login, "\(path): HTTP 429, locked out for a rolling hour; backing off",
                    retryAfter: retry)
            default:
                throw TokenStoreError(.serverError, login: login, "\(path): unexpected HTTP \(response.status)")
            }
            guard let object = try? JSONSerialization.jsonObject(with: response.body),
                let json = object as? [String: Any]
            else {
                throw TokenStoreError(.malformedResponse, login: login, "\(path): the answer is not a JSON object")
            }
            guard let newTicket = json["p-ticket"] as? String else { return json }

            let wait = (json["p-time"] as? NSNumber)?.doubleValue ?? 0
            if (json["p-captcha"] as? Bool) == true {
                throw TokenStoreError(
                    .captchaRequired, login: login,
                    "\(path): Tradovate asks for a captcha; logins for \(login) stop for an hour", retryAfter: 3600)
            }
            attempt += 1
            guard attempt <= configuration.maximumPenaltyRetries, wait <= configuration.maximumPenaltyWait else {
                throw TokenStoreError(
                    .penalty, login: login, "\(path): penalty ticket asks to wait \(Int(wait)) s (attempt \(attempt))",
                    retryAfter: wait)
            }
            logger.info(
                "penalty ticket: waiting before resending",
                metadata: ["orca_login": "\(login)", "orca_path": "\(path)", "orca_wait_s": "\(wait)"])
            try await clock.sleep(for: wait)
            ticket = newTicket
        }
    }

    private func token(from json: [String: Any], login: String, failure: TokenStoreError.Code) throws -> Token {
        if let text = json["errorText"] as? String, !text.isEmpty {
            throw TokenStoreError(failure, login: login, "Tradovate said: \(text)")
        }
        guard let access = json["accessToken"] as? String, !access.isEmpty,
            let expiryText = json["expirationTime"] as? String, let expiry = Self.parseDate(expiryText)
        else {
            throw TokenStoreError(
                .malformedResponse, login: login, "the answer has no accessToken or no readable expirationTime")
        }
        return Token(
            accessToken: access, marketDataToken: json["mdAccessToken"] as? String, expirationTime: expiry,
            userID: (json["userId"] as? NSNumber)?.intValue ?? 0, login: login,
            issuedAt: clock.now())
    }

    static func parseDate(_ text: String) -> Date? {
        let fractional = Date.ISO8601FormatStyle.iso8601.year().month().day().time(includingFractionalSeconds: true)
        return (try? Date(text, strategy: fractional)) ?? (try? Date(text, strategy: .iso8601))
    }

}
