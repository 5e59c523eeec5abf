/// An error from ``CurlHTTPClient``: a stable ``Code`` to branch on plus a message for logs.
///
/// HTTP error statuses (4xx, 5xx) are not errors at this level: they arrive as a ``CurlHTTPClient/Response``.
/// Messages never contain request header values of sensitive headers (`Authorization`, cookies, API keys; see
/// ``CurlHTTPClient/Headers/sensitiveNames``), URL user info, or URL query strings.
public struct CurlHTTPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a closed set of values that can grow without breaking `switch` statements
    /// (compare with `==`, or `switch` with a `default` branch).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case connectionRefused
            case connectionFailed
            case hostNotFound
            case timeout
            case tls
            case connectionLost
            case protocolError
            case responseTooLarge
            case invalidURL
            case invalidRequest
            case other
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// Nothing listens on the port (the server answered the TCP connect with a reset).
        public static let connectionRefused = Code(.connectionRefused)
        /// The TCP connection failed for another reason (network or host unreachable, ...).
        public static let connectionFailed = Code(.connectionFailed)
        /// The host name (or proxy name) did not resolve.
        public static let hostNotFound = Code(.hostNotFound)
        /// The connect timeout or the total request timeout passed.
        public static let timeout = Code(.timeout)
        /// TLS handshake or certificate verification failed, or the CA bundle could not be loaded.
        public static let tls = Code(.tls)
        /// The connection broke while sending or receiving, or the server closed it without replying.
        public static let connectionLost = Code(.connectionLost)
        /// The server's reply was not valid HTTP (or had a bad encoding, or redirected too often).
        public static let protocolError = Code(.protocolError)
        /// The response body exceeded ``CurlHTTPClient/Configuration/maximumResponseSize``.
        public static let responseTooLarge = Code(.responseTooLarge)
        /// The URL is malformed or uses a scheme other than `http`/`https`.
        public static let invalidURL = Code(.invalidURL)
        /// The request cannot be sent as given (e.g. a header containing a line break, a body on a `GET`).
        public static let invalidRequest = Code(.invalidRequest)
        /// Any other libcurl failure; see ``CurlHTTPError/curlCode``.
        public static let other = Code(.other)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// Details for logs, free of secrets.
    public let message: String
    /// The libcurl `CURLcode`, when the error came from libcurl.
    public let curlCode: Int?

    /// Creates an error, removing every occurrence of each non-empty `secret` from `message`.
    package init(_ code: Code, _ message: String, curlCode: Int? = nil, redacting secrets: [String] = []) {
        self.code = code
        var text = message
        for secret in secrets where !secret.isEmpty {
            text = text.replacing(secret, with: "***")
        }
        self.message = text
        self.curlCode = curlCode
    }

    public var description: String {
        if let curlCode {
            return "CurlHTTPError.\(code): \(message) (curl code \(curlCode))"
        }
        return "CurlHTTPError.\(code): \(message)"
    }
}
