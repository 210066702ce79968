import Foundation
import PackagePlugin

/// Build-tool plugin: the Python and R files in a target's `Scripts/` folder become string
/// constants of a generated `EmbeddedScripts` enum in that target, so the helpers are real
/// files (linted and unit-tested as Python and R) while the `polybridge` binary stays one
/// relocatable file.
@main
struct EmbedScripts: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let folder = target.directoryURL.appending(path: "Scripts")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path(percentEncoded: false))) ?? []
        let inputs = names.filter { $0.hasSuffix(".py") || $0.hasSuffix(".R") }.sorted().map { folder.appending(path: $0) }
        guard !inputs.isEmpty else { return [] }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedScripts.swift")
        return [.buildCommand(displayName: "Embedding the scripts of \(target.name)",
                              executable: try context.tool(named: "EmbedScriptsTool").url,
                              arguments: [output.path(percentEncoded: false)] + inputs.map { $0.path(percentEncoded: false) },
                              inputFiles: inputs, outputFiles: [output])]
    }
}
