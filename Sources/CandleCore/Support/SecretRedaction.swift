/// Keeps secrets (passwords, tokens, API keys) out of error messages and logs: the one place the package masks them.
package enum SecretRedaction {
    /// What a secret is replaced by.
    package static let mask = "***"

    /// `text` with every occurrence of each non-empty secret replaced by ``mask``.
    ///
    /// Longer secrets are replaced first, so a secret that contains another one is masked whole.
    /// - Parameters:
    ///   - text: a message that may contain secrets (server replies, library error strings, URLs).
    ///   - secrets: the strings that must not appear; `nil` and empty strings are ignored.
    package static func redact(_ text: String, _ secrets: [String?]) -> String {
        let present = secrets.compactMap { $0 }.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
        return present.reduce(text) { $0.replacing($1, with: mask) }
    }
}
