public import CandleCore

/// An error from ``CurlHTTPClient``: a stable ``Code`` to branch on plus a message for logs.
///
/// HTTP error statuses (4xx, 5xx) are not errors at this level: they arrive as a ``CurlHTTPClient/Response``.
/// Messages never contain request header values of sensitive headers (`Authorization`, cookies, API keys; see
/// ``CurlHTTPClient/Headers/sensitiveNames``), URL user info, or URL query strings.
public struct CurlHTTPError: CodedError, Sendable, Hashable {
    /// What went wrong, as a closed set of values that can grow without breaking `switch` statements
    /// (compare with `==`, or `switch` with a `default` branch).
    public typealias Code = StableCode<CurlHTTPError>

    /// The kind of failure.
    public let code: Code
    /// Details for logs, free of secrets.
    public let message: String
    /// The libcurl `CURLcode`, when the error came from libcurl.
    public let curlCode: Int?

    /// Creates an error, removing every occurrence of each non-empty `secret` from `message`.
    package init(_ code: Code, _ message: String, curlCode: Int? = nil, redacting secrets: [String] = []) {
        self.code = code
        self.message = SecretRedaction.redact(message, secrets)
        self.curlCode = curlCode
    }

    public var description: String {
        if let curlCode {
            return "CurlHTTPError.\(code): \(message) (curl code \(curlCode))"
        }
        return "CurlHTTPError.\(code): \(message)"
    }
}

extension CurlHTTPError.Code {
    /// Nothing listens on the port (the server answered the TCP connect with a reset).
    public static var connectionRefused: Self { Self("connectionRefused") }
    /// The TCP connection failed for another reason (network or host unreachable, ...).
    public static var connectionFailed: Self { Self("connectionFailed") }
    /// The host name (or proxy name) did not resolve.
    public static var hostNotFound: Self { Self("hostNotFound") }
    /// The connect timeout or the total request timeout passed.
    public static var timeout: Self { Self("timeout") }
    /// TLS handshake or certificate verification failed, or the CA bundle could not be loaded.
    public static var tls: Self { Self("tls") }
    /// The connection broke while sending or receiving, or the server closed it without replying.
    public static var connectionLost: Self { Self("connectionLost") }
    /// The server's reply was not valid HTTP (or had a bad encoding, or redirected too often).
    public static var protocolError: Self { Self("protocolError") }
    /// The response body exceeded ``CurlHTTPClient/Configuration/maximumResponseSize``.
    public static var responseTooLarge: Self { Self("responseTooLarge") }
    /// The URL is malformed or uses a scheme other than `http`/`https`.
    public static var invalidURL: Self { Self("invalidURL") }
    /// The request cannot be sent as given (e.g. a header containing a line break, a body on a `GET`).
    public static var invalidRequest: Self { Self("invalidRequest") }
    /// Any other libcurl failure; see ``CurlHTTPError/curlCode``.
    public static var other: Self { Self("other") }
}
