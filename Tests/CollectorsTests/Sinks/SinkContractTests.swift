import Testing

@testable import Collectors

// One suite per backend, each running every case of the shared contract (SinkContract.swift).

@Suite("Sink contract: memory")
struct MemorySinkContractTests {
    @Test(arguments: SinkContractCase.allCases)
    func contract(_ check: SinkContractCase) async throws {
        try await check.run(.memory())
    }
}

@Suite("Sink contract: files")
struct FileSinkContractTests {
    @Test("CSV", arguments: SinkContractCase.allCases)
    func csv(_ check: SinkContractCase) async throws {
        try await check.run(.file(.csv))
    }

    @Test("JSON Lines", arguments: SinkContractCase.allCases)
    func jsonLines(_ check: SinkContractCase) async throws {
        try await check.run(.file(.jsonLines))
    }
}

@Suite(
    "Sink contract: PostgreSQL",
    .enabled(
        if: sinkTestDatabaseURL != nil, "set ORCA_TEST_DATABASE_URL (scripts/test.sh does) to run against PostgreSQL"))
struct PostgresSinkContractTests {
    @Test("table per series (seed layout), VALUES path", arguments: SinkContractCase.allCases)
    func tablePerSeries(_ check: SinkContractCase) async throws {
        try await check.run(.postgres(layout: .tablePerSeries))
    }

    @Test("table per series (seed layout), COPY path", arguments: SinkContractCase.allCases)
    func tablePerSeriesCopy(_ check: SinkContractCase) async throws {
        try await check.run(.postgres(layout: .tablePerSeries, copyThreshold: 1))
    }

    @Test("single table", arguments: SinkContractCase.allCases)
    func singleTable(_ check: SinkContractCase) async throws {
        try await check.run(.postgres(layout: .singleTable, copyThreshold: 2))
    }
}
