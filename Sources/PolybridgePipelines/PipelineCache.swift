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
    }

    let directory: String

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
            guard case .list(let items) = try PipelineRuntime.callPython("local_imports", [.string(step.script!)]) else {
                throw PipelineError.stepFailed(step: step.id, message: "cannot list the script's imports")
            }
            let files = items.compactMap { if case .string(let path) = $0 { path } else { nil } }
            code = try PipelineRuntime.hash(texts: ["python", step.function!, step.frames ?? "pandas-arrow"] + files, files: files)
        }
        let settings = try PipelineRuntime.hash(texts: step.params.sorted { $0.name < $1.name }.map { "\($0.name)=\($0.value.json)" })
        let inputs = Dictionary(uniqueKeysWithValues: step.inputs.map { ($0.name, (inputKeys[$0.step] ?? "") + "/" + ($0.output ?? "")) })
        let key = try PipelineRuntime.hash(texts: [code, settings] + inputs.keys.sorted().map { "\($0)=\(inputs[$0]!)" })
        return Manifest(key: key, code: code, settings: settings, inputs: inputs, outputs: [], rows: [:])
    }

    /// The manifest stored for `step`, if any.
    func stored(_ step: String) -> Manifest? {
        guard let data = FileManager.default.contents(atPath: manifestPath(step)) else { return nil }
        return try? JSONDecoder().decode(Manifest.self, from: data)
    }

    /// Why `step` must run (nil when its stored result is current).
    func reason(_ step: PipelineStep, _ manifest: Manifest) -> String? {
        guard let stored = stored(step.id) else { return "no cached result" }
        if stored.key == manifest.key {
            if step.kind == .write && !FileManager.default.fileExists(atPath: step.path!) { return "its output file is missing" }
            let missing = stored.outputs.first { !FileManager.default.fileExists(atPath: outputPath(step.id, $0)) }
            return missing.map { _ in "a cached output file is missing" }
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
    /// its outputs).
    func store(_ step: String, _ manifest: Manifest, outputs: [String: ArrowTable]) async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var manifest = manifest
        manifest.outputs = outputs.keys.sorted()
        manifest.rows = outputs.mapValues(\.rowCount)
        for (name, table) in outputs {
            _ = try await DataFiles.writeTable(table, to: outputPath(step, name), format: .feather, compression: "none")
        }
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
