import Foundation

/// A futures product that Orca collects bars for, identified by its root symbol (`NQ`, `ES`, …).
///
/// The four CME equity-index roots of the user's setup are built in (``nq``, ``mnq``, ``es``, ``mes``); any other root can be
/// described with ``init(root:exchange:tickSize:pointValue:contractMonths:)``. Two instruments are equal when all their
/// fields are equal; look-ups by root go through ``builtIn(root:)``.
public struct Instrument: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The product root, upper case: `NQ`, `MNQ`, `ES`, `MES`.
    public let root: String
    /// The exchange that lists the product, e.g. `CME`.
    public let exchange: String
    /// The minimum price increment in index points (0.25 for the built-in roots).
    public let tickSize: Double
    /// The currency value of one full index point (NQ 20, MNQ 2, ES 50, MES 5).
    public let pointValue: Double
    /// The months in which contracts are listed, in calendar order (H M U Z for the built-in roots).
    public let contractMonths: [ContractMonth]

    /// Creates an instrument description.
    ///
    /// - Throws: ``InstrumentError`` when the root is not 1–8 upper-case letters or digits starting with a letter, the tick
    ///   size or point value is not a positive finite number, or no contract month is given.
    public init(
        root: String,
        exchange: String = "CME",
        tickSize: Double,
        pointValue: Double,
        contractMonths: [ContractMonth]
    ) throws(InstrumentError) {
        let upper = root.uppercased()
        guard Instrument.isValidRoot(upper) else {
            throw InstrumentError(.invalidRoot, "root '\(root)' must be 1–8 letters or digits starting with a letter")
        }
        guard tickSize.isFinite, tickSize > 0 else {
            throw InstrumentError(.invalidTickSize, "tick size \(tickSize) for \(upper) must be a positive number")
        }
        guard pointValue.isFinite, pointValue > 0 else {
            throw InstrumentError(
                .invalidPointValue, "point value \(pointValue) for \(upper) must be a positive number")
        }
        guard !contractMonths.isEmpty else {
            throw InstrumentError(.noContractMonths, "\(upper) needs at least one contract month")
        }
        self.init(
            uncheckedRoot: upper,
            exchange: exchange,
            tickSize: tickSize,
            pointValue: pointValue,
            contractMonths: Array(Set(contractMonths)).sorted()
        )
    }

    private init(
        uncheckedRoot root: String,
        exchange: String,
        tickSize: Double,
        pointValue: Double,
        contractMonths: [ContractMonth]
    ) {
        self.root = root
        self.exchange = exchange
        self.tickSize = tickSize
        self.pointValue = pointValue
        self.contractMonths = contractMonths
    }

    /// The currency value of one tick (`tickSize × pointValue`), e.g. $5.00 for NQ.
    public var tickValue: Double { tickSize * pointValue }

    public var description: String { root }

    /// Whether `price` lies on this instrument's tick grid (within floating-point rounding).
    public func isOnTickGrid(_ price: Double) -> Bool {
        guard price.isFinite else { return false }
        let ticks = price / tickSize
        return abs(ticks - ticks.rounded()) <= 1e-6
    }

    /// Rounds `price` to the nearest tick.
    public func roundedToTick(_ price: Double) -> Double {
        (price / tickSize).rounded() * tickSize
    }

    /// Checks that `price` is a finite number on the tick grid.
    ///
    /// - Throws: ``InstrumentError`` with code `offTickGrid` or `invalidPrice`.
    public func validatePrice(_ price: Double) throws(InstrumentError) {
        guard price.isFinite else {
            throw InstrumentError(.invalidPrice, "price \(price) for \(root) is not a finite number")
        }
        guard isOnTickGrid(price) else {
            throw InstrumentError(
                .offTickGrid,
                "price \(price) for \(root) is not a multiple of the tick size \(tickSize)"
            )
        }
    }

    static func isValidRoot(_ root: String) -> Bool {
        guard (1...8).contains(root.count), let first = root.unicodeScalars.first,
            ("A"..."Z").contains(first)
        else { return false }
        return root.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }
}

extension Instrument {
    /// E-mini Nasdaq-100: $20 × index, tick 0.25.
    public static let nq = Instrument(
        uncheckedRoot: "NQ", exchange: "CME", tickSize: 0.25, pointValue: 20, contractMonths: .quarterly)
    /// Micro E-mini Nasdaq-100: $2 × index, tick 0.25.
    public static let mnq = Instrument(
        uncheckedRoot: "MNQ", exchange: "CME", tickSize: 0.25, pointValue: 2, contractMonths: .quarterly)
    /// E-mini S&P 500: $50 × index, tick 0.25.
    public static let es = Instrument(
        uncheckedRoot: "ES", exchange: "CME", tickSize: 0.25, pointValue: 50, contractMonths: .quarterly)
    /// Micro E-mini S&P 500: $5 × index, tick 0.25.
    public static let mes = Instrument(
        uncheckedRoot: "MES", exchange: "CME", tickSize: 0.25, pointValue: 5, contractMonths: .quarterly)

    /// The built-in instruments, in the order the old system listed them.
    public static let builtIns: [Instrument] = [.nq, .mnq, .es, .mes]

    /// The built-in instrument for `root` (case-insensitive), or `nil`.
    public static func builtIn(root: String) -> Instrument? {
        let upper = root.uppercased()
        return builtIns.first { $0.root == upper }
    }

    /// Looks `root` up among `custom` instruments first, then the built-ins.
    ///
    /// - Throws: ``InstrumentError`` with code `unknownRoot` naming the known roots.
    public static func named(_ root: String, custom: [Instrument] = []) throws(InstrumentError) -> Instrument {
        let upper = root.uppercased()
        if let found = custom.first(where: { $0.root == upper }) ?? builtIn(root: upper) { return found }
        let known = (custom.map(\.root) + builtIns.map(\.root)).joined(separator: ", ")
        throw InstrumentError(.unknownRoot, "unknown instrument '\(root)'; known roots: \(known)")
    }
}

extension [ContractMonth] {
    /// The quarterly cycle H (March), M (June), U (September), Z (December).
    public static let quarterly: [ContractMonth] = [.march, .june, .september, .december]
}

/// An invalid instrument description or a price that does not fit an instrument.
public typealias InstrumentError = DomainError<Instrument>

extension InstrumentError.Code {
    /// The root is not 1–8 letters/digits starting with a letter.
    public static var invalidRoot: Self { Self("invalidRoot") }
    /// The tick size is not a positive finite number.
    public static var invalidTickSize: Self { Self("invalidTickSize") }
    /// The point value is not a positive finite number.
    public static var invalidPointValue: Self { Self("invalidPointValue") }
    /// No contract month was given.
    public static var noContractMonths: Self { Self("noContractMonths") }
    /// No instrument with that root is known.
    public static var unknownRoot: Self { Self("unknownRoot") }
    /// A price is NaN or infinite.
    public static var invalidPrice: Self { Self("invalidPrice") }
    /// A price is not a multiple of the tick size.
    public static var offTickGrid: Self { Self("offTickGrid") }
}
