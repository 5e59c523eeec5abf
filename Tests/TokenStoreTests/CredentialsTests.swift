import Foundation
import Testing
import TokenStore

@Suite("Credentials and device id")
struct CredentialsTests {
    func write(_ text: String, ext: String, mode: Int = 0o600) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("orca-cred-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("credentials.\(ext)").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    @Test("JSON: one login, a list, or {logins: [...]}")
    func json() throws {
        let pw = UUID().uuidString
        let one = try write(
            #"{"name":"A","password":"\#(pw)","cid":7,"sec":"s","accounts":["PA1","PA2"]}"#, ext: "json")
        let parsed = try CredentialsLoader.load(path: one)
        #expect(parsed.count == 1)
        #expect(parsed[0].aliases == ["PA1", "PA2"])
        #expect(parsed[0].cid == 7)
        #expect(parsed[0].appID == "Orca")
        let list = try write(
            #"{"logins":[{"name":"A","password":"p","cid":"8","sec":"s"},{"name":"B","password":"p","cid":9,"sec":"s","appId":"X","appVersion":"2"}]}"#,
            ext: "json")
        let both = try CredentialsLoader.load(path: list)
        #expect(both.map(\.name) == ["A", "B"])
        #expect(both[0].cid == 8)
        #expect(both[1].appID == "X")
    }

    @Test("YAML with several logins and aliases")
    func yaml() throws {
        let path = try write(
            """
            logins:
              - name: APEX_1
                password: p1
                cid: 1
                sec: s1
                accounts: [PAAPEX1, PAAPEX2]
              - name: APEX_2
                password: p2
                cid: 2
                sec: s2
            """, ext: "yaml")
        let parsed = try CredentialsLoader.load(path: path)
        #expect(parsed.map(\.name) == ["APEX_1", "APEX_2"])
        #expect(parsed[0].accounts == ["APEX_1", "PAAPEX1", "PAAPEX2"])
    }

    @Test("a file readable by group or others is refused with the fix")
    func tooOpen() throws {
        let path = try write(#"{"name":"A","password":"p","cid":1,"sec":"s"}"#, ext: "json", mode: 0o644)
        let error = #expect(throws: TokenStoreError.self) { try CredentialsLoader.load(path: path) }
        #expect(error?.code == .credentialsFileTooOpen)
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("chmod 600") == true)
    }

    @Test("missing, malformed and incomplete files give precise errors without secrets")
    func invalid() throws {
        let missing = #expect(throws: TokenStoreError.self) {
            try CredentialsLoader.load(path: "/nonexistent/orca.json")
        }
        #expect(missing?.code == .credentialsUnreadable)
        let secret = "hunter2-\(UUID().uuidString)"
        let noSec = try write(#"{"name":"A","password":"\#(secret)","cid":1}"#, ext: "json")
        let error = #expect(throws: TokenStoreError.self) { try CredentialsLoader.load(path: noSec) }
        #expect(error?.code == .invalidCredentials)
        #expect(error?.description.contains("sec") == true)
        #expect(error?.description.contains(secret) == false)
        let garbage = try write("{{{", ext: "json")
        #expect(throws: TokenStoreError.self) { try CredentialsLoader.load(path: garbage) }
        let duplicate = try write(
            #"[{"name":"A","password":"p","cid":1,"sec":"s"},{"name":"A","password":"p","cid":1,"sec":"s"}]"#,
            ext: "json")
        let dup = #expect(throws: TokenStoreError.self) { try CredentialsLoader.load(path: duplicate) }
        #expect(dup?.description.contains("twice") == true)
    }

    @Test("environment variables")
    func environment() throws {
        #expect(try CredentialsLoader.fromEnvironment([:]) == nil)
        let env = [
            "ORCA_TRADOVATE_USERNAME": "APEX_9", "ORCA_TRADOVATE_PASSWORD": "p", "ORCA_TRADOVATE_CID": "3",
            "ORCA_TRADOVATE_SEC": "s", "ORCA_TRADOVATE_ACCOUNTS": "PA1, PA2,",
        ]
        let credentials = try #require(try CredentialsLoader.fromEnvironment(env))
        #expect(credentials.aliases == ["PA1", "PA2"])
        var partial = env
        partial["ORCA_TRADOVATE_SEC"] = nil
        let error = #expect(throws: TokenStoreError.self) { try CredentialsLoader.fromEnvironment(partial) }
        #expect(error?.code == .missingCredentials)
        #expect(error?.description.contains("ORCA_TRADOVATE_SEC") == true)
    }

    @Test("the device id is created once and then stable")
    func deviceID() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("orca-dev-\(UUID().uuidString)")
        let path = dir.appendingPathComponent("state/device-id").path
        let first = try DeviceID.loadOrCreate(at: path)
        let second = try DeviceID.loadOrCreate(at: path)
        #expect(first == second)
        #expect(UUID(uuidString: first) != nil)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        #expect(DeviceID.legacyPath(environment: ["HOME": "/h"]) == "/h/.local/state/orca/device-id")
        #expect(DeviceID.legacyPath(environment: ["XDG_STATE_HOME": "/s"]) == "/s/orca/device-id")
    }
    @Test("a device id at the legacy path moves to the new path once; the legacy file stays")
    func deviceIDMigration() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("orca-dev-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let legacy = dir.appendingPathComponent("home/.local/state/orca/device-id").path
        let path = dir.appendingPathComponent("state/device-id").path
        let old = try DeviceID.loadOrCreate(at: legacy)
        let migrated = try DeviceID.loadOrCreate(at: path, migratingFrom: legacy)
        #expect(migrated.id == old)
        #expect(migrated.origin == .migrated(from: legacy))
        let again = try DeviceID.loadOrCreate(at: path, migratingFrom: legacy)
        #expect(again.id == old)
        #expect(again.origin == .existing)
        #expect(FileManager.default.fileExists(atPath: legacy))
        let fresh = try DeviceID.loadOrCreate(
            at: dir.appendingPathComponent("other/device-id").path,
            migratingFrom: dir.appendingPathComponent("missing").path)
        #expect(fresh.origin == .created)
        #expect(fresh.id != old)
    }
}
