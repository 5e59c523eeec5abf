extension OrcaConfiguration {
    /// One configuration key: its dotted name (as written in the YAML file and in overrides), the environment variable
    /// that sets it, and whether its value is a secret.
    public struct Key: Sendable, Hashable, CustomStringConvertible {
        /// The dotted name, e.g. `collector.healLookBack`: YAML `collector:` → `healLookBack:`.
        public let name: String
        /// The environment variable, e.g. `ORCA_COLLECTOR_LOOKBACK`.
        public let environmentVariable: String
        /// Further variables read when ``environmentVariable`` is unset, in order (e.g. `DATABASE_URL`).
        public let environmentAliases: [String]
        /// Whether the value is a secret: it is redacted by swift-configuration and never quoted in errors.
        public let isSecret: Bool
        /// Whether the value is a list (a YAML sequence, or comma-separated in the environment and overrides).
        public let isList: Bool
        /// For a deprecated key: the key that replaces it (read when that one is unset, with a start-up warning).
        public let replacement: String?

        init(
            _ name: String, _ environmentVariable: String, aliases: [String] = [], secret: Bool = false,
            list: Bool = false, replacedBy replacement: String? = nil
        ) {
            self.replacement = replacement
            self.name = name
            self.environmentVariable = environmentVariable
            self.environmentAliases = aliases
            self.isSecret = secret
            self.isList = list
        }

        public var description: String { name }
    }

    /// Every configuration key, in documentation order.
    ///
    /// Logins are not keys: they come from the credentials file (`tradovate.credentialsFile`) or from the
    /// `ORCA_TRADOVATE_USERNAME` / `_PASSWORD` / `_CID` / `_SEC` / `_APP_ID` / `_APP_VERSION` / `_ACCOUNTS` variables.
    public static let keys: [Key] = [
        Key("tradovate.environment", "ORCA_TRADOVATE_ENVIRONMENT"),
        Key("tradovate.restURL", "ORCA_TRADOVATE_REST_URL", aliases: ["ORCA_TRADOVATE_URL"]),
        Key("tradovate.marketDataURL", "ORCA_TRADOVATE_MARKET_DATA_URL"),
        Key("tradovate.credentialsFile", "ORCA_TRADOVATE_CREDENTIALS_FILE", aliases: ["ORCA_CREDENTIALS_FILE"]),
        Key("tradovate.marketDataLogin", "ORCA_TRADOVATE_MARKET_DATA_LOGIN"),
        Key("tradovate.deviceIDFile", "ORCA_TRADOVATE_DEVICE_ID_FILE"),
        Key("tradovate.requestTimeout", "ORCA_TRADOVATE_REQUEST_TIMEOUT"),
        Key("redis.url", "ORCA_REDIS_URL", aliases: ["REDIS_URL"], secret: true),
        Key("redis.tlsCAFile", "ORCA_REDIS_TLS_CA_FILE"),
        Key("redis.tlsServerName", "ORCA_REDIS_TLS_SERVER_NAME"),
        Key("redis.reconcileInterval", "ORCA_REDIS_RECONCILE_INTERVAL"),
        Key("database.url", "ORCA_DATABASE_URL", aliases: ["DATABASE_URL"], secret: true),
        Key("database.schema", "ORCA_DATABASE_SCHEMA"),
        Key("database.layout", "ORCA_DATABASE_LAYOUT"),
        Key("files.directory", "ORCA_FILES_DIRECTORY"),
        Key("files.format", "ORCA_FILES_FORMAT"),
        Key("buffer.memoryCapacity", "ORCA_BUFFER_MEMORY_CAPACITY"),
        Key("buffer.spillFile", "ORCA_BUFFER_SPILL_FILE"),
        Key("buffer.spillCapacity", "ORCA_BUFFER_SPILL_CAPACITY"),
        Key("collector.instruments", "ORCA_COLLECTOR_INSTRUMENTS", list: true),
        Key("collector.timeframes", "ORCA_COLLECTOR_TIMEFRAMES", list: true),
        Key("collector.healLookBack", "ORCA_COLLECTOR_HEAL_LOOK_BACK"),
        Key("collector.settleTimeout", "ORCA_COLLECTOR_SETTLE_TIMEOUT"),
        Key("collector.closeGrace", "ORCA_COLLECTOR_CLOSE_GRACE"),
        Key("collector.quietChartBars", "ORCA_COLLECTOR_QUIET_CHART_BARS"),
        Key("collector.revisionWindowBars", "ORCA_COLLECTOR_REVISION_WINDOW_BARS"),
        Key("collector.healInterval", "ORCA_COLLECTOR_HEAL_INTERVAL"),
        Key("collector.checkDerivedTimeframes", "ORCA_COLLECTOR_CHECK_DERIVED_TIMEFRAMES"),
        Key("collector.writeProvisional", "ORCA_COLLECTOR_WRITE_PROVISIONAL"),
        Key("collector.cron", "ORCA_COLLECTOR_CRON"),
        Key("collector.rollDaysBeforeExpiry", "ORCA_COLLECTOR_ROLL_DAYS_BEFORE_EXPIRY"),
        Key("stateDirectory", "ORCA_STATE_DIRECTORY"),
        Key("http.enabled", "ORCA_HTTP_ENABLED"),
        Key("http.host", "ORCA_HTTP_HOST"),
        Key("http.port", "ORCA_HTTP_PORT"),
        Key("log.level", "ORCA_LOG_LEVEL"),
        Key("log.format", "ORCA_LOG_FORMAT"),
        Key("simulator.seed", "ORCA_SIMULATOR_SEED"),
        Key("simulator.speed", "ORCA_SIMULATOR_SPEED"),
        Key("simulator.start", "ORCA_SIMULATOR_START"),
        Key("simulator.anchor", "ORCA_SIMULATOR_ANCHOR"),
        Key("simulator.port", "ORCA_SIMULATOR_PORT"),
    ]

    /// Keys renamed to equal the property they set, still read under their old names and variables (the new name
    /// wins when both are set); loading adds a deprecation line to ``OrcaConfiguration/notices`` when one is used.
    public static let deprecatedKeys: [Key] = [
        Key("collector.lookback", "ORCA_COLLECTOR_LOOKBACK", replacedBy: "collector.healLookBack"),
        Key("collector.settle", "ORCA_COLLECTOR_SETTLE", replacedBy: "collector.settleTimeout"),
        Key("collector.refetchLast", "ORCA_COLLECTOR_REFETCH_LAST", replacedBy: "collector.revisionWindowBars"),
        Key(
            "collector.derivedTimeframes", "ORCA_COLLECTOR_DERIVED_TIMEFRAMES",
            replacedBy: "collector.checkDerivedTimeframes"),
        Key("collector.provisionalBars", "ORCA_COLLECTOR_PROVISIONAL_BARS", replacedBy: "collector.writeProvisional"),
    ]

    /// The key named `name` (current or deprecated), or `nil`.
    public static func key(named name: String) -> Key? { keysByName[name] }

    static let keysByName: [String: Key] = Dictionary(
        uniqueKeysWithValues: (keys + deprecatedKeys).map { ($0.name, $0) })

    /// Environment variables whose values are secrets (redacted by the environment provider): the secret keys'
    /// variables and the `ORCA_TRADOVATE_PASSWORD` / `ORCA_TRADOVATE_SEC` login variables.
    static let secretEnvironmentVariables: Set<String> = Set(
        keys.filter(\.isSecret).flatMap { [$0.environmentVariable] + $0.environmentAliases }
            + ["ORCA_TRADOVATE_PASSWORD", "ORCA_TRADOVATE_SEC"])

    /// The known key closest to `name` (by edit distance, ignoring case), if it is close enough to be a likely typo.
    static func suggestion(for name: String) -> String? {
        let lowered = name.lowercased()
        let lastComponent = lowered.split(separator: ".").last.map(String.init) ?? lowered
        var best: (name: String, distance: Int)?
        for key in keys {
            let candidate = key.name.lowercased()
            var distance = editDistance(lowered, candidate)
            // A misplaced section (`redis.schema`) still suggests the key with the same last component.
            if let last = candidate.split(separator: ".").last, String(last) == lastComponent {
                distance = min(distance, 2)
            }
            // A section written as a value (`redis: redis://…`) suggests the section's first key.
            if candidate.hasPrefix(lowered + ".") { distance = min(distance, 3) }
            if distance < (best?.distance ?? Int.max) { best = (key.name, distance) }
        }
        guard let best, best.distance <= max(3, name.count / 3) else { return nil }
        return best.name
    }

    /// Levenshtein distance.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

extension OrcaConfiguration {
    /// The variables Orca reads that are not keys: the one-login credentials (`CredentialsLoader.fromEnvironment`).
    public static let loginEnvironmentVariables: [String] = [
        "ORCA_TRADOVATE_USERNAME", "ORCA_TRADOVATE_PASSWORD", "ORCA_TRADOVATE_CID", "ORCA_TRADOVATE_SEC",
        "ORCA_TRADOVATE_APP_ID", "ORCA_TRADOVATE_APP_VERSION", "ORCA_TRADOVATE_ACCOUNTS",
    ]

    /// `ORCA_*` variables in `environment` that Orca does not read — likely typos, since they are otherwise ignored —
    /// each with the closest known variable when there is one. Variables starting with `ORCA_TEST_` (the test
    /// scripts') are not reported. For warnings at start-up; never an error.
    public static func unknownEnvironmentVariables(
        in environment: [String: String]
    ) -> [(name: String, suggestion: String?)] {
        let known = Set(
            (keys + deprecatedKeys).flatMap { [$0.environmentVariable] + $0.environmentAliases }
                + loginEnvironmentVariables)
        // A deprecated variable is known (it still works), but a typo is pointed at the current name.
        let current: [String: String] = Dictionary(
            uniqueKeysWithValues: deprecatedKeys.compactMap { old in
                old.replacement.flatMap { key(named: $0) }.map { (old.environmentVariable, $0.environmentVariable) }
            })
        return environment.keys.sorted()
            .filter { $0.hasPrefix("ORCA_") && !$0.hasPrefix("ORCA_TEST_") && !known.contains($0) }
            .map { name in
                let closest = known.map { ($0, editDistance(name, $0)) }.min {
                    $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0)
                }
                return (name, closest.flatMap { $0.1 <= 3 ? current[$0.0] ?? $0.0 : nil })
            }
    }
}
