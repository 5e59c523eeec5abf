/// Deterministic, process-independent hashing for the synthetic market (Swift's `Hasher` is seeded per process, so it
/// must never be used here).
enum StableHash {
    /// SplitMix64's finalizer: a fast, well-mixed 64-bit permutation.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Hash of a key and two coordinates.
    @inline(__always)
    static func hash(_ key: UInt64, _ a: UInt64, _ b: UInt64) -> UInt64 {
        mix(mix(key ^ mix(a)) ^ b)
    }

    /// Hash of a key and a minute index.
    @inline(__always)
    static func hash(_ key: UInt64, _ salt: UInt64, minute: Int64) -> UInt64 {
        hash(key, salt, UInt64(bitPattern: minute))
    }

    /// FNV-1a over the UTF-8 bytes of `text`.
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// A uniform value in [0, 1).
    @inline(__always)
    static func unit(_ bits: UInt64) -> Double {
        Double(bits >> 11) * 0x1p-53
    }

    /// A uniform value in [-1, 1).
    @inline(__always)
    static func signedUnit(_ bits: UInt64) -> Double {
        Double(bits >> 11) * 0x1p-52 - 1
    }
}
