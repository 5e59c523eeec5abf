/// A failure of the token store, the Tradovate auth client or the refresher. Never contains a token, password or
/// API secret.
public struct TokenStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a stable code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case invalidCredentials, credentialsFileTooOpen, credentialsUnreadable, missingCredentials
            case loginRejected, tokenExpired, tokenRejected, penalty, captchaRequired, rateLimited
            case serverError, transport, malformedResponse, storageUnavailable, renewalBudgetExhausted
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A credentials file or environment is malformed.
        public static let invalidCredentials = Code(.invalidCredentials)
        /// A credentials file is readable by group or others.
        public static let credentialsFileTooOpen = Code(.credentialsFileTooOpen)
        /// A credentials file cannot be read.
        public static let credentialsUnreadable = Code(.credentialsUnreadable)
        /// No credentials are configured for a login that needs a fresh login.
        public static let missingCredentials = Code(.missingCredentials)
        /// Tradovate refused the login (`errorText`, or HTTP 401 on `accesstokenrequest`).
        public static let loginRejected = Code(.loginRejected)
        /// The token expired before it could be renewed; only a new login helps.
        public static let tokenExpired = Code(.tokenExpired)
        /// The server refused the token (401): expired or revoked.
        public static let tokenRejected = Code(.tokenRejected)
        /// A penalty ticket (`p-ticket`) asked to wait; the request was retried and failed again, or waiting was refused.
        public static let penalty = Code(.penalty)
        /// A penalty ticket with `p-captcha`: logins for this login are stopped for an hour.
        public static let captchaRequired = Code(.captchaRequired)
        /// HTTP 429: the user is locked out for a rolling hour.
        public static let rateLimited = Code(.rateLimited)
        /// HTTP 5xx or another unexpected status.
        public static let serverError = Code(.serverError)
        /// The request did not reach the server or no answer came back.
        public static let transport = Code(.transport)
        /// The server's answer could not be read.
        public static let malformedResponse = Code(.malformedResponse)
        /// The token store (Redis) could not be reached.
        public static let storageUnavailable = Code(.storageUnavailable)
        /// The refresher declined a renewal because the hourly budget is spent.
        public static let renewalBudgetExhausted = Code(.renewalBudgetExhausted)

        public var description: String { value.rawValue }
    }

    /// The error's code.
    public let code: Code
    /// The login concerned, when there is one (a login name is not a secret).
    public let login: String?
    /// A plain-words explanation (never a secret).
    public let message: String
    /// For ``Code/penalty`` and ``Code/rateLimited``: how long the server asked to wait, in seconds.
    public let retryAfter: Double?

    package init(_ code: Code, login: String? = nil, _ message: String, retryAfter: Double? = nil) {
        self.code = code
        self.login = login
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String {
        let who = login.map { " [\($0)]" } ?? ""
        return "\(code)\(who): \(message)"
    }
}
