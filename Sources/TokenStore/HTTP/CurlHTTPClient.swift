internal import CCurl
internal import CandleCore
public import Foundation

/// A small HTTP/1.1 client on libcurl, for async code.
///
/// The client is an actor that owns one libcurl easy handle and runs every transfer on its own dispatch queue, so
/// the blocking `curl_easy_perform` never occupies a thread of Swift's cooperative pool. Requests through one
/// client run one at a time and reuse the handle's connection cache (keep-alive); create several clients for
/// parallel requests.
///
/// HTTP error statuses are returned as responses; only transport failures throw ``CurlHTTPError``.
///
/// ```swift
/// let http = CurlHTTPClient()
/// let response = try await http.get("https://api.example.com/v1/time", headers: ["Accept": "application/json"])
/// ```
public actor CurlHTTPClient {
    /// The settings every request uses.
    public nonisolated let configuration: Configuration

    private nonisolated let executor: BlockingIOExecutor
    private var handle: CurlEasyHandle?

    /// Runs this actor's methods on its private queue, so blocking transfers stay off the cooperative pool.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Creates a client. No connection is made until the first request.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.executor = BlockingIOExecutor(label: "orca.http")
    }

    /// Sends `request` and returns the response, whatever its status.
    /// - Throws: ``CurlHTTPError``; its message never includes sensitive header values, URL user info or query.
    public func send(_ request: Request) throws -> Response {
        let handle = try self.handle ?? CurlEasyHandle()
        self.handle = handle
        return try handle.perform(request, configuration: configuration)
    }

    /// Sends a `GET` request.
    public func get(_ url: String, headers: Headers = [:], timeout: Duration? = nil) throws -> Response {
        try send(Request(method: .get, url: url, headers: headers, timeout: timeout))
    }

    /// Sends a `POST` request with `body` (which may be empty).
    public func post(_ url: String, headers: Headers = [:], body: Data, timeout: Duration? = nil) throws -> Response {
        try send(Request(method: .post, url: url, headers: headers, body: body, timeout: timeout))
    }
}

/// Initialises libcurl's global state once, before the first handle (thread-safe through Swift's lazy globals).
private let curlGlobalInitialization: CURLcode = orca_curl_global_init_default()

/// Owns one `CURL *` easy handle. Not thread-safe: used only on its ``CurlHTTPClient``'s queue.
private final class CurlEasyHandle {
    private let handle: UnsafeMutableRawPointer
    /// libcurl writes a human-readable failure reason here (`CURLOPT_ERRORBUFFER`); it must outlive transfers.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init() throws {
        guard curlGlobalInitialization == CURLE_OK else {
            throw CurlHTTPError(.other, "curl_global_init failed", curlCode: Int(curlGlobalInitialization.rawValue))
        }
        guard let handle = curl_easy_init() else {
            throw CurlHTTPError(.other, "curl_easy_init failed")
        }
        self.handle = handle
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Runs one transfer synchronously.
    func perform(_ request: CurlHTTPClient.Request, configuration: CurlHTTPClient.Configuration) throws
        -> CurlHTTPClient.Response
    {
        let secrets = request.headers.sensitiveValues
        let target = "\(request.method) \(CurlHTTPClient.redactedURL(request.url))"
        func fail(_ code: CurlHTTPError.Code, _ message: String, curlCode: CURLcode? = nil) -> CurlHTTPError {
            CurlHTTPError(
                code, "\(target): \(message)", curlCode: curlCode.map { Int($0.rawValue) }, redacting: secrets)
        }

        // Validate what libcurl would otherwise send verbatim.
        for field in request.headers {
            let forbidden = field.name.isEmpty || field.name.contains(where: { $0 == ":" || $0.isWhitespace })
            if forbidden || field.value.contains(where: \.isNewline) || field.name.contains(where: \.isNewline) {
                throw fail(.invalidRequest, "header field '\(field.name)' is not a valid name/value pair")
            }
        }
        if request.body != nil && (request.method == .get || request.method == .head) {
            throw fail(.invalidRequest, "a \(request.method) request cannot have a body")
        }
        if request.url.contains(where: { $0 == "\0" }) {
            throw fail(.invalidURL, "URL contains a NUL character")
        }
        // Checked here so that libcurl's CURLE_UNSUPPORTED_PROTOCOL can only mean a non-HTTP reply (HTTP/0.9).
        let scheme = request.url.prefix { $0 != ":" }.lowercased()
        guard (scheme == "http" || scheme == "https") && request.url.dropFirst(scheme.count).hasPrefix("://") else {
            throw fail(.invalidURL, "only absolute http:// and https:// URLs are supported")
        }

        curl_easy_reset(handle)  // Keeps the connection and DNS caches.
        errorBuffer[0] = 0
        let state = TransferState(limit: configuration.maximumResponseSize)
        let context = Unmanaged.passUnretained(state).toOpaque()

        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for field in request.headers {
            // "Name;" is libcurl's syntax for a header with an empty value ("Name:" would remove the header).
            let line = field.value.isEmpty ? "\(field.name);" : "\(field.name): \(field.value)"
            headerList = curl_slist_append(headerList, line)
        }
        if request.headers["Expect"] == nil {
            headerList = curl_slist_append(headerList, "Expect:")  // No "100-continue" round trip for large bodies.
        }

        var setupFailure: CURLcode = CURLE_OK
        func check(_ code: CURLcode) {
            if code != CURLE_OK && setupFailure == CURLE_OK {
                setupFailure = code
            }
        }
        check(orca_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        check(orca_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        check(orca_curl_setopt_string(handle, CURLOPT_URL, request.url))
        check(orca_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        check(orca_curl_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"))
        check(orca_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(configuration.connectTimeout)))
        check(
            orca_curl_setopt_long(
                handle, CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout ?? configuration.timeout)))
        check(orca_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, configuration.followRedirects ? 1 : 0))
        check(orca_curl_setopt_long(handle, CURLOPT_MAXREDIRS, 5))
        check(orca_curl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, ""))  // Every encoding libcurl decodes.
        check(orca_curl_setopt_string(handle, CURLOPT_USERAGENT, configuration.userAgent))
        if let caBundlePath = configuration.caBundlePath {
            check(orca_curl_setopt_string(handle, CURLOPT_CAINFO, caBundlePath))
        }
        check(orca_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))
        check(orca_curl_setopt_write_callback(handle, CURLOPT_WRITEFUNCTION, Self.bodyCallback))
        check(orca_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        check(orca_curl_setopt_write_callback(handle, CURLOPT_HEADERFUNCTION, Self.headerCallback))
        check(orca_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context))

        switch request.method {
        case .get:
            check(orca_curl_setopt_long(handle, CURLOPT_HTTPGET, 1))
        case .head:
            check(orca_curl_setopt_long(handle, CURLOPT_NOBODY, 1))
        case .post:
            check(orca_curl_setopt_long(handle, CURLOPT_POST, 1))
        default:
            check(orca_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method.rawValue))
        }
        if request.method == .post || request.body != nil {
            let body = request.body ?? Data()
            check(orca_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            // COPYPOSTFIELDS copies the bytes (using the size above), so `body` need not outlive the call. An empty
            // body still needs a non-NULL pointer, or libcurl would read the body from standard input.
            if body.isEmpty {
                check(orca_curl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, ""))
            } else {
                body.withUnsafeBytes { bytes in
                    let pointer = UnsafeMutableRawPointer(mutating: bytes.baseAddress!)
                    check(orca_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, pointer))
                }
            }
            if request.method != .post {
                check(orca_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method.rawValue))
            }
        }
        guard setupFailure == CURLE_OK else {
            throw fail(.other, "libcurl rejected an option: \(Self.text(for: setupFailure))", curlCode: setupFailure)
        }

        let result = withExtendedLifetime(state) { curl_easy_perform(handle) }
        // Drop the pointers into `state` so a later reset or cleanup cannot call back into freed memory.
        _ = orca_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, nil)
        _ = orca_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, nil)

        guard result == CURLE_OK else {
            if state.exceededLimit {
                throw fail(
                    .responseTooLarge,
                    "response body exceeds the limit of \(configuration.maximumResponseSize) bytes")
            }
            var osErrno = 0
            _ = orca_curl_getinfo_long(handle, CURLINFO_OS_ERRNO, &osErrno)
            let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : Self.text(for: result)
            throw fail(Self.code(for: result, osErrno: osErrno), detail, curlCode: result)
        }

        var status = 0
        _ = orca_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return CurlHTTPClient.Response(status: status, headers: state.headers, body: state.body)
    }

    // MARK: - Callbacks (capture-free, so they convert to C function pointers)

    private static let bodyCallback: curl_write_callback = { data, size, count, context in
        guard let context else { return 0 }
        let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        guard let data, length > 0 else { return length }
        guard state.body.count + length <= state.limit else {
            state.exceededLimit = true
            return 0  // Makes libcurl abort with CURLE_WRITE_ERROR.
        }
        data.withMemoryRebound(to: UInt8.self, capacity: length) {
            state.body.append($0, count: length)
        }
        return length
    }

    private static let headerCallback: curl_write_callback = { data, size, count, context in
        guard let context else { return 0 }
        let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        guard let data, length > 0 else { return length }
        let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
        state.receiveHeaderLine(line)
        return length
    }

    // MARK: - Helpers

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0, duration > .zero else { return 1 }
        let millis = seconds.multipliedReportingOverflow(by: 1000)
        guard !millis.overflow else { return Int.max }
        return max(1, Int(millis.partialValue) + Int(attoseconds / 1_000_000_000_000_000))
    }

    private static func text(for code: CURLcode) -> String {
        String(cString: curl_easy_strerror(code))
    }

    private static func code(for result: CURLcode, osErrno: Int) -> CurlHTTPError.Code {
        switch result {
        case CURLE_COULDNT_CONNECT:
            osErrno == Int(ECONNREFUSED) ? .connectionRefused : .connectionFailed
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            .hostNotFound
        case CURLE_OPERATION_TIMEDOUT:
            .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
            CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR,
            CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT:
            .tls
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING:
            .connectionLost
        case CURLE_WEIRD_SERVER_REPLY, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_BAD_CONTENT_ENCODING,
            CURLE_PARTIAL_FILE, CURLE_TOO_MANY_REDIRECTS, CURLE_HTTP3:
            .protocolError
        case CURLE_UNSUPPORTED_PROTOCOL:
            // The scheme was validated before the transfer: the server answered without an HTTP status line
            // ("Received HTTP/0.9 when not allowed"), or redirected to a non-HTTP URL.
            .protocolError
        case CURLE_URL_MALFORMAT:
            .invalidURL
        default:
            .other
        }
    }
}

/// Per-transfer state the C callbacks fill in, reached through an `Unmanaged` pointer.
private final class TransferState {
    let limit: Int
    var body = Data()
    var headers = CurlHTTPClient.Headers()
    var exceededLimit = false

    init(limit: Int) {
        self.limit = limit
    }

    /// Handles one raw header line, including status lines and the blank line ending each header block.
    func receiveHeaderLine(_ rawLine: String) {
        let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            // A new response begins (after 100 Continue or a followed redirect): keep only its headers.
            headers = CurlHTTPClient.Headers()
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces)
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return }
        headers.add(name: name, value: value)
    }
}
