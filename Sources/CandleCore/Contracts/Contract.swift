public import Foundation

/// One futures contract: a root, a delivery month and a full year, e.g. NQ December 2025 (`NQZ5`).
public struct Contract: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// The product root, e.g. `NQ`.
    public let root: String
    /// The delivery month.
    public let month: ContractMonth
    /// The full delivery year, e.g. 2025.
    public let year: Int

    /// Creates a contract. The root is upper-cased.
    public init(root: String, month: ContractMonth, year: Int) {
        self.root = root.uppercased()
        self.month = month
        self.year = year
    }

    /// The exchange symbol with a one-digit year as Tradovate writes it: `NQZ5`.
    public var symbol: String { "\(root)\(month.code)\(year % 10)" }

    public var description: String { symbol }

    /// Parses `NQZ5` (one-digit year) or `NQZ25` / `NQZ2025`.
    ///
    /// A one-digit year is resolved relative to `reference`: it is the year ending in that digit within
    /// [reference year − 2, reference year + 7], so in 2025 `NQZ5` is December 2025, `NQH6` March 2026, `NQZ4` December 2024
    /// and `NQH0` March 2030. A two-digit year is resolved the same way within the century window.
    ///
    /// - Throws: ``ContractError`` naming the symbol and what is wrong with it.
    public init(parsing symbol: String, reference: Date) throws(ContractError) {
        let text = symbol.trimmingCharacters(in: .whitespaces).uppercased()
        let digits = String(text.reversed().prefix { $0.isASCII && $0.isNumber }.reversed())
        let head = text.dropLast(digits.count)
        guard !digits.isEmpty, [1, 2, 4].contains(digits.count), let yearDigits = Int(digits) else {
            throw ContractError(
                .invalidSymbol, "contract '\(symbol)' must end with a 1-, 2- or 4-digit year, e.g. NQZ5")
        }
        guard let monthCode = head.last, let month = ContractMonth(code: monthCode) else {
            throw ContractError(
                .invalidSymbol, "contract '\(symbol)' needs a month code (F G H J K M N Q U V X Z) before the year")
        }
        let root = String(head.dropLast())
        guard Instrument.isValidRoot(root) else {
            throw ContractError(.invalidSymbol, "contract '\(symbol)' has no valid root before the month code")
        }
        let referenceYear = Contract.utcYear(of: reference)
        let year: Int
        switch digits.count {
        case 4: year = yearDigits
        case 2: year = Contract.resolve(yearDigits, modulus: 100, referenceYear: referenceYear)
        default: year = Contract.resolve(yearDigits, modulus: 10, referenceYear: referenceYear)
        }
        self.init(root: root, month: month, year: year)
    }

    static func resolve(_ digits: Int, modulus: Int, referenceYear: Int) -> Int {
        let low = referenceYear - 2
        let base = low - ((low % modulus) + modulus) % modulus
        let candidate = base + digits
        return candidate < low ? candidate + modulus : candidate
    }

    static func utcYear(of date: Date) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        return calendar.component(.year, from: date)
    }

    public static func < (lhs: Contract, rhs: Contract) -> Bool {
        (lhs.root, lhs.year, lhs.month.rawValue) < (rhs.root, rhs.year, rhs.month.rawValue)
    }
}

/// A contract symbol that cannot be read, or a roll question that has no answer.
public typealias ContractError = DomainError<Contract>

extension ContractError.Code {
    /// The text is not root + month code + year.
    public static var invalidSymbol: Self { Self("invalidSymbol") }
    /// The month is not one the instrument lists.
    public static var monthNotListed: Self { Self("monthNotListed") }
    /// A roll offset is negative or implausibly large.
    public static var invalidRollOffset: Self { Self("invalidRollOffset") }
}
