import CandleTesting
import Foundation
import Testing

@testable import TokenStore

/// Property-based fuzzing of the credentials file loader (JSON and YAML): every mutated file is answered with logins
/// or `invalidCredentials` — never a trap — and an error never shows a password or API secret the file still holds.
@Suite("Fuzz: credentials files", .timeLimit(.minutes(10)))
struct CredentialsFuzzTests {
    @Test("mutated JSON and YAML credentials give logins or invalidCredentials, without a secret", arguments: [true, false])
    func credentials(json: Bool) async throws {
        let password = "pw-\(UUID().uuidString)"
        let secret = "sec-\(UUID().uuidString)"
        let text =
            json
            ? #"{"logins":[{"name":"APEX_1","password":"\#(password)","cid":7,"sec":"\#(secret)","accounts":["PA1"]},{"name":"B","password":"\#(password)","cid":"8","sec":"\#(secret)","appId":"X","appVersion":"2"}]}"#
            : """
            logins:
              - name: APEX_1
                password: \(password)
                cid: 7
                sec: \(secret)
                accounts: [PA1, PA2]
              - name: B
                password: "\(password)"
                cid: "8"
                sec: \(secret)
            """
        let seed = Array(text.utf8)
        #expect(try CredentialsLoader.parse(Data(seed), isJSON: json, source: "seed").count == 2)
        var mutator = InputMutator(seed: json ? 11 : 12, interesting: Array(#"{}[]":,- \#n#0123456789"#.utf8))
        let iterations = InputMutator.iterations(default: 2_000)
        var loaded = 0
        var refused = 0
        for iteration in 0..<iterations {
            if iteration % 100 == 0 { await Task.yield() }  // CPU-bound: leave the pool to other suites now and then
            let input = mutator.mutate(seed)
            do {
                _ = try CredentialsLoader.parse(Data(input), isJSON: json, source: "fuzz")
                loaded += 1
            } catch {
                refused += 1
                #expect(error.code == .invalidCredentials)
                let description = "\(error)"
                #expect(description.count < 600)
                // A secret the input still holds whole must not be echoed (a mutation may have cut it).
                let kept = String(decoding: input, as: UTF8.self)
                for value in [password, secret] where kept.contains(value) {
                    #expect(!description.contains(value), "\(description)")
                }
            }
        }
        #expect(loaded + refused == iterations)
        #expect(refused > 0)
    }
}
