import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process started with `posix_spawn` and reaped with `waitpid` on a plain thread.
///
/// Foundation's `Process` on Linux was seen to miss a child's exit (the `sh` running `pg_ctl start` stayed a zombie
/// and `terminationHandler` never ran), hanging the outage test; this helper has no such monitor to miss.
final class ChildProcess: Sendable {
    let pid: pid_t
    /// Read end of the child's standard output, when captured.
    private let outputDescriptor: Int32?

    struct SpawnError: Error, CustomStringConvertible {
        let path: String
        let code: Int32
        var description: String { "cannot start \(path): \(String(cString: strerror(code)))" }
    }

    /// Starts `path` with `arguments`; with `captureOutput`, standard output goes to a pipe read by ``readOutput(_:)``.
    init(_ path: String, _ arguments: [String], captureOutput: Bool = false) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var pipeEnds: [Int32] = [-1, -1]
        if captureOutput {
            guard pipe(&pipeEnds) == 0 else { throw SpawnError(path: path, code: errno) }
            posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
            posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
            posix_spawn_file_actions_addclose(&actions, pipeEnds[1])
        }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let result = posix_spawn(&pid, path, &actions, nil, argv, environ)
        if captureOutput {
            close(pipeEnds[1])
        }
        guard result == 0 else {
            if captureOutput { close(pipeEnds[0]) }
            throw SpawnError(path: path, code: result)
        }
        self.pid = pid
        self.outputDescriptor = captureOutput ? pipeEnds[0] : nil
    }

    /// Reads standard output on a dedicated thread until end of file, handing each chunk to `consume`.
    func readOutput(_ consume: @escaping @Sendable (Data) -> Void) {
        guard let descriptor = outputDescriptor else { return }
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = read(descriptor, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                consume(Data(buffer[0..<count]))
            }
            close(descriptor)
        }
    }

    /// Sends `signal`.
    func kill(_ signal: Int32) {
        #if canImport(Glibc)
            _ = Glibc.kill(pid, signal)
        #else
            _ = Darwin.kill(pid, signal)
        #endif
    }

    /// Waits for the exit on a plain thread; returns the exit status, or 128 + the signal number.
    func exitStatus() async -> Int32 {
        let pid = self.pid
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 {
                    if errno != EINTR {
                        continuation.resume(returning: -1)
                        return
                    }
                }
                let signal = status & 0x7f
                continuation.resume(returning: signal == 0 ? (status >> 8) & 0xff : 128 + signal)
            }
        }
    }

    /// Runs `command` with `/bin/sh -c` and returns its exit status.
    static func shell(_ command: String) async throws -> Int32 {
        try await ChildProcess("/bin/sh", ["-c", command]).exitStatus()
    }
}
