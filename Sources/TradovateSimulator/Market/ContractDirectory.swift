public import CandleCore
import Foundation

/// Stable numeric ids and Tradovate-shaped entities for the simulated products and contracts.
///
/// Ids are pure functions of the configuration order and the contract, so they never change between runs:
/// product id = 100 + index of the root in ``MarketConfiguration/instruments``; contract id =
/// 3 000 000 + index × 10 000 + (year − 2000) × 12 + (month − 1); contract maturity id = the same with base 40 000.
public struct ContractDirectory: Sendable {
    private let instruments: [Instrument]
    private let calendar: ContractCalendar

    init(configuration: MarketConfiguration) {
        self.instruments = configuration.instruments
        self.calendar = configuration.contractCalendar
    }

    private func index(of root: String) -> Int? { instruments.firstIndex { $0.root == root.uppercased() } }

    /// The instrument for a root (case-insensitive).
    public func instrument(root: String) -> Instrument? { index(of: root).map { instruments[$0] } }

    /// The numeric id of a contract, or `nil` for a root that is not simulated or a year outside 2000…2799.
    public func id(of contract: Contract) -> Int? {
        guard let index = index(of: contract.root), (2000..<2800).contains(contract.year) else { return nil }
        return 3_000_000 + index * 10_000 + (contract.year - 2000) * 12 + contract.month.number - 1
    }

    /// The contract with a numeric id, or `nil`.
    public func contract(id: Int) -> Contract? {
        let value = id - 3_000_000
        guard value >= 0, value / 10_000 < instruments.count else { return nil }
        let instrument = instruments[value / 10_000]
        let rest = value % 10_000
        guard let month = ContractMonth(rawValue: rest % 12 + 1), instrument.contractMonths.contains(month) else {
            return nil
        }
        return Contract(root: instrument.root, month: month, year: 2000 + rest / 12)
    }

    /// The contract maturity id of a contract.
    public func maturityID(of contract: Contract) -> Int? {
        id(of: contract).map { $0 - 3_000_000 + 40_000 }
    }

    /// The product id of a root.
    public func productID(root: String) -> Int? { index(of: root).map { 100 + $0 } }

    /// `{"id":…,"name":"NQZ5","contractMaturityId":…}` — the `contract/find` entity.
    func contractEntity(_ contract: Contract) -> JSONValue {
        .object([
            "id": .int(id(of: contract) ?? 0),
            "name": .string(contract.symbol),
            "contractMaturityId": .int(maturityID(of: contract) ?? 0),
        ])
    }

    /// The `product/find` entity.
    func productEntity(_ instrument: Instrument) -> JSONValue {
        let descriptions = [
            "NQ": "E-Mini NASDAQ 100", "MNQ": "Micro E-Mini NASDAQ 100", "ES": "E-Mini S&P 500",
            "MES": "Micro E-Mini S&P 500",
        ]
        return .object([
            "id": .int(productID(root: instrument.root) ?? 0),
            "name": .string(instrument.root),
            "currencyId": .int(1),
            "productType": .string("Futures"),
            "description": .string(descriptions[instrument.root] ?? instrument.root),
            "exchangeId": .int(1),
            "exchangeChannelId": .int(1),
            "contractGroupId": .int(1),
            "riskDiscountContractGroupId": .int(1),
            "status": .string("Verified"),
            "months": .string(String(instrument.contractMonths.map(\.code))),
            "isSecured": .bool(false),
            "valuePerPoint": .double(instrument.pointValue),
            "priceFormatType": .string("Decimal"),
            "priceFormat": .int(-2),
            "tickSize": .double(instrument.tickSize),
        ])
    }

    /// The contracts of `instrument` that trade at `instant` or are listed after the front month: the front month and
    /// the next `ahead` contracts.
    func listedContracts(_ instrument: Instrument, at instant: Date, ahead: Int = 3) -> [Contract] {
        var contract = calendar.frontMonth(instrument, at: instant)
        var result = [contract]
        for _ in 0..<ahead {
            contract = calendar.nextContract(after: contract, for: instrument)
            result.append(contract)
        }
        return result
    }

    /// Every root simulated, in configuration order.
    var allInstruments: [Instrument] { instruments }
}
