import Foundation
import OrcaRuntime
import Testing

/// A throwaway directory for configuration and credentials files.
struct ConfigurationScratch {
    let directory: String

    init() throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("orca-config-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// Writes `text` to `name` with `mode` and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
        let path = directory + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    /// A credentials file with `count` logins whose passwords and secrets are `secrets` (random by default).
    func credentials(
        logins names: [String] = ["APEX_1", "APEX_2"], secrets: [String] = [], mode: Int = 0o600
    ) throws -> (path: String, secrets: [String]) {
        var used: [String] = []
        var text = "logins:\n"
        for (index, name) in names.enumerated() {
            let password = index * 2 < secrets.count ? secrets[index * 2] : fakeSecret()
            let sec = index * 2 + 1 < secrets.count ? secrets[index * 2 + 1] : fakeSecret()
            used += [password, sec]
            text += """
                  - name: \(name)
                    password: "\(password)"
                    cid: \(100 + index)
                    sec: "\(sec)"
                    accounts: [PA\(name)0001, PA\(name)0002]

                """
        }
        return (try write("credentials-\(UUID().uuidString).yaml", text, mode: mode), used)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A random secret-looking string that cannot occur by chance in any message.
func fakeSecret() -> String {
    "S3cr3t" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
}

/// Loads, expecting a ``ConfigurationError``, and returns it.
func loadError(
    file: String? = nil, environment: [String: String] = [:], overrides: [String: String] = [:],
    sourceLocation: SourceLocation = #_sourceLocation
) async -> ConfigurationError? {
    do {
        let configuration = try await OrcaConfiguration.load(
            file: file, environment: environment, overrides: overrides)
        Issue.record("expected an error, loaded \(configuration.summary().count) keys", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}
