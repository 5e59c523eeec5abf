internal import Dispatch

/// A serial executor backed by a private dispatch queue, for actors whose methods make blocking calls.
///
/// Swift concurrency's cooperative pool has one thread per core; a blocking `read(2)` inside hiredis, libcurl or
/// libpq (or a blocking file write) on that pool stalls unrelated tasks. An actor whose `unownedExecutor` is one of
/// these runs every isolated method on the private queue instead. Private serial queues are "overcommit" in
/// libdispatch: when a job blocks, the next queue gets a fresh thread rather than waiting for a cooperative one.
///
/// Package-internal: `TokenStore` (Redis, HTTP) and `Collectors` (PostgreSQL, file sinks, checkpoints) share it.
package final class BlockingIOExecutor: SerialExecutor {
    /// The queue every job of the owning actor runs on.
    let queue: DispatchQueue

    /// Creates an executor with its own serial queue.
    /// - Parameter label: the dispatch queue label, shown in debuggers and crash reports.
    package init(label: String) {
        self.queue = DispatchQueue(label: label)
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async {
            job.runSynchronously(on: executor)
        }
    }

    package func checkIsolated() {
        dispatchPrecondition(condition: .onQueue(queue))
    }
}
