import Foundation
import Polybridge
import PolybridgeTestSupport
import Testing

/// A pipeline project in a scratch folder: files written from a map of relative paths to text.
struct PipelineProject {
    let folder: String

    init(_ files: [String: String]) throws {
        folder = try scratchDirectory()
        for (path, text) in files { try write(path, text) }
    }

    func write(_ path: String, _ text: String) throws {
        let full = folder + "/" + path
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: full).deletingLastPathComponent().path,
                                                withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
    }

    func path(_ relative: String) -> String { folder + "/" + relative }
}

/// The files most tests start from: a CSV, an R script that sources a helper, a Python script.
let baseFiles: [String: String] = [
    "data/small.csv": "id,x,g\n1,1.5,a\n2,2.5,b\n3,,a\n4,4.5,c\n",
    "rscripts/helpers.R": "double_it <- function(v) v * 2\n",
    "rscripts/clean.R": """
        source("helpers.R")
        clean <- function(d, scale = 1) { d$x2 <- double_it(d$x) * scale; d$g <- factor(d$g); d }
        fails <- function(d) { inner <- function() stop("the data has no column 'zz'"); inner() }
        slow <- function(d, seconds = 1) { Sys.sleep(seconds); d }
        """,
    "pyscripts/features.py": """
        def add(d, window: int = 7):
            d = d.copy()
            d["w"] = window
            return d

        def fails(d):
            raise ValueError("no such feature: zz")

        def mutate(d):
            d.loc[d.index[0], "x"] = -999.0
            return d
        """,
]

/// Validation before anything runs: each error names the step and the line.
@Suite struct PipelineValidationTests {
    func problem(_ yaml: String, files: [String: String] = baseFiles) async throws -> PipelineError? {
        let project = try PipelineProject(files.merging(["p.yaml": yaml]) { $1 })
        let loaded = Result { () throws(PipelineError) -> Pipeline in try PipelineFile.load(project.path("p.yaml")) }
        guard case .success(let pipeline) = loaded else {
            if case .failure(let error) = loaded { return error }
            return nil
        }
        do {
            try await PipelineValidation.check(pipeline)
            return nil
        } catch {
            return error
        }
    }

    func expectInvalid(_ yaml: String, line: Int, step: String?, containing text: String) async throws {
        let error = try await problem(yaml)
        guard case .invalid(_, let errorLine, let errorStep, let message)? = error else {
            Issue.record("expected an invalid-pipeline error, got \(String(describing: error))")
            return
        }
        #expect(errorLine == line, "\(message)")
        #expect(errorStep == step, "\(message)")
        #expect(message.contains(text), "\(message)")
    }

    @Test func anUnknownKindNamesTheStepAndLine() async throws {
        try await expectInvalid("""
            name: p
            steps:
              - id: raw
                kind: read
                path: data/small.csv
              - id: clean
                kind: julia
            """, line: 7, step: "clean", containing: "unknown kind 'julia'")
    }

    @Test func anUnknownKeyNamesTheKey() async throws {
        try await expectInvalid("""
            name: p
            steps:
              - id: raw
                kind: read
                path: data/small.csv
              - id: clean
                kind: r
                scirpt: rscripts/clean.R
            """, line: 8, step: "clean", containing: "unknown key 'scirpt'")
    }

    @Test func aMissingInputNamesTheStep() async throws {
        try await expectInvalid("""
            name: p
            steps:
              - {id: raw, kind: read, path: data/small.csv}
              - {id: clean, kind: r, script: rscripts/clean.R, function: clean,
                 inputs: {d: rwa}}
            """, line: 5, step: "clean", containing: "names step 'rwa'")
    }

    @Test func aCycleIsNamed() async throws {
        try await expectInvalid("""
            name: p
            steps:
              - {id: a, kind: r, script: rscripts/clean.R, function: clean, inputs: {d: b}}
              - {id: b, kind: r, script: rscripts/clean.R, function: clean, inputs: {d: a}}
            """, line: 3, step: "a", containing: "cycle: a → b → a")
    }

    @Test func aMissingScriptFile() async throws {
        try await expectInvalid("""
            name: p
            steps:
              - {id: raw, kind: read, path: data/small.csv}
              - {id: feat, kind: python, script: pyscripts/nope.py, function: add, inputs: {d: raw}}
            """, line: 4, step: "feat", containing: "pyscripts/nope.py does not exist")
    }

    @Test(arguments: [("r", "rscripts/clean.R"), ("python", "pyscripts/features.py")])
    func aMissingFunction(kind: String, script: String) async throws {
        try await expectInvalid("""
            name: p
            steps:
              - {id: raw, kind: read, path: data/small.csv}
              - id: step2
                kind: \(kind)
                script: \(script)
                function: missing_fn
                inputs: {d: raw}
            """, line: 7, step: "step2", containing: "defines no function 'missing_fn'")
    }

    @Test(arguments: [("r", "rscripts/clean.R", "clean", "scale", "a number"),
                      ("python", "pyscripts/features.py", "add", "window", "an integer")])
    func aWrongParameterType(kind: String, script: String, function: String, parameter: String, expected: String) async throws {
        try await expectInvalid("""
            name: p
            steps:
              - {id: raw, kind: read, path: data/small.csv}
              - id: step2
                kind: \(kind)
                script: \(script)
                function: \(function)
                inputs: {d: raw}
                params:
                  \(parameter): "seven"
            """, line: 10, step: "step2", containing: "parameter '\(parameter)' must be \(expected)")
    }

    @Test func anUnknownParameterAndAFitParameterOfTheWrongType() async throws {
        try await expectInvalid("""
            name: p
            steps:
              - {id: raw, kind: read, path: data/small.csv}
              - {id: clean, kind: r, script: rscripts/clean.R, function: clean, inputs: {d: raw}, params: {sclae: 2}}
            """, line: 4, step: "clean", containing: "has no argument 'sclae'")
        try await expectInvalid("""
            name: p
            steps:
              - {id: raw, kind: read, path: data/small.csv}
              - id: model
                kind: fit
                formula: x ~ id
                inputs: {data: raw}
                params: {chunks: two}
            """, line: 8, step: "model", containing: "parameter 'chunks' must be an integer")
    }

    @Test func anEmptyInputReferenceAndARepeatedNameAreErrorsNotCrashes() async throws {
        try await expectInvalid("""
            name: p
            steps:
              - {id: raw, kind: read, path: data/small.csv}
              - {id: clean, kind: r, script: rscripts/clean.R, function: clean, inputs: {d: }}
            """, line: 4, step: "clean", containing: "input 'd' must name a step")
        try await expectInvalid("""
            name: p
            steps:
              - {id: raw, kind: read, path: data/small.csv}
              - {id: clean, kind: r, script: rscripts/clean.R, function: clean, inputs: {d: raw}, params: {d: 2}}
            """, line: 4, step: "clean", containing: "the name 'd' is used twice")
    }

    @Test func anRDefaultOfNAAcceptsAnyType() async throws {
        let files = baseFiles.merging(["rscripts/na.R": "pick <- function(d, cutoff = NA) d\n"]) { $1 }
        let error = try await problem("""
            name: p
            steps:
              - {id: raw, kind: read, path: data/small.csv}
              - {id: picked, kind: r, script: rscripts/na.R, function: pick, inputs: {d: raw}, params: {cutoff: 3}}
            """, files: files)
        #expect(error == nil, "\(String(describing: error))")
    }

    @Test func aValidPipelineValidatesInDependencyOrder() async throws {
        let project = try PipelineProject(baseFiles.merging(["p.yaml": """
            name: p
            steps:
              - {id: out, kind: write, path: out/x.parquet, inputs: {d: clean}}
              - {id: clean, kind: r, script: rscripts/clean.R, function: clean, inputs: {d: raw}, params: {scale: 2}}
              - {id: raw, kind: read, path: data/small.csv}
            """]) { $1 })
        let order = try await PipelineValidation.check(try PipelineFile.load(project.path("p.yaml")))
        #expect(order.map(\.id) == ["raw", "clean", "out"])
    }
}
