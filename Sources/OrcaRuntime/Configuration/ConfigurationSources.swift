internal import Configuration
internal import Foundation
internal import Synchronization

/// Where a configuration value came from; named in error messages.
enum ConfigurationSource: Sendable, Hashable {
    /// An override (an `orca-run` flag).
    case override
    /// An environment variable.
    case environment(String)
    /// The configuration file.
    case file(String)

    /// `set on the command line`, `set by ORCA_HTTP_PORT`, `set in /etc/orca.yaml`.
    var phrase: String {
        switch self {
        case .override: "set on the command line"
        case .environment(let name): "set by \(name)"
        case .file(let path): "set in \(path)"
        }
    }
}

/// A raw value as read, with its source.
struct RawValue<Value: Sendable>: Sendable {
    var value: Value
    var source: ConfigurationSource
}

/// Records the last access event, so the loader learns which provider answered (or failed) for a key.
final class AccessRecorder: AccessReporter {
    private let last = Mutex<AccessEvent?>(nil)

    func report(_ event: AccessEvent) {
        last.withLock { $0 = event }
    }

    func take() -> AccessEvent? {
        last.withLock { event in
            defer { event = nil }
            return event
        }
    }
}

/// Collects every key a file snapshot holds (through its secrets specifier, which sees each key once).
final class KeyCollector: Sendable {
    private let keys = Mutex<[String]>([])

    func add(_ key: String) {
        keys.withLock { $0.append(key) }
    }

    var all: [String] { keys.withLock { $0 } }
}

/// The provider hierarchy — overrides > `ORCA_*` variables > compatibility variables (`DATABASE_URL`, `REDIS_URL`,
/// `ORCA_TRADOVATE_URL`, `ORCA_CREDENTIALS_FILE`) > the YAML file — and typed raw reads that name their source.
struct ConfigurationSources {
    private let reader: ConfigReader
    private let recorder: AccessRecorder
    private let sources: [ConfigurationSource]

    /// The keys present in the configuration file (empty without a file).
    let fileKeys: [String]

    /// Builds the providers.
    ///
    /// - Throws: ``ConfigurationError`` when the file is missing, unreadable or not YAML, or an override names an
    ///   unknown key.
    static func make(
        file: String?, environment: [String: String], overrides: [String: String]
    ) async throws(ConfigurationError) -> ConfigurationSources {
        let recorder = AccessRecorder()
        var providers: [any ConfigProvider] = []
        var sources: [ConfigurationSource] = []

        // Overrides, keyed by dotted names.
        var overrideValues: [AbsoluteConfigKey: ConfigValue] = [:]
        for (name, text) in overrides.sorted(by: { $0.key < $1.key }) {
            guard let key = OrcaConfiguration.key(named: name) else {
                throw unknownKey(name, where: "the overrides")
            }
            let content: ConfigContent =
                key.isList ? .stringArray(text.split(separator: ",").map(String.init)) : .string(text)
            overrideValues[AbsoluteConfigKey(ConfigKey(name))] = ConfigValue(content, isSecret: key.isSecret)
        }
        providers.append(InMemoryProvider(name: "overrides", values: overrideValues))
        sources.append(.override)

        // The environment; empty variables count as unset.
        let variables = environment.filter { !$0.value.trimmingCharacters(in: .whitespaces).isEmpty }
        let secretVariables = OrcaConfiguration.secretEnvironmentVariables
        let environmentProvider = EnvironmentVariablesProvider(
            environmentVariables: variables, secretsSpecifier: .specific(secretVariables))
        // Variable names are already upper-case snake case, which the provider's key encoding leaves as they are.
        let primary = KeyMappingProvider(upstream: environmentProvider) { key in
            let name = key.components.joined(separator: ".")
            return AbsoluteConfigKey([OrcaConfiguration.key(named: name)?.environmentVariable ?? unmapped])
        }
        providers.append(primary)
        sources.append(.environment(""))
        // At most one compatibility alias per key today; a list keeps the table open for more.
        let aliasCount = OrcaConfiguration.keys.map(\.environmentAliases.count).max() ?? 0
        for index in 0..<aliasCount {
            providers.append(
                KeyMappingProvider(upstream: environmentProvider) { key in
                    let name = key.components.joined(separator: ".")
                    let aliases = OrcaConfiguration.key(named: name)?.environmentAliases ?? []
                    return AbsoluteConfigKey([index < aliases.count ? aliases[index] : unmapped])
                })
            sources.append(.environment("#\(index)"))
        }

        // The file.
        let collector = KeyCollector()
        if let file {
            try checkReadable(file)
            let secretKeys = Set(OrcaConfiguration.keys.filter(\.isSecret).map(\.name))
            let options = YAMLSnapshot.ParsingOptions(
                secretsSpecifier: .dynamic { key, _ in
                    collector.add(key)
                    return secretKeys.contains(key)
                })
            let pathReader = ConfigReader(
                provider: InMemoryProvider(values: ["filePath": ConfigValue(.string(file), isSecret: false)]))
            do {
                let provider = try await FileProvider<YAMLSnapshot>(parsingOptions: options, config: pathReader)
                providers.append(provider)
                sources.append(.file(file))
            } catch {
                throw ConfigurationError(
                    .invalidFile, key: nil,
                    "configuration file \(file) cannot be used: \(describeFileError(error))")
            }
        }

        let sourcesFinal = sources
        let result = ConfigurationSources(
            reader: ConfigReader(providers: providers, accessReporter: recorder), recorder: recorder,
            sources: sourcesFinal, fileKeys: collector.all)
        if let file {
            try result.checkFileKeys(file: file)
        }
        return result
    }

    private init(
        reader: ConfigReader, recorder: AccessRecorder, sources: [ConfigurationSource], fileKeys: [String]
    ) {
        self.reader = reader
        self.recorder = recorder
        self.sources = sources
        self.fileKeys = fileKeys
    }

    /// A name no environment variable has: what keys without an alias map to.
    private static let unmapped = "ORCA_INTERNAL_UNMAPPED_KEY"

    // MARK: Reads

    /// The scalar value of `key`, trimmed; `nil` when no source sets it (or sets it to an empty value).
    func scalar(_ key: OrcaConfiguration.Key) throws(ConfigurationError) -> RawValue<String>? {
        let value = reader.string(forKey: ConfigKey(key.name), isSecret: key.isSecret)
        let event = recorder.take()
        let index = max(0, (event?.providerResults.count ?? 1) - 1)
        guard let value else {
            if case .failure = event?.providerResults.last?.result {
                throw ConfigurationError(
                    .invalidValue, key: key.name, "expected a single value, not a list (\(source(index, key).phrase))")
            }
            return nil
        }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        let source = source(index, key)
        if case .file = source, trimmed == "~" || trimmed == "null" { return nil }
        return trimmed.isEmpty ? nil : RawValue(value: trimmed, source: source)
    }

    /// The list value of `key`: a YAML sequence, or a comma-separated string; items trimmed, empty items dropped.
    func list(_ key: OrcaConfiguration.Key) throws(ConfigurationError) -> RawValue<[String]>? {
        let items = reader.stringArray(forKey: ConfigKey(key.name), isSecret: key.isSecret)
        let event = recorder.take()
        let index = max(0, (event?.providerResults.count ?? 1) - 1)
        var raw: [String]
        if let items {
            raw = items
        } else if case .failure = event?.providerResults.last?.result {
            // A scalar where a list was expected: `instruments: NQ, ES` is a comma-separated list.
            guard let text = try scalar(key) else { return nil }
            raw = text.value.split(separator: ",").map(String.init)
        } else {
            return nil
        }
        raw = raw.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        return raw.isEmpty ? nil : RawValue(value: raw, source: source(index, key))
    }

    private func source(_ index: Int, _ key: OrcaConfiguration.Key) -> ConfigurationSource {
        guard index < sources.count else { return .override }
        switch sources[index] {
        case .environment(let marker) where marker.isEmpty:
            return .environment(key.environmentVariable)
        case .environment(let marker) where marker.hasPrefix("#"):
            let alias = Int(marker.dropFirst()) ?? 0
            return .environment(
                alias < key.environmentAliases.count ? key.environmentAliases[alias] : key.environmentVariable)
        case let other:
            return other
        }
    }

    // MARK: File checks

    private static func checkReadable(_ path: String) throws(ConfigurationError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigurationError(
                .fileUnreadable, key: nil,
                "configuration file \(path) does not exist; check the path, or run without a file to use the defaults")
        }
        guard !isDirectory.boolValue else {
            throw ConfigurationError(
                .fileUnreadable, key: nil, "configuration file \(path) is a directory; name a YAML file")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw ConfigurationError(
                .fileUnreadable, key: nil,
                "configuration file \(path) cannot be read by this user; check its permissions (chmod 644 or 600)")
        }
    }

    private func checkFileKeys(file: String) throws(ConfigurationError) {
        for name in fileKeys where OrcaConfiguration.key(named: name) == nil {
            if name == "tradovate.logins" || name.hasPrefix("tradovate.logins.") {
                throw ConfigurationError(
                    .unknownKey, key: name,
                    "logins are not read from the configuration file (\(file)); put them in a credentials file "
                        + "(chmod 600) named by tradovate.credentialsFile, or set the ORCA_TRADOVATE_* variables")
            }
            throw Self.unknownKey(name, where: file)
        }
    }

    private static func unknownKey(_ name: String, where place: String) -> ConfigurationError {
        let hint =
            OrcaConfiguration.suggestion(for: name).map { "; did you mean '\($0)'?" }
            ?? "; see Docs/configuration.md for the keys"
        return ConfigurationError(.unknownKey, key: name, "unknown key in \(place)\(hint)")
    }

    /// A parse error's description without quoting file content (a line could hold a password).
    private static func describeFileError(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("Top level YAML value is not a mapping") {
            return "the top level is not a mapping; it must map sections to keys, like Examples/orca.yaml"
        }
        if text.hasPrefix("Unexpected non-scalar value in array at tradovate.logins") {
            return "logins are not read from the configuration file; put them in a credentials file (chmod 600) "
                + "named by tradovate.credentialsFile, or set the ORCA_TRADOVATE_* variables"
        }
        if text.hasPrefix("Unexpected non-scalar value in array") || text.hasPrefix("Unexpected scalar value in array")
        {
            return text.trimmingCharacters(in: CharacterSet(charactersIn: "."))
                + "; lists hold plain values of one kind, like [NQ, ES] or [5, 15]"
        }
        if text.hasPrefix("Unsupported primitive value") || text.hasPrefix("YAML key is not convertible") {
            return text.trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        // Yams errors read "<line>:<column>: error: <kind>: <context and problem>" followed by the offending line
        // and a caret; keep the first line only (libyaml's fixed wording and the position).
        let firstLine = text.split(separator: "\n").first.map(String.init) ?? text
        if let range = firstLine.range(of: #"\d+:\d+: error: .*"#, options: .regularExpression) {
            let detail = firstLine[range].replacingOccurrences(of: ": error: ", with: ": ")
            return "not valid YAML at line:column \(detail)"
        }
        return "not valid YAML"
    }
}
