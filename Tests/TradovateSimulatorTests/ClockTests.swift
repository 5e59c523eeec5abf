import Foundation
import Testing
import TradovateSimulator

@Suite("Clocks")
struct ClockTests {
    @Test("manual clock moves only when told and wakes sleepers without real sleeping")
    func manualClock() async throws {
        let clock = ManualClock(start: Fixture.wednesday)
        #expect(clock.now() == Fixture.wednesday)
        let woke = Task { try await clock.sleep(until: Fixture.wednesday.addingTimeInterval(60)) }
        while clock.sleeperCount == 0 { await Task.yield() }
        #expect(clock.nextDeadline == Fixture.wednesday.addingTimeInterval(60))
        clock.advance(by: 30)
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(30))
        try await woke.value
        #expect(clock.sleeperCount == 0)
        clock.set(to: Fixture.wednesday)
        #expect(clock.now() == Fixture.wednesday)
        // A past deadline returns at once.
        try await clock.sleep(until: Fixture.wednesday.addingTimeInterval(-1))
    }

    @Test("a sleeping task is cancelled with CancellationError")
    func manualClockCancellation() async throws {
        let clock = ManualClock(start: Fixture.wednesday)
        let sleeper = Task { try await clock.sleep(until: .distantFuture) }
        while clock.sleeperCount == 0 { await Task.yield() }
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test("virtual clock is start + (wall - anchor) x speed and two instances agree")
    func virtualClock() async throws {
        let wall = ManualClock(start: Fixture.date("2026-01-01T10:00:00Z"))
        let start = Fixture.date("2025-12-01T14:30:00Z")
        let anchor = Fixture.date("2026-01-01T00:00:00Z")
        let first = try VirtualClock(start: start, speed: 60, anchor: anchor, base: wall)
        let second = try VirtualClock(start: start, speed: 60, anchor: anchor, base: wall)
        #expect(first.now() == start.addingTimeInterval(10 * 3600 * 60))
        #expect(first.now() == second.now())
        wall.advance(by: 1)
        #expect(first.now() == start.addingTimeInterval(10 * 3600 * 60 + 60))
        // Sleeping one simulated minute takes one wall second.
        let target = first.now().addingTimeInterval(60)
        let sleeper = Task { try await first.sleep(until: target) }
        while wall.sleeperCount == 0 { await Task.yield() }
        wall.advance(by: 1)
        try await sleeper.value
        #expect(first.now() == target)
        #expect(throws: SimulatorError.self) { try VirtualClock(start: start, speed: 0, anchor: anchor) }
    }

    @Test("command-line clock options: real time by default, deterministic default anchor otherwise")
    func clockOptions() throws {
        let wall = ManualClock(start: Fixture.date("2026-03-04T05:06:07Z"))
        let plain = try VirtualClock.fromOptions(start: nil, speed: 1, anchor: nil, base: wall)
        #expect(plain.now() == wall.now())
        let virtual = try VirtualClock.fromOptions(
            start: Fixture.date("2025-12-01T00:00:00Z"), speed: 2, anchor: nil, base: wall)
        // Anchor = 00:00 UTC of the wall day; 5 h 6 min 7 s of wall time → twice that simulated.
        #expect(virtual.now() == Fixture.date("2025-12-01T10:12:14Z"))
        #expect(VirtualClock.defaultAnchor(for: wall.now()) == Fixture.date("2026-03-04T00:00:00Z"))
    }
}
