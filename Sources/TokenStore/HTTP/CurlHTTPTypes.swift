internal import CandleCore
public import Foundation

extension CurlHTTPClient {
    /// An HTTP request method.
    public struct Method: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The method token as sent on the request line, e.g. `GET`.
        public let rawValue: String

        /// Creates a method from its token (case-sensitive, as HTTP specifies).
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        public static let get = Method(rawValue: "GET")
        public static let head = Method(rawValue: "HEAD")
        public static let post = Method(rawValue: "POST")
        public static let put = Method(rawValue: "PUT")
        public static let patch = Method(rawValue: "PATCH")
        public static let delete = Method(rawValue: "DELETE")

        public var description: String { rawValue }
    }

    /// An ordered list of header fields with case-insensitive lookup.
    ///
    /// ``description`` masks the values of ``sensitiveNames`` (and of any name containing `token`, `secret`,
    /// `password` or `api-key`), so headers can be logged.
    public struct Headers: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
        /// One header line.
        public struct Field: Sendable, Hashable {
            /// The name as given (lookup ignores case).
            public var name: String
            /// The value, without surrounding whitespace.
            public var value: String

            /// Creates a field.
            public init(name: String, value: String) {
                self.name = name
                self.value = value
            }
        }

        /// Header names (lower case) whose values are secrets and are never printed.
        public static let sensitiveNames: Set<String> = [
            "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-mbx-apikey",
        ]

        /// The fields in order.
        public private(set) var fields: [Field]

        /// Creates headers from fields, keeping their order.
        public init(_ fields: [Field] = []) {
            self.fields = fields
        }

        public init(dictionaryLiteral elements: (String, String)...) {
            self.fields = elements.map { Field(name: $0.0, value: $0.1) }
        }

        /// The value of the first field named `name` (case-insensitive), or `nil`.
        public subscript(name: String) -> String? {
            fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }

        /// The values of all fields named `name` (case-insensitive), in order.
        public func values(for name: String) -> [String] {
            fields.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
        }

        /// Appends a field (duplicates are allowed and kept).
        public mutating func add(name: String, value: String) {
            fields.append(Field(name: name, value: value))
        }

        /// Replaces all fields named `name` with one field.
        public mutating func replace(name: String, value: String) {
            fields.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
            fields.append(Field(name: name, value: value))
        }

        /// `true` if values of a header with this name must not be printed.
        public static func isSensitive(_ name: String) -> Bool {
            let lowered = name.lowercased()
            return sensitiveNames.contains(lowered)
                || ["token", "secret", "password", "api-key", "apikey"].contains { lowered.contains($0) }
        }

        /// The values of sensitive fields, for scrubbing messages.
        var sensitiveValues: [String] {
            fields.filter { Self.isSensitive($0.name) }.map(\.value)
        }

        public func makeIterator() -> IndexingIterator<[Field]> {
            fields.makeIterator()
        }

        public var description: String {
            let rendered = fields.map { "\($0.name): \(Self.isSensitive($0.name) ? SecretRedaction.mask : $0.value)" }
            return "[\(rendered.joined(separator: ", "))]"
        }
    }

    /// An HTTP request.
    ///
    /// ``description`` shows the method, the URL without user info or query string, header names with sensitive
    /// values masked, and the body size, never the body itself.
    public struct Request: Sendable, CustomStringConvertible {
        /// The method, `GET` by default.
        public var method: Method
        /// An absolute `http://` or `https://` URL.
        public var url: String
        /// Header fields to send in addition to libcurl's defaults (`Host`, `Accept`, `User-Agent`, ...).
        public var headers: Headers
        /// The request body, or `nil` for none. Not allowed with `GET` or `HEAD`.
        public var body: Data?
        /// Overrides the client's ``Configuration/timeout`` for this request.
        public var timeout: Duration?

        /// Creates a request.
        public init(
            method: Method = .get,
            url: String,
            headers: Headers = [:],
            body: Data? = nil,
            timeout: Duration? = nil
        ) {
            self.method = method
            self.url = url
            self.headers = headers
            self.body = body
            self.timeout = timeout
        }

        public var description: String {
            var text = "\(method) \(CurlHTTPClient.redactedURL(url)) headers: \(headers)"
            if let body {
                text += " body: \(body.count) bytes"
            }
            return text
        }
    }

    /// An HTTP response: any status, including 4xx and 5xx.
    public struct Response: Sendable, CustomStringConvertible {
        /// The status code of the final response (after redirects, if followed).
        public var status: Int
        /// The final response's header fields, in order (earlier `100 Continue` or redirect headers are dropped).
        public var headers: Headers
        /// The body, decoded if the server used a content encoding libcurl supports (gzip, deflate).
        public var body: Data

        /// Creates a response.
        public init(status: Int, headers: Headers, body: Data) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        /// `true` for 2xx statuses.
        public var isSuccess: Bool { (200..<300).contains(status) }

        /// The body decoded as UTF-8, or `nil` if it is not valid UTF-8.
        public var bodyText: String? { String(data: body, encoding: .utf8) }

        public var description: String { "HTTP \(status) headers: \(headers) body: \(body.count) bytes" }
    }

    /// Client-wide settings.
    public struct Configuration: Sendable {
        /// Bound on establishing the TCP (and TLS) connection.
        public var connectTimeout: Duration
        /// Bound on the whole request, connect included, unless a request sets its own ``Request/timeout``.
        public var timeout: Duration
        /// Responses with larger bodies fail with `responseTooLarge`.
        public var maximumResponseSize: Int
        /// Follow 3xx redirects (at most 5, http and https only). Off by default.
        public var followRedirects: Bool
        /// A PEM file of trusted CA certificates, replacing the system bundle (for private CAs and tests).
        public var caBundlePath: String?
        /// The `User-Agent` header, unless a request sets one.
        public var userAgent: String

        /// Creates a configuration; the defaults suit small API calls.
        public init(
            connectTimeout: Duration = .seconds(10),
            timeout: Duration = .seconds(30),
            maximumResponseSize: Int = 16 * 1024 * 1024,
            followRedirects: Bool = false,
            caBundlePath: String? = nil,
            userAgent: String = "orca"
        ) {
            self.connectTimeout = connectTimeout
            self.timeout = timeout
            self.maximumResponseSize = maximumResponseSize
            self.followRedirects = followRedirects
            self.caBundlePath = caBundlePath
            self.userAgent = userAgent
        }
    }

    /// `url` without user info and with any query string or fragment replaced by `?…`, for messages.
    package static func redactedURL(_ url: String) -> String {
        var text = Substring(url)
        var suffix = ""
        if let queryStart = text.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            text = text[..<queryStart]
            suffix = "?…"
        }
        guard let schemeEnd = text.range(of: "://") else {
            return String(text) + suffix
        }
        let afterScheme = text[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
        if let at = afterScheme[..<authorityEnd].lastIndex(of: "@") {
            return String(text[..<schemeEnd.upperBound]) + "***@" + String(afterScheme[afterScheme.index(after: at)...])
                + suffix
        }
        return String(text) + suffix
    }
}
