/// What one ``CandleSink/write(_:)`` did, counted per distinct bar key.
public struct CandleWriteReport: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Keys that were not stored before.
    public var inserted: Int
    /// Keys whose stored bar changed (a value differed, or a forming bar became final).
    public var updated: Int
    /// Keys whose stored bar already had these values, or was final while the incoming bar was forming.
    public var unchanged: Int
    /// Keys accepted by a ``BufferedCandleSink`` and not yet written to its backend.
    public var buffered: Int

    /// Creates a report.
    public init(inserted: Int = 0, updated: Int = 0, unchanged: Int = 0, buffered: Int = 0) {
        self.inserted = inserted
        self.updated = updated
        self.unchanged = unchanged
        self.buffered = buffered
    }

    /// A report of nothing.
    public static let empty = CandleWriteReport()

    /// Every key counted: inserted + updated + unchanged + buffered.
    public var total: Int { inserted + updated + unchanged + buffered }

    /// Keys that changed storage: inserted + updated.
    public var written: Int { inserted + updated }

    /// Adds two reports field by field.
    public static func + (lhs: CandleWriteReport, rhs: CandleWriteReport) -> CandleWriteReport {
        CandleWriteReport(
            inserted: lhs.inserted + rhs.inserted,
            updated: lhs.updated + rhs.updated,
            unchanged: lhs.unchanged + rhs.unchanged,
            buffered: lhs.buffered + rhs.buffered)
    }

    /// Adds `rhs` to `lhs` field by field.
    public static func += (lhs: inout CandleWriteReport, rhs: CandleWriteReport) {
        lhs = lhs + rhs
    }

    /// `3 inserted, 1 updated, 0 unchanged` (and `, 5 buffered` when some were buffered).
    public var description: String {
        let base = "\(inserted) inserted, \(updated) updated, \(unchanged) unchanged"
        return buffered > 0 ? base + ", \(buffered) buffered" : base
    }
}
