import Foundation
import ServerTestSupport
import Testing

@testable import Collectors
@testable import PostgresSink

#if canImport(Glibc)
    import Glibc
    private let streamSocketType = Int32(SOCK_STREAM.rawValue)
#elseif canImport(Darwin)
    import Darwin
    private let streamSocketType = SOCK_STREAM
#endif

/// A loopback port with nothing listening: bound (so no one else takes it) but never listening.
private final class ClosedPort {
    let port: Int
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, streamSocketType, 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        try #require(fd >= 0 && ok, "cannot bind a loopback socket")
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit {
        close(fd)
    }
}

@Suite("PostgresConnection without a server")
struct PostgresConnectionTests {
    private let password = "pg-pass-never-shown-77"

    @Test("a closed port gives connectionFailed without the password")
    func closedPort() throws {
        let closed = try ClosedPort()
        let url = "postgres://orca:\(password)@127.0.0.1:\(closed.port)/orca?sslmode=disable"
        do {
            _ = try PostgresConnection(url: url, connectTimeout: .seconds(2))
            Issue.record("expected connectionFailed")
        } catch let error as PostgresError {
            #expect(error.code == .connectionFailed)
            let text = String(describing: error)
            #expect(!text.contains(password))
            #expect(text.contains("orca:***@127.0.0.1:\(closed.port)"))
            #expect(text.contains("Connection refused"))
        }
    }

    @Test("a key/value DSN to a closed port hides the password too")
    func closedPortKeyValue() throws {
        let closed = try ClosedPort()
        let url = "host=127.0.0.1 port=\(closed.port) user=orca password='\(password)' dbname=orca"
        #expect {
            _ = try PostgresConnection(url: url, connectTimeout: .seconds(2))
        } throws: { error in
            (error as? PostgresError)?.code == .connectionFailed && !"\(error)".contains(password)
        }
    }

    @Test(
        "malformed connection strings give invalidURL without the password",
        arguments: [
            "postgres://orca:pg-pass-never-shown-77@[::1/orca",
            "postgres://orca:pg-pass-never-shown-77@host/db?nosuchoption=1",
            "host=h password=pg-pass-never-shown-77 bogus",
        ])
    func malformed(_ url: String) {
        #expect {
            _ = try PostgresConnection(url: url)
        } throws: { error in
            (error as? PostgresError)?.code == .invalidURL && !"\(error)".contains(password)
        }
    }

    @Test("PostgresClient redacts its URL and reports connect failures")
    func clientClosedPort() async throws {
        let closed = try ClosedPort()
        let client = PostgresClient(url: "postgres://orca:\(password)@127.0.0.1:\(closed.port)/orca")
        #expect(!client.redactedURL.contains(password))
        await #expect {
            try await client.execute("SELECT 1")
        } throws: { error in
            (error as? PostgresError)?.code == .connectionFailed && !"\(error)".contains(password)
        }
        #expect(await client.isConnected == false)
    }
}
