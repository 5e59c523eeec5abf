import Foundation
import Testing
import TradovateSimulator

@Suite("REST")
struct RESTTests {
    @Test("accesstokenrequest returns opaque tokens, an expiry 90 simulated minutes ahead and the user's fields")
    func login() async throws {
        try await Fixture.withSimulator { sim in
            let json = try await sim.login()
            let access = try #require(json["accessToken"]?.string)
            let md = try #require(json["mdAccessToken"]?.string)
            #expect(access != md)
            #expect(!access.contains(".") && access.count >= 32)
            let expiry = try #require(json["expirationTime"]?.string.flatMap { try? Date($0, strategy: .iso8601) })
            #expect(abs(expiry.timeIntervalSince(Fixture.wednesday) - 5_400) < 1)
            #expect(json["userId"]?.int == 1)
            #expect(json["name"]?.string == "demo")
            #expect(json["userStatus"]?.string == "Active")
            #expect(json["hasLive"]?.bool == false)
            #expect(sim.server.stats.snapshot().loginsSucceeded == 1)
        }
    }

    @Test("bad credentials answer HTTP 200 with errorText (or 401 when configured)")
    func badCredentials() async throws {
        try await Fixture.withSimulator { sim in
            let result = try await HTTP.post(
                sim.url("auth/accesstokenrequest"), json: #"{"name":"demo","password":"nope","cid":1,"sec":"demo"}"#)
            #expect(result.status == 200)
            #expect(result.json?["errorText"]?.string?.isEmpty == false)
            #expect(result.json?["accessToken"] == nil)
            let wrongSecret = try await sim.login(sec: "other")
            #expect(wrongSecret["errorText"] != nil)
            #expect(sim.server.stats.snapshot().loginsFailed == 2)
        }
        try await Fixture.withSimulator({ $0.auth.badCredentialsStatus = 401 }) { sim in
            let result = try await HTTP.post(
                sim.url("auth/accesstokenrequest"), json: #"{"name":"demo","password":"nope","cid":1,"sec":"demo"}"#)
            #expect(result.status == 401)
        }
    }

    @Test("a configured login table replaces the demo login")
    func loginTable() async throws {
        let table = try SimulatorLogin.table(
            fromJSON: Data(
                #"[{"name":"alice","password":"pw","cid":"7","sec":"s3"},{"name":"bob","password":"pw2","cid":8,"sec":"s4","userId":55}]"#
                    .utf8))
        #expect(table[0].userId == 1000 && table[0].cid == 7 && table[1].userId == 55)
        #expect(throws: SimulatorError.self) { try SimulatorLogin.table(fromJSON: Data("{}".utf8)) }
        try await Fixture.withSimulator({ $0.logins = table }) { sim in
            #expect(try await sim.login()["errorText"] != nil)
            let bob = try await sim.login(name: "bob", password: "pw2", cid: 8, sec: "s4")
            #expect(bob["userId"]?.int == 55)
        }
    }

    @Test("after N failed logins a penalty ticket is required; resent with the ticket after p-time it is honoured")
    func loginPenalty() async throws {
        try await Fixture.withSimulator({
            $0.auth.failedLoginsBeforePenalty = 2
            $0.auth.loginPenalty = PenaltyTerms(seconds: 15, captcha: true)
        }) { sim in
            _ = try await sim.login(password: "x")
            _ = try await sim.login(password: "y")
            let penalty = try await sim.login()
            let ticket = try #require(penalty["p-ticket"]?.string)
            #expect(penalty["p-time"]?.int == 15)
            #expect(penalty["p-captcha"]?.bool == true)
            #expect(penalty["accessToken"] == nil)
            let body = #"{"name":"demo","password":"demo","cid":1,"sec":"demo","p-ticket":"\#(ticket)"}"#
            let early = try await HTTP.post(sim.url("auth/accesstokenrequest"), json: body).json
            #expect(early?["p-ticket"]?.string == ticket)
            #expect((early?["p-time"]?.int ?? 0) <= 15)
            sim.clock.advance(by: 15)
            let honoured = try await HTTP.post(sim.url("auth/accesstokenrequest"), json: body).json
            #expect(honoured?["accessToken"]?.string != nil)
            let stats = sim.server.stats.snapshot()
            #expect(stats.loginsFailed == 2 && stats.loginsSucceeded == 1)
            #expect(stats.penaltiesIssued == 2 && stats.penaltyTicketsHonoured == 1)
        }
    }

    @Test("renewaccesstoken (GET and POST) returns a new token with a later expiry; the old one keeps working")
    func renewal() async throws {
        try await Fixture.withSimulator { sim in
            let first = try await sim.login()
            let token = try #require(first["accessToken"]?.string)
            sim.clock.advance(by: 600)
            let viaGet = try await HTTP.get(sim.url("auth/renewaccesstoken"), bearer: token)
            #expect(viaGet.status == 200)
            let renewed = try #require(viaGet.json?["accessToken"]?.string)
            #expect(renewed != token)
            #expect(viaGet.json?["mdAccessToken"]?.string != nil)
            #expect(viaGet.json?["expirationTime"]?.string ?? "" > first["expirationTime"]?.string ?? "")
            let viaPost = try await HTTP.post(sim.url("auth/renewaccesstoken"), bearer: renewed)
            #expect(viaPost.status == 200)
            #expect(try await HTTP.get(sim.url("auth/me"), bearer: token).status == 200)
            #expect(sim.server.stats.snapshot().renewalsSucceeded == 2)
        }
        try await Fixture.withSimulator({ $0.auth.renewalInvalidatesOldToken = true }) { sim in
            let token = try #require(try await sim.login()["accessToken"]?.string)
            #expect(try await HTTP.get(sim.url("auth/renewaccesstoken"), bearer: token).status == 200)
            #expect(try await HTTP.get(sim.url("auth/me"), bearer: token).status == 401)
        }
    }

    @Test("an expired or revoked token gets 401 and lands in the token audit")
    func expiredAndRevoked() async throws {
        try await Fixture.withSimulator({ $0.auth.tokenLifetime = .seconds(300) }) { sim in
            let token = try #require(try await sim.login()["accessToken"]?.string)
            sim.clock.advance(by: 300)
            #expect(try await HTTP.get(sim.url("auth/renewaccesstoken"), bearer: token).status == 401)
            #expect(try await HTTP.get(sim.url("auth/me"), bearer: token).status == 401)
            let revoked = try #require(try await sim.login()["accessToken"]?.string)
            #expect(sim.server.faults.revokeToken(revoked))
            #expect(try await HTTP.get(sim.url("contract/find?name=NQZ5"), bearer: revoked).status == 401)
            #expect(try await HTTP.get(sim.url("auth/me"), bearer: "no-such-token").status == 401)
            #expect(try await HTTP.get(sim.url("auth/me")).status == 401)
            let stats = sim.server.stats.snapshot()
            #expect(stats.expiredTokenUses.count == 2)
            #expect(stats.expiredTokenUses.allSatisfy { $0.transport == "rest" && token.hasPrefix($0.tokenPrefix) })
            #expect(stats.revokedTokenUses.count == 1)
            #expect(stats.renewalsRejected == 1)
        }
    }

    @Test("more renewals per hour than allowed need a penalty ticket")
    func renewalLimit() async throws {
        try await Fixture.withSimulator({
            $0.auth.maxRenewalsPerHour = 2
            $0.auth.renewalPenalty = PenaltyTerms(seconds: 15)
        }) { sim in
            let token = try #require(try await sim.login()["accessToken"]?.string)
            for _ in 0..<2 {
                #expect(try await HTTP.get(sim.url("auth/renewaccesstoken"), bearer: token).status == 200)
            }
            let penalty = try #require(try await HTTP.get(sim.url("auth/renewaccesstoken"), bearer: token).json)
            let ticket = try #require(penalty["p-ticket"]?.string)
            #expect(penalty["p-time"]?.int == 15)
            sim.clock.advance(by: 15)
            let honoured = try await HTTP.get(sim.url("auth/renewaccesstoken?p-ticket=\(ticket)"), bearer: token)
            #expect(honoured.json?["accessToken"] != nil)
            sim.clock.advance(by: 3_600)
            let fresh = try #require(try await sim.login()["accessToken"]?.string)
            #expect(try await HTTP.get(sim.url("auth/renewaccesstoken"), bearer: fresh).json?["accessToken"] != nil)
        }
    }

    @Test("auth/me answers the token's user")
    func me() async throws {
        try await Fixture.withSimulator { sim in
            let token = try #require(try await sim.login()["accessToken"]?.string)
            let me = try #require(try await HTTP.get(sim.url("auth/me"), bearer: token).json)
            #expect(me["userId"]?.int == 1 && me["name"]?.string == "demo")
            #expect(me["currentMDSubs"] != nil)
            #expect(sim.server.stats.snapshot().meRequests == 1)
        }
    }

    @Test("contract/find, item, items, suggest, rollcontract and product/find")
    func contracts() async throws {
        try await Fixture.withSimulator { sim in
            let token = try #require(try await sim.login()["accessToken"]?.string)
            func get(_ path: String) async throws -> HTTP.Result { try await HTTP.get(sim.url(path), bearer: token) }
            let found = try #require(try await get("contract/find?name=NQZ5").json)
            #expect(found["name"]?.string == "NQZ5")
            let id = try #require(found["id"]?.int)
            #expect(found["contractMaturityId"]?.int != nil)
            #expect(try await get("contract/find?name=%40NQ").json?["name"]?.string == "NQZ5")
            #expect(try await get("contract/find?name=ZZZ9").status == 404)
            #expect(try await get("contract/item?id=\(id)").json?["name"]?.string == "NQZ5")
            let items = try #require(try await get("contract/items?ids=\(id),\(id + 3)").json)
            #expect(items.array.map { $0["name"]?.string } == ["NQZ5", "NQH6"])
            let suggested = try #require(try await get("contract/suggest?t=mnq&l=2").json)
            #expect(suggested.array.compactMap { $0["name"]?.string } == ["MNQZ5", "MNQH6"])
            let rolled = try await HTTP.post(
                sim.url("contract/rollcontract"), json: #"{"name":"NQZ5","forward":true,"ifExpired":false}"#,
                bearer: token)
            #expect(rolled.json?["contract"]?["name"]?.string == "NQH6")
            let notExpired = try await HTTP.post(
                sim.url("contract/rollcontract"), json: #"{"name":"NQZ5","forward":true,"ifExpired":true}"#,
                bearer: token)
            #expect(notExpired.json?["contract"]?["name"]?.string == "NQZ5")
            let back = try await HTTP.post(
                sim.url("contract/rollcontract"), json: #"{"name":"NQH6","forward":false}"#, bearer: token)
            #expect(back.json?["contract"]?["name"]?.string == "NQZ5")
            let unknownRoll = try await HTTP.post(
                sim.url("contract/rollcontract"), json: #"{"name":"QQQ"}"#, bearer: token)
            #expect(unknownRoll.json?["errorText"] != nil)
            let product = try #require(try await get("product/find?name=NQ").json)
            #expect(product["tickSize"]?.double == 0.25 && product["valuePerPoint"]?.double == 20)
            #expect(product["productType"]?.string == "Futures")
            #expect(try await get("product/find?name=XX").status == 404)
            // Case-insensitive paths, relaxed verbs.
            #expect(try await get("Contract/Find?name=ESZ5").json?["name"]?.string == "ESZ5")
        }
    }

    @Test("unknown endpoints are 404; the stats endpoint answers JSON")
    func notFoundAndStats() async throws {
        try await Fixture.withSimulator { sim in
            #expect(try await HTTP.get(sim.url("order/list")).status == 404)
            #expect(try await HTTP.get(URL(string: "http://127.0.0.1:\(sim.server.port)/v2/auth/me")!).status == 404)
            #expect(try await HTTP.get(sim.url("websocket")).status == 400)
            _ = try await sim.login()
            let stats = try #require(try await HTTP.get(sim.url("_sim/stats")).json)
            #expect(stats["loginsSucceeded"]?.int == 1)
            #expect(stats["restNotFound"]?.int == 2)
            #expect(stats["requestsByEndpoint"]?["auth/accesstokenrequest"]?.int == 1)
            #expect(stats["expiredTokenUses"]?.array.isEmpty == true)
        }
    }

    @Test("a third login ends the oldest session: its tokens die and its sockets close")
    func sessionCap() async throws {
        try await Fixture.withSimulator { sim in
            let first = try await sim.login()
            let socket = try await sim.authorizedSocket(token: first["mdAccessToken"]?.string)
            _ = try await sim.login()
            _ = try await sim.login()
            let frames = try await socket.waitForClose()
            #expect(frames.contains { if case .close(3004, _) = $0 { return true } else { return false } })
            #expect(try await HTTP.get(sim.url("auth/me"), bearer: first["accessToken"]?.string).status == 401)
        }
    }

    @Test("a user-level rate limit answers 429 until the window passes")
    func rateLimit() async throws {
        try await Fixture.withSimulator({ $0.auth.rateLimit = RateLimit(requests: 3, window: .seconds(60)) }) { sim in
            let token = try #require(try await sim.login()["accessToken"]?.string)
            // The login counted against "anonymous"; the token's user has its own window.
            for _ in 0..<3 { #expect(try await HTTP.get(sim.url("auth/me"), bearer: token).status == 200) }
            let limited = try await HTTP.get(sim.url("auth/me"), bearer: token)
            #expect(limited.status == 429 && limited.body.isEmpty)
            sim.clock.advance(by: 60)
            #expect(try await HTTP.get(sim.url("auth/me"), bearer: token).status == 200)
            #expect(sim.server.stats.snapshot().rateLimited == 1)
        }
    }

    @Test("mdAccessToken can equal accessToken or be omitted")
    func mdTokenModes() async throws {
        try await Fixture.withSimulator({ $0.auth.mdAccessToken = .sameAsAccessToken }) { sim in
            let json = try await sim.login()
            #expect(json["mdAccessToken"]?.string == json["accessToken"]?.string)
        }
        try await Fixture.withSimulator({
            $0.auth.mdAccessToken = .omitted
            $0.auth.renewalReturnsMDAccessToken = false
            $0.webSocket.acceptedTokens = .mdAccessToken
        }) { sim in
            let json = try await sim.login()
            #expect(json["mdAccessToken"] == nil)
            let renewed = try await HTTP.get(sim.url("auth/renewaccesstoken"), bearer: json["accessToken"]?.string)
            #expect(renewed.json?["mdAccessToken"] == nil)
            // The access token then authorizes the market-data socket even when only md tokens are accepted.
            _ = try await sim.authorizedSocket(token: json["accessToken"]?.string)
        }
    }

    @Test("invalid configurations are rejected before binding")
    func invalidConfiguration() async throws {
        var configuration = SimulatorConfiguration()
        configuration.charts.maxBarsPerResponse = 0
        await #expect(throws: SimulatorError.self) { try await SimulatorServer.start(configuration) }
        configuration = SimulatorConfiguration()
        configuration.logins = [.demo, .demo]
        #expect(throws: SimulatorError.self) { try SimulatorServer.validate(configuration) }
    }
}
