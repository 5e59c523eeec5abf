import OrcaRuntime
import Testing

@Suite struct VersionTests {
    @Test func versionIsSemantic() {
        #expect(OrcaRuntime.version.split(separator: ".").count == 3)
    }
}
