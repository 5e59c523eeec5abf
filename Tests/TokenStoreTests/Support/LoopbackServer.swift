import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
    private let streamSocketType = Int32(SOCK_STREAM.rawValue)
#elseif canImport(Darwin)
    import Darwin
    private let streamSocketType = SOCK_STREAM
#endif

/// A tiny TCP server on 127.0.0.1 (kernel-chosen port) built on POSIX sockets, for tests that need a real peer
/// without any extra software. It serves connections one at a time on a background thread until ``stop()``.
final class LoopbackServer: Sendable {
    /// What the server does with each accepted connection.
    enum Behavior: Sendable {
        /// Reads one HTTP request (headers plus `Content-Length` body), records it, writes `response`, closes.
        case http(response: [UInt8])
        /// Reads whatever arrives first, records it, writes `bytes`, closes.
        case raw(bytes: [UInt8])
        /// Accepts and reads, but never answers until the server stops.
        case silent
    }

    let port: Int
    private let listener: Int32
    private let behavior: Behavior
    private let stopping = Atomic<Bool>(false)
    private let requests = Mutex<[[UInt8]]>([])
    private let finished = DispatchSemaphore(value: 0)

    /// The raw bytes of every request received so far.
    var receivedRequests: [[UInt8]] { requests.withLock { $0 } }

    /// The first request as text (lossy UTF-8), or "" if none arrived.
    var firstRequestText: String { receivedRequests.first.map { String(decoding: $0, as: UTF8.self) } ?? "" }

    init(_ behavior: Behavior) throws {
        let (listener, port) = try bindLoopback()
        guard listen(listener, 16) == 0 else {
            close(listener)
            throw SocketError(operation: "listen")
        }
        self.listener = listener
        self.port = port
        self.behavior = behavior
        DispatchQueue(label: "loopback-server").async { [self] in
            serve()
            finished.signal()
        }
    }

    /// Canned HTTP/1.1 response bytes with `Content-Length` and `Connection: close`.
    static func httpResponse(
        status: Int, reason: String, headers: [(String, String)] = [], body: String = ""
    ) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(reason)\r\n"
        for (name, value) in headers {
            text += "\(name): \(value)\r\n"
        }
        text += "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        return Array(text.utf8)
    }

    /// Stops serving, waits for the background thread, and closes the listening socket.
    func stop() {
        guard !stopping.exchange(true, ordering: .sequentiallyConsistent) else { return }
        finished.wait()
        close(listener)
    }

    private var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) }

    private func serve() {
        while !isStopping {
            guard waitReadable(listener) else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        switch behavior {
        case .http(let response):
            guard let request = readHTTPRequest(client) else { return }
            requests.withLock { $0.append(request) }
            writeAll(client, response)
        case .raw(let bytes):
            guard let chunk = readChunk(client), !chunk.isEmpty else { return }
            requests.withLock { $0.append(chunk) }
            writeAll(client, bytes)
        case .silent:
            while !isStopping {
                if waitReadable(client), let chunk = readChunk(client), chunk.isEmpty {
                    return  // Peer closed.
                }
            }
        }
    }

    /// Waits up to 50 ms for `fd` to become readable, so the loop notices ``stop()`` promptly.
    private func waitReadable(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 50) > 0
    }

    /// One `read`; `[]` at end of stream, `nil` on error.
    private func readChunk(_ fd: Int32) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return count < 0 ? nil : Array(buffer.prefix(count))
    }

    private func readHTTPRequest(_ fd: Int32) -> [UInt8]? {
        var data: [UInt8] = []
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headerEnd: Int?
        var expected = Int.max
        while !isStopping, data.count < expected {
            guard waitReadable(fd) else { continue }
            guard let chunk = readChunk(fd), !chunk.isEmpty else { return data.isEmpty ? nil : data }
            data += chunk
            if headerEnd == nil, let range = data.firstRange(of: separator) {
                headerEnd = range.upperBound
                let head = String(decoding: data[..<range.lowerBound], as: UTF8.self).lowercased()
                let length = head.split(separator: "\r\n")
                    .first { $0.hasPrefix("content-length:") }
                    .flatMap { Int(String($0.dropFirst("content-length:".count)).filter { !$0.isWhitespace }) }
                expected = range.upperBound + (length ?? 0)
            }
        }
        return data
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { return }
            offset += written
        }
    }
}

/// A loopback port with nothing listening: the socket is bound (so no one else gets the port) but never
/// listens, so connecting is refused. Keep the value alive while the port is in use.
final class ClosedPort: Sendable {
    let port: Int
    private let socket: Int32

    init() throws {
        (socket, port) = try bindLoopback()
    }

    deinit {
        close(socket)
    }
}

struct SocketError: Error, CustomStringConvertible {
    let operation: String
    let code: Int32 = errno
    var description: String { "\(operation) failed: \(String(cString: strerror(code)))" }
}

/// A TCP socket bound to 127.0.0.1 on a kernel-chosen port.
private func bindLoopback() throws -> (socket: Int32, port: Int) {
    let fd = socket(AF_INET, streamSocketType, 0)
    guard fd >= 0 else { throw SocketError(operation: "socket") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else {
        close(fd)
        throw SocketError(operation: "bind")
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else {
        close(fd)
        throw SocketError(operation: "getsockname")
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}
