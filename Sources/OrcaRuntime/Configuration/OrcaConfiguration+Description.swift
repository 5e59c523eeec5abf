internal import CandleCore
internal import Foundation

extension OrcaConfiguration {
    /// A multi-line, human-readable summary of every setting, safe to log: the Redis and database URLs show their
    /// passwords as `***`, and logins show only their names, `cid` and account aliases — never a password or API
    /// secret.
    public var redactedDescription: String {
        summary().map { "\($0.key) = \($0.value)" }.joined(separator: "\n")
    }

    /// Every setting as `(key, value)` pairs in documentation order, with secrets redacted (see
    /// ``redactedDescription``). For structured logging and `orca-run config show`.
    public func summary() -> [(key: String, value: String)] {
        func text(_ value: String?) -> String { value ?? "-" }
        func seconds(_ duration: Duration) -> String { DurationText.format(duration) }
        var rows: [(key: String, value: String)] = [
            ("tradovate.environment", tradovate.environment.rawValue),
            (
                "tradovate.restURL",
                text(
                    tradovate.effectiveRESTURL
                        ?? (tradovate.environment == .simulator
                            ? "(in-process simulator)" : nil))
            ),
            (
                "tradovate.marketDataURL",
                text(
                    tradovate.effectiveMarketDataURL
                        ?? (tradovate.environment == .simulator
                            ? "(in-process simulator)" : nil))
            ),
            ("tradovate.credentialsFile", text(tradovate.credentialsFile)),
        ]
        for (index, login) in tradovate.logins.enumerated() {
            let aliases = login.aliases.isEmpty ? "" : ", accounts: \(login.aliases.joined(separator: " "))"
            rows.append(
                (
                    "tradovate.logins[\(index)]",
                    "\(login.name) (cid \(login.cid), app \(login.appID) \(login.appVersion)\(aliases); "
                        + "password \(SecretRedaction.mask), sec \(SecretRedaction.mask))"
                ))
        }
        rows += [
            ("tradovate.marketDataLogin", text(tradovate.marketDataCredentials?.name)),
            ("tradovate.deviceIDFile", text(tradovate.deviceIDFile)),
            ("tradovate.requestTimeout", seconds(tradovate.requestTimeout)),
            ("redis.url", redis.url.map { "\($0)" } ?? "- (tokens in memory)"),
            ("redis.tlsCAFile", text(redis.tlsCAFile)),
            ("redis.tlsServerName", text(redis.tlsServerName)),
            ("redis.reconcileInterval", seconds(redis.reconcileInterval)),
            ("database.url", database.redactedURL ?? "- (bars in files)"),
            ("database.schema", database.schema),
            ("database.layout", database.layout.rawValue),
            ("files.directory", files.directory),
            ("files.format", files.format.rawValue),
            ("buffer.memoryCapacity", String(buffer.memoryCapacity)),
            ("buffer.spillFile", text(buffer.spillFile)),
            ("buffer.spillCapacity", String(buffer.spillCapacity)),
            ("collector.instruments", collector.instruments.map(\.root).joined(separator: ",")),
            ("collector.timeframes", collector.timeframes.map(\.label).joined(separator: ",")),
            ("collector.healLookBack", seconds(collector.healLookBack)),
            ("collector.settleTimeout", seconds(collector.settleTimeout)),
            ("collector.closeGrace", seconds(collector.closeGrace)),
            ("collector.quietChartBars", String(collector.quietChartBars)),
            ("collector.revisionWindowBars", String(collector.revisionWindowBars)),
            ("collector.healInterval", seconds(collector.healInterval)),
            ("collector.checkDerivedTimeframes", String(collector.checkDerivedTimeframes)),
            ("collector.writeProvisional", String(collector.writeProvisional)),
            ("collector.cron", text(collector.cron?.expression)),
            ("collector.rollDaysBeforeExpiry", String(collector.rollDaysBeforeExpiry)),
            ("stateDirectory", stateDirectory),
            ("http.enabled", String(http.enabled)),
            ("http.host", http.host),
            ("http.port", String(http.port)),
            ("log.level", log.level.rawValue),
            ("log.format", log.format.rawValue),
            ("simulator.seed", String(simulator.seed)),
            ("simulator.speed", String(simulator.speed)),
            ("simulator.start", simulator.start.map { $0.formatted(.iso8601) } ?? "- (now)"),
            ("simulator.anchor", simulator.anchor.map { $0.formatted(.iso8601) } ?? "-"),
            ("simulator.port", String(simulator.port)),
        ]
        return rows
    }
}

/// Reads and writes durations: `90s`, `5m`, `3d`, `1h30m`, `250ms` or plain seconds.
/// The one duration syntax of Orca, for configuration values and command-line flags alike: `90s`, `5m`, `1h30m`,
/// `3d`, `250ms`, `2 hours`, or a plain number of seconds (`90`, `1.5`).
public enum DurationText {
    /// `duration` in the largest units that divide it, e.g. `3d`, `90s` → `1m30s`, `0.5s`.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds != 0 || seconds == 0 {
            let value = Double(seconds) + Double(attoseconds) / 1e18
            return value == 0 ? "0s" : "\(value)s"
        }
        var rest = seconds
        var text = ""
        for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return seconds < 0 ? "\(seconds)s" : text
    }
}
