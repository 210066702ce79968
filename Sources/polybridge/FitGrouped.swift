import ArgumentParser
import Foundation
import Polybridge

/// `polybridge fit --by`: one fit per group, written as two tables (or printed as JSON), with
/// a short summary on the terminal.
extension Fit {
    /// The columns of `--by`.
    var byColumns: [String] {
        (by ?? "").split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func validateGrouped() throws {
        guard by != nil else {
            if out != nil || groupsOut != nil || failOnGroupError {
                throw ValidationError("--out, --groups-out and --fail-on-group-error apply to a fit per group: give --by")
            }
            return
        }
        if byColumns.isEmpty || byColumns.contains(where: \.isEmpty) {
            throw ValidationError("--by takes column names separated by commas (got '\(by ?? "")')")
        }
        if combine == .average { throw ValidationError("--by fits each group exactly: --combine average does not apply to it") }
        if plot != nil { throw ValidationError("--plot draws one fit: it does not apply to --by (write the coefficients with --out)") }
    }

    func runGrouped() async throws {
        let bar = ProgressBar.forTerminal()
        do throws(any Error) {
            // Outputs that cannot be written are refused before the fit, not after it.
            for path in [out, groupsOut, save].compactMap({ $0 }) { try OutputFile.check(path) }
            let log = ProgressLog.forNonTerminal(whole: "one fit per group of \(URL(fileURLWithPath: data).lastPathComponent)")
            defer { log?.finish() }
            let options = try fileFitOptions { @Sendable update in bar?.update(update); log?.update(update) }
            let fit: GroupedFit, timing: FileFitTiming?, saved: SavedFit??
            if let family {
                let specification = GeneralizedLinearModelSpecification(formula: formula, family: family, link: link, weights: weights, offset: offset,
                                                                         epsilon: epsilon ?? 1e-8, maxit: maxit ?? 25, rowWiseFunctions: rowWise)
                (fit, timing) = try await GeneralizedLinearModel.fitGrouped(file: data, by: byColumns, specification, options: options)
                saved = save == nil ? nil : try await SavedFit.from(fit, file: data, by: byColumns, specification)
            } else {
                let specification = LinearModelSpecification(formula: formula, weights: weights, offset: offset, rowWiseFunctions: rowWise)
                (fit, timing) = try await LinearModel.fitGrouped(file: data, by: byColumns, specification, options: options)
                saved = save == nil ? nil : try await SavedFit.from(fit, file: data, by: byColumns, specification)
            }
            bar?.finish()
            report(timing)
            if let save, let saved { try await Self.write(saved, to: save, formula: formula) }
            if let out { _ = try await DataFiles.writeTable(fit.coefficients, to: out) }
            if let groupsOut { _ = try await DataFiles.writeTable(fit.groups, to: groupsOut) }
            if json {
                try printGroupedJSON(fit)
            } else if out == nil && groupsOut == nil {
                print(Self.summary(fit))
            }
            if !fit.failed.isEmpty {
                printError("warning: \(fit.failed.count) of \(fit.results.count) groups could not be fitted (their errors are in the groups table)")
                if failOnGroupError { throw ExitCode(1) }
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            bar?.finish()
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }

    /// Groups fitted and failed (with the first few errors), rows left out for a missing key,
    /// and the slowest group.
    static func summary(_ fit: GroupedFit) -> String {
        var lines = ["\(fit.results.count - fit.failed.count) of \(fit.results.count) groups fitted, \(fit.failed.count) failed"]
        for failed in fit.failed.prefix(5) { lines.append("  failed: \(failed.label): \(failed.error ?? "")") }
        if fit.failed.count > 5 { lines.append("  … and \(fit.failed.count - 5) more (see --groups-out)") }
        if fit.missingKeyRows > 0 { lines.append("\(fit.missingKeyRows) rows left out: a key column is missing there") }
        if let slowest = fit.slowest { lines.append(String(format: "slowest group: %@ (%.3f s)", slowest.label, slowest.seconds)) }
        lines.append("write the tables with --out (coefficients) and --groups-out (groups), or print them with --json")
        return lines.joined(separator: "\n")
    }

    /// Both tables as JSON: `{"coefficients": [rows], "groups": [rows], "missing_key_rows": n}`,
    /// each row an object by column name; missing values are null.
    private func printGroupedJSON(_ fit: GroupedFit) throws {
        let object: [String: Any] = ["coefficients": try TableJSON.rows(fit.coefficients), "groups": try TableJSON.rows(fit.groups),
                                     "missing_key_rows": fit.missingKeyRows]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}

/// A table's rows as JSON objects.
enum TableJSON {
    /// One object per row; numbers, text, logicals and dates (as "YYYY-MM-DD"); missing values,
    /// NaN and the infinities as null.
    static func rows(_ table: ArrowTable) throws -> [[String: Any]] {
        var rows = [[String: Any]](repeating: [:], count: table.rowCount)
        for column in table.columns {
            let values: [Any?]
            switch column.type {
            case .float64: values = try column.float64Values().map { $0.flatMap { $0.isFinite ? $0 : nil } }
            case .int32: values = try column.int32Values().map { value -> Any? in value.map { Int($0) } }
            case .int64: values = try column.int64Values().map { value -> Any? in value.map { Int($0) } }
            case .bool: values = try column.boolValues()
            case .date32:
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = [.withFullDate]
                values = try column.date32Values().map { $0.map { formatter.string(from: Date(timeIntervalSince1970: Double($0) * 86_400)) } }
            default: values = try column.stringValues()
            }
            for (index, value) in values.enumerated() { rows[index][column.name] = value ?? NSNull() }
        }
        return rows
    }
}
