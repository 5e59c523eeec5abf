import Foundation
import Testing

@testable import TokenStore

/// libcurl against real sockets on 127.0.0.1: a tiny in-process server (``LoopbackServer``) or a closed port.
@Suite("CurlHTTPClient")
struct CurlHTTPClientTests {
    private let token = "Bearer tok-5ecret-never-logged"

    @Test("GET sends headers and returns status, headers and body")
    func get() async throws {
        let server = try LoopbackServer(
            .http(
                response: LoopbackServer.httpResponse(
                    status: 200, reason: "OK",
                    headers: [("Content-Type", "application/json"), ("X-Trace", "a"), ("x-trace", "b")],
                    body: #"{"ok":true}"#)))
        defer { server.stop() }
        let client = CurlHTTPClient()
        let response = try await client.get(
            "http://127.0.0.1:\(server.port)/v1/time?symbol=BTC",
            headers: ["Authorization": token, "Accept": "application/json", "X-Empty": ""])
        #expect(response.status == 200)
        #expect(response.isSuccess)
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.headers.values(for: "X-TRACE") == ["a", "b"])
        #expect(response.bodyText == #"{"ok":true}"#)

        let request = server.firstRequestText
        #expect(request.hasPrefix("GET /v1/time?symbol=BTC HTTP/1.1\r\n"))
        #expect(request.contains("\r\nAuthorization: \(token)\r\n"))
        #expect(request.contains("\r\nAccept: application/json\r\n"))
        #expect(request.contains("\r\nX-Empty:\r\n") || request.contains("\r\nX-Empty: \r\n"))
        #expect(request.contains("\r\nUser-Agent: orca\r\n"))
    }

    @Test("POST sends the body; error statuses are responses, not errors")
    func post() async throws {
        let server = try LoopbackServer(
            .http(response: LoopbackServer.httpResponse(status: 418, reason: "I'm a teapot", body: "short and stout")))
        defer { server.stop() }
        let client = CurlHTTPClient()
        let body = Data(#"{"symbol":"ETHUSDT","interval":"1m"}"#.utf8)
        let response = try await client.post(
            "http://127.0.0.1:\(server.port)/api", headers: ["Content-Type": "application/json"], body: body)
        #expect(response.status == 418)
        #expect(!response.isSuccess)
        #expect(response.bodyText == "short and stout")
        let request = server.firstRequestText
        #expect(request.hasPrefix("POST /api HTTP/1.1\r\n"))
        #expect(request.contains("\r\nContent-Length: \(body.count)\r\n"))
        #expect(request.hasSuffix("\r\n\r\n" + #"{"symbol":"ETHUSDT","interval":"1m"}"#))
        #expect(!request.contains("Expect:"))
    }

    @Test("POST with an empty body sends Content-Length: 0")
    func emptyPost() async throws {
        let server = try LoopbackServer(.http(response: LoopbackServer.httpResponse(status: 200, reason: "OK")))
        defer { server.stop() }
        let client = CurlHTTPClient()
        let response = try await client.post("http://127.0.0.1:\(server.port)/empty", body: Data())
        #expect(response.status == 200)
        #expect(server.firstRequestText.hasPrefix("POST /empty HTTP/1.1\r\n"))
        #expect(server.firstRequestText.contains("\r\nContent-Length: 0\r\n"))
        #expect(server.firstRequestText.hasSuffix("\r\n\r\n"))
    }

    @Test("other methods with a body use the custom method")
    func putWithBody() async throws {
        let server = try LoopbackServer(.http(response: LoopbackServer.httpResponse(status: 204, reason: "No Content")))
        defer { server.stop() }
        let client = CurlHTTPClient()
        let response = try await client.send(
            .init(method: .put, url: "http://127.0.0.1:\(server.port)/k", body: Data("v".utf8)))
        #expect(response.status == 204)
        #expect(response.body.isEmpty)
        #expect(server.firstRequestText.hasPrefix("PUT /k HTTP/1.1\r\n"))
        #expect(server.firstRequestText.hasSuffix("\r\n\r\nv"))
    }

    @Test("a closed loopback port gives connectionRefused without secrets")
    func connectionRefused() async throws {
        let closed = try ClosedPort()
        let client = CurlHTTPClient()
        await #expect {
            try await client.get(
                "http://user:pa55word@127.0.0.1:\(closed.port)/x?apiKey=query-secret", headers: ["Authorization": token]
            )
        } throws: { error in
            let error = error as? CurlHTTPError
            let text = error.map(String.init(describing:)) ?? ""
            return error?.code == .connectionRefused && !text.contains("tok-5ecret") && !text.contains("pa55word")
                && !text.contains("query-secret") && error?.curlCode == 7
        }
    }

    @Test("a server that never answers gives timeout")
    func timeout() async throws {
        let server = try LoopbackServer(.silent)
        defer { server.stop() }
        let client = CurlHTTPClient(configuration: .init(timeout: .milliseconds(300)))
        let started = ContinuousClock.now
        await #expect {
            try await client.get("http://127.0.0.1:\(server.port)/")
        } throws: { error in
            (error as? CurlHTTPError)?.code == .timeout
        }
        #expect(ContinuousClock.now - started < .seconds(15))  // 0.3 s timeout; generous for a loaded CI machine
    }

    @Test("a per-request timeout overrides the client's")
    func perRequestTimeout() async throws {
        let server = try LoopbackServer(.silent)
        defer { server.stop() }
        let client = CurlHTTPClient()  // 30 s default
        await #expect {
            try await client.send(.init(url: "http://127.0.0.1:\(server.port)/", timeout: .milliseconds(200)))
        } throws: { error in
            (error as? CurlHTTPError)?.code == .timeout
        }
    }

    @Test("a peer that is not HTTP gives protocolError")
    func notHTTP() async throws {
        let server = try LoopbackServer(.raw(bytes: Array("-ERR wrong number of arguments\r\n".utf8)))
        defer { server.stop() }
        let client = CurlHTTPClient()
        await #expect {
            try await client.get("http://127.0.0.1:\(server.port)/")
        } throws: { error in
            (error as? CurlHTTPError)?.code == .protocolError
        }
    }

    @Test("a peer that closes without replying gives connectionLost")
    func emptyReply() async throws {
        let server = try LoopbackServer(.raw(bytes: []))
        defer { server.stop() }
        let client = CurlHTTPClient()
        await #expect {
            try await client.get("http://127.0.0.1:\(server.port)/")
        } throws: { error in
            (error as? CurlHTTPError)?.code == .connectionLost
        }
    }

    @Test("bodies over the size limit give responseTooLarge")
    func tooLarge() async throws {
        let big = String(repeating: "x", count: 10_000)
        let server = try LoopbackServer(
            .http(response: LoopbackServer.httpResponse(status: 200, reason: "OK", body: big)))
        defer { server.stop() }
        let client = CurlHTTPClient(configuration: .init(maximumResponseSize: 1_000))
        await #expect {
            try await client.get("http://127.0.0.1:\(server.port)/")
        } throws: { error in
            (error as? CurlHTTPError)?.code == .responseTooLarge
        }
    }

    @Test(
        "invalid requests are rejected before sending",
        arguments: [
            CurlHTTPClient.Request(url: "http://127.0.0.1:1/", headers: ["X-Bad": "a\r\nInjected: 1"]),
            CurlHTTPClient.Request(url: "http://127.0.0.1:1/", headers: ["Bad Name": "v"]),
            CurlHTTPClient.Request(method: .get, url: "http://127.0.0.1:1/", body: Data("x".utf8)),
        ])
    func invalidRequest(_ request: CurlHTTPClient.Request) async {
        let client = CurlHTTPClient()
        await #expect {
            try await client.send(request)
        } throws: { error in
            (error as? CurlHTTPError)?.code == .invalidRequest
        }
    }

    @Test(
        "non-HTTP schemes and malformed URLs give invalidURL",
        arguments: ["ftp://127.0.0.1/x", "file:///etc/passwd", "http://[::1/"])
    func invalidURL(_ url: String) async {
        let client = CurlHTTPClient()
        await #expect {
            try await client.get(url)
        } throws: { error in
            (error as? CurlHTTPError)?.code == .invalidURL
        }
    }

    @Test("request and header descriptions mask secrets")
    func descriptions() {
        let request = CurlHTTPClient.Request(
            method: .post, url: "https://u:pw-secret@api.example/v1/order?signature=sig-secret",
            headers: [
                "Authorization": token, "X-MBX-APIKEY": "key-secret", "X-Session-Token": "sess-secret", "Accept": "*/*",
            ],
            body: Data("body-secret".utf8))
        let text = String(describing: request)
        for secret in ["tok-5ecret", "key-secret", "sess-secret", "pw-secret", "sig-secret", "body-secret"] {
            #expect(!text.contains(secret), "\(secret) leaked in \(text)")
        }
        #expect(text.contains("POST https://***@api.example/v1/order?…"))
        #expect(text.contains("Accept: */*"))
        #expect(text.contains("Authorization: ***"))
        #expect(text.contains("11 bytes"))
    }

    @Test("error messages scrub sensitive header values")
    func errorScrubbing() {
        let error = CurlHTTPError(.other, "server echoed Bearer abc", curlCode: 1, redacting: ["Bearer abc"])
        #expect(error.description == "CurlHTTPError.other: server echoed *** (curl code 1)")
    }

    @Test("one client runs requests one after another on its handle")
    func sequentialReuse() async throws {
        let server = try LoopbackServer(
            .http(response: LoopbackServer.httpResponse(status: 200, reason: "OK", body: "hi")))
        defer { server.stop() }
        let client = CurlHTTPClient()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<5 {
                group.addTask { try await client.get("http://127.0.0.1:\(server.port)/").status }
            }
            for try await status in group {
                #expect(status == 200)
            }
        }
        #expect(server.receivedRequests.count == 5)
    }
}
