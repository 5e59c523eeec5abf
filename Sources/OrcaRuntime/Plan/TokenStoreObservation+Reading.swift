public import CandleCore
import Foundation
import TokenStore
import TradovateSimulator

extension TokenStoreObservation {
    /// The logins whose tokens the daemon keeps fresh under `configuration`: the configured logins, or the embedded
    /// simulator's demo login when no Tradovate credentials are configured (as `OrcaEnvironment` does).
    public static func plannedLogins(_ configuration: OrcaConfiguration) -> [String] {
        let logins = configuration.tradovate.logins.map(\.name)
        if configuration.tradovate.environment == .simulator, logins.isEmpty { return [SimulatorLogin.demo.name] }
        return logins
    }

    /// Reads the configured token store without starting anything else: Redis when `redis.url` is set (each login's
    /// stored token, then the connection is closed), else ``memory(logins:)``, since in-memory tokens live only in
    /// the daemon. An unreachable or failing Redis gives an observation with ``error`` set rather than throwing.
    ///
    /// - Parameters:
    ///   - configuration: the configuration.
    ///   - clock: decides which stored tokens count as expired (default: the system clock).
    public static func read(
        configuration: OrcaConfiguration, clock: any WallClock = SystemWallClock()
    ) async -> TokenStoreObservation {
        let logins = plannedLogins(configuration)
        guard let url = configuration.redis.url else { return .memory(logins: logins) }
        let provider = RedisTokenProvider(
            configuration: .init(url: url, tls: configuration.redis.tlsOptions), clock: clock)
        let store = url.description
        do {
            let tokens = try await HealthProbes.tokens(from: provider, logins: logins)()
            await provider.close()
            return TokenStoreObservation(store: store, logins: logins, tokens: tokens)
        } catch {
            await provider.close()
            return TokenStoreObservation(store: store, logins: logins, error: "\(error)")
        }
    }
}
