import Foundation
import Logging
import OrcaRuntime
import ServiceLifecycle
import Synchronization
import Testing
import TokenStore

/// The report the test server serves; tests switch it.
final class ReportBox: Sendable {
    private let storage: Mutex<HealthReport>
    init(_ report: HealthReport) { storage = Mutex(report) }
    var report: HealthReport {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}

@Suite("HTTP endpoint over loopback (libcurl client)", .timeLimit(.minutes(10)))
struct OrcaHTTPServerTests {
    let checkedAt = Date(timeIntervalSince1970: 1_795_000_000)
    let client = CurlHTTPClient(configuration: .init(connectTimeout: .seconds(10), timeout: .seconds(30)))

    func makeServer(_ box: ReportBox, prometheus: OrcaPrometheus) -> OrcaHTTPServer {
        OrcaHTTPServer(
            configuration: .init(host: "127.0.0.1", port: 0), health: { box.report }, prometheus: prometheus)
    }

    @Test func servesHealthMetricsAndErrors() async throws {
        let box = ReportBox(HealthReport(status: .healthy, checkedAt: checkedAt))
        let prometheus = OrcaPrometheus()
        prometheus.metrics.socketReconnects(3)
        let server = makeServer(box, prometheus: prometheus)
        let port = try await server.start()
        #expect(port > 0)
        #expect(await server.port == port)
        let running = Task { try await server.run() }
        let base = "http://127.0.0.1:\(port)"

        let healthy = try await client.get(base + "/health")
        #expect(healthy.status == 200)
        #expect(healthy.headers["Content-Type"] == "application/json; charset=utf-8")
        #expect(try HealthReport(json: healthy.body) == box.report)

        box.report = HealthReport(status: .degraded, checkedAt: checkedAt, reasons: ["NQ 5min: 2 bars missing"])
        let degraded = try await client.get(base + "/health?verbose=1")
        #expect(degraded.status == 200)
        #expect(try HealthReport(json: degraded.body).reasons == ["NQ 5min: 2 bars missing"])

        box.report = HealthReport(status: .down, checkedAt: checkedAt, reasons: ["no sink is configured"])
        let down = try await client.get(base + "/health")
        #expect(down.status == 503)
        #expect(try HealthReport(json: down.body).status == .down)

        let metrics = try await client.get(base + "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(metrics.bodyText?.contains("orca_socket_reconnects_total 3") == true)

        let missing = try await client.get(base + "/nothing-here")
        #expect(missing.status == 404)

        let post = try await client.post(base + "/health", body: Data("{}".utf8))
        #expect(post.status == 405)
        #expect(post.headers["Allow"] == "GET")

        await server.shutdown()
        try await running.value
    }

    @Test func metricsRouteIsAbsentWithoutASource() async throws {
        let server = OrcaHTTPServer(
            configuration: .init(port: 0), health: { HealthReport(status: .healthy, checkedAt: .distantPast) },
            metrics: nil)
        let port = try await server.start()
        let running = Task { try await server.run() }
        #expect(try await client.get("http://127.0.0.1:\(port)/metrics").status == 404)
        #expect(try await client.get("http://127.0.0.1:\(port)/health").status == 200)
        await server.shutdown()
        try await running.value
    }

    @Test func gracefulShutdownClosesTheListener() async throws {
        let box = ReportBox(HealthReport(status: .healthy, checkedAt: checkedAt))
        let server = makeServer(box, prometheus: OrcaPrometheus())
        let port = try await server.start()
        let group = ServiceGroup(
            configuration: .init(
                services: [server], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
        let running = Task { try await group.run() }
        #expect(try await client.get("http://127.0.0.1:\(port)/health").status == 200)
        await group.triggerGracefulShutdown()
        try await running.value
        await #expect(throws: CurlHTTPError.self) {
            _ = try await client.get("http://127.0.0.1:\(port)/health")
        }
        await #expect(throws: OrcaHTTPServerError.self) { try await server.start() }
    }

    @Test func aTakenPortFailsToBind() async throws {
        let first = OrcaHTTPServer(configuration: .init(port: 0), health: nil, metrics: nil)
        let port = try await first.start()
        let second = OrcaHTTPServer(configuration: .init(port: port), health: nil, metrics: nil)
        let error = await #expect(throws: OrcaHTTPServerError.self) { try await second.start() }
        #expect(error?.code == .bindFailed)
        #expect(error?.message.contains("\(port)") == true)
        await first.shutdown()
    }

    @Test func aSilentClientIsDisconnected() async throws {
        let server = OrcaHTTPServer(
            configuration: .init(port: 0, requestTimeout: .milliseconds(300)), health: nil, metrics: nil)
        let port = try await server.start()
        let running = Task { try await server.run() }
        // A raw socket that connects and sends nothing: the server must close it (read returns 0).
        let closed = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: SilentSocket.connectAndWaitForClose(port: port, limit: 60)) }
                .start()
        }
        #expect(closed == true)
        await server.shutdown()
        try await running.value
    }
}

/// A blocking POSIX client, run on a thread of its own (never on the cooperative pool).
enum SilentSocket {
    /// Connects, sends nothing and waits up to `limit` seconds for the server to close: `true` when it did, `false`
    /// when it did not, `nil` when the connection failed.
    static func connectAndWaitForClose(port: Int, limit: TimeInterval) -> Bool? {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return nil }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, Int32(limit * 1000))
        guard ready == 1 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 0
    }
}
