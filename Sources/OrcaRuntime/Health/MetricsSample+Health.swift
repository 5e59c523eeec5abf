extension MetricsSample {
    /// The token expiries, freshness, overall status and component states of a health report, for ``MetricsPoller``.
    public init(report: HealthReport) {
        self.init(
            tokenExpiry: Dictionary(
                report.tokens.compactMap { token in token.secondsToExpiry.map { (token.login, $0) } },
                uniquingKeysWith: { first, _ in first }),
            freshness: report.series.compactMap { entry in
                guard entry.lastError == nil else { return nil }
                return Freshness(
                    series: entry.series, lastBarStart: entry.lastBarStart, lagSeconds: entry.lagSeconds ?? 0,
                    missingBars: entry.missingBars)
            },
            healthCode: Int(report.status.exitCode),
            components: Dictionary(
                report.components.map { ($0.name, $0.status == .healthy) }, uniquingKeysWith: { first, _ in first }))
    }
}
