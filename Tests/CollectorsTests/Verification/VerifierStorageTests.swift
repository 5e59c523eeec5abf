import CandleCore
import CandleTesting
import Foundation
import Testing

@testable import Collectors
@testable import PostgresSink

/// The same checks against real storage: files (through the sink and through the lock-free reader) and PostgreSQL's
/// per-series tables.
enum StorageScenario {
    static let hole = Set(Week.starts(Week.nq5, "2025-12-03T14:05:00Z", through: "2025-12-03T14:25:00Z"))
    static let duplicateStart = Week.utc("2025-12-02T15:00:00Z")
    static let formingStart = Week.utc("2025-12-04T10:10:00Z")

    /// Writes a complete ES week and an NQ week with a hole, a duplicate and a forming-only bar.
    static func fill(_ sink: any CandleSink) async throws {
        _ = try await sink.write(Week.bars(Week.es15))
        _ = try await sink.write(
            Week.bars(Week.nq5, omitting: hole.union([formingStart]))
                + [
                    Week.bar(Week.nq5, duplicateStart, symbol: "NQH6"),
                    Week.bar(Week.nq5, formingStart, final: false),
                ])
    }

    /// Checks the report of ``fill(_:)``.
    static func check(_ report: VerificationReport) {
        #expect(report.exitCode == 1)
        let nq = report.series[0]
        let es = report.series[1]
        #expect(es.isComplete)
        #expect(es.stored == Week.es15Expected)
        #expect(nq.expected == Week.nq5Expected)
        #expect(nq.stored == Week.nq5Expected - 6)
        #expect(
            nq.missingRanges == [
                BarRange(
                    first: Week.utc("2025-12-03T14:05:00Z"), last: Week.utc("2025-12-03T14:25:00Z"), bars: 5,
                    timeframe: .fiveMinutes),
                BarRange(first: formingStart, last: formingStart, bars: 1, timeframe: .fiveMinutes),
            ])
        #expect(nq.duplicates == [DuplicateBar(start: duplicateStart, symbols: ["NQH6", "NQZ5"])])
        #expect(nq.nonFinal == [formingStart])
        #expect(nq.unexpected.isEmpty)
    }

    /// Repairs the hole and the forming bar from a complete broker (the duplicate stays: exit 1).
    static func repair(_ verifier: Verifier, _ report: VerificationReport, into sink: any CandleSink) async throws {
        let source = ScriptedCandleSource(history: Week.bars(Week.nq5))
        let repair = try await verifier.repair(report, from: source, into: sink)
        #expect(repair.written == 6)
        #expect(repair.stillMissing == 0)
        #expect(repair.after.series[0].missing == 0)
        #expect(repair.after.series[0].nonFinal.isEmpty)
        #expect(repair.after.series[0].duplicates.count == 1)
        #expect(repair.exitCode == 1)
    }
}

@Suite("Verifier: file sink", .timeLimit(.minutes(10)))
struct VerifierFileTests {
    @Test(
        "CSV and JSON Lines, through the sink and through the lock-free reader",
        arguments: [CandleFileFormat.csv, .jsonLines])
    func files(_ format: CandleFileFormat) async throws {
        let directory = try makeTemporaryDirectory("verify-\(format.fileExtension)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let sink = try FileCandleSink(configuration: .init(directory: directory, format: format))
        try await StorageScenario.fill(sink)

        let throughSink = Verifier(sink: sink)
        let report = try await throughSink.verify(
            [Week.nq5, Week.es15], from: Week.from, to: Week.to, now: Week.after)
        StorageScenario.check(report)
        #expect(report.store == "files \(directory.path(percentEncoded: false))")

        // The reader takes no lock: it works while the sink holds the directory.
        let reader = Verifier(reader: .files(CandleFileReader(directory: directory, format: format)))
        let fromFiles = try await reader.verify([Week.nq5, Week.es15], from: Week.from, to: Week.to, now: Week.after)
        #expect(fromFiles.store.hasPrefix("files "))
        StorageScenario.check(fromFiles)

        try await StorageScenario.repair(reader, fromFiles, into: sink)
        try await sink.close()
    }

    @Test("a directory without files is an empty store, not an error")
    func missingFiles() async throws {
        let directory = try makeTemporaryDirectory("verify-empty")
        defer { try? FileManager.default.removeItem(at: directory) }
        let verifier = Verifier(reader: .files(CandleFileReader(directory: directory)))
        let report = try await verifier.verify([Week.es15], from: Week.from, to: Week.to, now: Week.after)
        #expect(report.series[0].isVerified)
        #expect(report.series[0].missing == Week.es15Expected)
    }

    @Test("a corrupt file makes its series unverified: exit 2")
    func corruptFile() async throws {
        let directory = try makeTemporaryDirectory("verify-corrupt")
        defer { try? FileManager.default.removeItem(at: directory) }
        let sink = try FileCandleSink(configuration: .init(directory: directory, format: .csv))
        _ = try await sink.write(Week.bars(Week.es15))
        try await sink.close()
        let reader = CandleFileReader(directory: directory, format: .csv)
        let url = reader.fileURL(for: Week.es15)
        var text = try String(contentsOf: url, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        text = (lines.prefix(3) + ["this is not a candle"] + lines.dropFirst(3)).joined(separator: "\n")
        try text.write(to: url, atomically: true, encoding: .utf8)

        let report = try await Verifier(reader: .files(reader)).verify(
            [Week.es15], from: Week.from, to: Week.to, now: Week.after)
        #expect(report.series[0].failure?.code == .storeUnavailable)
        #expect(report.exitCode == 2)
    }
}

@Suite(
    "Verifier: PostgreSQL",
    .timeLimit(.minutes(10)),
    .enabled(
        if: sinkTestDatabaseURL != nil, "set ORCA_TEST_DATABASE_URL (scripts/test.sh does) to run against PostgreSQL"))
struct VerifierPostgresTests {
    @Test("per-series tables: hole, duplicate and forming bar found, repaired")
    func tablePerSeries() async throws {
        try await SinkHarness.postgres(layout: .tablePerSeries).run { sink in
            try await StorageScenario.fill(sink)
            let verifier = Verifier(sink: sink)
            let report = try await verifier.verify(
                [Week.nq5, Week.es15], from: Week.from, to: Week.to, now: Week.after)
            StorageScenario.check(report)
            try await StorageScenario.repair(verifier, report, into: sink)
        }
    }

    @Test("a complete week is complete")
    func complete() async throws {
        try await SinkHarness.postgres(layout: .tablePerSeries).run { sink in
            _ = try await sink.write(Week.bars(Week.nq5) + Week.bars(Week.es15))
            let report = try await Verifier(sink: sink).verify(
                [Week.nq5, Week.es15], from: Week.from, to: Week.to, now: Week.after)
            #expect(report.exitCode == 0)
            #expect(report.series[0].stored == Week.nq5Expected)
        }
    }
}

@Suite("Verifier: PostgreSQL unreachable", .timeLimit(.minutes(10)))
struct VerifierPostgresOfflineTests {
    @Test("an unreachable server: exit 2 with a message, no password")
    func unreachable() async throws {
        let sink = try PostgresCandleSink(
            configuration: .init(
                url: "postgresql://orca:s3cret-pass@127.0.0.1:1/orca", schema: "orca", connectTimeout: .seconds(2)))
        let report = try await Verifier(sink: sink).verify([Week.nq5], from: Week.from, to: Week.to, now: Week.after)
        #expect(report.exitCode == 2)
        #expect(report.store == "postgres postgresql://orca:***@127.0.0.1:1/orca schema orca")
        let message = report.series[0].failure?.message ?? ""
        #expect(!message.isEmpty)
        #expect(!message.contains("s3cret-pass"))
        #expect(!report.renderTable().contains("s3cret-pass"))
        await sink.close()
    }
}
