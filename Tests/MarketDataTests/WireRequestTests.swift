import Collectors
import Foundation
import Testing

@testable import MarketData

/// Encoding of client requests (protocol §4.2–4.4, §5.1, §5.6).
@Suite("Market-data wire: requests", .timeLimit(.minutes(10)))
struct WireRequestTests {
    /// Friday 2025-12-05 15:00:00 UTC.
    static let closest = Date(timeIntervalSince1970: 1_764_946_800)

    func object(_ body: String) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(body.utf8))
        return try #require(value as? [String: Any])
    }

    @Test("heartbeat and request separators (§4.2, §4.4)")
    func requests() {
        #expect(MarketDataWire.heartbeat == "[]")
        #expect(MarketDataWire.request(endpoint: "executionReport/list", id: 4) == "executionReport/list\n4\n\n")
        #expect(
            MarketDataWire.request(endpoint: "tradingPermission/ldeps", id: 8, query: "masterids=1")
                == "tradingPermission/ldeps\n8\nmasterids=1\n")
        #expect(
            MarketDataWire.request(endpoint: "md/cancelChart", id: 9, body: #"{"subscriptionId":31}"#)
                == "md/cancelChart\n9\n\n{\"subscriptionId\":31}")
        #expect(
            MarketDataWire.request(endpoint: "md/getChart", id: 2).split(
                separator: "\n", omittingEmptySubsequences: false
            ).count == 4)
    }

    @Test("authorize sends the raw token, never JSON-quoted (§4.3)")
    func authorize() {
        let token = "eyJhbGciOi.J9-x_y"
        let text = MarketDataWire.authorize(id: 1, token: token)
        #expect(text == "authorize\n1\n\neyJhbGciOi.J9-x_y")
        #expect(!text.contains("\""))
        let parts = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(parts == ["authorize", "1", "", Substring(token)])
    }

    @Test("getChart body has exactly the fields of §5.1, with ISO timestamps")
    func getChartBody() throws {
        let body = MarketDataWire.getChartBody(
            symbol: "NQZ5", minutes: 15, closestTimestamp: Self.closest,
            asFarAsTimestamp: Self.closest - 86_400 * 14 + 0.123, asMuchAsElements: 500)
        let json = try object(body)
        #expect(Set(json.keys) == ["symbol", "chartDescription", "timeRange"])
        #expect(json["symbol"] as? String == "NQZ5")
        let description = try #require(json["chartDescription"] as? [String: Any])
        #expect(Set(description.keys) == ["underlyingType", "elementSize", "elementSizeUnit", "withHistogram"])
        #expect(description["underlyingType"] as? String == "MinuteBar")
        #expect(description["elementSize"] as? Int == 15)
        #expect(description["elementSizeUnit"] as? String == "UnderlyingUnits")
        #expect(description["withHistogram"] as? Bool == false)
        #expect(body.contains(#""withHistogram":false"#))
        let range = try #require(json["timeRange"] as? [String: Any])
        #expect(Set(range.keys) == ["closestTimestamp", "asFarAsTimestamp", "asMuchAsElements"])
        #expect(range["closestTimestamp"] as? String == "2025-12-05T15:00:00.000Z")
        #expect(range["asFarAsTimestamp"] as? String == "2025-11-21T15:00:00.123Z")
        #expect(range["asMuchAsElements"] as? Int == 500)
        #expect(!body.contains("asFarAsTimeStamp"))
    }

    @Test("getChart body with a subset of the range, a penalty ticket, and a symbol that needs escaping")
    func getChartVariants() throws {
        let count = try object(
            MarketDataWire.getChartBody(
                symbol: "@NQ", minutes: 60, closestTimestamp: nil, asFarAsTimestamp: nil, asMuchAsElements: 20_000))
        #expect(count["symbol"] as? String == "@NQ")
        #expect((count["timeRange"] as? [String: Any])?.keys.sorted() == ["asMuchAsElements"])
        #expect((count["chartDescription"] as? [String: Any])?["elementSize"] as? Int == 60)

        let retry = try object(
            MarketDataWire.getChartBody(
                symbol: "ESM7", minutes: 5, closestTimestamp: Self.closest, asFarAsTimestamp: nil,
                asMuchAsElements: nil,
                penaltyTicket: "tick\"et"))
        #expect(Set(retry.keys) == ["symbol", "chartDescription", "timeRange", "p-ticket"])
        #expect(retry["p-ticket"] as? String == "tick\"et")
        #expect((retry["timeRange"] as? [String: Any])?.keys.sorted() == ["closestTimestamp"])

        let odd = try object(
            MarketDataWire.getChartBody(
                symbol: "a\"b\\c\nd\u{1}é", minutes: 1, closestTimestamp: Date(timeIntervalSince1970: -0.5),
                asFarAsTimestamp: nil, asMuchAsElements: nil))
        #expect(odd["symbol"] as? String == "a\"b\\c\nd\u{1}é")
        #expect((odd["timeRange"] as? [String: Any])?["closestTimestamp"] as? String == "1969-12-31T23:59:59.500Z")
    }

    @Test("the body the codec writes is identical apart from the p-ticket (§3.2 retry rule)")
    func penaltyRetryBody() {
        let plain = MarketDataWire.getChartBody(
            symbol: "NQZ5", minutes: 5, closestTimestamp: Self.closest, asFarAsTimestamp: nil, asMuchAsElements: 10)
        let retry = MarketDataWire.getChartBody(
            symbol: "NQZ5", minutes: 5, closestTimestamp: Self.closest, asFarAsTimestamp: nil, asMuchAsElements: 10,
            penaltyTicket: "abc")
        #expect(retry == String(plain.dropLast()) + #","p-ticket":"abc"}"#)
    }

    @Test("cancelChart body (§5.6)")
    func cancelChart() throws {
        #expect(MarketDataWire.cancelChartBody(subscriptionId: 31) == #"{"subscriptionId":31}"#)
        #expect(try object(MarketDataWire.cancelChartBody(subscriptionId: 54_101))["subscriptionId"] as? Int == 54_101)
    }
}
