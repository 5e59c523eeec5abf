import Foundation
import OrcaRuntime
import Testing

/// The keys renamed in 0.3 still work under their old names and variables, with one start-up notice each.
@Suite("Configuration: deprecated keys", .timeLimit(.minutes(10)))
struct DeprecatedKeyTests {
    @Test("an old variable sets the new key and leaves a deprecation notice naming the replacement")
    func oldVariable() async throws {
        let configuration = try await OrcaConfiguration.load(
            file: nil, environment: ["ORCA_COLLECTOR_LOOKBACK": "2d", "ORCA_COLLECTOR_REFETCH_LAST": "7"])
        #expect(configuration.collector.healLookBack == .seconds(2 * 86_400))
        #expect(configuration.collector.revisionWindowBars == 7)
        #expect(configuration.notices.count == 2)
        #expect(
            configuration.notices.contains {
                $0.contains("collector.lookback") && $0.contains("ORCA_COLLECTOR_LOOKBACK")
                    && $0.contains("deprecated: use collector.healLookBack (ORCA_COLLECTOR_HEAL_LOOK_BACK)")
            })
    }

    @Test("an old key in the file and in the overrides works; the new key wins when both are set")
    func oldFileKeyAndPrecedence() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("orca-deprecated-\(UUID()).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try "collector:\n  settle: 9s\n  provisionalBars: true\n".write(to: file, atomically: true, encoding: .utf8)
        let fromFile = try await OrcaConfiguration.load(file: file.path, environment: [:])
        #expect(fromFile.collector.settleTimeout == .seconds(9))
        #expect(fromFile.collector.writeProvisional)
        #expect(fromFile.notices.count == 2)

        let both = try await OrcaConfiguration.load(
            file: file.path, environment: ["ORCA_COLLECTOR_SETTLE_TIMEOUT": "3s"],
            overrides: ["collector.derivedTimeframes": "true"])
        #expect(both.collector.settleTimeout == .seconds(3))
        #expect(both.collector.checkDerivedTimeframes)
        #expect(both.notices.contains { $0.contains("collector.settle ") && $0.contains("also set and wins") })
    }

    @Test("an invalid value under an old key is reported under the new key's name")
    func invalidOldValue() async throws {
        let error = await #expect(throws: ConfigurationError.self) {
            try await OrcaConfiguration.load(file: nil, environment: ["ORCA_COLLECTOR_LOOKBACK": "0"])
        }
        #expect(error?.key == "collector.healLookBack")
    }

    @Test("current names leave no notice; an unknown ORCA_ variable does, with the current spelling")
    func notices() async throws {
        let clean = try await OrcaConfiguration.load(file: nil, environment: ["ORCA_COLLECTOR_HEAL_LOOK_BACK": "1d"])
        #expect(clean.notices.isEmpty)
        let typo = try await OrcaConfiguration.load(file: nil, environment: ["ORCA_COLECTOR_LOOKBACK": "1d"])
        #expect(
            typo.notices == [
                "ORCA_COLECTOR_LOOKBACK is not a variable Orca reads; it is ignored (did you mean ORCA_COLLECTOR_HEAL_LOOK_BACK?)"
            ])
    }
}
