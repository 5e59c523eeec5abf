public import Collectors
public import TokenStore

extension MetricsSample.Tokens {
    /// The refresher's totals (`await refresher.statistics`).
    public init(_ statistics: TokenRefresher.Statistics) {
        self.init(
            renewals: statistics.renewals, logins: statistics.logins, failures: statistics.failures,
            keysRestored: statistics.keysRestored)
    }
}

extension MetricsSample.Buffer {
    /// The buffer's depth and failures (`await buffer.stats`).
    public init(_ stats: BufferedCandleSink.Stats) {
        self.init(
            pendingCandles: stats.pendingCandles, spilledCandles: stats.spilledCandles, spillBytes: stats.spillBytes,
            failedWrites: stats.failedWrites)
    }
}
