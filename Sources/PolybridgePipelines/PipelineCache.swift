import Foundation
import PolybridgeArrow
import PolybridgeFiles

/// Step results kept between runs, keyed by a content hash of what makes them: the step's
/// code (its script and every file the script sources or imports from beside it, or its inline
/// code), its parameters and settings, and its inputs' keys (so a change upstream changes every
/// key below it). Results are Arrow IPC files under `.polybridge-cache/<pipeline>/` beside
/// the pipeline file.
struct PipelineCache {
    /// What a step's key is made of, kept to explain why a step reruns.
    struct Manifest: Codable, Equatable {
        var key: String
        var code: String
        var settings: String
        var inputs: [String: String]
        var outputs: [String]
        var rows: [String: Int]
        /// SHA-256 of each stored output file, and of a write step's output file under
        /// ``PipelineCache/writtenFile``: an entry is trusted only while these match.
        var hashes: [String: String]?
    }

    /// The key under which a write step's manifest holds the hash of the file it wrote.
    static let writtenFile = "(written file)"
    /// Why a write step runs again when its output file differs from what it wrote.
    static let rewrittenReason = "its output file was changed after polybridge wrote it"

    let directory: String

    /// Part of every key: it changes when what Polybridge stores for a step changes (tables
    /// carrying R attributes in their `r` metadata), so entries written by another format run again.
    static let format = "polybridge-cache-2"

    init(pipeline: Pipeline) {
        directory = pipeline.directory + "/.polybridge-cache/" + pipeline.name.replacingOccurrences(of: "/", with: "_")
    }

    /// The parts of `step`'s key, given its inputs' keys.
    static func manifest(for step: PipelineStep, inputKeys: [String: String]) async throws -> Manifest {
        let code: String
        switch step.kind {
        case .read:
            code = try PipelineRuntime.hash(texts: ["read", step.path!], files: [step.path!])
        case .write:
            code = try PipelineRuntime.hash(texts: ["write", step.path!])
        case .fit:
            code = try PipelineRuntime.hash(texts: ["fit", step.formula!, step.weights ?? "", step.offset ?? ""])
        case .r:
            if let inline = step.code {
                code = try PipelineRuntime.hash(texts: ["r", inline])
            } else {
                let files = PipelineRuntime.strings(try await PipelineRuntime.callR("sourced_files", [.character([step.script!])]))
                code = try PipelineRuntime.hash(texts: ["r", step.function!] + files, files: files)
            }
        case .python:
            if let inline = step.code {
                code = try PipelineRuntime.hash(texts: ["python", inline, step.frames ?? "pandas-arrow"])
                break
            }
            guard case .list(let items) = try PipelineRuntime.callPython("local_imports", [.string(step.script!)]) else {
                throw PipelineError.stepFailed(step: step.id, message: "cannot list the script's imports")
            }
            let files = items.compactMap { if case .string(let path) = $0 { path } else { nil } }
            code = try PipelineRuntime.hash(texts: ["python", step.function!, step.frames ?? "pandas-arrow"] + files, files: files)
        }
        let settings = try PipelineRuntime.hash(texts: step.params.sorted { $0.name < $1.name }.map { "\($0.name)=\($0.value.json)" })
        let inputs = Dictionary(uniqueKeysWithValues: step.inputs.map { ($0.name, (inputKeys[$0.step] ?? "") + "/" + ($0.output ?? "")) })
        let key = try PipelineRuntime.hash(texts: [format, code, settings] + inputs.keys.sorted().map { "\($0)=\(inputs[$0]!)" })
        return Manifest(key: key, code: code, settings: settings, inputs: inputs, outputs: [], rows: [:], hashes: [:])
    }

    /// The manifest stored for `step`, if any.
    func stored(_ step: String) -> Manifest? {
        guard let data = FileManager.default.contents(atPath: manifestPath(step)) else { return nil }
        return try? JSONDecoder().decode(Manifest.self, from: data)
    }

    /// Why `step` must run (nil when its stored result is current). A stored result counts only
    /// when every file it names still has the hash recorded when it was written; a damaged or
    /// edited cache file is also reported in `damaged`.
    func reason(_ step: PipelineStep, _ manifest: Manifest, damaged: inout String?) -> String? {
        guard let stored = stored(step.id) else { return "no cached result" }
        if stored.key == manifest.key {
            guard let hashes = stored.hashes else { return "the cache entry has no checksums" }
            if step.kind == .write {
                guard FileManager.default.fileExists(atPath: step.path!) else { return "its output file is missing" }
                if (try? PipelineRuntime.hash(texts: [], files: [step.path!])) != hashes[Self.writtenFile] { return Self.rewrittenReason }
            }
            for name in stored.outputs {
                let path = outputPath(step.id, name)
                guard FileManager.default.fileExists(atPath: path) else { return "a cached output file is missing" }
                if (try? PipelineRuntime.hash(texts: [], files: [path])) != hashes[name] {
                    damaged = "the cached output \(path) is damaged or was changed; step \(step.id) runs again"
                    return "a cached output file is damaged"
                }
            }
            return nil
        }
        if stored.code != manifest.code {
            switch step.kind {
            case .read: return "the data file changed"
            case .r, .python: return step.script.map { "the code changed (\($0) or a file it uses)" } ?? "the code changed"
            default: return "the step's settings changed"
            }
        }
        if stored.settings != manifest.settings { return "the parameters changed" }
        for name in manifest.inputs.keys.sorted() where stored.inputs[name] != manifest.inputs[name] {
            return "input '\(name)' changed (step \(step.inputs.first { $0.name == name }?.step ?? name))"
        }
        return "the step changed"
    }

    /// The stored outputs of `step`.
    func load(_ step: String, _ manifest: Manifest) async throws -> [String: ArrowTable] {
        var outputs: [String: ArrowTable] = [:]
        for name in manifest.outputs {
            outputs[name] = try await DataFiles.readTable(outputPath(step, name), format: .feather)
        }
        return outputs
    }

    /// Stores the outputs of `step` and its manifest (written last, so a manifest always has
    /// its outputs), with the hash of every file: the outputs, and `written`, the file a write
    /// step wrote.
    func store(_ step: String, _ manifest: Manifest, outputs: [String: ArrowTable], written: String? = nil) async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var manifest = manifest
        manifest.outputs = outputs.keys.sorted()
        manifest.rows = outputs.mapValues(\.rowCount)
        var hashes: [String: String] = [:]
        for (name, table) in outputs {
            _ = try await DataFiles.writeTable(table, to: outputPath(step, name), format: .feather, compression: "none")
            hashes[name] = try PipelineRuntime.hash(texts: [], files: [outputPath(step, name)])
        }
        if let written { hashes[Self.writtenFile] = try PipelineRuntime.hash(texts: [], files: [written]) }
        manifest.hashes = hashes
        let data = try JSONEncoder().encode(manifest)
        let temporary = manifestPath(step) + ".tmp"
        try data.write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, manifestPath(step)) == 0 else { throw PipelineError.stepFailed(step: step, message: "cannot store the cache entry") }
    }

    private func manifestPath(_ step: String) -> String { directory + "/\(step).json" }

    private func outputPath(_ step: String, _ output: String) -> String {
        directory + "/\(step).\(output.isEmpty ? "_" : "out-" + output).arrow"
    }
}
