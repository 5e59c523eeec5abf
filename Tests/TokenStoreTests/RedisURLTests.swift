import Testing

@testable import TokenStore

@Suite("RedisURL parsing and redaction")
struct RedisURLTests {
    @Test("host only uses defaults")
    func hostOnly() throws {
        let url = try RedisURL("redis://cache.internal")
        #expect(url.scheme == .redis)
        #expect(url.host == "cache.internal")
        #expect(url.port == 6379)
        #expect(url.username == nil)
        #expect(url.password == nil)
        #expect(url.database == 0)
        #expect(!url.usesTLS)
    }

    @Test("password only, port and database")
    func passwordPortDatabase() throws {
        let url = try RedisURL("redis://:s3cr3t@127.0.0.1:6380/4")
        #expect(url.host == "127.0.0.1")
        #expect(url.port == 6380)
        #expect(url.username == nil)
        #expect(url.password == "s3cr3t")
        #expect(url.database == 4)
    }

    @Test("ACL user and percent-encoded password")
    func aclUser() throws {
        let url = try RedisURL("redis://orca:p%40ss%3Aword%2F@redis.example:6379/")
        #expect(url.username == "orca")
        #expect(url.password == "p@ss:word/")
        #expect(url.database == 0)
    }

    @Test("an unencoded @ in the password still parses")
    func unencodedAt() throws {
        let url = try RedisURL("redis://:a@b@localhost")
        #expect(url.password == "a@b")
        #expect(url.host == "localhost")
    }

    @Test("user name without password")
    func userWithoutPassword() throws {
        let url = try RedisURL("redis://reader@localhost")
        #expect(url.username == "reader")
        #expect(url.password == nil)
    }

    @Test("IPv6 host in brackets")
    func ipv6() throws {
        let url = try RedisURL("redis://[::1]:7000/2")
        #expect(url.host == "::1")
        #expect(url.port == 7000)
        #expect(url.database == 2)
        #expect(url.description == "redis://[::1]:7000/2")
    }

    @Test("rediss:// is recognised as TLS")
    func tlsScheme() throws {
        let url = try RedisURL("REDISS://:pw@secure.example:6380")
        #expect(url.scheme == .rediss)
        #expect(url.usesTLS)
    }

    @Test(
        "malformed URLs are rejected with invalidURL",
        arguments: [
            "localhost:6379", "http://localhost", "redis://", "redis://:pw@", "redis://host:0", "redis://host:70000",
            "redis://host:abc", "redis://host/x", "redis://host/-1", "redis://host//1", "redis://[::1",
            "redis://[::1]x",
            "redis://host/0?timeout=1", "redis://host#frag", "redis://:bad%zz@host",
        ])
    func invalid(_ text: String) {
        #expect {
            try RedisURL(text)
        } throws: { error in
            (error as? RedisError)?.code == .invalidURL
        }
    }

    @Test("invalid URL errors never echo the password")
    func invalidURLErrorHidesPassword() {
        for text in [
            "redis://:hunter2hunter2@host:99999", "redis://u:hunter2hunter2@host/abc", "redis://:hunter2hunter2%zz@h",
        ] {
            do {
                _ = try RedisURL(text)
                Issue.record("expected \(text) to be rejected")
            } catch {
                #expect(!String(describing: error).contains("hunter2hunter2"))
            }
        }
    }

    @Test("description, interpolation and dump mask the password")
    func redaction() throws {
        let url = try RedisURL("redis://orca:topsecret-value@10.0.0.5:6379/3")
        #expect(url.description == "redis://orca:***@10.0.0.5:6379/3")
        #expect(!"\(url)".contains("topsecret-value"))
        #expect(!String(reflecting: url).contains("topsecret-value"))
        var dumped = ""
        dump(url, to: &dumped)
        #expect(!dumped.contains("topsecret-value"))
        #expect(dumped.contains("10.0.0.5"))
    }

    @Test("a password-only URL renders as :***@")
    func passwordOnlyDescription() throws {
        #expect(try RedisURL("redis://:pw@h").description == "redis://:***@h:6379/0")
        #expect(try RedisURL("redis://h:1/0").description == "redis://h:1/0")
    }

    @Test("RedisError scrubs secrets from messages")
    func errorScrubsSecrets() {
        let error = RedisError(.authFailed, "AUTH with hunter2 failed; hunter2 again", redacting: ["hunter2", nil, ""])
        #expect(error.message == "AUTH with *** failed; *** again")
        #expect(error.description == "RedisError.authFailed: AUTH with *** failed; *** again")
        #expect(error.code != .serverError)
    }
}
