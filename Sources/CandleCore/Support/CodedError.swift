/// A stable code naming what went wrong (or what a finding is about): compare with `==`, or `switch` with a `default`
/// branch. The set of codes can grow without breaking callers.
///
/// `Domain` is the type the codes belong to, so codes of different types never mix. A type declares
/// `public typealias Code = StableCode<Self>` and its codes as static properties of `extension Self.Code`.
public struct StableCode<Domain>: Sendable, Hashable, CustomStringConvertible {
    private let name: String

    /// Creates the code called `name`; only the module declaring the domain's codes should call it.
    package init(_ name: String) {
        self.name = name
    }

    /// The code's name, for example `timeout`.
    public var description: String { name }
}

/// An error with a stable ``StableCode`` to branch on and a plain-words message for people and logs.
///
/// The default ``description`` is the message; errors that add context (a series, a status, the code) override it.
public protocol CodedError: Error, CustomStringConvertible {
    /// The error's code.
    var code: StableCode<Self> { get }
    /// A plain-words explanation.
    var message: String { get }
}

extension CodedError {
    /// The message.
    public var description: String { message }
}
