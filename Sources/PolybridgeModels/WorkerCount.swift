import Foundation

/// How many workers a command starts: never more than it has work for, and a warning on
/// standard error when they are more than the machine's cores (each worker is a process with
/// its own R and Python, about 70 MB, and more of them than cores only compete).
public enum WorkerCount {
    /// The workers worth starting for `asked` workers and `work` pieces of work (chunks, steps).
    public static func capped(asked: Int, work: Int) -> Int {
        max(1, min(asked, work))
    }

    /// The warning when `count` workers of this machine exceed its active cores, else nil.
    /// `asked` is what the user gave (`--workers`), named when `count` was capped below it at
    /// the `work` there is ("chunks", "R steps").
    public static func overCoresWarning(_ count: Int, asked: Int, kind: String, work: String) -> String? {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard count > cores else { return nil }
        let capped = count < asked ? ", capped at the \(count) \(work)" : ""
        return "\(count) \(kind) (--workers \(asked)\(capped)) on this machine's \(cores) cores: "
            + "more workers than cores compete for them, and each holds its own R and Python"
    }
}
