import Foundation
import Testing

@testable import Collectors
@testable import PostgresSink

private let databaseURL = ProcessInfo.processInfo.environment["ORCA_TEST_DATABASE_URL"]

@Suite(
    "PostgreSQL COPY, scripts and transactions",
    .enabled(
        if: databaseURL != nil,
        "set ORCA_TEST_DATABASE_URL (scripts/test.sh does) to run against a real PostgreSQL"))
struct PostgresCopyTests {
    let url = databaseURL ?? ""

    @Test("copyIn streams chunks that split rows anywhere and reports the rows copied")
    func copyIn() throws {
        let db = try PostgresConnection(url: url)
        _ = try db.execute("CREATE TEMP TABLE copy_in (n int, label text, note text)")
        let text = (1...1_000).map { "\($0)\tlabel \($0)\t\($0 % 2 == 0 ? "\\N" : "tab\\there")\n" }.joined()
        let bytes = Array(text.utf8)
        let chunks = stride(from: 0, to: bytes.count, by: 777).map { Array(bytes[$0..<min($0 + 777, bytes.count)]) }
        let result = try db.copyIn("COPY copy_in (n, label, note) FROM STDIN", chunks: chunks)
        #expect(result.affectedRows == 1_000)
        #expect(result.commandTag == "COPY 1000")
        #expect(
            try db.execute("SELECT count(*), count(note), sum(n) FROM copy_in").rows == [["1000", "500", "500500"]])
        #expect(try db.execute("SELECT note FROM copy_in WHERE n = 1").rows == [["tab\there"]])
        #expect(try db.copyIn("COPY copy_in FROM STDIN", chunks: [[UInt8]]()).affectedRows == 0)
    }

    @Test("malformed COPY data fails with its SQLSTATE, copies nothing and leaves the connection usable")
    func copyRejected() throws {
        let db = try PostgresConnection(url: url)
        _ = try db.execute("CREATE TEMP TABLE copy_bad (n int)")
        #expect {
            try db.copyIn("COPY copy_bad FROM STDIN", chunks: [Array("1\n2\nthree\n4\n".utf8)])
        } throws: { error in
            let error = error as? PostgresError
            return error?.code == .queryFailed && error?.sqlState == "22P02"
        }
        #expect(try db.execute("SELECT count(*) FROM copy_bad").rows == [["0"]])
        #expect {
            try db.copyIn("SELECT 1", chunks: [[UInt8]]())
        } throws: { ($0 as? PostgresError)?.code == .unsupportedResult }
        #expect {
            try db.copyIn("COPY (SELECT 1) TO STDOUT", chunks: [[UInt8]]())
        } throws: { ($0 as? PostgresError)?.code == .unsupportedResult }
        #expect {
            try db.copyIn("COPY missing_table FROM STDIN", chunks: [[UInt8]]())
        } throws: { ($0 as? PostgresError)?.sqlState == "42P01" }
        #expect(try db.execute("SELECT 5").rows == [["5"]])
    }

    @Test("executeScript runs several statements; transaction commits or rolls back")
    func scriptsAndTransactions() throws {
        struct Abort: Error {}
        let db = try PostgresConnection(url: url)
        let result = try db.executeScript(
            "CREATE TEMP TABLE script_t (n int); INSERT INTO script_t VALUES (1), (2); SELECT count(*) FROM script_t")
        #expect(result.rows == [["2"]])
        #expect(throws: PostgresError.self) { try db.executeScript("INSERT INTO script_t VALUES (3); SELEC 1") }
        #expect(try db.execute("SELECT count(*) FROM script_t").rows == [["2"]])  // one implicit transaction
        let inserted = try db.transaction { try db.execute("INSERT INTO script_t VALUES (4)").affectedRows }
        #expect(inserted == 1)
        #expect(throws: Abort.self) {
            try db.transaction {
                _ = try db.execute("INSERT INTO script_t VALUES (5)")
                throw Abort()
            }
        }
        #expect(try db.execute("SELECT string_agg(n::text, ',' ORDER BY n) FROM script_t").rows == [["1,2,4"]])
    }
}
