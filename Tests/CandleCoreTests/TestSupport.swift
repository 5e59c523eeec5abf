import Foundation

/// Parses an ISO-8601 UTC instant such as `2026-03-08T22:00:00Z`; traps on malformed test input.
func iso(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    guard let date = formatter.date(from: text) else { fatalError("bad test instant \(text)") }
    return date
}
