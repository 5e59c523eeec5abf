import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed system call on a file, with the path and `errno`.
struct PosixError: Error, CustomStringConvertible {
    let operation: String
    let path: String
    let code: Int32

    init(_ operation: String, _ path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    var description: String { "\(operation) \(path) failed: \(String(cString: strerror(code))) (errno \(code))" }
}

/// Which file a path or a descriptor names: its device and inode numbers.
struct FileIdentity: Hashable {
    let device: UInt64
    let inode: UInt64
}

/// A file descriptor with the few blocking operations the file sink and the spill file need: whole writes that
/// survive partial writes and `EINTR`, positioned reads and writes, data sync, truncation and an advisory lock.
///
/// Not thread-safe and not `Sendable`: owned by one actor, which runs it on its own dispatch queue.
final class PosixFile {
    let path: String
    private var descriptor: Int32

    /// Opens `path` with `open(2)` flags (`O_CLOEXEC` is added).
    init(path: String, flags: Int32, mode: mode_t = 0o644) throws(PosixError) {
        let descriptor = open(path, flags | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw PosixError("open", path) }
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        if descriptor >= 0 {
            _ = systemClose(descriptor)
        }
    }

    /// Closes the descriptor now; later calls fail with `EBADF`.
    func close() {
        if descriptor >= 0 {
            _ = systemClose(descriptor)
            descriptor = -1
        }
    }

    /// The file's current size in bytes.
    func size() throws(PosixError) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw PosixError("fstat", path) }
        return Int(info.st_size)
    }

    /// Writes every byte at the current position (the end, for files opened with `O_APPEND`).
    func writeAll(_ bytes: [UInt8]) throws(PosixError) {
        try writeAll(bytes, "write") { base, count, _ in write(descriptor, base, count) }
    }

    /// Writes every byte at `position` without moving the file position.
    func writeAll(_ bytes: [UInt8], at position: Int) throws(PosixError) {
        try writeAll(bytes, "pwrite") { base, count, offset in
            pwrite(descriptor, base, count, off_t(position + offset))
        }
    }

    /// Calls `writeChunk(start, count, offset)` for the bytes not yet written (from `offset` on) until all are written
    /// or it fails, retrying on `EINTR`; `operation` names the system call in the error.
    private func writeAll(
        _ bytes: [UInt8], _ operation: String, _ writeChunk: (UnsafeRawPointer, Int, Int) -> Int
    ) throws(PosixError) {
        let failure: Int32? = bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = writeChunk(buffer.baseAddress! + offset, buffer.count - offset, offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return nil
        }
        if let failure { throw PosixError(operation, path, code: failure) }
    }

    /// Reads up to `count` bytes at `position` (fewer only at the end of the file).
    func read(at position: Int, count: Int) throws(PosixError) -> [UInt8] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        let failure: Int32? = bytes.withUnsafeMutableBytes { buffer in
            while filled < count {
                let got = pread(descriptor, buffer.baseAddress! + filled, count - filled, off_t(position + filled))
                if got < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                if got == 0 { break }
                filled += got
            }
            return nil
        }
        if let failure { throw PosixError("pread", path, code: failure) }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// The whole file.
    func readAll() throws(PosixError) -> [UInt8] {
        try read(at: 0, count: try size())
    }

    /// Makes the written data (and the size) durable: `fdatasync(2)` on Linux, `fsync(2)` elsewhere.
    func sync() throws(PosixError) {
        #if os(Linux)
            let result = fdatasync(descriptor)
        #else
            let result = fsync(descriptor)
        #endif
        guard result == 0 else { throw PosixError("fsync", path) }
    }

    /// Cuts the file to `size` bytes.
    func truncate(to size: Int) throws(PosixError) {
        guard ftruncate(descriptor, off_t(size)) == 0 else { throw PosixError("ftruncate", path) }
    }

    /// Takes an exclusive advisory lock (`flock`) without waiting; `false` when another open file holds it.
    /// The kernel drops the lock when the descriptor closes or the process dies (also on `kill -9`).
    func tryLock() throws(PosixError) -> Bool {
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return true }
        if errno == EWOULDBLOCK { return false }
        throw PosixError("flock", path)
    }

    // MARK: Paths

    /// Makes a rename or creation inside `directory` durable.
    static func syncDirectory(_ directory: String) throws(PosixError) {
        let file = try PosixFile(path: directory, flags: O_RDONLY)
        guard fsync(file.descriptor) == 0 else { throw PosixError("fsync", directory) }
    }

    /// Atomically replaces `destination` with `source` (`rename(2)`).
    static func rename(_ source: String, to destination: String) throws(PosixError) {
        guard systemRename(source, destination) == 0 else { throw PosixError("rename", source) }
    }

    /// Removes `path`; a missing file is not an error.
    static func remove(_ path: String) throws(PosixError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw PosixError("unlink", path) }
    }

    /// The device and inode numbers of the open file: two paths name the same file when these are equal.
    func identity() throws(PosixError) -> FileIdentity {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw PosixError("fstat", path) }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// The device and inode numbers of the file at `path` (following links), or `nil` when nothing is there.
    static func identity(of path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// Whether something exists at `path`.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Creates `path` and its missing parents (`mkdir -p`).
    static func makeDirectories(_ path: String) throws(PosixError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw PosixError("mkdir", prefix)
            }
        }
    }
}

// `close` and `rename` are shadowed by methods of the same name inside `PosixFile`.
private func systemClose(_ descriptor: Int32) -> Int32 { close(descriptor) }
private func systemRename(_ source: String, _ destination: String) -> Int32 { rename(source, destination) }
