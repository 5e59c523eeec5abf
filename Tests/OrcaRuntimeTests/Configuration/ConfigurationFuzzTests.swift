import CandleTesting
import Foundation
import OrcaRuntime
import Testing

/// Property-based fuzzing of the configuration file loader: every mutated YAML file is answered with a configuration
/// or a ``ConfigurationError`` (typed throws) — never a trap — and an error never shows the database password.
@Suite("Fuzz: configuration files", .timeLimit(.minutes(10)))
struct ConfigurationFuzzTests {
    @Test("mutated YAML configuration files load or give a ConfigurationError, without the password")
    func configurationFile() async throws {
        let scratch = try ConfigurationScratch()
        defer { scratch.remove() }
        let password = "pw-\(UUID().uuidString)"
        let seed = Array(
            """
            tradovate:
              environment: simulator
            redis:
              reconcileInterval: 10s
            database:
              url: postgres://orca:\(password)@db.example.com:5432/orca
              schema: orca
              layout: tablePerSeries
            collector:
              instruments: [NQ, ES]
              timeframes: [5, 15, 60]
              healLookBack: 3d
              closeGrace: 1s
              quietChartBars: 3
            buffer:
              memoryCapacity: 1000
            http:
              port: 9090
            """.utf8)
        let environment = ["HOME": scratch.directory]
        let path = try scratch.write("seed.yaml", String(decoding: seed, as: UTF8.self), mode: 0o644)
        _ = try await OrcaConfiguration.load(file: path, environment: environment)
        var mutator = InputMutator(seed: 77, interesting: Array(#":-[], #"'\#n0123456789smhd"#.utf8))
        let iterations = InputMutator.iterations(default: 400)
        var loaded = 0
        var refused = 0
        for index in 0..<iterations {
            let input = mutator.mutate(seed)
            let file = "\(scratch.directory)/fuzz-\(index % 8).yaml"
            try Data(input).write(to: URL(fileURLWithPath: file))
            do {
                _ = try await OrcaConfiguration.load(file: file, environment: environment)
                loaded += 1
            } catch {
                refused += 1
                let description = "\(error)"
                #expect(description.count < 2_000)
                if String(decoding: input, as: UTF8.self).contains(password) {
                    #expect(!description.contains(password), "\(description)")
                }
            }
        }
        #expect(loaded + refused == iterations)
        #expect(loaded > 0 && refused > 0)
    }
}
