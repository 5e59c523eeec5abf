import CandleCore
import Foundation
import Testing

@Suite("WallClock")
struct WallClockTests {
    @Test("a manual clock wakes sleepers in deadline order only when advanced")
    func manual() async throws {
        let start = iso("2026-11-17T14:00:00Z")
        let clock = ManualWallClock(now: start)
        let order = OrderRecorder()
        async let a: Void = {
            try await clock.sleep(until: start.addingTimeInterval(120)); await order.append("a")
        }()
        async let b: Void = {
            try await clock.sleep(until: start.addingTimeInterval(60)); await order.append("b")
        }()
        await clock.waitForSleepers(2)
        #expect(clock.nextDeadline == start.addingTimeInterval(60))
        clock.advance(by: 59)
        #expect(clock.sleeperCount == 2)
        clock.advance(by: 1)
        try await b
        #expect(await order.items == ["b"])
        #expect(clock.advanceToNextDeadline() == start.addingTimeInterval(120))
        try await a
        #expect(await order.items == ["b", "a"])
        #expect(clock.now() == start.addingTimeInterval(120))
    }

    @Test("sleeping until the past returns at once; cancellation throws")
    func pastAndCancel() async throws {
        let clock = ManualWallClock(now: iso("2026-11-17T14:00:00Z"))
        try await clock.sleep(until: iso("2026-11-17T13:00:00Z"))
        let task = Task { try await clock.sleep(for: 3600) }
        await clock.waitForSleepers(1)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test("a scaled clock is a pure function of real time and its parameters")
    func scaled() {
        let start = iso("2026-11-16T23:00:00Z")
        let anchor = iso("2026-11-29T06:00:00Z")
        let clock = ScaledWallClock(start: start, anchor: anchor, speed: 60)
        let twin = ScaledWallClock(start: start, anchor: anchor, speed: 60)
        let real = iso("2026-11-29T06:01:00Z")
        #expect(clock.simulated(atReal: real) == iso("2026-11-17T00:00:00Z"))
        #expect(twin.simulated(atReal: real) == clock.simulated(atReal: real))
        #expect(clock.real(atSimulated: iso("2026-11-17T00:00:00Z")) == real)
    }
}

private actor OrderRecorder {
    var items: [String] = []
    func append(_ item: String) { items.append(item) }
}
