public import Logging

/// The guard that keeps secrets out of log lines: metadata whose key looks secret is replaced by `<redacted>`, and
/// `scheme://user:password@host` credentials inside any value lose their password.
///
/// A key *looks secret* when one of its words (split at `_`, `-`, `.`, spaces and lower→upper case changes) is
/// `password`, `passwd`, `pwd`, `secret`, `sec`, `token`, `authorization`, `dsn`, `apikey`, `cookie` or
/// `credentials` (camel case splits: `mdAccessToken` → `md access token`), or two neighbouring words spell one
/// (`apiKey` → `apikey`, `pass_word`) — unless the key's last word says it
/// only describes the secret: `fingerprint`, `source`, `expiry`, `expires`, `ttl`, `count`, `left`, `age`.
/// So `orca_password`, `api_sec`, `accessToken` and `orca_dsn` are redacted, `orca_token_fingerprint`,
/// `orca_token_ttl` and `orca_seconds` are not.
public enum LogRedaction {
    /// The replacement text.
    public static let placeholder = "<redacted>"

    private static let secretWords: Set<String> = [
        "password", "passwd", "pwd", "secret", "sec", "token", "authorization", "dsn", "apikey", "cookie",
        "credentials",
    ]
    private static let describingWords: Set<String> = [
        "fingerprint", "source", "expiry", "expires", "ttl", "count", "left", "age",
    ]

    /// Whether metadata under `key` must be hidden.
    public static func isSecretKey(_ key: String) -> Bool {
        let words = splitWords(key)
        guard let last = words.last else { return false }
        if describingWords.contains(last) { return false }
        if words.contains(where: secretWords.contains) { return true }
        // Two words that form one secret word: `apiKey`, `pass_word`.
        return zip(words, words.dropFirst()).contains { secretWords.contains($0 + $1) }
    }

    /// `value` with the password of every `scheme://user:password@` in it replaced by `<redacted>`.
    public static func maskingURLPasswords(in value: String) -> String {
        guard value.contains("://"), value.contains("@") else { return value }
        var result = ""
        var rest = Substring(value)
        while let schemeEnd = rest.range(of: "://") {
            result += rest[..<schemeEnd.upperBound]
            rest = rest[schemeEnd.upperBound...]
            // The authority ends at the first '/', '?', '#' or whitespace.
            let authorityEnd =
                rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" || $0.isWhitespace } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                result += authority[...colon]
                result += placeholder
                result += authority[at...]
            } else {
                result += authority
            }
            rest = rest[authorityEnd...]
        }
        result += rest
        return result
    }

    /// A copy of `value` with secret keys (at any depth) redacted and URL passwords masked.
    public static func redact(_ value: Logger.MetadataValue, key: String) -> Logger.MetadataValue {
        if isSecretKey(key) { return .string(placeholder) }
        switch value {
        case .string(let text): return .string(maskingURLPasswords(in: text))
        case .stringConvertible(let convertible): return .string(maskingURLPasswords(in: convertible.description))
        case .dictionary(let dictionary): return .dictionary(redact(dictionary))
        case .array(let array): return .array(array.map { redact($0, key: "") })
        }
    }

    /// A copy of `metadata` with every secret entry redacted.
    public static func redact(_ metadata: Logger.Metadata) -> Logger.Metadata {
        var result = Logger.Metadata()
        for (key, value) in metadata {
            result[key] = redact(value, key: key)
        }
        return result
    }

    static func splitWords(_ key: String) -> [String] {
        var words: [String] = []
        var current = ""
        var previousWasLower = false
        for character in key {
            if character == "_" || character == "-" || character == "." || character == " " || character == ":" {
                if !current.isEmpty { words.append(current) }
                current = ""
                previousWasLower = false
                continue
            }
            if character.isUppercase && previousWasLower {
                words.append(current)
                current = ""
            }
            current.append(Character(character.lowercased()))
            previousWasLower = character.isLowercase || character.isNumber
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
