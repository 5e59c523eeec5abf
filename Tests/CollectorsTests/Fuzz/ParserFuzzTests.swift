import CandleCore
import CandleTesting
import Foundation
import Testing

@testable import Collectors

/// Property-based fuzzing (seeded byte mutations of valid inputs, ``InputMutator``): the file sink's CSV and JSON Lines
/// reader and the cron parser answer every mutated input with a value or their typed error — never a trap, never a
/// hang. The test command runs a bounded number of inputs; `ORCA_FUZZ_ITERATIONS` sets more (the long runs in
/// `Docs/reliability.md`).
@Suite("Fuzz: file formats and cron expressions", .timeLimit(.minutes(10)))
struct ParserFuzzTests {
    /// A valid file of 40 NQ 5-minute bars (one with provisional state and optional fields) in `format`.
    static func validFile(_ format: CandleFileFormat) -> (bytes: [UInt8], lines: Int) {
        let series = Series(.nq, .fiveMinutes)
        let from = Date(timeIntervalSince1970: 1_765_200_000)
        var bars = CandleSeriesGenerator(seed: 7).bars(for: series, from: from, to: from.addingTimeInterval(40 * 300))
        bars[3].isFinal = false
        bars[5].bidVolume = nil
        var out = CandleFileCodec.header(format)
        for bar in bars { CandleFileCodec.append(BarKey(bar), BarValues(bar), format: format, to: &out) }
        return (out, bars.count)
    }

    @Test("CSV and JSON Lines: mutated files give their lines or a Corruption naming the line", arguments: [
        CandleFileFormat.csv, .jsonLines,
    ])
    func fileFormat(_ format: CandleFileFormat) async throws {
        let (seed, count) = Self.validFile(format)
        let whole = try CandleFileCodec.parse(seed, format: format, path: "seed")
        #expect(whole.lines.count == count)
        #expect(whole.validLength == seed.count)
        var mutator = InputMutator(seed: 2_026_120_4, interesting: Array(#",.-:TZ"{}[]e0123456789"#.utf8))
        let iterations = InputMutator.iterations(default: 3_000)
        var readable = 0
        var corrupt = 0
        for iteration in 0..<iterations {
            if iteration % 200 == 0 { await Task.yield() }  // CPU-bound: leave the pool to other suites now and then
            let input = mutator.mutate(seed)
            do {
                let contents = try CandleFileCodec.parse(input, format: format, path: "fuzz")
                readable += 1
                // What is kept is a prefix of the input, and never more lines than it has.
                #expect(contents.validLength <= input.count)
                #expect(contents.lines.count <= input.filter { $0 == 0x0A }.count + 1)
            } catch {
                corrupt += 1
                #expect(error.description.hasPrefix("fuzz line "), "\(error)")
                #expect(error.description.count < 500)
            }
        }
        #expect(readable + corrupt == iterations)
        #expect(corrupt > 0 && readable > 0, "the mutations should reach both outcomes")
    }

    @Test("cron: mutated expressions parse or throw CronParseError; a parsed one fires in the future or never")
    func cron() async {
        let seeds = [
            "*/5 * * * *", "0 9-16 * * 1-5", "15,45 */2 1 JAN-MAR MON", "59 23 31 12 SUN", "0 0 * * 0",
            "@hourly", "@daily", "5 4 * * 6#2", "*/15 14-21 * * MON-FRI",
        ].map { Array($0.utf8) }
        var mutator = InputMutator(seed: 1_204, interesting: Array("*/-,#@0123456789 ".utf8))
        let iterations = InputMutator.iterations(default: 5_000)
        let now = Date(timeIntervalSince1970: 1_765_200_000)
        var parsed = 0
        var refused = 0
        for iteration in 0..<iterations {
            if iteration % 200 == 0 { await Task.yield() }
            let text = String(decoding: mutator.mutate(seeds[iteration % seeds.count]), as: UTF8.self)
            do {
                let schedule = try CronSchedule(text)
                parsed += 1
                if let next = schedule.next(after: now) {
                    #expect(next > now, "\(text.debugDescription)")
                    #expect(schedule.matches(next), "\(text.debugDescription) fires at \(next) but does not match it")
                }
            } catch {
                refused += 1
                #expect(error.description.count < 500)
            }
        }
        #expect(parsed + refused == iterations)
        #expect(parsed > 0 && refused > 0)
    }
}
