import Testing

@testable import TokenStore

@Suite("RESP reply mapping (hiredis reader)")
struct RESPReplyTests {
    private func decode(_ text: String) throws -> [RedisReply] {
        try decode(Array(text.utf8))
    }

    private func decode(_ bytes: [UInt8]) throws -> [RedisReply] {
        let decoder = RESPReplyDecoder()
        try decoder.feed(bytes)
        var replies: [RedisReply] = []
        while let reply = try decoder.next() {
            replies.append(reply)
        }
        return replies
    }

    @Test("scalar types map to the matching cases")
    func scalars() throws {
        let replies = try decode("+OK\r\n-ERR unknown command 'FOO'\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n")
        #expect(
            replies == [
                .status("OK"), .error("ERR unknown command 'FOO'"), .integer(42), .integer(-7),
                .bulk(Array("hello".utf8)), .bulk([]), .null,
            ])
        #expect(replies[0].stringValue == "OK")
        #expect(replies[2].integerValue == 42)
        #expect(replies[4].stringValue == "hello")
        #expect(replies[6].isNull)
    }

    @Test("bulk strings are binary-safe")
    func binaryBulk() throws {
        let payload: [UInt8] = [0x00, 0x0D, 0x0A, 0xFF, 0x24]
        let replies = try decode(Array("$5\r\n".utf8) + payload + Array("\r\n".utf8))
        #expect(replies == [.bulk(payload)])
        #expect(replies[0].bytesValue == payload)
        #expect(replies[0].stringValue == nil)  // Not valid UTF-8.
        #expect(replies[0].description == "bulk(5 bytes)")
    }

    @Test("arrays nest, and null arrays map to null")
    func arrays() throws {
        let replies = try decode("*3\r\n$3\r\nfoo\r\n*2\r\n:1\r\n$-1\r\n-WRONGTYPE oops\r\n*-1\r\n*0\r\n")
        #expect(
            replies == [
                .array([.bulk(Array("foo".utf8)), .array([.integer(1), .null]), .error("WRONGTYPE oops")]),
                .null,
                .array([]),
            ])
        #expect(replies[0].arrayValue?.count == 3)
    }

    @Test("partial frames wait for more bytes")
    func partialFrames() throws {
        let decoder = RESPReplyDecoder()
        try decoder.feed(Array("*2\r\n$3\r\nab".utf8))
        #expect(try decoder.next() == nil)
        try decoder.feed(Array("c\r\n:9".utf8))
        #expect(try decoder.next() == nil)
        try decoder.feed(Array("\r\n".utf8))
        #expect(try decoder.next() == .array([.bulk(Array("abc".utf8)), .integer(9)]))
        #expect(try decoder.next() == nil)
    }

    @Test("garbage is a protocolError")
    func garbage() throws {
        let decoder = RESPReplyDecoder()
        try decoder.feed(Array("HTTP/1.1 200 OK\r\n".utf8))
        #expect {
            try decoder.next()
        } throws: { error in
            (error as? RedisError)?.code == .protocolError
        }
    }

    @Test("descriptions show shape, not bulk content")
    func descriptions() {
        let reply = RedisReply.array([.status("OK"), .bulk(Array("secret-token".utf8)), .integer(3), .null])
        #expect(reply.description == "array[status(OK), bulk(12 bytes), integer(3), null]")
    }

    @Test("integerValue parses decimal bulk strings")
    func integerFromBulk() {
        #expect(RedisReply.bulk(Array("123".utf8)).integerValue == 123)
        #expect(RedisReply.bulk(Array("1.5".utf8)).integerValue == nil)
        #expect(RedisReply.status("OK").integerValue == nil)
    }

    @Test("commands encode as RESP arrays of bulk strings")
    func encoder() {
        let encoded = RESPCommandEncoder.encode([Array("SET".utf8), Array("k".utf8), [0x00, 0x0A]])
        #expect(encoded == Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n".utf8) + [0x00, 0x0A] + Array("\r\n".utf8))
        #expect(RESPCommandEncoder.encode([Array("PING".utf8), []]) == Array("*2\r\n$4\r\nPING\r\n$0\r\n\r\n".utf8))
    }
}
