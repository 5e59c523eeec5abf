public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process started with `posix_spawn` and reaped with `waitpid` on a plain thread.
///
/// Foundation's `Process` on Linux was seen to miss a child's exit (the `sh` running `pg_ctl start` stayed a zombie
/// and `terminationHandler` never ran), hanging the outage test; this helper has no such monitor to miss.
public final class ChildProcess: Sendable {
    /// The child's process id.
    public let pid: pid_t
    /// Read end of the child's standard output, when captured.
    private let outputDescriptor: Int32?

    /// `posix_spawn` failed.
    public struct SpawnError: Error, CustomStringConvertible {
        /// The program.
        public let path: String
        /// The `errno` value.
        public let code: Int32
        public var description: String { "cannot start \(path): \(String(cString: strerror(code)))" }
    }

    /// Starts `path` with `arguments`; with `captureOutput`, standard output goes to a pipe read by ``readOutput(_:)``;
    /// with `outputFile`, standard output and standard error go to that file instead. `environment` replaces the
    /// process's environment when given; `workingDirectory` is the child's current directory.
    public init(
        _ path: String, _ arguments: [String], captureOutput: Bool = false, outputFile: String? = nil,
        environment: [String: String]? = nil, workingDirectory: String? = nil
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var pipeEnds: [Int32] = [-1, -1]
        if captureOutput {
            guard pipe(&pipeEnds) == 0 else { throw SpawnError(path: path, code: errno) }
            posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
            posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
            posix_spawn_file_actions_addclose(&actions, pipeEnds[1])
        } else if let outputFile {
            posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        // A working directory goes through `sh -c 'cd … && exec …'` (Swift's Glibc module lacks
        // posix_spawn_file_actions_addchdir_np).
        let program = workingDirectory == nil ? path : "/bin/sh"
        let words =
            workingDirectory.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0, path] + arguments }
            ?? [path] + arguments
        let argv = words.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let result: Int32
        if let environment {
            let envp = environment.map { strdup("\($0)=\($1)") } + [nil]
            defer { envp.forEach { free($0) } }
            result = posix_spawn(&pid, program, &actions, nil, argv, envp)
        } else {
            result = posix_spawn(&pid, program, &actions, nil, argv, environ)
        }
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
    public func readOutput(_ consume: @escaping @Sendable (Data) -> Void) {
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
    public func kill(_ signal: Int32) {
        #if canImport(Glibc)
            _ = Glibc.kill(pid, signal)
        #else
            _ = Darwin.kill(pid, signal)
        #endif
    }

    /// Waits for the exit on a plain thread; returns the exit status, or 128 + the signal number.
    public func exitStatus() async -> Int32 {
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
    public static func shell(_ command: String) async throws -> Int32 {
        try await ChildProcess("/bin/sh", ["-c", command]).exitStatus()
    }
}

/// Runs `path` to completion with its output in a temporary file; returns the exit status and the combined output.
public func runProcess(
    _ path: String, _ arguments: [String], environment: [String: String]? = nil, workingDirectory: String? = nil
) async throws -> (status: Int32, output: String) {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("orca-out-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: file) }
    let child = try ChildProcess(
        path, arguments, outputFile: file, environment: environment, workingDirectory: workingDirectory)
    let status = await child.exitStatus()
    return (status, (try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
}

/// The `orca-run` executable built next to the test bundle by `swift build` / `swift test`, if any.
public var orcaRunBinary: String? {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("orca-run")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
        directory = directory.deletingLastPathComponent()
    }
    return nil
}
