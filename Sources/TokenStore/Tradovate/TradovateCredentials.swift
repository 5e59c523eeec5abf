import Foundation
import Yams

/// What it takes to log in to Tradovate with an API key, plus the account aliases the token is stored under.
///
/// `description` and reflection show only the login name and the aliases: never the password or the API secret.
public struct TradovateCredentials: Sendable, Hashable, Codable, CustomStringConvertible, CustomReflectable {
    /// The login name (`name`).
    public var name: String
    /// The password.
    public var password: String
    /// The application id (`appId`).
    public var appID: String
    /// The application version (`appVersion`).
    public var appVersion: String
    /// The API key id (`cid`).
    public var cid: Int
    /// The API secret (`sec`).
    public var secret: String
    /// Other account names the token is written under (`token:<alias>`), e.g. trading-account names.
    public var aliases: [String]

    /// Creates credentials.
    public init(
        name: String, password: String, appID: String = "Orca", appVersion: String = "1.0", cid: Int, secret: String,
        aliases: [String] = []
    ) {
        self.name = name
        self.password = password
        self.appID = appID
        self.appVersion = appVersion
        self.cid = cid
        self.secret = secret
        self.aliases = aliases
    }

    enum CodingKeys: String, CodingKey {
        case name, password, appID = "appId", appVersion, cid, secret = "sec", aliases = "accounts"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        password = try c.decode(String.self, forKey: .password)
        appID = try c.decodeIfPresent(String.self, forKey: .appID) ?? "Orca"
        appVersion = try c.decodeIfPresent(String.self, forKey: .appVersion) ?? "1.0"
        if let number = try? c.decode(Int.self, forKey: .cid) {
            cid = number
        } else if let text = try? c.decode(String.self, forKey: .cid), let number = Int(text) {
            cid = number
        } else {
            throw DecodingError.dataCorruptedError(forKey: .cid, in: c, debugDescription: "cid must be a number")
        }
        secret = try c.decode(String.self, forKey: .secret)
        aliases = try c.decodeIfPresent([String].self, forKey: .aliases) ?? []
    }

    public var description: String {
        "TradovateCredentials(name: \(name), cid: \(cid), accounts: \(aliases.count))"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["name": name, "cid": cid, "aliases": aliases], displayStyle: .struct)
    }

    /// Every account name the token is stored under: the login, then its aliases.
    public var accounts: [String] { [name] + aliases.filter { $0 != name } }
}

/// Loads ``TradovateCredentials`` from a file or the environment.
///
/// **File** (JSON or YAML, chosen by extension `.json` / `.yaml` / `.yml`, or by content): either one object, a list,
/// or `{"logins": [...]}`; each entry has `name`, `password`, `cid`, `sec`, optional `appId`, `appVersion`, and
/// `accounts` (aliases). The file must not be readable by group or others (`chmod 600`), like an SSH key.
///
/// **Environment**: `ORCA_TRADOVATE_USERNAME`, `ORCA_TRADOVATE_PASSWORD`, `ORCA_TRADOVATE_CID`, `ORCA_TRADOVATE_SEC`,
/// optional `ORCA_TRADOVATE_APP_ID`, `ORCA_TRADOVATE_APP_VERSION`, `ORCA_TRADOVATE_ACCOUNTS` (comma-separated aliases).
public enum CredentialsLoader {
    /// Reads credentials from `path`.
    ///
    /// - Throws: ``TokenStoreError`` with `credentialsUnreadable`,
    ///   `credentialsFileTooOpen` (naming the file and the `chmod 600` fix) or
    ///   `invalidCredentials` (naming the problem, never a secret).
    public static func load(path: String) throws -> [TradovateCredentials] {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw TokenStoreError(
                .credentialsUnreadable,
                "credentials file \(path) cannot be read: it does not exist or is not accessible")
        }
        if let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
            throw TokenStoreError(
                .credentialsFileTooOpen,
                "credentials file \(path) is readable by group or others (mode \(String(mode & 0o777, radix: 8))); "
                    + "run: chmod 600 \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenStoreError(.credentialsUnreadable, "credentials file \(path) cannot be read")
        }
        let isJSON =
            path.hasSuffix(".json") || data.first.map { $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "[") } == true
        return try parse(data, isJSON: isJSON, source: path)
    }

    /// Decodes and checks the contents of a credentials file (`source` names it in errors).
    ///
    /// - Throws: ``TokenStoreError`` with `invalidCredentials`, naming the problem, never a secret.
    static func parse(_ data: Data, isJSON: Bool, source: String) throws(TokenStoreError) -> [TradovateCredentials] {
        do {
            let entries = try isJSON ? decodeJSON(data) : decodeYAML(data)
            try validate(entries, source: source)
            return entries
        } catch let error as TokenStoreError {
            throw error
        } catch let error as DecodingError {
            throw TokenStoreError(.invalidCredentials, "credentials file \(source): \(describe(error))")
        } catch {
            throw TokenStoreError(.invalidCredentials, "credentials file \(source) is not valid JSON or YAML")
        }
    }

    /// Reads one login from `ORCA_TRADOVATE_*` variables; `nil` when `ORCA_TRADOVATE_USERNAME` is unset.
    ///
    /// - Throws: `missingCredentials` naming the missing variables.
    public static func fromEnvironment(_ environment: [String: String]) throws -> TradovateCredentials? {
        guard let name = environment["ORCA_TRADOVATE_USERNAME"], !name.isEmpty else { return nil }
        let required = ["ORCA_TRADOVATE_PASSWORD", "ORCA_TRADOVATE_CID", "ORCA_TRADOVATE_SEC"]
        let missing = required.filter { environment[$0, default: ""].isEmpty }
        guard missing.isEmpty else {
            throw TokenStoreError(
                .missingCredentials, login: name,
                "set \(missing.joined(separator: ", ")) as well as ORCA_TRADOVATE_USERNAME")
        }
        guard let cid = Int(environment["ORCA_TRADOVATE_CID"]!) else {
            throw TokenStoreError(.invalidCredentials, login: name, "ORCA_TRADOVATE_CID must be a number")
        }
        let aliases = (environment["ORCA_TRADOVATE_ACCOUNTS"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let credentials = TradovateCredentials(
            name: name, password: environment["ORCA_TRADOVATE_PASSWORD"]!,
            appID: environment["ORCA_TRADOVATE_APP_ID"] ?? "Orca",
            appVersion: environment["ORCA_TRADOVATE_APP_VERSION"] ?? "1.0", cid: cid,
            secret: environment["ORCA_TRADOVATE_SEC"]!, aliases: aliases)
        try validate([credentials], source: "the environment")
        return credentials
    }

    private struct Wrapper: Decodable { var logins: [TradovateCredentials] }

    private static func decodeJSON(_ data: Data) throws -> [TradovateCredentials] {
        let decoder = JSONDecoder()
        if let list = try? decoder.decode([TradovateCredentials].self, from: data) { return list }
        if let wrapper = try? decoder.decode(Wrapper.self, from: data) { return wrapper.logins }
        return [try decoder.decode(TradovateCredentials.self, from: data)]
    }

    private static func decodeYAML(_ data: Data) throws -> [TradovateCredentials] {
        let decoder = YAMLDecoder()
        let text = String(decoding: data, as: UTF8.self)
        if let list = try? decoder.decode([TradovateCredentials].self, from: text) { return list }
        if let wrapper = try? decoder.decode(Wrapper.self, from: text) { return wrapper.logins }
        return [try decoder.decode(TradovateCredentials.self, from: text)]
    }

    private static func validate(_ entries: [TradovateCredentials], source: String) throws {
        guard !entries.isEmpty else {
            throw TokenStoreError(.invalidCredentials, "\(source) lists no logins")
        }
        var seen: Set<String> = []
        for entry in entries {
            for (field, value) in [("name", entry.name), ("password", entry.password), ("sec", entry.secret)]
            where value.isEmpty {
                throw TokenStoreError(.invalidCredentials, login: entry.name, "\(source): '\(field)' is empty")
            }
            guard seen.insert(entry.name).inserted else {
                throw TokenStoreError(
                    .invalidCredentials, login: entry.name, "\(source) lists login \(entry.name) twice")
            }
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
        case .dataCorrupted(let context):
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return field.isEmpty ? "not valid JSON or YAML" : "field '\(field)': \(context.debugDescription)"
        @unknown default: return "cannot be decoded"
        }
    }
}
