import Foundation
import Testing
import TradovateSimulator

@Suite("Market-data WebSocket")
struct WebSocketTests {
    @Test("o on open; authorize with the raw md or access token; bad, expired or quoted tokens get 401")
    func authorize() async throws {
        try await Fixture.withSimulator({ $0.auth.tokenLifetime = .seconds(600) }) { sim in
            let grant = try sim.server.grantToken()
            let socket = try await TestSocket.connect(sim.server.webSocketURL)
            #expect(try await socket.nextFrame() == "o")
            try await socket.request("authorize", id: 1, body: "wrong")
            #expect(try await socket.nextFrame() == #"a[{"s":401,"i":1,"d":"Access is denied"}]"#)
            try await socket.request("authorize", id: 2, body: "\"\(grant.mdAccessToken!)\"")
            #expect(try await socket.nextFrame() == #"a[{"s":401,"i":2,"d":"Access is denied"}]"#)
            try await socket.request("authorize", id: 3, body: grant.mdAccessToken!)
            #expect(try await socket.nextFrame() == #"a[{"s":200,"i":3}]"#)
            try await socket.request("authorize", id: 4, body: grant.accessToken)
            #expect(try await socket.nextFrame() == #"a[{"s":200,"i":4}]"#)
            await socket.close()

            sim.clock.advance(by: 600)
            let late = try await TestSocket.connect(sim.server.webSocketURL)
            _ = try await late.nextFrame()
            try await late.request("authorize", id: 1, body: grant.accessToken)
            #expect(try await late.nextFrame() == #"a[{"s":401,"i":1,"d":"Access is denied"}]"#)
            await late.close()
            let stats = sim.server.stats.snapshot()
            #expect(stats.authorizationsSucceeded == 2 && stats.authorizationsFailed == 3)
            #expect(stats.expiredTokenUses.count == 1)
        }
        try await Fixture.withSimulator({
            $0.webSocket.acceptQuotedToken = true
            $0.webSocket.acceptedTokens = .mdAccessToken
        }) { sim in
            let grant = try sim.server.grantToken()
            let socket = try await TestSocket.connect(sim.server.webSocketURL)
            _ = try await socket.nextFrame()
            try await socket.request("authorize", id: 1, body: grant.accessToken)
            #expect(try await socket.nextFrame() == #"a[{"s":401,"i":1,"d":"Access is denied"}]"#)
            try await socket.request("authorize", id: 2, body: "\"\(grant.mdAccessToken!)\"")
            #expect(try await socket.nextFrame() == #"a[{"s":200,"i":2}]"#)
            await socket.close()
        }
    }

    @Test("requests before authorize get 401; unknown endpoints 404; malformed requests 400")
    func errors() async throws {
        try await Fixture.withSimulator { sim in
            let socket = try await TestSocket.connect(sim.server.webSocketURL)
            _ = try await socket.nextFrame()
            try await socket.request("md/getChart", id: 5, body: Fixture.chart("NQZ5", #""asMuchAsElements":5"#))
            #expect(try await socket.nextFrame() == #"a[{"s":401,"i":5,"d":"Access is denied"}]"#)
            try await socket.request("authorize", id: 6, body: try sim.server.grantToken().mdAccessToken!)
            _ = try await socket.nextFrame()
            try await socket.request("md/subscribeNothing", id: 7)
            #expect(try await socket.nextFrame() == #"a[{"s":404,"i":7,"d":"Not found: md/subscribeNothing"}]"#)
            try await socket.send("md/getChart\n8")
            let malformed = SimFrame(try #require(try await socket.nextFrame())).messages.first
            #expect(malformed?["s"]?.int == 400 && malformed?["i"]?.int == 8)
            let stats = sim.server.stats.snapshot()
            #expect(stats.webSocketNotFound == 1 && stats.malformedRequests == 1)
            await socket.close()
        }
    }

    @Test("[] heartbeats are counted per client; a silent socket is closed after the heartbeat timeout")
    func heartbeatTimeout() async throws {
        try await Fixture.withSimulator({ $0.webSocket.heartbeatTimeout = .seconds(30) }) { sim in
            let socket = try await sim.authorizedSocket()
            let other = try await sim.authorizedSocket()
            for _ in 0..<3 { try await socket.send("[]") }
            try await other.send("[]")
            try await socket.request("nothing", id: 9)
            _ = try await socket.nextFrame()
            sim.wall.advance(by: 29)
            try await other.send("[]")
            try await other.request("nothing", id: 10)
            _ = try await other.nextFrame()
            #expect(!socket.isClosed)
            sim.wall.advance(by: 2)
            let frames = try await socket.waitForClose()
            #expect(frames.last.map { if case .close(3001, _) = $0 { true } else { false } } == true)
            #expect(await Fixture.eventually { sim.server.stats.snapshot().openSockets == 1 })
            let stats = sim.server.stats.snapshot()
            let closed = try #require(stats.sockets.first { $0.closeReason == "heartbeatTimeout" })
            #expect(closed.heartbeatsReceived == 3)
            #expect(stats.heartbeatsReceived == 5)
            #expect(stats.heartbeatsBySocket.values.sorted() == [2, 3])
            #expect(stats.openSockets == 1)
            // The other socket heard from at wall +29 s is still alive.
            try await other.request("nothing", id: 11)
            #expect(SimFrame(try #require(try await other.nextFrame())).messages.first?["s"]?.int == 404)
            await other.close()
        }
    }

    @Test("a socket that never authorizes is closed after the authorization timeout")
    func authorizationTimeout() async throws {
        try await Fixture.withSimulator({
            $0.webSocket.authorizationTimeout = .seconds(10)
            $0.webSocket.heartbeatTimeout = nil
        }) { sim in
            let socket = try await TestSocket.connect(sim.server.webSocketURL)
            _ = try await socket.nextFrame()
            while sim.wall.sleeperCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
            sim.wall.advance(by: 10)
            let frames = try await socket.waitForClose()
            #expect(frames.contains { if case .close(3002, _) = $0 { true } else { false } })
        }
    }

    @Test("the server sends h when it has been idle for the heartbeat interval")
    func serverHeartbeat() async throws {
        try await Fixture.withSimulator({ $0.webSocket.serverHeartbeatInterval = .seconds(5) }) { sim in
            let socket = try await sim.authorizedSocket()
            sim.wall.advance(by: 5)
            #expect(try await socket.nextFrame() == "h")
            sim.wall.advance(by: 5)
            #expect(try await socket.nextFrame() == "h")
            #expect(await Fixture.eventually { sim.server.stats.snapshot().sockets.first?.serverHeartbeatsSent == 2 })
            await socket.close()
        }
    }

    @Test("auth/renewAccessToken works over the socket")
    func renewOverSocket() async throws {
        try await Fixture.withSimulator { sim in
            let socket = try await sim.authorizedSocket()
            try await socket.request("auth/renewaccesstoken", id: 3)
            let response = try await socket.messages(until: { $0["i"]?.int == 3 }).last
            #expect(response?["s"]?.int == 200)
            #expect(response?["d"]?["accessToken"]?.string != nil)
            #expect(sim.server.stats.snapshot().renewalsSucceeded == 1)
            await socket.close()
        }
    }

    @Test("at token expiry the socket closes (default), stays open, or goes silent")
    func tokenExpiry() async throws {
        try await Fixture.withSimulator({ $0.auth.tokenLifetime = .seconds(600) }) { sim in
            let socket = try await sim.authorizedSocket()
            sim.clock.advance(by: 500)
            // Re-authorizing with a fresh token moves the deadline.
            try await socket.request("authorize", id: 2, body: try sim.server.grantToken().mdAccessToken!)
            _ = try await socket.messages(until: { $0["i"]?.int == 2 })
            sim.clock.advance(by: 200)
            try await socket.request("nothing", id: 3)
            #expect(try await socket.messages(until: { $0["i"]?.int == 3 }).last?["s"]?.int == 404)
            sim.clock.advance(by: 400)
            let frames = try await socket.waitForClose()
            #expect(frames.contains { if case .close(3003, _) = $0 { true } else { false } })
        }
        try await Fixture.withSimulator({
            $0.auth.tokenLifetime = .seconds(600)
            $0.webSocket.tokenExpiry = .keepOpen
        }) { sim in
            let socket = try await sim.authorizedSocket()
            sim.clock.advance(by: 601)
            try await socket.request("nothing", id: 3)
            #expect(try await socket.messages(until: { $0["i"]?.int == 3 }).last?["s"]?.int == 404)
            #expect(sim.server.stats.snapshot().expiredTokenUses.map(\.endpoint) == ["nothing"])
            await socket.close()
        }
        try await Fixture.withSimulator({
            $0.auth.tokenLifetime = .seconds(600)
            $0.webSocket.tokenExpiry = .silence
            $0.webSocket.serverHeartbeatInterval = .seconds(5)
        }) { sim in
            let socket = try await sim.authorizedSocket()
            sim.clock.advance(by: 601)
            try await socket.request("nothing", id: 3)
            // No answer, only transport heartbeats.
            sim.wall.advance(by: 5)
            #expect(try await socket.nextFrame() == "h")
            await socket.close()
        }
    }

    @Test("endpoint names match case-insensitively by default")
    func caseInsensitiveEndpoints() async throws {
        try await Fixture.withSimulator { sim in
            let socket = try await sim.authorizedSocket()
            try await socket.request("MD/GETCHART", id: 4, body: Fixture.chart("NQZ5", #""asMuchAsElements":2"#))
            let response = try await socket.messages(until: { $0["i"]?.int == 4 }).last
            #expect(response?["d"]?["realtimeId"]?.int != nil)
            await socket.close()
        }
    }
}
