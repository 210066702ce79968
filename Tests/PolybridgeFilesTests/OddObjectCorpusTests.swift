import Foundation
import PolybridgeTestSupport
import Testing

/// 260 odd R objects saved as RDS (malformed factors, out-of-range dates and times, wrong
/// row names, odd classes and attributes, compact sequences, 60,000- and 100,000-column
/// frames, invalid UTF-8, non-frames), each converted to CSV, Feather, Parquet and RDS.
///
/// The oracle is independent of Polybridge: R writes, for every object, what an exact
/// conversion must contain or that it must fail (fixtures/corpus/make_corpus.R), and
/// pyscripts/check_corpus.py reads the outputs back with pyarrow (`validate(full=True)`) and
/// with R. Every conversion runs in one process, which must never die by a signal.
@Suite struct OddObjectCorpusTests {
    @Test func everyOddObjectConvertsExactlyOrFailsNamingTheColumn() async throws {
        let root = repositoryRoot()
        let directory = try scratchDirectory()
        let corpus = directory + "/corpus", outputs = directory + "/outputs", results = directory + "/results.jsonl"
        let made = try await runCommand("Rscript", [root + "/fixtures/corpus/make_corpus.R", corpus])
        try #require(made.status == 0, "make_corpus.R failed: \(made.error)")
        let inputs = try FileManager.default.contentsOfDirectory(atPath: corpus).filter { $0.hasSuffix(".rds") }
        #expect(inputs.count >= 200)

        let converted = try await runPolybridge(["stress", "corpus", "--corpus", corpus, "--outputs", outputs, "--results", results])
        let lastInput = converted.error.split(separator: "\n").last.map(String.init) ?? ""
        #expect(converted.status == 0, "the conversions ended with status \(converted.status) at: \(lastInput)")

        // Capped at 16 GB of address space: a runaway checker fails with a traceback instead of
        // making the kernel kill processes (it needs under 2 GB).
        let checker = "ulimit -v 16000000; exec python3 \"$0\" --corpus \"$1\" --results \"$2\" --outputs \"$3\""
        let checked = try await runCommand("bash", ["-c", checker, root + "/pyscripts/check_corpus.py", corpus, results, outputs])
        #expect(checked.status == 0, "\(checked.output.suffix(6000))\(checked.error.suffix(2000))")
        #expect(checked.output.contains("\(inputs.count * 4) conversions, 0 failures"), "\(checked.output.suffix(500))")
        try? FileManager.default.removeItem(atPath: directory)
    }
}
