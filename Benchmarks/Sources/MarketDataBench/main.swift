// MarketDataBench: decoding rate of the market-data wire codec (Docs/benchmarks.md, "Market-data decoding").
//
//   cd Benchmarks && swift build -c release --product MarketDataBench && .build/release/MarketDataBench
//
// Frames look like the simulator's: `a[{"e":"chart","d":{"charts":[{"id":…,"td":…,"bars":[…1,000 bars…]}]}}]`, every
// bar with all 11 fields (about 230 KB per frame), and real-time frames holding one bar. Each frame set is decoded
// repeatedly by `MarketDataWire.parse(utf8:)` and, in the same run, by two baselines over the same bytes:
// `JSONSerialization` (parse plus reading every bar field out of the dictionaries) and `JSONDecoder` with `Codable`
// structs (timestamps left as strings, so the baselines do less work than the codec). Three alternating rounds.
import Collectors
import Foundation
import MarketData

@main
struct MarketDataBench {
    static func main() {
        let history = historyFrames(count: 20, barsPerPacket: 1_000)
        let live = liveFrames(count: 20_000)
        check(history, bars: 20 * 1_000)
        check(live, bars: 20_000)
        let historyBytes = history.reduce(0) { $0 + $1.count }
        let liveBytes = live.reduce(0) { $0 + $1.count }
        print(
            "History frames: \(history.count) × 1,000 bars, \(historyBytes / history.count) bytes per frame, "
                + String(format: "%.1f", Double(historyBytes) / 20_000) + " bytes per bar")
        print("Live frames: \(live.count) × 1 bar, \(liveBytes / live.count) bytes per frame")
        print()
        run(name: "History (1,000 bars per frame)", frames: history, bars: 20_000, repeats: (50, 1, 1))
        print()
        run(name: "Live (1 bar per frame)", frames: live, bars: 20_000, repeats: (50, 1, 1))
    }

    // MARK: Frames

    /// A deterministic pseudo-random generator (SplitMix64).
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func next(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    }

    /// A price in NQ ticks as JSON text (`21334.25`, `21334.5`, `21334`).
    static func price(_ ticks: Int) -> String {
        let whole = ticks / 4
        switch ticks % 4 {
        case 1: return "\(whole).25"
        case 2: return "\(whole).5"
        case 3: return "\(whole).75"
        default: return "\(whole)"
        }
    }

    static func isoTimestamp(minute: Int) -> String {
        let date = Date(timeIntervalSince1970: 1_764_547_200 + Double(minute) * 60)  // 2025-12-01T00:00:00Z
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02dT%02d:%02d:00.000Z", c.year!, c.month!, c.day!, c.hour!, c.minute!)
    }

    static func bar(minute: Int, random: inout Random) -> String {
        let open = 85_000 + random.next(4_000)
        let close = open + random.next(41) - 20
        let high = max(open, close) + random.next(12)
        let low = min(open, close) - random.next(12)
        let up = 100 + random.next(3_000)
        let down = 100 + random.next(3_000)
        return "{\"timestamp\":\"\(isoTimestamp(minute: minute))\",\"open\":\(price(open)),\"high\":\(price(high)),"
            + "\"low\":\(price(low)),\"close\":\(price(close)),\"upVolume\":\(up),\"downVolume\":\(down),"
            + "\"upTicks\":\(up / 3 + 1),\"downTicks\":\(down / 3 + 1),\"bidVolume\":\(down),\"offerVolume\":\(up)}"
    }

    static func historyFrames(count: Int, barsPerPacket: Int) -> [[UInt8]] {
        var random = Random(state: 42)
        return (0..<count).map { frame in
            let bars = (0..<barsPerPacket).map { bar(minute: frame * barsPerPacket + $0, random: &random) }
            let text =
                "a[{\"e\":\"chart\",\"d\":{\"charts\":[{\"id\":7,\"td\":20251205,\"bars\":["
                + bars.joined(separator: ",") + "]}]}}]"
            return Array(text.utf8)
        }
    }

    static func liveFrames(count: Int) -> [[UInt8]] {
        var random = Random(state: 7)
        return (0..<count).map { index in
            let text =
                "a[{\"e\":\"chart\",\"d\":{\"charts\":[{\"id\":7,\"bars\":["
                + bar(minute: index / 30, random: &random) + "]}]}}]"
            return Array(text.utf8)
        }
    }

    /// Makes sure every decoder sees the bars (and that the frames are what we think).
    static func check(_ frames: [[UInt8]], bars: Int) {
        let ours = decodeOurs(frames)
        let serialization = decodeSerialization(frames)
        let codable = decodeCodable(frames)
        guard ours.bars == bars, serialization.bars == bars, codable.bars == bars,
            abs(ours.checksum - serialization.checksum) < 1e-6 * abs(ours.checksum),
            abs(ours.checksum - codable.checksum) < 1e-6 * abs(ours.checksum)
        else {
            print("decoders disagree: ours \(ours), JSONSerialization \(serialization), Codable \(codable)")
            exit(1)
        }
    }

    // MARK: Decoders

    struct Tally: CustomStringConvertible {
        var bars = 0
        var checksum = 0.0
        var description: String { "\(bars) bars, checksum \(checksum)" }
    }

    static func decodeOurs(_ frames: [[UInt8]]) -> Tally {
        var tally = Tally()
        for frame in frames {
            let decoded = frame.withUnsafeBytes { try? MarketDataWire.parse(utf8: $0) }
            guard case .messages(let messages)? = decoded else { exit(2) }
            for case .chart(let packets) in messages {
                for packet in packets {
                    for bar in packet.bars {
                        tally.bars += 1
                        tally.checksum += bar.close + Double(bar.upVolume) + Double(bar.startMilliseconds % 1_000_000)
                    }
                }
            }
        }
        return tally
    }

    static func decodeSerialization(_ frames: [[UInt8]]) -> Tally {
        var tally = Tally()
        for frame in frames {
            let data = frame.withUnsafeBufferPointer { Data($0[1...]) }
            guard let messages = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else { exit(3) }
            for message in messages {
                guard message["e"] as? String == "chart", let d = message["d"] as? [String: Any],
                    let charts = d["charts"] as? [[String: Any]]
                else { continue }
                for chart in charts {
                    for bar in chart["bars"] as? [[String: Any]] ?? [] {
                        guard let timestamp = bar["timestamp"] as? String, let open = bar["open"] as? Double,
                            let high = bar["high"] as? Double, let low = bar["low"] as? Double,
                            let close = bar["close"] as? Double, let up = bar["upVolume"] as? Int,
                            let down = bar["downVolume"] as? Int, let upTicks = bar["upTicks"] as? Int,
                            let downTicks = bar["downTicks"] as? Int
                        else { exit(4) }
                        let bid = bar["bidVolume"] as? Int
                        let offer = bar["offerVolume"] as? Int
                        tally.bars += 1
                        tally.checksum += close + Double(up) + Double(minuteMillis(timestamp))
                        _ = (open, high, low, down, upTicks, downTicks, bid, offer)
                    }
                }
            }
        }
        return tally
    }

    struct CodableMessage: Decodable {
        var e: String?
        var d: CodableChart?
    }
    struct CodableChart: Decodable {
        var charts: [CodablePacket]
    }
    struct CodablePacket: Decodable {
        var id: Int
        var td: Int?
        var bars: [CodableBar]?
        var eoh: Bool?
    }
    struct CodableBar: Decodable {
        var timestamp: String
        var open, high, low, close: Double
        var upVolume, downVolume, upTicks, downTicks: Int64
        var bidVolume, offerVolume: Int64?
    }

    static func decodeCodable(_ frames: [[UInt8]]) -> Tally {
        var tally = Tally()
        let decoder = JSONDecoder()
        for frame in frames {
            let data = frame.withUnsafeBufferPointer { Data($0[1...]) }
            guard let messages = try? decoder.decode([CodableMessage].self, from: data) else { exit(5) }
            for message in messages where message.e == "chart" {
                for packet in message.d?.charts ?? [] {
                    for bar in packet.bars ?? [] {
                        tally.bars += 1
                        tally.checksum += bar.close + Double(bar.upVolume) + Double(minuteMillis(bar.timestamp))
                    }
                }
            }
        }
        return tally
    }

    /// The same checksum term the codec's bars give (`startMilliseconds % 1_000_000`), from the timestamp text's
    /// date, hour and minute fields — a cheap stand-in, not a general ISO parser (the baselines skip real parsing).
    static func minuteMillis(_ timestamp: String) -> Int64 {
        let u = Array(timestamp.utf8)
        func n(_ a: Int, _ b: Int) -> Int64 { u[a..<b].reduce(0) { $0 * 10 + Int64($1 - 48) } }
        let days = daysFromCivil(n(0, 4), n(5, 7), n(8, 10))
        return ((days * 24 + n(11, 13)) * 60 + n(14, 16)) * 60_000 % 1_000_000
    }

    static func daysFromCivil(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        return era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
    }

    // MARK: Measurement

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func time(_ repeats: Int, _ body: () -> Tally) -> Double {
        let clock = ContinuousClock()
        var sink = 0.0
        let start = clock.now
        for _ in 0..<repeats { sink += body().checksum }
        let elapsed = seconds(clock.now - start)
        if sink == 42 { print("") }  // keeps the work observable
        return elapsed / Double(repeats)
    }

    static func format(_ perSecond: Double) -> String {
        perSecond >= 1_000_000
            ? String(format: "%.2fM", perSecond / 1_000_000) : String(format: "%.0fk", perSecond / 1_000)
    }

    static func run(name: String, frames: [[UInt8]], bars: Int, repeats: (Int, Int, Int)) {
        let bytes = Double(frames.reduce(0) { $0 + $1.count })
        print("\(name): \(bars) bars, \(frames.count) frames, \(Int(bytes)) bytes per pass; 3 rounds")
        print(
            "round | ours bars/s | ours MB/s | JSONSerialization bars/s | Codable bars/s | ours/JSONSer. | ours/Codable"
        )
        var ratios: [(Double, Double)] = []
        for round in 1...3 {
            let ours = time(repeats.0) { decodeOurs(frames) }
            let serialization = time(repeats.1) { decodeSerialization(frames) }
            let codable = time(repeats.2) { decodeCodable(frames) }
            let oursRate = Double(bars) / ours
            ratios.append((serialization / ours, codable / ours))
            print(
                "\(round) | \(format(oursRate)) | " + String(format: "%.0f", bytes / ours / 1_000_000) + " | "
                    + "\(format(Double(bars) / serialization)) | \(format(Double(bars) / codable)) | "
                    + String(format: "%.1f× | %.1f×", serialization / ours, codable / ours))
        }
        let medianSerialization = ratios.map(\.0).sorted()[1]
        let medianCodable = ratios.map(\.1).sorted()[1]
        print(
            String(
                format: "median ratio ours / JSONSerialization %.1f×, ours / Codable %.1f×", medianSerialization,
                medianCodable))
    }
}
