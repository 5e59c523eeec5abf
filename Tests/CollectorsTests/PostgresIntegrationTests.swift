import Foundation
import ServerTestSupport
import Testing

@testable import Collectors
@testable import PostgresSink

private let databaseURL = ProcessInfo.processInfo.environment["ORCA_TEST_DATABASE_URL"]

/// Smoke tests against a real PostgreSQL; `scripts/test.sh` starts a throwaway server with password
/// authentication and exports `ORCA_TEST_DATABASE_URL`. Skipped otherwise.
@Suite(
    "PostgreSQL integration",
    .enabled(
        if: databaseURL != nil,
        "set ORCA_TEST_DATABASE_URL (scripts/test.sh does) to run against a real PostgreSQL"),
    .serialized)
struct PostgresIntegrationTests {
    let url = databaseURL ?? ""

    @Test("SELECT 1")
    func selectOne() throws {
        let db = try PostgresConnection(url: url)
        let result = try db.execute("SELECT 1 AS one")
        #expect(result.columns == ["one"])
        #expect(result.rows == [["1"]])
        #expect(result.affectedRows == 1)
        #expect(result.commandTag == "SELECT 1")
        #expect(db.serverVersion >= 100_000)
        #expect(db.isUsable)
    }

    @Test("parameterised query with NULL and text values")
    func parameters() throws {
        let db = try PostgresConnection(url: url)
        let text = "quote ' and \\ and ünïcødé 🕯️"
        let result = try db.execute(
            "SELECT $1::int + 1 AS next, $2::text AS nothing, $3 AS echo, upper($4) AS shout, length($3) AS len",
            parameters: ["41", nil, text, "btcusdt"])
        #expect(result.columns == ["next", "nothing", "echo", "shout", "len"])
        #expect(result.rows == [["42", nil, text, "BTCUSDT", String(text.unicodeScalars.count)]])
        #expect(result.value(row: 0, column: "echo") == text)
        #expect(result.value(row: 0, column: "nothing") == nil)
        #expect(result.value(row: 0, column: "missing") == nil)
    }

    @Test("a syntax error gives queryFailed with SQLSTATE 42601 and leaves the connection usable")
    func syntaxError() throws {
        let db = try PostgresConnection(url: url)
        #expect {
            try db.execute("SELEC 1")
        } throws: { error in
            let error = error as? PostgresError
            return error?.code == .queryFailed && error?.sqlState == "42601"
                && error?.message.contains("syntax error") == true
        }
        #expect(try db.execute("SELECT 2").rows == [["2"]])
    }

    @Test("DML reports affected rows; constraint violations carry their SQLSTATE")
    func affectedRows() throws {
        let db = try PostgresConnection(url: url)
        _ = try db.execute("CREATE TEMP TABLE candles (symbol text PRIMARY KEY, close numeric)")
        let insert = try db.execute(
            "INSERT INTO candles VALUES ($1, $2), ($3, $4), ($5, NULL)",
            parameters: ["BTC", "1.5", "ETH", "2.25", "SOL"])
        #expect(insert.affectedRows == 3)
        #expect(insert.commandTag == "INSERT 0 3")
        #expect(insert.columns.isEmpty)
        #expect(try db.execute("UPDATE candles SET close = close * 2 WHERE close IS NOT NULL").affectedRows == 2)
        let rows = try db.execute("SELECT symbol, close FROM candles ORDER BY symbol").rows
        #expect(rows == [["BTC", "3.0"], ["ETH", "4.50"], ["SOL", nil]])
        #expect {
            try db.execute("INSERT INTO candles VALUES ($1, 1)", parameters: ["BTC"])
        } throws: { error in
            (error as? PostgresError)?.sqlState == "23505"
        }
        #expect(try db.execute("").commandTag == "")
    }

    @Test("transactions through PostgresClient.withConnection")
    func transaction() async throws {
        let client = PostgresClient(url: url)
        let count = try await client.withConnection { db in
            _ = try db.execute("CREATE TEMP TABLE tx_test (n int)")
            _ = try db.execute("BEGIN")
            _ = try db.execute("INSERT INTO tx_test VALUES (1), (2)")
            _ = try db.execute("ROLLBACK")
            return try db.execute("SELECT count(*) FROM tx_test").rows[0][0]
        }
        #expect(count == "0")
    }

    @Test("PostgresClient serves concurrent tasks")
    func concurrentClient() async throws {
        let client = PostgresClient(url: url)
        try await client.connect()
        let sums = try await withThrowingTaskGroup(of: Int.self) { group in
            for value in 0..<20 {
                group.addTask {
                    let rows = try await client.execute("SELECT $1::int * 2", parameters: [String(value)]).rows
                    return Int(rows[0][0] ?? "") ?? -1
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(sums == (0..<20).reduce(0) { $0 + 2 * $1 })
    }

    @Test("COPY is refused and the connection stays usable")
    func copyRefused() throws {
        let db = try PostgresConnection(url: url)
        #expect {
            try db.execute("COPY (SELECT 1) TO STDOUT")
        } throws: { error in
            (error as? PostgresError)?.code == .unsupportedResult
        }
        _ = try db.execute("CREATE TEMP TABLE copy_test (n int)")
        #expect {
            try db.execute("COPY copy_test FROM STDIN")
        } throws: { error in
            (error as? PostgresError)?.code == .unsupportedResult
        }
        #expect(try db.execute("SELECT count(*) FROM copy_test").rows == [["0"]])
    }

    @Test("NUL characters are rejected before sending")
    func nulCharacters() throws {
        let db = try PostgresConnection(url: url)
        #expect {
            try db.execute("SELECT $1", parameters: ["a\0b"])
        } throws: { error in
            (error as? PostgresError)?.code == .invalidParameters
        }
    }

    @Test("a wrong password gives connectionFailed without echoing it")
    func wrongPassword() throws {
        let wrong = "wrong-\(UUID().uuidString)"
        guard let at = url.lastIndex(of: "@"), let colon = url[..<at].lastIndex(of: ":"),
            url[..<colon].hasSuffix("//") == false
        else {
            Issue.record("ORCA_TEST_DATABASE_URL should be postgres://user:password@host:port/db")
            return
        }
        let badURL = String(url[...colon]) + wrong + String(url[at...])
        #expect {
            _ = try PostgresConnection(url: badURL)
        } throws: { error in
            let error = error as? PostgresError
            return error?.code == .connectionFailed && !"\(error!)".contains(wrong)
                && error?.message.contains("password authentication failed") == true
        }
    }

    @Test("a terminated backend gives connectionLost, and the client reconnects")
    func connectionLost() async throws {
        let client = PostgresClient(url: url)
        let pid = try await client.execute("SELECT pg_backend_pid()").rows[0][0] ?? ""
        let killer = try PostgresConnection(url: url)
        _ = try killer.execute("SELECT pg_terminate_backend($1::int)", parameters: [pid])
        try await Task.sleep(for: .milliseconds(200))
        await #expect {
            try await client.execute("SELECT 1")
        } throws: { error in
            (error as? PostgresError)?.code == .connectionLost
        }
        #expect(try await client.execute("SELECT 3").rows == [["3"]])
    }
}
