import CandleCore
import Foundation
import NIOHTTP1

/// One HTTP request, fully read.
struct HTTPRequest: Sendable {
    let method: HTTPMethod
    let uri: String
    let headers: HTTPHeaders
    let body: [UInt8]
}

/// One HTTP response.
struct HTTPResponse: Sendable {
    var status: HTTPResponseStatus
    var body: [UInt8]
    var contentType = "application/json; charset=utf-8"

    static func json(_ value: JSONValue, status: HTTPResponseStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, body: Array(value.serialized.utf8))
    }

    static func error(_ status: HTTPResponseStatus, _ text: String) -> HTTPResponse {
        json(.object(["errorText": .string(text)]), status: status)
    }
}

/// The REST API under `/v1`. Paths match case-insensitively; as in Tradovate's "relaxed REST", the verb is not
/// enforced and parameters may come in the query string or a JSON body.
final class RESTRouter: Sendable {
    private let core: SimulatorCore

    private static let endpoints: Set<String> = [
        "auth/accesstokenrequest", "auth/renewaccesstoken", "auth/me", "contract/find", "contract/item",
        "contract/items", "contract/suggest", "contract/rollcontract", "product/find",
    ]

    init(core: SimulatorCore) {
        self.core = core
    }

    static func parseQuery(_ query: Substring) -> [String: String] {
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            result[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return result
    }

    func respond(to request: HTTPRequest) async -> HTTPResponse {
        let pieces = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = pieces.first.map { String($0) } ?? ""
        let query = pieces.count > 1 ? Self.parseQuery(pieces[1]) : [:]
        var normalized = path.lowercased()
        while normalized.hasSuffix("/") && normalized.count > 1 { normalized.removeLast() }
        guard normalized.hasPrefix("/v1/") else { return notFound(path) }
        let endpoint = String(normalized.dropFirst(4))

        if endpoint == "_sim/stats" {
            return HTTPResponse(status: .ok, body: Array(core.stats.json()))
        }
        core.stats.update { $0.restRequests += 1 }
        core.stats.request(endpoint)
        if let delay = core.faults.responseDelay, delay > .zero {
            try? await core.wallClock.sleep(for: delay)
        }
        if endpoint == "websocket" {
            return .error(.badRequest, "Can \"Upgrade\" only to \"WebSocket\".")
        }
        guard Self.endpoints.contains(endpoint) else { return notFound(path) }

        var body: JSONValue? = nil
        if !request.body.isEmpty {
            guard let parsed = JSONValue.parse(Data(request.body)) else {
                return .error(.badRequest, "The request body is not valid JSON")
            }
            body = parsed
        }
        func parameter(_ name: String) -> String? {
            if let value = query[name] { return value }
            switch body?[name] {
            case .string(let text)?: return text
            case .int(let number)?: return String(number)
            default: return nil
            }
        }

        let now = core.clock.now()
        let token = bearerToken(request.headers)
        let check = token.map { core.auth.check($0, now: now) }
        guard core.auth.admit(key: check?.record?.login.name ?? "anonymous", now: now) else {
            core.stats.update { $0.rateLimited += 1 }
            return HTTPResponse(status: .tooManyRequests, body: [])
        }
        let ticket = core.auth.checkTicket(parameter("p-ticket"), now: now)
        switch ticket {
        case .wait(let penalty):
            core.stats.update { $0.penaltiesIssued += 1 }
            return .json(penalty.json)
        case .honoured:
            core.stats.update { $0.penaltyTicketsHonoured += 1 }
        case .none:
            if let terms = core.faults.takeForcedPenalty() {
                core.stats.update { $0.penaltiesIssued += 1 }
                return .json(core.auth.issuePenalty(terms, now: now).json)
            }
        }

        if endpoint == "auth/accesstokenrequest" {
            return login(body: body ?? .object([:]), ticket: ticket, now: now)
        }
        guard let token, let check else {
            core.stats.update { $0.restUnauthorized += 1 }
            return .error(.unauthorized, "Access is denied")
        }
        if endpoint == "auth/renewaccesstoken" {
            return renew(token: token, check: check, ticket: ticket, endpoint: endpoint, now: now)
        }
        guard case .valid(let record) = check else {
            core.auditTokenUse(check, transport: "rest", endpoint: endpoint, socketID: nil, now: now)
            core.stats.update { $0.restUnauthorized += 1 }
            return .error(.unauthorized, "Access is denied")
        }
        switch endpoint {
        case "auth/me": return me(record.login)
        case "contract/find": return findContract(parameter("name"), now: now)
        case "contract/item": return contractItem(parameter("id"))
        case "contract/items": return contractItems(parameter("ids"))
        case "contract/suggest": return suggest(parameter("t"), limit: parameter("l"), now: now)
        case "contract/rollcontract": return rollContract(body: body, name: parameter("name"), now: now)
        case "product/find": return findProduct(parameter("name"))
        default: return notFound(path)
        }
    }

    private func notFound(_ path: String) -> HTTPResponse {
        core.stats.update { $0.restNotFound += 1 }
        return .error(.notFound, "Not found: \(path)")
    }

    private func bearerToken(_ headers: HTTPHeaders) -> String? {
        guard let value = headers.first(name: "Authorization") else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    // MARK: - Auth

    private func login(body: JSONValue, ticket: AuthService.TicketStatus, now: Date) -> HTTPResponse {
        switch core.auth.login(body: body, ticket: ticket, now: now) {
        case .granted(let grant, let revoked):
            let login = body["name"]?.stringValue ?? ""
            let device = body["deviceId"]?.stringValue ?? ""
            core.stats.update {
                $0.loginsSucceeded += 1
                $0.deviceIDsByLogin[login, default: []].insert(device)
            }
            core.closeSockets(
                authorizedWith: revoked, code: CloseCode.tokenRevoked, reason: "Session ended by a newer login")
            return .json(grant.json)
        case .badCredentials:
            core.stats.update { $0.loginsFailed += 1 }
            let settings = core.configuration.auth
            return .json(
                .object(["errorText": .string(settings.badCredentialsErrorText)]),
                status: HTTPResponseStatus(statusCode: settings.badCredentialsStatus))
        case .penalty(let penalty):
            core.stats.update { $0.penaltiesIssued += 1 }
            return .json(penalty.json)
        }
    }

    private func renew(
        token: String, check: AuthService.TokenCheck, ticket: AuthService.TicketStatus, endpoint: String, now: Date
    ) -> HTTPResponse {
        switch core.auth.renew(token: token, ticket: ticket, now: now) {
        case .granted(let grant, _):
            core.stats.update { $0.renewalsSucceeded += 1 }
            return .json(grant.json)
        case .rejected(let check):
            core.auditTokenUse(check, transport: "rest", endpoint: endpoint, socketID: nil, now: now)
            core.stats.update { $0.renewalsRejected += 1 }
            return .error(.unauthorized, "Access is denied")
        case .penalty(let penalty):
            core.stats.update { $0.penaltiesIssued += 1 }
            return .json(penalty.json)
        }
    }

    private func me(_ login: SimulatorLogin) -> HTTPResponse {
        core.stats.update { $0.meRequests += 1 }
        return .json(
            .object([
                "userId": .int(login.userId),
                "name": .string(login.name),
                "fullName": .string(login.name),
                "email": .string("\(login.name)@example.invalid"),
                "emailVerified": .bool(true),
                "isTrial": .bool(false),
                "organizationName": .string("Orca Simulator"),
                "currentMDSubs": .array([]),
                "activePlugins": .array([]),
            ]))
    }

    // MARK: - Contracts and products

    private func contract(named name: String?, now: Date) -> Contract? {
        guard let name, !name.isEmpty else { return nil }
        let minute = CivilDate.floorDivide(SimulatedMarket.millis(now), 60_000)
        guard let resolved = core.market.resolveSymbol(name, atMinute: minute) else { return nil }
        return core.market.contract(for: resolved, atMinute: minute)
    }

    private func findContract(_ name: String?, now: Date) -> HTTPResponse {
        guard let contract = contract(named: name, now: now) else {
            return .error(.notFound, "Contract not found: \(name ?? "")")
        }
        return .json(core.market.directory.contractEntity(contract))
    }

    private func contractItem(_ id: String?) -> HTTPResponse {
        guard let id = id.flatMap({ Int($0) }), let contract = core.market.directory.contract(id: id) else {
            return .error(.notFound, "Contract not found: \(id ?? "")")
        }
        return .json(core.market.directory.contractEntity(contract))
    }

    private func contractItems(_ ids: String?) -> HTTPResponse {
        let contracts = (ids ?? "").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            .compactMap { core.market.directory.contract(id: $0) }
        return .json(.array(contracts.map { core.market.directory.contractEntity($0) }))
    }

    private func suggest(_ text: String?, limit: String?, now: Date) -> HTTPResponse {
        let prefix = (text ?? "").uppercased()
        let maximum = limit.flatMap { Int($0) } ?? 10
        let directory = core.market.directory
        var found: [Contract] = []
        for instrument in directory.allInstruments {
            for contract in directory.listedContracts(instrument, at: now) where contract.symbol.hasPrefix(prefix) {
                found.append(contract)
            }
        }
        return .json(.array(found.prefix(max(0, maximum)).map { directory.contractEntity($0) }))
    }

    private func rollContract(body: JSONValue?, name: String?, now: Date) -> HTTPResponse {
        let directory = core.market.directory
        let forward = body?["forward"]?.boolValue ?? true
        let ifExpired = body?["ifExpired"]?.boolValue ?? false
        guard let name, let current = try? Contract(parsing: name, reference: now),
            let instrument = directory.instrument(root: current.root), instrument.contractMonths.contains(current.month)
        else {
            return .json(.object(["errorText": .string("Unknown contract: \(name ?? "")")]))
        }
        let calendar = core.configuration.market.contractCalendar
        let expired = calendar.lastTrade(of: current) <= now
        var target = current
        if !ifExpired || expired {
            target =
                forward
                ? calendar.nextContract(after: current, for: instrument)
                : ContractStream.previousContract(before: current, for: instrument)
        }
        return .json(.object(["contract": directory.contractEntity(target)]))
    }

    private func findProduct(_ name: String?) -> HTTPResponse {
        guard let name, let instrument = core.market.directory.instrument(root: name) else {
            return .error(.notFound, "Product not found: \(name ?? "")")
        }
        return .json(core.market.directory.productEntity(instrument))
    }
}
