import Foundation

/// Seeded byte mutations of valid inputs, for property-based fuzzing of parsers: every mutated input must be
/// answered with a value or a typed error, never a trap or a hang.
///
/// Each ``mutate(_:)`` applies one to four edits picked at random — overwrite a byte with a random or an
/// *interesting* one (the format's punctuation, `0x00`, `0x7F`, `0xFF`, a lone UTF-8 lead byte…), delete a byte,
/// insert one, duplicate a run of up to 40 bytes, delete a run of up to 20 — the moves libFuzzer's default mutator
/// makes most often. The sequence is reproducible from the seed on every platform (SplitMix64).
///
/// ```swift
/// var mutator = InputMutator(seed: 42, interesting: Array(",.:-TZ\n".utf8))
/// for _ in 0..<InputMutator.iterations(default: 2_000) {
///     let input = mutator.mutate(Array(validCSV.utf8))
///     do { _ = try parse(input) } catch let error as MyParseError { _ = error }  // typed, never a crash
/// }
/// ```
public struct InputMutator: Sendable {
    private var state: UInt64
    /// Bytes the mutations favour, besides random ones.
    public let interesting: [UInt8]

    /// Bytes that break most text formats: controls, DEL, a lone continuation byte, lead bytes without their tail.
    public static let hostileBytes: [UInt8] = [0x00, 0x09, 0x0A, 0x0D, 0x1F, 0x22, 0x5C, 0x7F, 0x80, 0xC3, 0xED, 0xFF]

    /// Creates a mutator; `interesting` is added to ``hostileBytes``.
    public init(seed: UInt64, interesting: [UInt8] = []) {
        self.state = seed
        self.interesting = interesting + Self.hostileBytes
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound` (`bound` > 0).
    public mutating func next(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    /// `bytes` with one to four random edits.
    public mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<(1 + next(4)) {
            guard !bytes.isEmpty else {
                bytes.append(interesting[next(interesting.count)])
                continue
            }
            let at = next(bytes.count)
            switch next(6) {
            case 0: bytes[at] = UInt8(truncatingIfNeeded: next())
            case 1: bytes[at] = interesting[next(interesting.count)]
            case 2: bytes.remove(at: at)
            case 3: bytes.insert(interesting[next(interesting.count)], at: at)
            case 4:
                let end = min(bytes.count, at + 1 + next(40))
                bytes.insert(contentsOf: Array(bytes[at..<end]), at: at)
            default: bytes.removeSubrange(at..<min(bytes.count, at + 1 + next(20)))
            }
        }
        return bytes
    }

    /// How many inputs a fuzz test should try: `ORCA_FUZZ_ITERATIONS` when set (the long runs in
    /// `Docs/reliability.md`), else `defaultCount` (the bounded run of the test command).
    public static func iterations(default defaultCount: Int) -> Int {
        guard let text = getenv("ORCA_FUZZ_ITERATIONS").map({ String(cString: $0) }), let count = Int(text),
            count > 0
        else { return defaultCount }
        return count
    }
}
