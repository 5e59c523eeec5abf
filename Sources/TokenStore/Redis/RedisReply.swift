package import CHiredis

/// One RESP2 reply from a Redis server.
///
/// Bulk strings are kept as raw bytes because Redis values are binary-safe; use ``stringValue`` for text.
/// ``description`` shows the shape of bulk payloads (their length), not their content, so replies carrying
/// tokens can be logged without leaking them.
public enum RedisReply: Sendable, Hashable, CustomStringConvertible {
    /// A simple string such as `OK` or `PONG` (`+OK`).
    case status(String)
    /// An error reply (`-ERR ...`). `RedisConnection.command(_:)` throws top-level error replies as
    /// `serverError`; this case appears inside arrays (for example the result of `EXEC`)
    /// and from the package's RESP decoder.
    case error(String)
    /// An integer (`:42`).
    case integer(Int64)
    /// A bulk string (`$3\r\nfoo`), binary-safe.
    case bulk([UInt8])
    /// The null bulk string or null array (`$-1`, `*-1`), e.g. `GET` of a missing key.
    case null
    /// An array (`*2 ...`), e.g. the result of `MGET` or `EXEC`.
    case array([RedisReply])

    /// The text of a bulk string (if it is valid UTF-8) or of a status reply; `nil` otherwise.
    public var stringValue: String? {
        switch self {
        case .bulk(let bytes): String(validating: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    /// The bytes of a bulk string, or of a status reply's text; `nil` otherwise.
    public var bytesValue: [UInt8]? {
        switch self {
        case .bulk(let bytes): bytes
        case .status(let text): Array(text.utf8)
        default: nil
        }
    }

    /// The value of an integer reply, or of a bulk string holding a decimal integer (such as `GET` of a key
    /// maintained with `INCR`); `nil` otherwise.
    public var integerValue: Int64? {
        switch self {
        case .integer(let value): value
        case .bulk: stringValue.flatMap { Int64($0) }
        default: nil
        }
    }

    /// The elements of an array reply; `nil` otherwise.
    public var arrayValue: [RedisReply]? {
        if case .array(let elements) = self { elements } else { nil }
    }

    /// `true` for ``null``.
    public var isNull: Bool { self == .null }

    public var description: String {
        switch self {
        case .status(let text): "status(\(text))"
        case .error(let text): "error(\(text))"
        case .integer(let value): "integer(\(value))"
        case .bulk(let bytes): "bulk(\(bytes.count) bytes)"
        case .null: "null"
        case .array(let elements): "array[\(elements.map(\.description).joined(separator: ", "))]"
        }
    }

    /// Copies a hiredis reply tree into Swift values. Does not free `reply`.
    /// - Throws: `protocolError` for reply types outside RESP2.
    package init(copying reply: UnsafePointer<redisReply>) throws {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STATUS:
            self = .status(Self.text(node.str, node.len))
        case REDIS_REPLY_ERROR:
            self = .error(Self.text(node.str, node.len))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(node.integer))
        case REDIS_REPLY_STRING:
            self = .bulk(Self.bytes(node.str, node.len))
        case REDIS_REPLY_NIL:
            self = .null
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(node.elements)
            for index in 0..<node.elements {
                guard let element = node.element?[index] else {
                    throw RedisError(.protocolError, "array reply has a missing element at index \(index)")
                }
                elements.append(try RedisReply(copying: element))
            }
            self = .array(elements)
        default:
            throw RedisError(.protocolError, "unsupported reply type \(node.type) (only RESP2 is spoken)")
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ count: Int) -> [UInt8] {
        guard let pointer, count > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: count) {
            Array(UnsafeBufferPointer(start: $0, count: count))
        }
    }

    private static func text(_ pointer: UnsafeMutablePointer<CChar>?, _ count: Int) -> String {
        String(decoding: bytes(pointer, count), as: UTF8.self)
    }
}

/// An incremental RESP2 parser (hiredis's `redisReader`), for transports that move the bytes themselves
/// (a TLS transport, tests). Feed received bytes in any split; take complete replies with ``next()``.
///
/// Not thread-safe: use from one thread or task at a time.
package final class RESPReplyDecoder {
    private let reader: UnsafeMutablePointer<redisReader>

    /// Creates an empty decoder.
    package init() {
        guard let reader = redisReaderCreate() else {
            fatalError("redisReaderCreate failed: out of memory")
        }
        self.reader = reader
    }

    deinit {
        redisReaderFree(reader)
    }

    /// Appends received bytes.
    /// - Throws: `protocolError` if the reader is in an error state.
    package func feed(_ bytes: [UInt8]) throws {
        let result = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { redisReaderFeed(reader, $0.baseAddress, $0.count) }
        }
        if result != REDIS_OK {
            throw RedisError(.protocolError, readerError())
        }
    }

    /// Returns the next complete reply, or `nil` if more bytes are needed.
    /// - Throws: `protocolError` for malformed input; the decoder is unusable afterwards.
    package func next() throws -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else {
            throw RedisError(.protocolError, readerError())
        }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return try RedisReply(copying: raw.assumingMemoryBound(to: redisReply.self))
    }

    private func readerError() -> String {
        let text = hiredisErrorString(&reader.pointee.errstr)
        return text.isEmpty ? "malformed RESP data" : text
    }
}

/// RESP2 encoding of commands (hiredis's `redisFormatCommandArgv`), for transports that move the bytes themselves.
package enum RESPCommandEncoder {
    /// Encodes one command as a RESP array of bulk strings.
    package static func encode(_ arguments: [[UInt8]]) -> [UInt8] {
        withArgv(arguments) { argc, argv, lengths in
            var target: UnsafeMutablePointer<CChar>?
            let length = redisFormatCommandArgv(&target, argc, argv, lengths)
            guard length >= 0, let target else {
                fatalError("redisFormatCommandArgv failed: out of memory")
            }
            defer { redisFreeCommand(target) }
            return target.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
                Array(UnsafeBufferPointer(start: $0, count: Int(length)))
            }
        }
    }
}

/// Calls `body` with hiredis-style `argc`/`argv`/`argvlen` for `arguments`, valid only during the call.
package func withArgv<Result>(
    _ arguments: [[UInt8]],
    _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) throws -> Result
) rethrows -> Result {
    // One contiguous buffer holds every argument; a trailing byte keeps it non-empty so the base address exists.
    var storage: [UInt8] = []
    storage.reserveCapacity(arguments.reduce(1) { $0 + $1.count })
    var offsets: [Int] = []
    var lengths: [Int] = []
    offsets.reserveCapacity(arguments.count)
    lengths.reserveCapacity(arguments.count)
    for argument in arguments {
        offsets.append(storage.count)
        lengths.append(argument.count)
        storage.append(contentsOf: argument)
    }
    storage.append(0)
    return try storage.withUnsafeBufferPointer { buffer in
        let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
        var argv: [UnsafePointer<CChar>?] = offsets.map { base + $0 }
        return try argv.withUnsafeMutableBufferPointer { argvBuffer in
            try lengths.withUnsafeBufferPointer { lengthBuffer in
                try body(Int32(arguments.count), argvBuffer.baseAddress!, lengthBuffer.baseAddress!)
            }
        }
    }
}

/// Reads a fixed-size `char[N]` error buffer (imported as a tuple) up to its NUL terminator.
package func hiredisErrorString<Tuple>(_ buffer: inout Tuple) -> String {
    withUnsafeBytes(of: &buffer) { raw in
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}
