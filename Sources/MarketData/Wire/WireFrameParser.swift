internal import Collectors
/// Decodes frames and their messages with a ``WireScanner``. Chart packets are read straight into ``ChartBar`` values
/// in one pass; nothing builds a generic JSON tree.
extension WireScanner {
    /// The kind of an event message.
    enum EventKind: Equatable {
        case chart, shutdown
        case other(String)

        init(_ name: String) {
            switch name {
            case "chart": self = .chart
            case "shutdown": self = .shutdown
            default: self = .other(name)
            }
        }
    }

    /// Decodes the whole frame (the scanner is at byte 0).
    mutating func parseFrame() throws(MarketDataProtocolError) -> MarketDataFrame {
        guard count > 0 else {
            throw MarketDataProtocolError(
                .emptyFrame, offset: 0, "empty text message: expected a frame type o, h, a or c")
        }
        let type = base[0]
        pos = 1
        let frame: MarketDataFrame
        switch type {
        case UInt8(ascii: "o"):
            frame = .open
        case UInt8(ascii: "h"):
            frame = .heartbeat
        case UInt8(ascii: "a"):
            skipWhitespace()
            guard peek() == ASCII.openBracket else { throw unexpected("'[' after frame type 'a'") }
            var messages: [MarketDataMessage] = []
            if try beginArray() {
                repeat {
                    messages.append(try parseMessage())
                } while try nextElement()
            }
            frame = .messages(messages)
        case UInt8(ascii: "c"):
            try expect(ASCII.openBracket, "'[' after frame type 'c'")
            skipWhitespace()
            let code = try readInt("the close code")
            try expect(ASCII.comma, "',' after the close code")
            skipWhitespace()
            let reason = try readString()
            try expect(ASCII.closeBracket, "']' after the close reason")
            frame = .close(code: code, reason: reason)
        default:
            throw fail(.unknownFrameType, "unknown frame type: expected o, h, a or c as the first byte", at: 0)
        }
        guard atEnd() else { throw fail(.malformedJSON, "unexpected bytes after the end of the frame") }
        return frame
    }

    /// Decodes one element of an `a[...]` frame.
    mutating func parseMessage() throws(MarketDataProtocolError) -> MarketDataMessage {
        skipWhitespace()
        let messageStart = pos
        guard peek() == ASCII.openBrace else { throw shapeError("a message must be a JSON object") }
        var kind: EventKind?
        var id: Int?
        var status: Int?
        var payloadStart: Int?
        var parsedKind: EventKind?
        var parsed: MarketDataMessage?
        if try beginObject() {
            repeat {
                switch try readKey() {
                case .e:
                    kind = EventKind(try readString())
                case .i:
                    id = try readInt("response id 'i'")
                case .s:
                    status = try readInt("response status 's'")
                case .d:
                    payloadStart = pos
                    if let known = kind {
                        // The kind is known: decode the payload now, in one pass.
                        parsed = try parseEventPayload(known)
                        parsedKind = known
                    } else {
                        try skipValue()
                        parsed = nil
                        parsedKind = nil
                    }
                default:
                    try skipValue()
                }
            } while try nextMember()
        }
        if let kind {
            if let parsed, parsedKind == kind { return parsed }
            guard let payloadStart else {
                if case .other(let name) = kind { return .event(kind: name) }
                throw fail(
                    .unexpectedShape, "a \(kind == .chart ? "chart" : "shutdown") event has no 'd'", at: messageStart)
            }
            var rescan = self
            rescan.pos = payloadStart
            return try rescan.parseEventPayload(kind)
        }
        guard let id else {
            throw fail(.unexpectedShape, "a message has neither 'e' (event) nor 'i' (response)", at: messageStart)
        }
        guard let status else {
            throw fail(.unexpectedShape, "response \(id) has no status 's'", at: messageStart)
        }
        var payload = MarketDataPayload.none
        if let payloadStart {
            var rescan = self
            rescan.pos = payloadStart
            payload = try rescan.parseResponsePayload()
        }
        return .response(MarketDataResponse(id: id, status: status, payload: payload))
    }

    /// Decodes an event's `d` (the scanner is at the value).
    mutating func parseEventPayload(_ kind: EventKind) throws(MarketDataProtocolError) -> MarketDataMessage {
        switch kind {
        case .chart:
            return .chart(try parseChartPayload())
        case .shutdown:
            guard peek() == ASCII.openBrace else { throw shapeError("a shutdown event's 'd' must be an object") }
            let start = pos
            var reasonCode: String?
            var reason: String?
            if try beginObject() {
                repeat {
                    switch try readKey() {
                    case .reasonCode: reasonCode = try readString()
                    case .reason: reason = try consumeNull() ? nil : try readString()
                    default: try skipValue()
                    }
                } while try nextMember()
            }
            guard let reasonCode else {
                throw fail(.unexpectedShape, "a shutdown event has no 'reasonCode'", at: start)
            }
            return .shutdown(reasonCode: reasonCode, reason: reason)
        case .other(let name):
            try skipValue()
            return .event(kind: name)
        }
    }

    /// Decodes `{"charts":[...]}`.
    mutating func parseChartPayload() throws(MarketDataProtocolError) -> [ChartPacket] {
        guard peek() == ASCII.openBrace else { throw shapeError("a chart event's 'd' must be an object") }
        let start = pos
        var packets: [ChartPacket]?
        if try beginObject() {
            repeat {
                switch try readKey() {
                case .charts:
                    guard peek() == ASCII.openBracket else { throw shapeError("'charts' must be an array") }
                    var list: [ChartPacket] = []
                    if try beginArray() {
                        repeat {
                            list.append(try parsePacket())
                        } while try nextElement()
                    }
                    packets = list
                default:
                    try skipValue()
                }
            } while try nextMember()
        }
        guard let packets else { throw fail(.unexpectedShape, "a chart event has no 'charts' array", at: start) }
        return packets
    }

    /// Decodes one item of `charts`.
    mutating func parsePacket() throws(MarketDataProtocolError) -> ChartPacket {
        guard peek() == ASCII.openBrace else { throw shapeError("a chart item must be an object") }
        let start = pos
        var id: Int?
        var tradeDate: Int?
        var bars: [ChartBar] = []
        var endOfHistory = false
        if try beginObject() {
            repeat {
                switch try readKey() {
                case .id:
                    id = try readInt("chart item 'id'")
                case .td:
                    tradeDate = try consumeNull() ? nil : try readInt("chart item 'td'")
                case .eoh:
                    endOfHistory = try consumeNull() ? false : try readBool("chart item 'eoh'")
                case .bars:
                    bars.removeAll(keepingCapacity: true)
                    if try consumeNull() { break }
                    guard peek() == ASCII.openBracket else { throw shapeError("'bars' must be an array") }
                    if try beginArray() {
                        repeat {
                            bars.append(try parseBar())
                        } while try nextElement()
                    }
                default:
                    try skipValue()
                }
            } while try nextMember()
        }
        guard let id else { throw fail(.unexpectedShape, "a chart item has no 'id'", at: start) }
        return ChartPacket(id: id, tradeDate: tradeDate, bars: bars, endOfHistory: endOfHistory)
    }

    /// Decodes one bar object.
    @inline(__always)
    mutating func parseBar() throws(MarketDataProtocolError) -> ChartBar {
        guard peek() == ASCII.openBrace else { throw shapeError("a bar must be an object") }
        let start = pos
        var bar = ChartBar(startMilliseconds: 0, open: 0, high: 0, low: 0, close: 0)
        // Bits: timestamp 1, open 2, high 4, low 8, close 16.
        var required = 0
        if try beginObject() {
            repeat {
                switch try readKey() {
                case .timestamp:
                    bar.startMilliseconds = try readTimestamp("bar 'timestamp'")
                    required |= 1
                case .open:
                    bar.open = try readDouble("bar 'open'")
                    required |= 2
                case .high:
                    bar.high = try readDouble("bar 'high'")
                    required |= 4
                case .low:
                    bar.low = try readDouble("bar 'low'")
                    required |= 8
                case .close:
                    bar.close = try readDouble("bar 'close'")
                    required |= 16
                case .upVolume:
                    bar.upVolume = try consumeNull() ? 0 : try readInt64("bar 'upVolume'")
                case .downVolume:
                    bar.downVolume = try consumeNull() ? 0 : try readInt64("bar 'downVolume'")
                case .upTicks:
                    bar.upTicks = try consumeNull() ? 0 : try readInt64("bar 'upTicks'")
                case .downTicks:
                    bar.downTicks = try consumeNull() ? 0 : try readInt64("bar 'downTicks'")
                case .bidVolume:
                    bar.bidVolume = try consumeNull() ? nil : try readInt64("bar 'bidVolume'")
                case .offerVolume:
                    bar.offerVolume = try consumeNull() ? nil : try readInt64("bar 'offerVolume'")
                default:
                    try skipValue()
                }
            } while try nextMember()
        }
        if required != 31 { throw missingBarField(required, at: start) }
        return bar
    }

    @inline(never)
    private func missingBarField(_ required: Int, at start: Int) -> MarketDataProtocolError {
        let names = ["timestamp", "open", "high", "low", "close"]
        let missing = names.indices.filter { required & (1 << $0) == 0 }.map { "'\(names[$0])'" }
        return fail(.unexpectedShape, "a bar has no \(missing.joined(separator: ", "))", at: start)
    }

    /// Decodes a response's `d` (the scanner is at the value, already checked to be valid JSON).
    mutating func parseResponsePayload() throws(MarketDataProtocolError) -> MarketDataPayload {
        let start = pos
        switch peek() {
        case UInt8(ascii: "n"):
            try literal("null")
            return .none
        case ASCII.quote:
            return .text(try readString())
        case ASCII.openBrace:
            break
        default:
            try skipValue()
            return .json(try compactJSON(from: start, to: pos))
        }
        var ticket: String?
        var seconds: Double?
        var captcha = false
        var subscription = ChartSubscription()
        var isSubscription = false
        if try beginObject() {
            repeat {
                switch try readKey() {
                case .pTicket:
                    ticket = try readString()
                case .pTime:
                    seconds = try readDouble("'p-time'")
                case .pCaptcha:
                    captcha = try consumeNull() ? false : try readBool("'p-captcha'")
                case .historicalId:
                    isSubscription = true
                    subscription.historicalId = try consumeNull() ? nil : try readInt("'historicalId'")
                case .realtimeId:
                    isSubscription = true
                    subscription.realtimeId = try consumeNull() ? nil : try readInt("'realtimeId'")
                case .errorCode:
                    isSubscription = true
                    subscription.errorCode = try consumeNull() ? nil : try readString()
                case .errorText:
                    isSubscription = true
                    subscription.errorText = try consumeNull() ? nil : try readString()
                case .mode:
                    isSubscription = true
                    subscription.mode = try consumeNull() ? nil : try readString()
                default:
                    try skipValue()
                }
            } while try nextMember()
        }
        if let ticket {
            guard let seconds else { throw fail(.unexpectedShape, "a penalty ticket has no 'p-time'", at: start) }
            return .penalty(PenaltyTicket(ticket: ticket, seconds: seconds, captcha: captcha))
        }
        if isSubscription { return .chartSubscription(subscription) }
        return .json(try compactJSON(from: start, to: pos))
    }

    /// The valid JSON in `[from, to)` without whitespace outside strings.
    func compactJSON(from: Int, to: Int) throws(MarketDataProtocolError) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(to - from)
        var inString = false
        var k = from
        while k < to {
            let c = base[k]
            if inString {
                bytes.append(c)
                if c == ASCII.backslash, k + 1 < to {
                    bytes.append(base[k + 1])
                    k += 1
                } else if c == ASCII.quote {
                    inString = false
                }
            } else if c == ASCII.quote {
                inString = true
                bytes.append(c)
            } else if !(c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09) {
                bytes.append(c)
            }
            k += 1
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw fail(.malformedJSON, "a response payload is not valid UTF-8", at: from)
        }
        return text
    }
}
