/// A futures delivery month with its CME month code (F G H J K M N Q U V X Z).
public enum ContractMonth: Int, Sendable, Hashable, Codable, CaseIterable, Comparable, CustomStringConvertible {
    case january = 1, february, march, april, may, june, july, august, september, october, november, december

    /// The single-letter CME month code, e.g. `Z` for December.
    public var code: Character {
        Array("FGHJKMNQUVXZ")[rawValue - 1]
    }

    /// The month for a CME month code (case-insensitive), or `nil`.
    public init?(code: Character) {
        guard let index = Array("FGHJKMNQUVXZ").firstIndex(of: Character(code.uppercased())) else { return nil }
        self.init(rawValue: index + 1)
    }

    /// The calendar month number, 1…12.
    public var number: Int { rawValue }

    public var description: String { String(code) }

    public static func < (lhs: ContractMonth, rhs: ContractMonth) -> Bool { lhs.rawValue < rhs.rawValue }
}
