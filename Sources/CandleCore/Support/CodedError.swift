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

/// The failure of `Domain` (the type that fails, e.g. ``Timeframe``) when a code and a message are all it carries;
/// reads as its message.
///
/// A domain names it (`public typealias TimeframeError = DomainError<Timeframe>`) and declares its codes in
/// `extension TimeframeError.Code`.
public struct DomainError<Domain>: CodedError, Sendable, Hashable {
    /// What went wrong, as a stable code.
    public typealias Code = StableCode<Self>

    /// The error's code.
    public let code: Code
    /// A plain-words explanation.
    public let message: String

    /// Creates an error; only the module of `Domain` should call it.
    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// Like ``DomainError``, but reads as its message followed by its code in brackets, e.g.
/// `another backfill holds the checkpoint lock [checkpointLocked]`, and any module may create one: the failures of
/// long-running jobs (backfill, collector, verifier) shown to operators, who may search for the code.
public struct TaggedDomainError<Domain>: CodedError, Sendable, Hashable {
    /// What went wrong, as a stable code.
    public typealias Code = StableCode<Self>

    /// The error's code.
    public let code: Code
    /// What is wrong and how to fix it.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message, then the code in brackets.
    public var description: String { "\(message) [\(code)]" }
}
