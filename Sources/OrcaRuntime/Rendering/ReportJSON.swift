internal import Foundation

/// The JSON of the reports `orca-run` prints and `GET /health` serves (health, schedule plan, cron explanations):
/// ISO-8601 dates and sorted keys, so the output is stable to diff and to parse back.
enum ReportJSON {
    /// `value` as JSON, pretty-printed (without escaped slashes) or on one line.
    static func encode(_ value: some Encodable, prettyPrinted: Bool) -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting =
            prettyPrinted ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            // Plain values with finite numbers only; reaching this is a programming error worth showing.
            return "{\"error\":\"cannot encode: \(error)\"}"
        }
    }

    /// Decodes a value written by ``encode(_:prettyPrinted:)``.
    static func decode<Value: Decodable>(_ type: Value.Type, from json: Data) throws -> Value {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(type, from: json)
    }
}
