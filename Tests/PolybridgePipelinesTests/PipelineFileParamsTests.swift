import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// `params` of read and write steps are the options of `convert`; unknown ones are refused.
@Suite struct PipelineFileParamsTests {
    func run(_ yaml: String, files: [String: String] = baseFiles) async throws -> PipelineProject {
        let project = try PipelineProject(files.merging(["p.yaml": yaml]) { $1 })
        _ = try await PipelineRunner.run(try PipelineFile.load(project.path("p.yaml")), options: PipelineRunOptions(useCache: false))
        return project
    }

    func validationError(_ yaml: String) async throws -> PipelineError? {
        let project = try PipelineProject(baseFiles.merging(["p.yaml": yaml]) { $1 })
        do {
            try await PipelineValidation.check(try PipelineFile.load(project.path("p.yaml")))
            return nil
        } catch {
            return error
        }
    }

    /// What pyarrow finds in a written Parquet file: `name:type` of each column, then the first
    /// column chunk's compression and the row group sizes.
    func parquetFacts(_ path: String) throws -> String {
        let python = try PythonRuntime.shared()
        try python.exec("""
            import pyarrow.parquet as pq
            _file = pq.ParquetFile('\(path)')
            _meta = _file.metadata
            parquet_facts = ';'.join([','.join(f'{f.name}:{f.type}' for f in _file.schema_arrow),
                                      _meta.row_group(0).column(0).compression,
                                      ','.join(str(_meta.row_group(i).num_rows) for i in range(_meta.num_row_groups))])
            """)
        guard case .string(let text) = try python.value(of: try python.evaluateObject("parquet_facts")) else { return "" }
        return text
    }

    @Test func readAndWriteParamsAreApplied() async throws {
        let project = try await run("""
            name: p
            steps:
              - id: raw
                kind: read
                path: data/small.csv
                params: {column_types: "id=string"}
              - id: out
                kind: write
                path: out/small.parquet
                inputs: {d: raw}
                params: {compression: zstd, row_group_rows: 2}
            """)
        #expect(try parquetFacts(project.path("out/small.parquet")) == "id:string,x:double,g:string;ZSTD;2,2")
    }

    @Test func delimiterAndEncodingParamsReadText() async throws {
        var files = baseFiles
        files["data/semi.csv"] = "id;name\n1;caf\u{e9}\n"
        let project = try PipelineProject(files.merging(["p.yaml": """
            name: p
            steps:
              - id: raw
                kind: read
                path: data/semi.csv
                params: {delimiter: ";", encoding: latin1}
              - id: out
                kind: write
                path: out/semi.parquet
                inputs: {d: raw}
            """]) { $1 })
        // The file is Latin-1: é is one byte.
        try Data([0x69, 0x64, 0x3b, 0x6e, 0x61, 0x6d, 0x65, 0x0a, 0x31, 0x3b, 0x63, 0x61, 0x66, 0xe9, 0x0a])
            .write(to: URL(fileURLWithPath: project.path("data/semi.csv")))
        _ = try await PipelineRunner.run(try PipelineFile.load(project.path("p.yaml")), options: PipelineRunOptions(useCache: false))
        let table = try await DataFiles.readTable(project.path("out/semi.parquet"))
        #expect(table.schema.map(\.name) == ["id", "name"])
    }

    @Test func anUnknownReadParamIsAValidationErrorNamingTheLine() async throws {
        let error = try await validationError("""
            name: p
            steps:
              - id: raw
                kind: read
                path: data/small.csv
                params:
                  column_types: "id=string"
                  bogus: 1
            """)
        guard case .invalid(_, let line, let step, let message)? = error else {
            Issue.record("expected an invalid-pipeline error, got \(String(describing: error))")
            return
        }
        #expect(line == 8)
        #expect(step == "raw")
        #expect(message.contains("unknown parameter 'bogus'"), "\(message)")
        #expect(message.contains("column_types"), "\(message)")
    }

    @Test func aWriteOnlyParamOnAReadStepIsRefused() async throws {
        let error = try await validationError("""
            name: p
            steps:
              - id: raw
                kind: read
                path: data/small.csv
                params: {compression: zstd}
            """)
        guard case .invalid(_, let line, let step, let message)? = error else {
            Issue.record("expected an invalid-pipeline error, got \(String(describing: error))")
            return
        }
        #expect(line == 6)
        #expect(step == "raw")
        #expect(message.contains("unknown parameter 'compression' for a read step"), "\(message)")
    }
}
