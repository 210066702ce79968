import CR
import Foundation

/// State that only the R thread touches, so it needs no lock.
///
/// Marked `nonisolated(unsafe)` because Swift cannot prove thread confinement; every access
/// happens inside a job running on `RThread` (or inside R callbacks, which run there too).
enum RThreadState {
    /// Bytes R wrote to its console during the current job (when the job captures its output).
    nonisolated(unsafe) static var console: [UInt8] = []
    /// Where the current job's console output goes instead of `console`, if it streams it.
    nonisolated(unsafe) static var consoleWriter: RConsoleWriter?
    /// Precious-list cell holding the prelude's `eval_text` closure.
    nonisolated(unsafe) static var preludeEvalText: SEXP?
    /// Precious-list cell holding the prelude's `call_function` closure.
    nonisolated(unsafe) static var preludeCallFunction: SEXP?
    /// Precious-list cell holding the prelude's `state` environment (warnings and error of a call).
    nonisolated(unsafe) static var preludeState: SEXP?
    /// True once reticulate's namespace has loaded in this R.
    nonisolated(unsafe) static var reticulateLoaded = false
    /// Releases the Python GIL taken for the current job, if one was taken.
    nonisolated(unsafe) static var hostLockRelease: (@Sendable () -> Void)?

    /// Forgets the console text captured so far (and a large buffer's memory with it).
    static func clearConsole() {
        console.removeAll(keepingCapacity: console.capacity <= 1 << 16)
    }

    /// Returns and clears the console text captured so far.
    static func takeConsole() -> String {
        defer { clearConsole() }
        return String(decoding: console, as: UTF8.self)
    }

    /// Takes the host (Python) lock for the rest of the current job, if installed and not held.
    static func holdHostLock() {
        guard hostLockRelease == nil, let lock = RRuntime.hostLock.withLock({ $0 }) else { return }
        hostLockRelease = lock.acquire()
    }

    /// Gives back the host lock taken during the current job.
    static func releaseHostLock() {
        hostLockRelease?()
        hostLockRelease = nil
    }
}

/// Receives R's console output on the R thread: streamed to the job's writer, else captured.
let rConsoleSink: pb_console_sink = { text, length, isError in
    guard let text, length > 0 else { return }
    let bytes = UnsafeRawBufferPointer(start: text, count: Int(length))
    if let writer = RThreadState.consoleWriter {
        writer(bytes, isError != 0 ? .error : .output)
    } else {
        RThreadState.console.append(contentsOf: bytes)
    }
}

/// Receives `.Call("polybridge_host_event", name)` from R code on the R thread.
let rHostEventHandler: pb_host_event_handler = { event in
    guard let event, String(cString: event) == "reticulate-loaded" else { return }
    RThreadState.reticulateLoaded = true
    RThreadState.holdHostLock()
}

/// Called inside R's garbage collector when a zero-copy ALTREP vector dies.
///
/// The context is a retained Swift object owning the foreign memory. Releasing it may call an
/// Arrow release callback that needs Python's GIL, which must not be taken inside R's GC on
/// the R thread, so the release happens on another thread.
let rForeignRelease: pb_foreign_release = { context in
    guard let context else { return }
    let owner = Unmanaged<AnyObject>.fromOpaque(context)
    let box = UncheckedSendableRelease(owner)
    DispatchQueue.global(qos: .utility).async { box.release() }
}

/// Moves an `Unmanaged` reference to another thread for release.
private struct UncheckedSendableRelease: @unchecked Sendable {
    let owner: Unmanaged<AnyObject>
    init(_ owner: Unmanaged<AnyObject>) { self.owner = owner }
    func release() { owner.release() }
}

/// Runs the R thread's job loop inside `pb_r_run_guarded_loop`, the last line of defence.
enum RGuardedLoop {
    /// Never returns: the loop runs forever, or the process ends after an escaped R error.
    static func run(_ loop: @escaping () -> Void) {
        let context = Unmanaged.passRetained(LoopBody(loop)).toOpaque()
        pb_r_run_guarded_loop({ context in
            guard let context else { return }
            Unmanaged<LoopBody>.fromOpaque(context).takeUnretainedValue().body()
        }, context)
    }

    private final class LoopBody {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }
}
