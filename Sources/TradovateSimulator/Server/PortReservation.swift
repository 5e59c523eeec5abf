#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Holds a TCP port while the listener is closed (restart and refused-connection faults), so that no other socket —
/// an outgoing connection's automatic local port, a self-connect to the closed port, another ephemeral bind — can take
/// it before the listener comes back.
///
/// The holder is a socket bound to the port but not listening: connections to the port are refused by the OS. It and
/// the listener both set `SO_REUSEADDR` and `SO_REUSEPORT`, so the holder can be bound before the listener closes and
/// the new listener can be bound before the holder closes: the port is never free. A first exclusive bind (without
/// `SO_REUSEPORT`) checks that nobody else listens on the port and picks the ephemeral port for port 0.
enum PortReservation {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// `SO_REUSEPORT`'s option number.
    static var reusePortOption: CInt { SO_REUSEPORT }

    /// Whether `host` is a literal IPv4 or IPv6 address (host names are not reserved).
    static func isLiteralAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// Binds a stream socket (not listening) to `host:port` (port 0 = ephemeral); returns it and the bound port.
    static func bind(host: String, port: Int, shared: Bool) throws(Failure) -> (fd: CInt, port: Int) {
        var v4 = in_addr()
        var v6 = in6_addr()
        let isV4 = inet_pton(AF_INET, host, &v4) == 1
        guard isV4 || inet_pton(AF_INET6, host, &v6) == 1 else {
            throw Failure(description: "\(host) is not an IP address")
        }
        #if canImport(Darwin)
            let fd = socket(isV4 ? AF_INET : AF_INET6, SOCK_STREAM, 0)
        #else
            let fd = socket(isV4 ? AF_INET : AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        var one: CInt = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<CInt>.size))
        if shared { setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<CInt>.size)) }
        let result: CInt
        if isV4 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr = v4
            result = Glue.bind(fd, &address)
        } else {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            address.sin6_addr = v6
            result = Glue.bind(fd, &address)
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw Failure(description: "bind(\(host):\(port)) failed: \(String(cString: strerror(code)))")
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            close(fd)
            throw Failure(description: "getsockname failed: errno \(errno)")
        }
        let boundPort = withUnsafePointer(to: &storage) { pointer -> Int in
            isV4
                ? pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin_port))
                }
                : pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin6_port))
                }
        }
        return (fd, boundPort)
    }

    /// Closes a holder.
    static func release(_ fd: CInt) {
        close(fd)
    }
}

/// The C `bind`, out of reach of `PortReservation.bind`'s name.
private enum Glue {
    /// Binds `fd` to `address`, a `sockaddr_in` or `sockaddr_in6`.
    static func bind<Address>(_ fd: CInt, _ address: inout Address) -> CInt {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                let length = socklen_t(MemoryLayout<Address>.size)
                #if canImport(Darwin)
                    return Darwin.bind(fd, address, length)
                #elseif canImport(Musl)
                    return Musl.bind(fd, address, length)
                #else
                    return Glibc.bind(fd, address, length)
                #endif
            }
        }
    }
}
