internal import CandleCore
import Collectors
internal import Foundation

/// Helpers for libpq connection strings — URIs (`postgres://user:pass@host:5432/db?sslmode=require`) and
/// key/value strings (`host=localhost password='s3cret' dbname=orca`) — that keep passwords out of logs.
public enum PostgresConnectionString {
    /// `connectionString` with every password replaced by `***`: the URI user-info password, a `password=` URI
    /// query parameter, or a `password=` key/value entry. Safe to log.
    public static func redact(_ connectionString: String) -> String {
        var text = connectionString
        // Replace from the end so earlier ranges stay valid.
        for range in passwordRanges(in: connectionString).sorted(by: { $0.lowerBound > $1.lowerBound }) {
            text.replaceSubrange(range, with: SecretRedaction.mask)
        }
        return text
    }

    /// Every form in which a password of `connectionString` could appear in a message: as written, and
    /// percent-decoded (URIs) or unescaped (key/value strings). Used to scrub libpq messages.
    static func secrets(in connectionString: String) -> [String] {
        var secrets: Set<String> = []
        for range in passwordRanges(in: connectionString) {
            let raw = String(connectionString[range])
            secrets.insert(raw)
            if isURI(connectionString) {
                if let decoded = raw.removingPercentEncoding {
                    secrets.insert(decoded)
                }
            } else {
                secrets.insert(unescapeKeyValue(raw))
            }
        }
        // Longest first, so a secret containing another is replaced whole.
        return secrets.filter { !$0.isEmpty && $0 != SecretRedaction.mask }.sorted { $0.count > $1.count }
    }

    static func isURI(_ connectionString: String) -> Bool {
        let trimmed = connectionString.drop { $0.isWhitespace }
        return trimmed.hasPrefix("postgresql://") || trimmed.hasPrefix("postgres://")
    }

    /// Ranges of password values (without quotes) in either connection string form.
    private static func passwordRanges(in text: String) -> [Range<String.Index>] {
        isURI(text) ? uriPasswordRanges(in: text) : keyValuePasswordRanges(in: text)
    }

    private static func uriPasswordRanges(in text: String) -> [Range<String.Index>] {
        guard let schemeEnd = text.range(of: "://") else { return [] }
        var ranges: [Range<String.Index>] = []
        let rest = text[schemeEnd.upperBound...]
        let queryStart = rest.firstIndex(of: "?") ?? rest.endIndex
        // User info ends at the last '@' before the query, so an unencoded '@' or '/' in a password is still masked.
        if let at = rest[..<queryStart].lastIndex(of: "@") {
            let userInfo = rest[..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                let password = userInfo.index(after: colon)..<at
                if !password.isEmpty {
                    ranges.append(password)
                }
            }
        }
        if queryStart < rest.endIndex {
            var index = rest.index(after: queryStart)
            while index < rest.endIndex {
                let end = rest[index...].firstIndex(of: "&") ?? rest.endIndex
                let pair = rest[index..<end]
                if let equals = pair.firstIndex(of: "="), pair[..<equals] == "password" {
                    let value = pair.index(after: equals)..<end
                    if !value.isEmpty {
                        ranges.append(value)
                    }
                }
                index = end < rest.endIndex ? rest.index(after: end) : end
            }
        }
        return ranges
    }

    /// Scans `key = value` pairs the way libpq does: values are bare words or single-quoted strings, with
    /// backslash escapes in both.
    private static func keyValuePasswordRanges(in text: String) -> [Range<String.Index>] {
        var ranges: [Range<String.Index>] = []
        var index = text.startIndex
        func skipSpaces() {
            while index < text.endIndex, text[index].isWhitespace {
                index = text.index(after: index)
            }
        }
        while index < text.endIndex {
            skipSpaces()
            let keyStart = index
            while index < text.endIndex, text[index] != "=", !text[index].isWhitespace {
                index = text.index(after: index)
            }
            let key = text[keyStart..<index]
            skipSpaces()
            guard index < text.endIndex, text[index] == "=" else {
                // Malformed: mask everything after a dangling "password" key to be safe.
                if key == "password", index < text.endIndex {
                    ranges.append(index..<text.endIndex)
                }
                break
            }
            index = text.index(after: index)
            skipSpaces()
            let valueRange: Range<String.Index>
            if index < text.endIndex, text[index] == "'" {
                index = text.index(after: index)
                let valueStart = index
                while index < text.endIndex, text[index] != "'" {
                    if text[index] == "\\" {
                        index = text.index(after: index)
                        if index == text.endIndex { break }
                    }
                    index = text.index(after: index)
                }
                valueRange = valueStart..<index
                if index < text.endIndex {
                    index = text.index(after: index)  // closing quote
                }
            } else {
                let valueStart = index
                while index < text.endIndex, !text[index].isWhitespace {
                    if text[index] == "\\" {
                        index = text.index(after: index)
                        if index == text.endIndex { break }
                    }
                    index = text.index(after: index)
                }
                valueRange = valueStart..<index
            }
            if key == "password", !valueRange.isEmpty {
                ranges.append(valueRange)
            }
        }
        return ranges
    }

    private static func unescapeKeyValue(_ raw: String) -> String {
        var result = ""
        var escaping = false
        for character in raw {
            if escaping {
                result.append(character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}
