import Foundation
import TradovateSimulator

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A plain HTTP client for the tests (URLSession; one ephemeral session per request, so no connection is reused
/// across restarts).
enum HTTP {
    struct Result: Sendable {
        let status: Int
        let body: Data
        var json: JSON? { JSON.parse(body) }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    static func request(
        _ method: String, _ url: URL, json body: String? = nil, bearer: String? = nil
    ) async throws -> Result {
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 60  // a guard only: a loaded 2-core machine can take seconds to answer
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        return try await withCheckedThrowingContinuation { continuation in
            session.dataTask(with: request) { data, response, error in
                if let error {
                    continuation.resume(throwing: error)
                } else {
                    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                    continuation.resume(returning: Result(status: status, body: data ?? Data()))
                }
            }.resume()
        }
    }

    static func get(_ url: URL, bearer: String? = nil) async throws -> Result {
        try await request("GET", url, bearer: bearer)
    }

    static func post(_ url: URL, json: String? = nil, bearer: String? = nil) async throws -> Result {
        try await request("POST", url, json: json, bearer: bearer)
    }
}

/// A running simulator with manual clocks.
struct Sim: Sendable {
    let server: SimulatorServer
    /// The simulation clock.
    let clock: ManualClock
    /// The wall clock (transport timers).
    let wall: ManualClock

    var rest: URL { server.restBaseURL }

    func url(_ path: String) -> URL { URL(string: rest.absoluteString + "/" + path)! }

    /// Logs in with the demo login over REST; returns the response JSON.
    func login(name: String = "demo", password: String = "demo", cid: Int = 1, sec: String = "demo") async throws
        -> JSON
    {
        let body =
            #"{"name":"\#(name)","password":"\#(password)","cid":\#(cid),"sec":"\#(sec)","appId":"tests","appVersion":"1.0","deviceId":"t"}"#
        let result = try await HTTP.post(url("auth/accesstokenrequest"), json: body)
        guard let json = result.json else {
            throw Fixture.Failure(text: "login answered \(result.status) \(result.text)")
        }
        return json
    }

    /// A socket that has read `o` and been authorized with `token` (default: a fresh md token).
    func authorizedSocket(token: String? = nil) async throws -> TestSocket {
        let token = try token ?? server.grantToken().mdAccessToken!
        let socket = try await TestSocket.connect(server.webSocketURL)
        guard case .open? = try await socket.nextFrame().map(SimFrame.init) else {
            throw Fixture.Failure(text: "no o frame")
        }
        try await socket.request("authorize", id: 1, body: token)
        let messages = try await socket.messages(until: { $0["i"]?.int == 1 })
        guard messages.last?["s"]?.int == 200 else { throw Fixture.Failure(text: "authorize failed: \(messages)") }
        return socket
    }
}

enum Fixture {
    struct Failure: Error, CustomStringConvertible {
        let text: String
        var description: String { text }
    }

    /// Wednesday 2025-12-03 10:00:30 New York: the market is open, NQZ5 is the front month.
    static let wednesday = Date(timeIntervalSince1970: 1_764_774_030)

    static func date(_ text: String) -> Date {
        try! Date(text, strategy: Date.ISO8601FormatStyle())
    }

    /// Starts a simulator on manual clocks (simulation at `at`, wall at the same instant) and runs `body`; always
    /// shuts it down.
    static func withSimulator(
        at start: Date = wednesday,
        _ configure: (inout SimulatorConfiguration) -> Void = { _ in },
        _ body: (Sim) async throws -> Void
    ) async throws {
        let clock = ManualClock(start: start)
        let wall = ManualClock(start: start)
        var configuration = SimulatorConfiguration()
        configuration.clock = clock
        configuration.wallClock = wall
        configure(&configuration)
        let server = try await SimulatorServer.start(configuration)
        let sim = Sim(server: server, clock: clock, wall: wall)
        do {
            try await body(sim)
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    /// Polls `condition` (for server-side effects that follow a client-visible event) for up to 5 s of real time.
    static func eventually(_ condition: () -> Bool) async -> Bool {
        // Generous on purpose: a condition that is only slow on a loaded machine must not fail; one that never holds
        // still does (after 60 s).
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    /// An `md/getChart` body.
    static func chart(_ symbol: String, minutes: Int = 1, _ timeRange: String) -> String {
        #"{"symbol":"\#(symbol)","chartDescription":{"underlyingType":"MinuteBar","elementSize":\#(minutes),"elementSizeUnit":"UnderlyingUnits","withHistogram":false},"timeRange":{\#(timeRange)}}"#
    }

    /// Reads chart messages after a getChart response until `eoh` for `id`; returns the bars (timestamp-ordered as
    /// received) and every message seen.
    static func history(_ socket: TestSocket, id: Int) async throws -> (bars: [JSON], messages: [JSON]) {
        let messages = try await socket.messages(until: { message in
            message.charts.contains { $0["id"]?.int == id && $0["eoh"]?.bool == true }
        })
        let bars = messages.filter(\.isChartEvent).flatMap(\.charts).filter { $0["id"]?.int == id }
            .flatMap { $0["bars"]?.array ?? [] }
        return (bars, messages)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whether a plain socket (no reuse options, like an outgoing connection's automatic port) could bind
/// 127.0.0.1:`port` now.
func portIsFree(_ port: Int) -> Bool {
    #if canImport(Darwin)
        let fd = socket(AF_INET, SOCK_STREAM, 0)
    #else
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #endif
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return result == 0
}
