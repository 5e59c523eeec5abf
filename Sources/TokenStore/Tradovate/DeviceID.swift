import Foundation

/// The `deviceId` Tradovate requires on live logins: unique per machine and stable across runs.
///
/// It is read from a file when the file exists; otherwise a new random UUID is written there (mode 600) and used from
/// then on. Keep the file on persistent storage: a changing device id is the usual cause of 401 "Access is denied" on
/// live accounts.
public enum DeviceID {
    /// The default location: `$XDG_STATE_HOME/orca/device-id`, or `~/.local/state/orca/device-id`.
    public static func defaultPath(environment: [String: String]) -> String {
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/orca/device-id" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/state/orca/device-id"
    }

    /// Returns the persisted id at `path`, creating it first if needed.
    ///
    /// - Throws: ``TokenStoreError/Code/credentialsUnreadable`` when the file can neither be read nor created.
    public static func loadOrCreate(at path: String) throws -> String {
        if let data = FileManager.default.contents(atPath: path) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { return text }
        }
        let id = UUID().uuidString.lowercased()
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data((id + "\n").utf8).write(to: url, options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        } catch {
            throw TokenStoreError(
                .credentialsUnreadable, "cannot create the device id file \(path): \(error.localizedDescription)")
        }
        return id
    }
}
