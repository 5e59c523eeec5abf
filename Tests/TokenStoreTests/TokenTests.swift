import CandleCore
import Foundation
import Testing
import TokenStore

@Suite("Token and in-memory provider")
struct TokenTests {
    let start = Date(timeIntervalSince1970: 1_795_000_000)

    @Test("descriptions, debug descriptions and dumps never show the tokens")
    func redaction() {
        let token = Token(
            accessToken: "secret-access-\(UUID())", marketDataToken: "secret-md-\(UUID())",
            expirationTime: start.addingTimeInterval(5400), userID: 7, login: "APEX_1", issuedAt: start)
        var dumped = ""
        dump(token, to: &dumped)
        for text in [token.description, token.debugDescription, "\(token)", dumped, String(reflecting: token)] {
            #expect(!text.contains("secret-"))
            #expect(text.contains("APEX_1"))
        }
        #expect(token.fingerprint.count == 8)
        #expect(token.secondsLeft(at: start) == 5400)
        #expect(!token.isExpired(at: start.addingTimeInterval(5399)))
        #expect(token.isExpired(at: start.addingTimeInterval(5400)))
    }

    @Test("credentials never show password or secret")
    func credentialsRedaction() {
        let credentials = fakeCredentials("APEX_2", aliases: ["PA1"])
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [credentials.description, dumped] {
            #expect(!text.contains(credentials.password))
            #expect(!text.contains(credentials.secret))
        }
        #expect(credentials.accounts == ["APEX_2", "PA1"])
    }

    @Test("the in-memory provider stores under login and aliases and expires on its clock")
    func inMemory() async throws {
        let clock = ManualWallClock(now: start)
        let concrete = InMemoryTokenProvider(clock: clock)
        let provider: any TokenProvider = concrete
        let token = Token(
            accessToken: "a", expirationTime: start.addingTimeInterval(60), userID: 1, login: "L", issuedAt: start)
        try await provider.store(token, aliases: ["A1", "A2"])
        #expect(try await provider.token(for: "L") == token)
        #expect(try await provider.token(for: "A2") == token)
        #expect(await concrete.accounts() == ["A1", "A2", "L"])
        // Re-storing with fewer aliases drops the old alias.
        try await provider.store(token, aliases: ["A1"])
        #expect(try await provider.token(for: "A2") == nil)
        clock.advance(by: 60)
        #expect(try await provider.token(for: "L") == nil)
        #expect(try await provider.token(for: "A1") == nil)
        let later = Token(
            accessToken: "b", expirationTime: start.addingTimeInterval(600), userID: 1, login: "L", issuedAt: start)
        try await provider.store(later, aliases: ["A1"])
        #expect(try await provider.token(for: "A1") == later)
        try await provider.remove(account: "L")
        #expect(try await provider.token(for: "A1") == nil)
    }
}
