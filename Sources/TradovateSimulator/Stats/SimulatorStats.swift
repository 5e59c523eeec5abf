public import Foundation
import Synchronization

/// Counters of everything the simulator served, for assertions like "exactly one renewal happened".
///
/// Read them with ``snapshot()`` (or `GET /v1/_sim/stats`, which returns the same snapshot as JSON); ``reset()`` zeroes
/// the counters (open sockets stay listed).
public final class SimulatorStats: Sendable {
    /// A request that presented a token which had already expired or been revoked.
    public struct TokenUse: Sendable, Hashable, Codable {
        /// `rest` or `websocket`.
        public var transport: String
        /// The endpoint, e.g. `auth/renewaccesstoken` or `md/getChart`.
        public var endpoint: String
        /// The first 6 characters of the token (never the whole token).
        public var tokenPrefix: String
        /// When the token expired (or was revoked), simulation clock.
        public var invalidSince: Date
        /// When it was used, simulation clock.
        public var usedAt: Date
        /// The socket id for WebSocket requests.
        public var socketID: Int?
    }

    /// One WebSocket client (open or closed).
    public struct Socket: Sendable, Hashable, Codable {
        /// The socket's id (also used in logs).
        public var id: Int
        /// The client's address.
        public var remoteAddress: String
        /// The user it authorized as, if any.
        public var user: String?
        /// Whether it is still open.
        public var isOpen: Bool
        /// `[]` heartbeats received.
        public var heartbeatsReceived: Int
        /// Requests received (text frames other than `[]`).
        public var requestsReceived: Int
        /// Frames sent (`o`, `h`, `a[...]`, `c[...]`).
        public var framesSent: Int
        /// Server `h` frames sent.
        public var serverHeartbeatsSent: Int
        /// Chart subscriptions currently active.
        public var activeCharts: Int
        /// Why it closed, when it did (`client`, `heartbeatTimeout`, `dropped`, …).
        public var closeReason: String?
    }

    /// All counters at one instant.
    public struct Snapshot: Sendable, Hashable, Codable {
        /// Successful `auth/accesstokenrequest`.
        public var loginsSucceeded = 0
        /// Rejected `auth/accesstokenrequest` (bad credentials).
        public var loginsFailed = 0
        /// The `deviceId` values successful logins presented, per login name (empty string: none was sent).
        public var deviceIDsByLogin: [String: Set<String>] = [:]
        /// Successful renewals (REST and WebSocket).
        public var renewalsSucceeded = 0
        /// Renewals answered 401 (expired, revoked or unknown token).
        public var renewalsRejected = 0
        /// `auth/me` answered.
        public var meRequests = 0
        /// Successful `authorize`.
        public var authorizationsSucceeded = 0
        /// `authorize` answered 401.
        public var authorizationsFailed = 0
        /// `md/getChart` accepted.
        public var chartRequests = 0
        /// `md/cancelChart` received.
        public var chartCancels = 0
        /// Bars sent in history packets.
        public var historyBarsSent = 0
        /// Bars sent as real-time updates.
        public var realtimeBarsSent = 0
        /// Penalty tickets issued (REST and WebSocket).
        public var penaltiesIssued = 0
        /// Requests resent with a ticket that was honoured.
        public var penaltyTicketsHonoured = 0
        /// 429 answers.
        public var rateLimited = 0
        /// REST requests received (without `_sim/stats`).
        public var restRequests = 0
        /// REST answers 404.
        public var restNotFound = 0
        /// WebSocket answers 404.
        public var webSocketNotFound = 0
        /// 401 answers to REST requests with a bad token.
        public var restUnauthorized = 0
        /// Sockets opened since start.
        public var socketsOpened = 0
        /// Sockets open now.
        public var openSockets = 0
        /// `[]` heartbeats received on all sockets.
        public var heartbeatsReceived = 0
        /// Malformed WebSocket requests (not `endpoint\nid\nquery\nbody`).
        public var malformedRequests = 0
        /// Every request made with an expired token (expected: empty; the latest 1 000 are kept).
        public var expiredTokenUses: [TokenUse] = []
        /// Every request made with a revoked token (the latest 1 000 are kept).
        public var revokedTokenUses: [TokenUse] = []
        /// Requests per endpoint (lower-cased), REST and WebSocket.
        public var requestsByEndpoint: [String: Int] = [:]
        /// Every socket, in id order (closed ones too, the latest 1 000).
        public var sockets: [Socket] = []

        /// Heartbeats received per socket id.
        public var heartbeatsBySocket: [Int: Int] {
            Dictionary(uniqueKeysWithValues: sockets.map { ($0.id, $0.heartbeatsReceived) })
        }
    }

    private let state = Mutex(Snapshot())

    init() {}

    /// The counters now.
    public func snapshot() -> Snapshot {
        state.withLock { snapshot in
            var copy = snapshot
            copy.openSockets = snapshot.sockets.filter(\.isOpen).count
            return copy
        }
    }

    /// Zeroes every counter; open sockets stay listed with zeroed counts, closed ones are forgotten.
    public func reset() {
        state.withLock { snapshot in
            var fresh = Snapshot()
            fresh.sockets = snapshot.sockets.filter(\.isOpen).map { socket in
                var socket = socket
                socket.heartbeatsReceived = 0
                socket.requestsReceived = 0
                socket.framesSent = 0
                socket.serverHeartbeatsSent = 0
                return socket
            }
            snapshot = fresh
        }
    }

    /// The snapshot as JSON (what `GET /v1/_sim/stats` returns).
    func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return (try? encoder.encode(snapshot())) ?? Data("{}".utf8)
    }

    func update(_ change: (inout Snapshot) -> Void) {
        state.withLock { change(&$0) }
    }

    func request(_ endpoint: String) {
        state.withLock { $0.requestsByEndpoint[endpoint.lowercased(), default: 0] += 1 }
    }

    func socket(_ id: Int, _ change: (inout Socket) -> Void) {
        state.withLock { snapshot in
            if let index = snapshot.sockets.lastIndex(where: { $0.id == id }) { change(&snapshot.sockets[index]) }
        }
    }

    func openSocket(_ id: Int, remoteAddress: String) {
        state.withLock { snapshot in
            snapshot.socketsOpened += 1
            snapshot.sockets.append(
                Socket(
                    id: id, remoteAddress: remoteAddress, user: nil, isOpen: true, heartbeatsReceived: 0,
                    requestsReceived: 0, framesSent: 0, serverHeartbeatsSent: 0, activeCharts: 0, closeReason: nil))
            if snapshot.sockets.count > 1_000, let closed = snapshot.sockets.firstIndex(where: { !$0.isOpen }) {
                snapshot.sockets.remove(at: closed)
            }
        }
    }
}
