// SimulatorBench: how many history bars per second the Tradovate simulator serves over loopback
// (Docs/benchmarks.md, section "Simulator").
//
//   cd Benchmarks && swift run -c release SimulatorBench
//
// An in-process simulator (manual clock fixed at Friday 2025-12-05 15:00 New York) and a plain WebSocket client
// (WSClient) on the same machine. The client authorizes, then pages `@NQ` history backwards with md/getChart
// (closestTimestamp = oldest bar received, asMuchAsElements = the bar cap), cancelling each subscription after its
// eoh, and counts the bars it receives. Reported: bars/s end to end (request → last byte parsed into frames), for
// 1-minute and 5-minute bars and two bar caps; plus the market model's in-process generation rate for reference.
import CandleCore
import Foundation
import Logging
import TradovateSimulator
import WSClient

@main
struct SimulatorBench {
    static func main() async {
        do {
            try await run()
        } catch {
            print("SimulatorBench failed: \(error)")
            exit(1)
        }
    }

    static let now = Date(timeIntervalSince1970: 1_764_964_800)  // 2025-12-05T20:00:00Z

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func format(_ perSecond: Double) -> String {
        perSecond >= 1_000_000
            ? String(format: "%.2fM", perSecond / 1_000_000) : String(format: "%.0fk", perSecond / 1_000)
    }

    static func run() async throws {
        print(
            "Simulator benchmark (\(ProcessInfo.processInfo.activeProcessorCount) cores; client and server share them)")
        generation()
        for (minutes, total, cap) in [(1, 1_000_000, 20_000), (1, 1_000_000, 10_000), (5, 500_000, 20_000)] {
            var results: [Double] = []
            var detail = ""
            for _ in 0..<3 {
                let (rate, pages, bytes) = try await loopback(minutes: minutes, total: total, cap: cap)
                results.append(rate)
                detail = "\(pages) pages, \(bytes / max(1, total)) bytes/bar"
            }
            results.sort()
            print(
                "  loopback, \(minutes)-minute bars, cap \(cap)/response, \(total) bars: median \(format(results[1])) bars/s"
                    + " (runs \(results.map(format).joined(separator: ", ")); \(detail))")
        }
    }

    /// The market model alone: one year of 1-minute `@NQ` candles computed in process.
    static func generation() {
        let market = SimulatedMarket(seed: 42)
        let from = now.addingTimeInterval(-365 * 86_400)
        _ = try? market.candles(symbol: "@NQ", timeframe: .oneMinute, from: from, to: from + 7 * 86_400, asOf: now)
        let clock = ContinuousClock()
        var count = 0
        let elapsed = clock.measure {
            count =
                (try? market.candles(symbol: "@NQ", timeframe: .oneMinute, from: from, to: now, asOf: now))?.count ?? 0
        }
        print(
            "  in-process generation (Candle values, no network): \(count) 1-minute bars at \(format(Double(count) / seconds(elapsed))) bars/s"
        )
    }

    /// Pages `total` bars of `minutes`-minute history through a fresh simulator; returns bars/s, pages and bytes.
    static func loopback(minutes: Int, total: Int, cap: Int) async throws -> (Double, Int, Int) {
        var configuration = SimulatorConfiguration()
        configuration.clock = ManualClock(start: now)
        configuration.charts.maxBarsPerResponse = cap
        configuration.webSocket.heartbeatTimeout = nil
        let server = try await SimulatorServer.start(configuration)
        let token = try server.grantToken().mdAccessToken!
        let result = Counter()
        var client = WebSocketClientConfiguration()
        client.maxFrameSize = 1 << 26
        try await WebSocketClient.connect(
            url: server.webSocketURL.absoluteString, configuration: client,
            logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        ) { inbound, outbound, _ in
            var frames = inbound.messages(maxSize: 1 << 26).makeAsyncIterator()
            func nextText() async throws -> String {
                while let message = try await frames.next() {
                    if case .text(let text) = message { return text }
                }
                throw CancellationError()
            }
            _ = try await nextText()  // o
            try await outbound.write(.text("authorize\n1\n\n\(token)"))
            _ = try await nextText()
            var received = 0
            var bytes = 0
            var pages = 0
            var closest: String? = nil
            var requestID = 10
            let clock = ContinuousClock()
            let start = clock.now
            while received < total {
                requestID += 1
                let range =
                    closest.map { #""closestTimestamp":"\#($0)","asMuchAsElements":\#(cap)"# }
                    ?? #""asMuchAsElements":\#(cap)"#
                let body =
                    #"{"symbol":"@NQ","chartDescription":{"underlyingType":"MinuteBar","elementSize":\#(minutes),"elementSizeUnit":"UnderlyingUnits","withHistogram":false},"timeRange":{\#(range)}}"#
                try await outbound.write(.text("md/getChart\n\(requestID)\n\n\(body)"))
                var oldest: String? = nil
                var subscription = 0
                while true {
                    var text = try await nextText()
                    let scan = text.withUTF8 { Scan(bytes: $0, subscription: subscription) }
                    bytes += scan.length
                    if subscription == 0, let id = scan.realtimeID { subscription = id }
                    received += scan.bars
                    if oldest == nil { oldest = scan.firstTimestamp }
                    if scan.endOfHistory { break }
                }
                try await outbound.write(
                    .text("md/cancelChart\n\(1_000_000 + requestID)\n\n{\"subscriptionId\":\(subscription)}"))
                pages += 1
                closest = oldest
            }
            let elapsed = clock.now - start
            result.set(Double(received) / seconds(elapsed), pages, bytes)
            try await outbound.close(.normalClosure, reason: nil)
        }
        await server.shutdown()
        return result.value
    }

}

/// One pass over a received frame: bar count, first timestamp, the response's realtimeId, and whether the `eoh` item
/// of the subscription is in it.
struct Scan {
    static let timestamp = Array(#""timestamp":""#.utf8)
    static let realtime = Array(#""realtimeId":"#.utf8)

    var length = 0
    var bars = 0
    var firstTimestamp: String? = nil
    var realtimeID: Int? = nil
    var endOfHistory = false

    init(bytes: UnsafeBufferPointer<UInt8>, subscription: Int) {
        length = bytes.count
        var eoh = subscription == 0 ? [] : Array(#""id":\#(subscription),"eoh":true}"#.utf8)
        var i = 0
        let n = bytes.count
        while i < n {
            // Every pattern starts with a quote.
            guard bytes[i] == 0x22 else {
                i += 1
                continue
            }
            if Self.matches(Self.timestamp, bytes, at: i) {
                bars += 1
                i += Self.timestamp.count
                if firstTimestamp == nil, i + 24 <= n {
                    firstTimestamp = String(decoding: UnsafeBufferPointer(rebasing: bytes[i..<(i + 24)]), as: UTF8.self)
                }
                i += 24
                continue
            }
            if realtimeID == nil, subscription == 0, Self.matches(Self.realtime, bytes, at: i) {
                var j = i + Self.realtime.count
                var value = 0
                while j < n, bytes[j] >= 0x30, bytes[j] <= 0x39 {
                    value = value * 10 + Int(bytes[j] - 0x30)
                    j += 1
                }
                realtimeID = value
                eoh = Array(#""id":\#(value),"eoh":true}"#.utf8)
                i = j
                continue
            }
            if !eoh.isEmpty, Self.matches(eoh, bytes, at: i) {
                endOfHistory = true
                i += eoh.count
                continue
            }
            i += 1
        }
    }

    static func matches(_ pattern: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        guard index + pattern.count <= bytes.count else { return false }
        for k in 0..<pattern.count where bytes[index + k] != pattern[k] { return false }
        return true
    }
}

/// The client's result, handed out of the WebSocket handler.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var result: (Double, Int, Int) = (0, 0, 0)
    func set(_ rate: Double, _ pages: Int, _ bytes: Int) { lock.withLock { result = (rate, pages, bytes) } }
    var value: (Double, Int, Int) { lock.withLock { result } }
}
