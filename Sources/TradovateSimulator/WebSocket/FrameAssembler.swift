/// Groups the writer's pending items into wire frames per the batching setting (pure).
struct FrameAssembler: Sendable {
    /// One frame (or socket operation) for the writer.
    enum WireAction: Sendable, Hashable {
        case text([UInt8], isServerHeartbeat: Bool)
        case pong([UInt8])
        case close(code: Int, reason: String)
        case acknowledgeClose
        case drop
    }

    let batching: SimulatorConfiguration.WebSocket.Batching
    let maxFrameBytes: Int

    init(_ settings: SimulatorConfiguration.WebSocket) {
        self.batching = settings.batching
        self.maxFrameBytes = settings.maxFrameBytes
    }

    func messageSize(_ message: OutboundMessage) -> Int {
        switch message {
        case .json(let text): return text.utf8.count
        case .chart(let items): return items.reduce(32) { $0 + $1.count + 1 }
        }
    }

    func frameBytes(_ messages: [OutboundMessage]) -> [UInt8] {
        var bytes: [UInt8] = [97, 91]  // a[
        bytes.reserveCapacity(messages.reduce(4) { $0 + messageSize($1) + 1 })
        for (i, message) in messages.enumerated() {
            if i > 0 { bytes.append(44) }
            switch message {
            case .json(let text):
                bytes.append(contentsOf: text.utf8)
            case .chart(let items):
                bytes.append(contentsOf: Array("{\"e\":\"chart\",\"d\":{\"charts\":[".utf8))
                for (j, item) in items.enumerated() {
                    if j > 0 { bytes.append(44) }
                    bytes.append(contentsOf: item)
                }
                bytes.append(contentsOf: [93, 125, 125])  // ]}}
            }
        }
        bytes.append(93)
        return bytes
    }

    /// Groups pending items into wire frames per the batching setting.
    func assemble(_ items: [OutboundItem]) -> [WireAction] {
        var actions: [WireAction] = []
        var pending: [OutboundMessage] = []
        var pendingBytes = 0
        func flush() {
            if !pending.isEmpty { actions.append(.text(frameBytes(pending), isServerHeartbeat: false)) }
            pending.removeAll()
            pendingBytes = 0
        }
        for item in items {
            switch item {
            case .messages(let messages):
                for message in messages {
                    let size = messageSize(message)
                    switch batching {
                    case .separateFrames:
                        actions.append(.text(frameBytes([message]), isServerHeartbeat: false))
                    case .messagesInOneFrame:
                        if pendingBytes + size > maxFrameBytes { flush() }
                        pending.append(message)
                        pendingBytes += size
                    case .chartsInOneEvent:
                        if pendingBytes + size > maxFrameBytes { flush() }
                        if case .chart(let items) = message, case .chart(let previous)? = pending.last {
                            pending[pending.count - 1] = .chart(previous + items)
                        } else {
                            pending.append(message)
                        }
                        pendingBytes += size
                    }
                }
            case .open:
                flush()
                actions.append(.text([111], isServerHeartbeat: false))
            case .heartbeat:
                flush()
                actions.append(.text([104], isServerHeartbeat: true))
            case .raw(let text):
                flush()
                actions.append(.text(Array(text.utf8), isServerHeartbeat: false))
            case .pong(let data):
                flush()
                actions.append(.pong(data))
            case .close(let code, let reason):
                flush()
                actions.append(.close(code: code, reason: reason))
            case .acknowledgeClose:
                flush()
                actions.append(.acknowledgeClose)
            case .drop:
                flush()
                actions.append(.drop)
            }
        }
        flush()
        return actions
    }
}
