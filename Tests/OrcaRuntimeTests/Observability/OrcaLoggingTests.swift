import CandleCore
import Foundation
import Logging
import OrcaRuntime
import Testing

@Suite("Orca logging: formats, levels, redaction", .timeLimit(.minutes(10)))
struct OrcaLoggingTests {
    let collector = LineCollector()
    let clock = ManualWallClock(now: instant("2026-11-29T08:00:00.123Z"))

    func logger(_ format: OrcaLogHandler.Format, level: Logger.Level = .info) -> Logger {
        let collector = self.collector
        return OrcaLogging.makeLogger(
            label: "orca.collector", format: format, level: level, output: OrcaLogOutput { collector.append($0) },
            clock: clock)
    }

    @Test func humanLineHasTimestampLevelLabelMessageAndSortedMetadata() {
        var log = logger(.human)
        log[metadataKey: "orca_series"] = "NQ 5min"
        log.info("bar stored", metadata: ["orca_symbol": "NQZ6", "orca_count": "3"])
        #expect(
            collector.lines == [
                "2026-11-29T08:00:00.123Z info orca.collector: bar stored orca_count=3 orca_series=\"NQ 5min\" "
                    + "orca_symbol=NQZ6"
            ])
    }

    @Test func jsonLineCarriesTheFieldsAndMetadata() throws {
        let log = logger(.json)
        log.warning(
            "socket \"dropped\"",
            metadata: [
                "orca_reconnects": "2", "level": "clash", "orca_detail": ["code": "1006", "reason": "gone"],
                "orca_list": ["a", "b"],
            ])
        let line = try #require(collector.lines.first)
        let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["ts"] as? String == "2026-11-29T08:00:00.123Z")
        #expect(object["level"] as? String == "warning")
        #expect(object["label"] as? String == "orca.collector")
        #expect(object["msg"] as? String == "socket \"dropped\"")
        #expect(object["orca_reconnects"] as? String == "2")
        #expect(object["meta_level"] as? String == "clash")
        #expect((object["orca_detail"] as? [String: String]) == ["code": "1006", "reason": "gone"])
        #expect((object["orca_list"] as? [String]) == ["a", "b"])
        #expect(line.hasPrefix("{\"ts\":\"2026-11-29T08:00:00.123Z\",\"level\":\"warning\",\"label\":"))
    }

    @Test func levelFiltersLowerSeverities() {
        let log = logger(.human, level: .warning)
        log.info("hidden")
        log.debug("hidden too")
        log.error("shown")
        #expect(collector.lines.count == 1)
        #expect(collector.lines.first?.contains("error orca.collector: shown") == true)
    }

    @Test(arguments: [OrcaLogHandler.Format.human, .json])
    func secretsAreRedactedInEveryFormat(_ format: OrcaLogHandler.Format) {
        let log = logger(format)
        log.info(
            "connecting to redis://orca:hunter2@db.example:6380/0",
            metadata: [
                "orca_password": "hunter2", "accessToken": "tok-abc", "api_secret": "s3cr3t", "orca_sec": "sec-value",
                "Authorization": "Bearer tok-abc", "orca_dsn": "postgres://u:pw@h/db", "apiKey": "k-123",
                "orca_nested": ["mdAccessToken": "tok-md"],
                "orca_url": "rediss://:hunter2@cache.example:6380",
                "orca_seconds": "42", "orca_token_fingerprint": "ab12cd34", "orca_section": "visible",
            ])
        let line = collector.lines.joined()
        for secret in ["hunter2", "tok-abc", "s3cr3t", "sec-value", "pw@", "k-123", "tok-md"] {
            #expect(!line.contains(secret), "\(secret) leaked: \(line)")
        }
        #expect(line.contains(LogRedaction.placeholder))
        #expect(line.contains("42"))
        #expect(line.contains("ab12cd34"))
        #expect(line.contains("visible"))
        #expect(line.contains("cache.example:6380"))
        #expect(line.contains("db.example:6380/0"))
    }

    @Test func secretKeyDetection() {
        for key in [
            "password", "orca_password", "token", "accessToken", "md_access_token", "secret", "api_sec", "sec",
            "Authorization", "dsn", "DATABASE_DSN", "apiKey", "pass_word", "cookie",
        ] {
            #expect(LogRedaction.isSecretKey(key), "\(key) should be secret")
        }
        for key in [
            "orca_series", "orca_seconds", "orca_token_fingerprint", "orca_token_ttl", "orca_section",
            "orca_token_source", "login", "secs", "",
        ] {
            #expect(!LogRedaction.isSecretKey(key), "\(key) should be visible")
        }
        #expect(
            LogRedaction.maskingURLPasswords(in: "a redis://u:p@h:1/0 b postgres://x@y/z c")
                == "a redis://u:<redacted>@h:1/0 b postgres://x@y/z c")
    }

    @Test func errorIsWrittenAndMasked() {
        struct Failure: Error, CustomStringConvertible {
            var description: String { "cannot reach redis://:pw123@r:6379" }
        }
        let collector = self.collector
        let handler = OrcaLogging.makeHandler(
            label: "orca.tokens", format: .human, output: OrcaLogOutput { collector.append($0) }, clock: clock)
        handler.log(
            event: LogEvent(
                level: .error, message: "refresh failed", error: Failure(), metadata: nil, source: "test",
                file: #fileID, function: #function, line: #line))
        let line = collector.lines.first ?? ""
        #expect(line.contains("error=\"cannot reach redis://:<redacted>@r:6379\""))
        #expect(!line.contains("pw123"))
    }

    @Test(arguments: [
        "1970-01-01T00:00:00.000Z", "2024-02-29T23:59:59.999Z", "2026-11-29T08:00:00.123Z", "1969-12-31T23:59:59.500Z",
        "2100-03-01T12:34:56.007Z",
    ])
    func timestampsAreExactUTCWithMilliseconds(_ text: String) {
        let clock = ManualWallClock(now: instant(text))
        let collector = self.collector
        let log = OrcaLogging.makeLogger(
            label: "t", format: .human, output: OrcaLogOutput { collector.append($0) }, clock: clock)
        log.info("x")
        #expect(collector.lines.first == "\(text) info t: x")
    }

    @Test func formatChoiceParsingAndAuto() {
        #expect(OrcaLogging.FormatChoice(parsing: "JSON") == .json)
        #expect(OrcaLogging.FormatChoice(parsing: "human") == .human)
        #expect(OrcaLogging.FormatChoice(parsing: "auto") == .auto)
        #expect(OrcaLogging.FormatChoice(parsing: "xml") == nil)
        #expect(OrcaLogging.FormatChoice.auto.resolved(standardErrorIsTerminal: true) == .human)
        #expect(OrcaLogging.FormatChoice.auto.resolved(standardErrorIsTerminal: false) == .json)
        #expect(OrcaLogging.FormatChoice.json.resolved(standardErrorIsTerminal: true) == .json)
        #expect(OrcaLogging.level(parsing: "Warning") == .warning)
        #expect(OrcaLogging.level(parsing: "loud") == nil)
    }
}
