public import Collectors
public import ServiceLifecycle

/// Runs a `BufferedCandleSink`'s drain loop as a `Service`: on graceful shutdown it closes the buffer, which drains
/// what the backend takes, moves the rest to the spill file and closes the backend — so nothing acknowledged is lost.
public struct BufferService: Service {
    /// The buffer.
    public let buffer: BufferedCandleSink

    /// Wraps `buffer`.
    public init(_ buffer: BufferedCandleSink) { self.buffer = buffer }

    public func run() async throws {
        // The drain loop stops when cancelled: graceful shutdown cancels it, then closing drains or spills the rest.
        let buffer = buffer
        await cancelWhenGracefulShutdown { await buffer.run() }
        try await buffer.close()
    }
}
