import PolybridgeRuntime

/// The Python side of the Ray and Dask executors (module `polybridge_engine`), written to a
/// file that the coordinator's embedded interpreter imports and the engine ships to its workers
/// by its own mechanism (Dask `upload_file`, Ray `runtime_env` `py_modules` on a cluster; a local
/// Ray head's workers find it on their `PYTHONPATH`). Each engine worker owns one long-lived `polybridge worker` process and talks to it
/// over a pipe with the pool's JSON lines; R never runs inside the engine's own processes
/// (Dask runs tasks on threads, and R checks its C stack per thread).
enum EnginePython {
    static let moduleName = "polybridge_engine"

    static let source = EmbeddedScripts.polybridgeEnginePy
        .replacingOccurrences(of: "@WORKERS_PREFIX@", with: ProcessFolders.workersPrefix)
}
