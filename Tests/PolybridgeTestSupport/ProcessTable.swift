import Foundation
import PolybridgeRuntime

/// The machine's process table, read from /proc: what a command started, and what is left.
public enum ProcessTable {
    /// Running: it exists and is not a zombie (a killed process whose parent died may wait
    /// unreaped, as a zombie, for PID 1 to collect it).
    public static func alive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let fields = statFields(pid) else { return true }
        return fields.first != "Z"
    }

    /// The parent of `pid`, if it still exists.
    public static func parent(of pid: Int32) -> Int32? {
        guard let fields = statFields(pid), fields.count > 1 else { return nil }
        return Int32(fields[1])
    }

    /// Every process below `root` (children, their children, …).
    public static func descendants(of root: Int32) -> Set<Int32> {
        var parents: [Int32: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let parent = parent(of: pid) else { continue }
            parents[pid] = parent
        }
        var found = Set<Int32>(), frontier = [root]
        while let next = frontier.popLast() {
            for (pid, parent) in parents where parent == next && !found.contains(pid) {
                found.insert(pid)
                frontier.append(pid)
            }
        }
        return found
    }

    /// Whether `pid` is a `polybridge worker` process.
    public static func isPolybridgeWorker(_ pid: Int32) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return arguments.count >= 2 && arguments[0].hasSuffix("polybridge") && arguments[1] == "worker"
    }

    /// The command line of `pid`, its arguments joined by spaces ("" once it has ended).
    public static func commandLine(of pid: Int32) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
    }

    /// The fields of /proc/PID/stat after the command name: state, parent, …
    private static func statFields(_ pid: Int32) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }
}

/// A `polybridge` run and every process that was below it while it ran.
public struct WatchedPolybridgeRun: Sendable {
    /// The run's status and output.
    public var run: PolybridgeRun
    /// Every process seen below the command.
    public var seen: Set<Int32>
    /// The command's own process.
    public var pid: Int32
    /// The `polybridge worker` processes among them, each with its parent when first seen.
    public var workerParents: [Int32: Int32]
    /// The `polybridge worker` processes among them.
    public var workers: Set<Int32> { Set(workerParents.keys) }
    /// The worker killed on request, if one was.
    public var killed: Int32?
    /// How many SIGINTs were sent (with `interruptAfter`: again every 5 s while the command runs).
    public var interruptsSent = 0
}

/// Runs `polybridge arguments...` on a thread of its own, recording every process below it
/// every 0.1 s; with `killAWorkerAfter`, SIGKILLs one `polybridge worker` that many seconds
/// after two of them first showed up; with `interruptAfter`, sends the command SIGINT (Ctrl-C)
/// that many seconds after two workers first showed up, and again every 5 s while it runs.
/// With `interruptOnceSeen`, sends it SIGINT as soon as a process below it has a command line
/// containing that text (and again every 5 s). `interruptSignal` replaces SIGINT (SIGTERM, say).
/// `environment` adds to this process's environment.
public func runPolybridgeWatchingProcesses(_ arguments: [String], killAWorkerAfter delay: Double? = nil,
                                           interruptAfter interruptDelay: Double? = nil, interruptOnceSeen marker: String? = nil,
                                           interruptSignal: Int32 = SIGINT,
                                           environment: [String: String] = [:]) async throws -> WatchedPolybridgeRun {
    let executable = polybridgeExecutable()
    return try await runOnOwnThread { try LocalRayHeads.takingTurns(arguments) {
        let process = Process()
        process.environment = childEnvironment(environment)
        if interruptDelay != nil || marker != nil {
            (process.executableURL, process.arguments) = withDefaultInterrupt(executable, arguments)
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        let (outputReader, errorReader) = try launchCollectingOutput(process)
        var seen = Set<Int32>(), workerParents: [Int32: Int32] = [:]
        var killed: Int32?
        var workersSeenAt: Date?
        var interruptsSent = 0
        var lastInterrupt = Date.distantPast
        var markerSeen = false
        while process.isRunning {
            let below = ProcessTable.descendants(of: process.processIdentifier)
            seen.formUnion(below)
            let current = below.filter(ProcessTable.isPolybridgeWorker)
            for worker in current where workerParents[worker] == nil { workerParents[worker] = ProcessTable.parent(of: worker) }
            if current.count >= 2 && workersSeenAt == nil { workersSeenAt = Date() }
            if let marker, markerSeen == false, below.contains(where: { ProcessTable.commandLine(of: $0).contains(marker) }) { markerSeen = true }
            // Due by time once the workers showed up (`interruptAfter`), or once the marker did.
            let interruptDue = if let interruptDelay { workersSeenAt.map { Date().timeIntervalSince($0) >= interruptDelay } ?? false } else { markerSeen }
            if interruptDue, Date().timeIntervalSince(lastInterrupt) >= 5, interruptsSent < 6 {
                kill(process.processIdentifier, interruptSignal)
                interruptsSent += 1
                lastInterrupt = Date()
            }
            if let delay, killed == nil {
                if let at = workersSeenAt, Date().timeIntervalSince(at) >= delay, let victim = current.sorted().first {
                    kill(victim, SIGKILL)
                    killed = victim
                }
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        process.waitUntilExit()
        return WatchedPolybridgeRun(run: PolybridgeRun(status: process.terminationStatus, output: outputReader.text, error: errorReader.text),
                                    seen: seen, pid: process.processIdentifier, workerParents: workerParents, killed: killed,
                                    interruptsSent: interruptsSent)
    } }
}

/// Waits up to 30 s for every process in `processes` to end; returns those still running.
public func processesLeftBehind(_ processes: Set<Int32>) async throws -> Set<Int32> {
    for _ in 0..<300 where processes.contains(where: ProcessTable.alive) { try await Task.sleep(for: .milliseconds(100)) }
    return processes.filter(ProcessTable.alive)
}

/// The process IDs printed in `text` (numbers separated by white space).
public func processIDs(in text: String) -> Set<Int32> {
    Set(text.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) })
}

/// Waits up to 10 s for `processes` (children a run reported, reparented since) to end; kills
/// (SIGKILL) and returns those still running then, so that a failing test leaves nothing behind.
public func stillRunningAfterAWhile(_ processes: Set<Int32>) async throws -> Set<Int32> {
    for _ in 0..<100 where processes.contains(where: ProcessTable.alive) { try await Task.sleep(for: .milliseconds(100)) }
    let left = processes.filter { ProcessTable.alive($0) && ProcessTable.commandLine(of: $0).contains("polybridge") }
    for pid in left { kill(pid, SIGKILL) }
    return left
}
