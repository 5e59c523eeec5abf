import CandleCore
import Testing

@Suite("Instrument")
struct InstrumentTests {
    @Test("built-in roots carry the CME specs")
    func builtIns() {
        #expect(Instrument.builtIns.map(\.root) == ["NQ", "MNQ", "ES", "MES"])
        #expect(Instrument.nq.pointValue == 20)
        #expect(Instrument.mnq.pointValue == 2)
        #expect(Instrument.es.pointValue == 50)
        #expect(Instrument.mes.pointValue == 5)
        for instrument in Instrument.builtIns {
            #expect(instrument.tickSize == 0.25)
            #expect(instrument.exchange == "CME")
            #expect(instrument.contractMonths == [.march, .june, .september, .december])
        }
        #expect(Instrument.nq.tickValue == 5)
        #expect(Instrument.es.tickValue == 12.5)
    }

    @Test("look-up by root is case-insensitive and custom roots come first")
    func lookup() throws {
        #expect(try Instrument.named("nq") == .nq)
        let cl = try Instrument(root: "cl", tickSize: 0.01, pointValue: 1000, contractMonths: ContractMonth.allCases)
        #expect(cl.root == "CL")
        #expect(try Instrument.named("CL", custom: [cl]) == cl)
        let error = #expect(throws: InstrumentError.self) { try Instrument.named("XYZ") }
        #expect(error?.code == .unknownRoot)
        #expect(error?.description.contains("NQ, MNQ, ES, MES") == true)
    }

    @Test("invalid definitions are rejected with their code")
    func invalidDefinitions() {
        let cases: [(() throws -> Instrument, InstrumentError.Code)] = [
            ({ try Instrument(root: "", tickSize: 0.25, pointValue: 1, contractMonths: .quarterly) }, .invalidRoot),
            ({ try Instrument(root: "1NQ", tickSize: 0.25, pointValue: 1, contractMonths: .quarterly) }, .invalidRoot),
            ({ try Instrument(root: "N-Q", tickSize: 0.25, pointValue: 1, contractMonths: .quarterly) }, .invalidRoot),
            ({ try Instrument(root: "NQ", tickSize: 0, pointValue: 1, contractMonths: .quarterly) }, .invalidTickSize),
            (
                { try Instrument(root: "NQ", tickSize: .nan, pointValue: 1, contractMonths: .quarterly) },
                .invalidTickSize
            ),
            (
                { try Instrument(root: "NQ", tickSize: 0.25, pointValue: -1, contractMonths: .quarterly) },
                .invalidPointValue
            ),
            ({ try Instrument(root: "NQ", tickSize: 0.25, pointValue: 1, contractMonths: []) }, .noContractMonths),
        ]
        for (make, code) in cases {
            let error = #expect(throws: InstrumentError.self) { try make() }
            #expect(error?.code == code)
        }
    }

    @Test("prices are validated on the tick grid")
    func tickGrid() throws {
        #expect(Instrument.nq.isOnTickGrid(21_000.25))
        #expect(Instrument.nq.isOnTickGrid(21_000.75))
        #expect(!Instrument.nq.isOnTickGrid(21_000.1))
        #expect(!Instrument.nq.isOnTickGrid(.nan))
        #expect(Instrument.nq.roundedToTick(21_000.1) == 21_000)
        try Instrument.es.validatePrice(6_000.5)
        let off = #expect(throws: InstrumentError.self) { try Instrument.es.validatePrice(6_000.3) }
        #expect(off?.code == .offTickGrid)
        let nan = #expect(throws: InstrumentError.self) { try Instrument.es.validatePrice(.infinity) }
        #expect(nan?.code == .invalidPrice)
    }
}

@Suite("Series")
struct SeriesTests {
    @Test("the 16 default series and their labels")
    func defaults() {
        #expect(Series.seedDefaults.count == 16)
        #expect(Series.seedDefaults.first?.description == "NQ 5min")
        #expect(Series.seedDefaults.last?.description == "MES 1hour")
        #expect(Set(Series.seedDefaults).count == 16)
    }
}
