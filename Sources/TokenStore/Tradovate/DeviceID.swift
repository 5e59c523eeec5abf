import Foundation

/// The `deviceId` Tradovate requires on live logins: unique per machine and stable across runs.
///
/// It is read from a file when the file exists; otherwise a new random UUID is written there (mode 600) and used from
/// then on. Keep the file on persistent storage: a changing device id is the usual cause of 401 "Access is denied" on
/// live accounts. Every `orca-run` command keeps it at `<stateDirectory>/device-id` (or `tradovate.deviceIDFile`).
public enum DeviceID {
    /// Where `orca-run tokens` kept the id before version 0.3: `$XDG_STATE_HOME/orca/device-id`, or
    /// `~/.local/state/orca/device-id`. ``loadOrCreate(at:migratingFrom:)`` moves a file found there.
    public static func legacyPath(environment: [String: String]) -> String {
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/orca/device-id" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/state/orca/device-id"
    }

    /// What ``loadOrCreate(at:migratingFrom:)`` found.
    public enum Origin: Sendable, Equatable {
        /// Read from the file at the path.
        case existing
        /// Copied from the legacy file at this path (now written at the path as well).
        case migrated(from: String)
        /// A new id, written at the path.
        case created
    }

    /// Returns the persisted id at `path`, creating it first if needed.
    ///
    /// - Throws: `credentialsUnreadable` when the file can neither be read nor created.
    public static func loadOrCreate(at path: String) throws -> String {
        try loadOrCreate(at: path, migratingFrom: nil).id
    }

    /// Returns the persisted id at `path`. When `path` holds none but `legacyPath` does, that id is written at
    /// `path` (the legacy file stays, so older binaries keep the same id) and reported as ``Origin/migrated(from:)``:
    /// log it once. Otherwise a new id is created.
    ///
    /// - Throws: `credentialsUnreadable` when the file can neither be read nor created.
    public static func loadOrCreate(at path: String, migratingFrom legacyPath: String?) throws -> (
        id: String, origin: Origin
    ) {
        if let id = read(path) { return (id, .existing) }
        if let legacyPath, legacyPath != path, let id = read(legacyPath) {
            try write(id, to: path)
            return (id, .migrated(from: legacyPath))
        }
        let id = UUID().uuidString.lowercased()
        try write(id, to: path)
        return (id, .created)
    }

    /// Writes `id` at `path` again when the file is missing or holds another id (someone removed the state
    /// directory, or a clean-up job the file); `true` when it wrote. A running process calls this so that its next
    /// start logs in with the same id.
    ///
    /// - Throws: `credentialsUnreadable` when the file cannot be written.
    @discardableResult
    public static func restore(_ id: String, at path: String) throws -> Bool {
        guard read(path) != id else { return false }
        try write(id, to: path)
        return true
    }

    private static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    private static func write(_ id: String, to path: String) throws {
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
    }
}
