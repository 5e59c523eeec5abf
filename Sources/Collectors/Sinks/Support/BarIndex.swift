internal import CandleCore

/// The bars of one series, by key: what the file and memory sinks keep to apply the upsert rule and answer queries.
///
/// Bars sit on the timeframe grid (validation guarantees it), so each contract's bars are stored by **slot**
/// (`start / bar length`) in blocks of 4,096 slots, found by binary search over the few block numbers: an array index
/// instead of hashing a (String, Int64) key. At a million bars that is about 20 times faster than a
/// `Dictionary<BarKey, BarValues>`, and it keeps bars in start order. A series holds few contracts at once (one, two
/// around a roll), so contracts are found by a linear search.
struct BarIndex {
    private static let blockShift = 12
    private static let blockSize = 1 << blockShift

    private struct Contract {
        let symbol: String
        /// Sorted block numbers, and the blocks at the same positions.
        var numbers: [Int64] = []
        var blocks: [[BarValues?]] = []

        init(symbol: String) {
            self.symbol = symbol
        }

        /// The position of block `number`, or where it would be inserted.
        func search(_ number: Int64) -> (found: Bool, index: Int) {
            if let last = numbers.last {
                if last == number { return (true, numbers.count - 1) }
                if last < number { return (false, numbers.count) }
            }
            var low = 0
            var high = numbers.count
            while low < high {
                let middle = (low + high) / 2
                if numbers[middle] < number {
                    low = middle + 1
                } else {
                    high = middle
                }
            }
            return (low < numbers.count && numbers[low] == number, low)
        }
    }

    /// The bar length in seconds.
    let barSeconds: Int64
    private var contracts: [Contract] = []
    /// Bars stored.
    private(set) var count = 0
    /// The latest bar start, over all contracts.
    private(set) var latestStart: Int64?

    init(barSeconds: Int) {
        self.barSeconds = Int64(barSeconds)
    }

    private func position(_ start: Int64) -> (block: Int64, offset: Int) {
        let slot = CivilDate.floorDivide(start, barSeconds)
        return (slot >> Self.blockShift, Int(slot & Int64(Self.blockSize - 1)))
    }

    private func contractIndex(_ symbol: String) -> Int? {
        contracts.firstIndex { $0.symbol == symbol }
    }

    /// The bar stored for `key`, if any. Keys must lie on the grid (``barSeconds``).
    subscript(key: BarKey) -> BarValues? {
        get {
            guard let contract = contractIndex(key.symbol) else { return nil }
            let (block, offset) = position(key.start)
            let found = contracts[contract].search(block)
            return found.found ? contracts[contract].blocks[found.index][offset] : nil
        }
        set {
            let (block, offset) = position(key.start)
            let contract: Int
            if let existing = contractIndex(key.symbol) {
                contract = existing
            } else {
                guard newValue != nil else { return }
                contract = contracts.count
                contracts.append(Contract(symbol: key.symbol))
            }
            let found = contracts[contract].search(block)
            if !found.found {
                guard newValue != nil else { return }
                contracts[contract].numbers.insert(block, at: found.index)
                contracts[contract].blocks.insert(Array(repeating: nil, count: Self.blockSize), at: found.index)
            }
            let wasStored = contracts[contract].blocks[found.index][offset] != nil
            contracts[contract].blocks[found.index][offset] = newValue
            switch (wasStored, newValue != nil) {
            case (false, true):
                count += 1
                if latestStart.map({ key.start > $0 }) ?? true {
                    latestStart = key.start
                }
            case (true, false):
                count -= 1
                if latestStart == key.start {
                    latestStart = entries().last?.key.start
                }
            default:
                break
            }
        }
    }

    /// Every bar with a start in `[from, to)` (all when `nil`), ordered by start, then symbol.
    func entries(from: Int64? = nil, to: Int64? = nil) -> [(key: BarKey, values: BarValues)] {
        var result: [(key: BarKey, values: BarValues)] = []
        let first = from.map { position($0).block }
        let last = to.map { position($0 - 1).block }
        for contract in contracts {
            for (index, number) in contract.numbers.enumerated() {
                if let first, number < first { continue }
                if let last, number > last { break }
                let base = number << Self.blockShift
                contract.blocks[index].withUnsafeBufferPointer { slots in
                    for offset in 0..<Self.blockSize {
                        guard let values = slots[offset] else { continue }
                        let start = (base + Int64(offset)) * barSeconds
                        if let from, start < from { continue }
                        if let to, start >= to { continue }
                        result.append((BarKey(symbol: contract.symbol, start: start), values))
                    }
                }
            }
        }
        if contracts.count > 1 {
            result.sort { $0.key < $1.key }
        }
        return result
    }
}
