import Testing

@testable import Collectors
@testable import PostgresSink

@Suite("PostgreSQL connection string redaction")
struct PostgresConnectionStringTests {
    @Test(
        "passwords are masked in every form",
        arguments: [
            ("postgres://orca:s3cret@127.0.0.1:5432/orca", "postgres://orca:***@127.0.0.1:5432/orca"),
            ("postgresql://orca:p%40ss@db/orca?sslmode=require", "postgresql://orca:***@db/orca?sslmode=require"),
            ("postgres://orca:a@b/c@db:1/x", "postgres://orca:***@db:1/x"),
            (
                "postgres://db/orca?user=u&password=qs-secret&sslmode=disable",
                "postgres://db/orca?user=u&password=***&sslmode=disable"
            ),
            ("postgres://orca@db/orca", "postgres://orca@db/orca"),
            ("host=db user=orca password=kv-secret dbname=orca", "host=db user=orca password=*** dbname=orca"),
            ("host=db password = 'quoted \\' secret' dbname=orca", "host=db password = '***' dbname=orca"),
            ("password=esc\\ aped port=5432", "password=*** port=5432"),
            ("host=db dbname=orca", "host=db dbname=orca"),
        ])
    func redact(_ input: String, _ expected: String) {
        #expect(PostgresConnectionString.redact(input) == expected)
    }

    @Test("secrets include raw, decoded and unescaped forms")
    func secrets() {
        #expect(Set(PostgresConnectionString.secrets(in: "postgres://u:p%40ss@h/d")) == ["p%40ss", "p@ss"])
        #expect(Set(PostgresConnectionString.secrets(in: "password='it\\'s' host=h")) == ["it\\'s", "it's"])
        #expect(PostgresConnectionString.secrets(in: "host=h dbname=d").isEmpty)
    }

    @Test("PostgresError scrubs secrets and shows the SQLSTATE")
    func errorDescription() {
        let error = PostgresError(.queryFailed, "bad pw hunter2", sqlState: "42601", redacting: ["hunter2", ""])
        #expect(error.description == "PostgresError.queryFailed [SQLSTATE 42601]: bad pw ***")
        #expect(PostgresError(.connectionLost, "gone").description == "PostgresError.connectionLost: gone")
    }
}
