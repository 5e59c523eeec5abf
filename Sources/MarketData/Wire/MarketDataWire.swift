internal import CandleCore
public import Foundation

/// The Tradovate market-data WebSocket codec: decodes server frames (protocol §4.1, §4.5, §5.2, §5.3) and encodes
/// client requests (§4.2–4.4, §5.1, §5.6). Pure functions, no I/O.
///
/// Decoding is a hand-written single-pass scanner over the frame's UTF-8 bytes: chart bars go straight from bytes to
/// ``ChartBar`` values (prices with an exact short-decimal fast path, timestamps without `DateFormatter`). It never
/// traps on any input: malformed input throws ``MarketDataProtocolError``.
public enum MarketDataWire {
    /// Parses one WebSocket text message.
    ///
    /// - Throws: ``MarketDataProtocolError`` when the text is not a valid frame.
    public static func parse(_ text: String) throws(MarketDataProtocolError) -> MarketDataFrame {
        var text = text
        let result = text.withUTF8 { buffer -> Result<MarketDataFrame, MarketDataProtocolError> in
            Result { () throws(MarketDataProtocolError) -> MarketDataFrame in
                try parse(utf8: UnsafeRawBufferPointer(buffer))
            }
        }
        return try result.get()
    }

    /// Parses one WebSocket text message given as raw UTF-8 bytes (e.g. a NIO `ByteBuffer`'s readable bytes).
    ///
    /// - Throws: ``MarketDataProtocolError`` when the bytes are not a valid frame (including invalid UTF-8 inside a
    ///   string that is decoded).
    public static func parse(utf8 bytes: UnsafeRawBufferPointer) throws(MarketDataProtocolError) -> MarketDataFrame {
        guard let address = bytes.baseAddress, bytes.count > 0 else {
            throw MarketDataProtocolError(
                .emptyFrame, offset: 0, "empty text message: expected a frame type o, h, a or c")
        }
        var scanner = WireScanner(base: address.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        return try scanner.parseFrame()
    }

    /// The client heartbeat text, `[]` (send it every ~2.5 s, protocol §4.4).
    public static let heartbeat = "[]"

    /// A request: `endpoint\nid\nquery\nbody`, every separator present even when a field is empty (protocol §4.2).
    /// `endpoint` has no leading slash (`md/getChart`); `query` has no `?`.
    public static func request(endpoint: String, id: Int, query: String = "", body: String = "") -> String {
        "\(endpoint)\n\(id)\n\(query)\n\(body)"
    }

    /// The authorization request, `authorize\nid\n\n<raw token>`: the token is sent as is, never JSON-quoted
    /// (protocol §4.3).
    public static func authorize(id: Int, token: String) -> String {
        request(endpoint: "authorize", id: id, body: token)
    }

    /// The JSON body of `md/getChart` for a `MinuteBar` chart of `minutes` minutes per bar (protocol §5.1):
    ///
    /// ```json
    /// {"symbol":"NQZ5","chartDescription":{"underlyingType":"MinuteBar","elementSize":5,
    ///  "elementSizeUnit":"UnderlyingUnits","withHistogram":false},
    ///  "timeRange":{"closestTimestamp":"2025-12-05T15:00:00.000Z","asMuchAsElements":500}}
    /// ```
    ///
    /// The protocol needs at least one time-range field; with none, `timeRange` is `{}` and the server refuses the
    /// request. Timestamps are ISO-8601 UTC with milliseconds (rounded to the nearest millisecond). A non-nil
    /// `penaltyTicket` adds `"p-ticket"` (protocol §3.2: resend the identical body with the ticket).
    public static func getChartBody(
        symbol: String, minutes: Int, closestTimestamp: Date?, asFarAsTimestamp: Date?, asMuchAsElements: Int?,
        penaltyTicket: String? = nil
    ) -> String {
        var range: [String] = []
        if let closestTimestamp {
            range.append("\"closestTimestamp\":\"\(isoTimestamp(closestTimestamp))\"")
        }
        if let asFarAsTimestamp {
            range.append("\"asFarAsTimestamp\":\"\(isoTimestamp(asFarAsTimestamp))\"")
        }
        if let asMuchAsElements {
            range.append("\"asMuchAsElements\":\(asMuchAsElements)")
        }
        var body =
            "{\"symbol\":\(JSONString.literal(symbol)),\"chartDescription\":{\"underlyingType\":\"MinuteBar\","
            + "\"elementSize\":\(minutes),\"elementSizeUnit\":\"UnderlyingUnits\",\"withHistogram\":false},"
            + "\"timeRange\":{\(range.joined(separator: ","))}"
        if let penaltyTicket {
            body += ",\"p-ticket\":\(JSONString.literal(penaltyTicket))"
        }
        return body + "}"
    }

    /// The JSON body of `md/cancelChart`: `{"subscriptionId":id}` (protocol §5.6).
    public static func cancelChartBody(subscriptionId: Int) -> String {
        "{\"subscriptionId\":\(subscriptionId)}"
    }

    /// `date` as `2017-04-13T11:00:00.000Z`.
    static func isoTimestamp(_ date: Date) -> String {
        let millis = (date.timeIntervalSince1970 * 1000).rounded()
        let clamped = min(max(millis, -62_135_596_800_000), 253_402_300_799_999)  // years 1 … 9999
        return WireTime.format(milliseconds: Int64(clamped))
    }
}
