/// The building blocks of the `orca-run` daemon: configuration, the service graph, health, verify, metrics and the
/// HTTP endpoint. `orca-run` parses arguments and calls into this module; everything here is tested in
/// `OrcaRuntimeTests`.
public enum OrcaRuntime {
    /// The version `orca-run --version` prints.
    public static let version = "0.3.0"
}
