import CandleCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The append-only, checksummed file where a ``BufferedCandleSink`` keeps accepted batches its memory cannot hold.
///
/// Layout:
/// ```
/// ORCASPILL1 000000000000001c\n                           header: offset of the first undrained record (hex)
/// 3f1c09aa 12 1764398400123 [{"symbol":"NQZ5",...}, ...]\n   record: crc32 count acceptedAtMillis json
/// ```
/// The CRC-32 covers everything after its field up to (not including) the newline. Each record is written with one
/// `pwrite(2)` and synced before the batch is acknowledged. Draining advances the header offset (a 28-byte
/// in-place write, synced); when every record is drained the file is cut back to its header. On open, a run of
/// unterminated or bad-checksum records at the end is a torn tail and is cut; a bad record followed by a good one
/// is reported as corruption.
///
/// Not thread-safe and not `Sendable`: owned by the buffer's actor and used on its queue.
final class SpillFile {
    struct Record {
        let offset: Int
        let length: Int
        let count: Int
        let acceptedAt: Date
    }

    static let headerLength = 28
    private static let magic = Array("ORCASPILL1 ".utf8)

    let path: String
    private var file: PosixFile
    private var records: [Record] = []
    private var head = 0
    private var endOffset: Int
    private(set) var pendingCandles = 0

    var isEmpty: Bool { head == records.count }
    var pendingRecords: Int { records.count - head }
    /// Bytes of undrained records.
    var pendingBytes: Int { isEmpty ? 0 : endOffset - records[head].offset }
    var oldestAcceptedAt: Date? { isEmpty ? nil : records[head].acceptedAt }

    private init(path: String, file: PosixFile, endOffset: Int) {
        self.path = path
        self.file = file
        self.endOffset = endOffset
    }

    // MARK: Opening and recovery

    /// Opens `path`, creating it when missing, and recovers its undrained records.
    static func open(path: String) throws(CandleSinkError) -> SpillFile {
        do {
            if !PosixFile.exists(path) {
                try create(path: path, records: [], copying: nil)
            }
            let file = try PosixFile(path: path, flags: O_RDWR)
            let spill = SpillFile(path: path, file: file, endOffset: try file.size())
            try spill.recover()
            return spill
        } catch let error as CandleSinkError {
            throw error
        } catch {
            throw CandleSinkError(.invalidConfiguration, "cannot open spill file \(path)", underlying: error)
        }
    }

    /// Writes a new spill file atomically: header, the encoded `records`, then `copying` bytes, through a temporary
    /// file and `rename(2)`.
    private static func create(path: String, records: [[UInt8]], copying tail: [UInt8]?) throws(PosixError) {
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        try PosixFile.makeDirectories(folder)
        let temporary = path + ".tmp"
        let file = try PosixFile(path: temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
        var bytes = header(offset: headerLength)
        for record in records {
            bytes += record
        }
        if let tail {
            bytes += tail
        }
        try file.writeAll(bytes)
        try file.sync()
        file.close()
        try PosixFile.rename(temporary, to: path)
        try PosixFile.syncDirectory(folder)
    }

    private static func header(offset: Int) -> [UInt8] {
        let hex = String(offset, radix: 16)
        return magic + Array((String(repeating: "0", count: 16 - hex.count) + hex).utf8) + [UInt8(ascii: "\n")]
    }

    private func recover() throws {
        guard endOffset >= Self.headerLength else {
            throw CandleSinkError(.corruptData, "spill file \(path) is shorter than its header")
        }
        let header = try file.read(at: 0, count: Self.headerLength)
        guard Array(header.prefix(Self.magic.count)) == Self.magic, header.last == UInt8(ascii: "\n"),
            let offset = Int(
                String(decoding: header[Self.magic.count..<(Self.headerLength - 1)], as: UTF8.self), radix: 16),
            offset >= Self.headerLength, offset <= endOffset
        else {
            throw CandleSinkError(.corruptData, "spill file \(path) has no valid header")
        }
        var position = offset
        var carry: [UInt8] = []
        var carryStart = offset
        var firstBad: Int?
        let blockSize = 4 << 20
        while position < endOffset {
            let block = try file.read(at: position, count: min(blockSize, endOffset - position))
            if block.isEmpty { break }
            position += block.count
            carry += block
            var lineStart = 0
            while let newline = carry[lineStart...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = carry[lineStart..<newline]
                if let record = Self.parseRecord(line, offset: carryStart + lineStart) {
                    if let firstBad {
                        throw CandleSinkError(
                            .corruptData,
                            "spill file \(path) has a damaged record at byte \(firstBad) followed by good records")
                    }
                    records.append(record)
                    pendingCandles += record.count
                } else if firstBad == nil {
                    firstBad = carryStart + lineStart
                }
                lineStart = newline + 1
            }
            carry.removeFirst(lineStart)
            carryStart += lineStart
        }
        // Whatever follows the last good record (a torn append, garbage after a power loss) is cut.
        let goodEnd = records.last.map { $0.offset + $0.length } ?? offset
        if goodEnd < endOffset {
            try file.truncate(to: goodEnd)
            try file.sync()
            endOffset = goodEnd
        }
        if records.isEmpty && offset != Self.headerLength {
            try reset()
        }
    }

    private static func parseRecord(_ line: ArraySlice<UInt8>, offset: Int) -> Record? {
        let start = line.startIndex
        guard line.count > 9, line[start + 8] == UInt8(ascii: " "),
            let crc = UInt32(String(decoding: line[start..<(start + 8)], as: UTF8.self), radix: 16),
            CRC32.checksum(line[(start + 9)...]) == crc
        else { return nil }
        let fields = line[(start + 9)...].split(separator: UInt8(ascii: " "), maxSplits: 2)
        guard fields.count == 3, let count = Int(String(decoding: fields[0], as: UTF8.self)),
            let millis = Int64(String(decoding: fields[1], as: UTF8.self))
        else { return nil }
        return Record(
            offset: offset, length: line.count + 1, count: count,
            acceptedAt: Date(timeIntervalSince1970: TimeInterval(millis) / 1000))
    }

    // MARK: Appending

    /// One record line for `candles`, accepted at `acceptedAt`.
    static func encode(_ candles: [Candle], acceptedAt: Date) throws -> [UInt8] {
        let json = try JSONEncoder().encode(candles)
        let millis = Int64((acceptedAt.timeIntervalSince1970 * 1000).rounded())
        let body = Array("\(candles.count) \(millis) ".utf8) + Array(json)
        let hex = String(CRC32.checksum(body), radix: 16)
        return Array((String(repeating: "0", count: 8 - hex.count) + hex + " ").utf8) + body + [UInt8(ascii: "\n")]
    }

    /// Appends an encoded record and syncs it.
    func append(_ encoded: [UInt8], count: Int, acceptedAt: Date) throws(PosixError) {
        try file.writeAll(encoded, at: endOffset)
        do {
            try file.sync()
        } catch {
            try? file.truncate(to: endOffset)
            throw error
        }
        records.append(Record(offset: endOffset, length: encoded.count, count: count, acceptedAt: acceptedAt))
        endOffset += encoded.count
        pendingCandles += count
    }

    // MARK: Draining

    /// The oldest undrained records, up to `maximum` candles (at least one record), and their candles.
    func peek(maximum: Int) throws -> (records: Int, candles: [Candle]) {
        var taken = 0
        var candles: [Candle] = []
        while head + taken < records.count {
            let record = records[head + taken]
            if taken > 0 && candles.count + record.count > maximum { break }
            let line = try file.read(at: record.offset, count: record.length - 1)
            var spaces = 0
            var jsonStart = 9
            while jsonStart < line.count && spaces < 2 {
                if line[jsonStart] == UInt8(ascii: " ") { spaces += 1 }
                jsonStart += 1
            }
            guard spaces == 2 else {
                throw CandleSinkError(.corruptData, "spill file \(path) record at byte \(record.offset) is unreadable")
            }
            do {
                candles += try JSONDecoder().decode([Candle].self, from: Data(line[jsonStart...]))
            } catch {
                throw CandleSinkError(
                    .corruptData, "spill file \(path) record at byte \(record.offset) is unreadable", underlying: error)
            }
            taken += 1
        }
        return (taken, candles)
    }

    /// Marks the oldest `count` records drained (durably), and empties the file when nothing is left.
    func consume(_ count: Int) throws(PosixError) {
        guard count > 0 else { return }
        for record in records[head..<(head + count)] {
            pendingCandles -= record.count
        }
        head += count
        if isEmpty {
            try reset()
        } else {
            try file.writeAll(Self.header(offset: records[head].offset), at: 0)
            try file.sync()
            if head > 1024 && head * 2 > records.count {
                records.removeFirst(head)
                head = 0
            }
        }
    }

    private func reset() throws(PosixError) {
        try file.writeAll(Self.header(offset: Self.headerLength), at: 0)
        try file.truncate(to: Self.headerLength)
        try file.sync()
        records = []
        head = 0
        endOffset = Self.headerLength
        pendingCandles = 0
    }

    /// Rewrites the file with `batches` (older) before the undrained records: used when the buffer closes while its
    /// backend is down, so bars held in memory survive the process.
    func prepend(_ batches: [(candles: [Candle], acceptedAt: Date)]) throws {
        let encoded = try batches.map { try Self.encode($0.candles, acceptedAt: $0.acceptedAt) }
        let tail = isEmpty ? [] : try file.read(at: records[head].offset, count: pendingBytes)
        file.close()
        try Self.create(path: path, records: encoded, copying: tail)
        file = try PosixFile(path: path, flags: O_RDWR)
        records = []
        head = 0
        pendingCandles = 0
        endOffset = try file.size()
        try recover()
    }

    func close() {
        file.close()
    }

    // MARK: Checking the file under the buffer

    /// What ``checkFile()`` found and repaired.
    enum Repair: Equatable {
        /// The file was removed (or replaced) while open, perhaps with its directory: it was written again at
        /// ``path`` with every undrained record, which the open descriptor still held.
        case recreated(pendingCandles: Int)
        /// The file was cut shorter by something else while open: the records past the cut are gone and were dropped
        /// from the queue; the whole records before it are kept.
        case truncated(lostCandles: Int)
    }

    /// Makes sure the file still holds every undrained record and that ``path`` still names it, repairing what it
    /// can. Called before each append and each drain: two `stat(2)` calls, no read.
    func checkFile() throws -> Repair? {
        let size = try file.size()
        if size < endOffset {
            return try dropRecords(past: size)
        }
        if PosixFile.identity(of: path) != (try file.identity()) {
            let pending = pendingCandles
            let tail = isEmpty ? [] : try file.read(at: records[head].offset, count: pendingBytes)
            file.close()
            try Self.create(path: path, records: [], copying: tail)
            file = try PosixFile(path: path, flags: O_RDWR)
            records = []
            head = 0
            pendingCandles = 0
            endOffset = try file.size()
            try recover()
            return .recreated(pendingCandles: pending)
        }
        return nil
    }

    /// Forgets the records that no longer fit in a file cut to `size` bytes and makes the file consistent again.
    private func dropRecords(past size: Int) throws -> Repair {
        var kept = records.count
        while kept > head && records[kept - 1].offset + records[kept - 1].length > size {
            kept -= 1
        }
        let lost = records[kept...].reduce(0) { $0 + $1.count }
        if size < Self.headerLength || kept == head {
            // The header went too, or no whole undrained record is left: start afresh.
            try reset()
        } else {
            records.removeSubrange(kept...)
            pendingCandles -= lost
            endOffset = records[kept - 1].offset + records[kept - 1].length
            try file.truncate(to: endOffset)
            try file.sync()
        }
        return .truncated(lostCandles: lost)
    }
}
