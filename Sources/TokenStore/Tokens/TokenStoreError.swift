public import CandleCore

/// A failure of the token store, the Tradovate auth client or the refresher. Never contains a token, password or
/// API secret.
public struct TokenStoreError: CodedError, Sendable, Hashable {
    /// What went wrong, as a stable code.
    public typealias Code = StableCode<TokenStoreError>

    /// The error's code.
    public let code: Code
    /// The login concerned, when there is one (a login name is not a secret).
    public let login: String?
    /// A plain-words explanation (never a secret).
    public let message: String
    /// For `penalty` and `rateLimited`: how long the server asked to wait, in seconds.
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

extension TokenStoreError.Code {
    /// A credentials file or environment is malformed.
    public static var invalidCredentials: Self { Self("invalidCredentials") }
    /// A credentials file is readable by group or others.
    public static var credentialsFileTooOpen: Self { Self("credentialsFileTooOpen") }
    /// A credentials file cannot be read.
    public static var credentialsUnreadable: Self { Self("credentialsUnreadable") }
    /// No credentials are configured for a login that needs a fresh login.
    public static var missingCredentials: Self { Self("missingCredentials") }
    /// Tradovate refused the login (`errorText`, or HTTP 401 on `accesstokenrequest`).
    public static var loginRejected: Self { Self("loginRejected") }
    /// The token expired before it could be renewed; only a new login helps.
    public static var tokenExpired: Self { Self("tokenExpired") }
    /// The server refused the token (401): expired or revoked.
    public static var tokenRejected: Self { Self("tokenRejected") }
    /// A penalty ticket (`p-ticket`) asked to wait; the request was retried and failed again, or waiting was refused.
    public static var penalty: Self { Self("penalty") }
    /// A penalty ticket with `p-captcha`: logins for this login are stopped for an hour.
    public static var captchaRequired: Self { Self("captchaRequired") }
    /// HTTP 429: the user is locked out for a rolling hour.
    public static var rateLimited: Self { Self("rateLimited") }
    /// HTTP 5xx or another unexpected status.
    public static var serverError: Self { Self("serverError") }
    /// The request did not reach the server or no answer came back.
    public static var transport: Self { Self("transport") }
    /// The server's answer could not be read.
    public static var malformedResponse: Self { Self("malformedResponse") }
    /// The token store (Redis) could not be reached.
    public static var storageUnavailable: Self { Self("storageUnavailable") }
    /// The refresher declined a renewal because the hourly budget is spent.
    public static var renewalBudgetExhausted: Self { Self("renewalBudgetExhausted") }
}
