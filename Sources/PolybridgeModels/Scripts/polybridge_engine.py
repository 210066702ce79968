import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading

@contextlib.contextmanager
def _usual_signals_for_children():
    """Processes started inside inherit this thread's signal mask, and the threads this
    process runs Python on block nearly every signal: a Ray head started with SIGTERM
    blocked ignores `terminate()`, and Dask's processes would too. Only SIGINT (read by the
    polybridge command alone) and SIGPIPE stay blocked while they start."""
    previous = signal.pthread_sigmask(signal.SIG_SETMASK, {signal.SIGINT, signal.SIGPIPE})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)

class WorkerDied(RuntimeError):
    """The polybridge worker process ended while it had a chunk."""

class ChunkTimedOut(RuntimeError):
    """A call took longer than the command's --timeout."""

class WorkerProcess:
    """A `polybridge worker` process owned by an engine worker. It ends with its parent
    (the worker asks the kernel for that), so an engine worker that dies leaves no orphan."""

    def __init__(self, binary):
        node = socket.gethostname()
        _remove_abandoned_step_folders()
        # Checked here, on the node: starting a directory fails with a bare "Permission denied".
        if not os.path.exists(binary):
            raise RuntimeError(f"node {node}: the polybridge binary {binary} does not exist")
        if os.path.isdir(binary):
            raise RuntimeError(f"node {node}: the polybridge binary {binary} is a directory, not the polybridge executable")
        if not os.access(binary, os.X_OK):
            raise RuntimeError(f"node {node}: the polybridge binary {binary} is not executable")
        self.binary = binary
        self.lock = threading.Lock()
        # The worker is killed, not asked to quit, so its R cannot remove its session folder:
        # the worker's TMPDIR is a folder of this engine worker's own, removed at stop (or by
        # the next engine worker on the node, once this one's process is gone).
        import tempfile
        self.proc = None
        self.temporary = tempfile.mkdtemp(prefix=f"{_WORKERS_PREFIX}{os.getpid()}-")
        try:
            self._start(binary, node)
        except BaseException:
            self.stop()
            raise

    def _start(self, binary, node):
        # Swift's crash backtracer is off (unless the user set it): it inherits the worker's
        # pipes, and one that hangs would leave request() waiting for good.
        environment = dict(os.environ, PYTHONUNBUFFERED="1", TMPDIR=self.temporary)
        environment.setdefault("SWIFT_BACKTRACE", "enable=no")
        for attempt in range(3):
            # What a step prints reaches the engine's log (and, under Ray, the command) as it is
            # printed, not when a buffer fills.
            self.proc = subprocess.Popen([binary, "worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
                                         env=environment)
            self.pending = bytearray()
            try:
                answer = self.request('{"kind": "warm-up", "input": {}}')  # R and Python start in the worker now
                break
            except WorkerDied:
                code = self.proc.wait()
                if code < 0 and attempt < 2:
                    continue  # killed by a signal while starting: start another
                raise RuntimeError(f"node {node}: the polybridge worker did not start (exit code {code}); "
                                   f"run `{binary} doctor` there to see whether R and Python are usable") from None
        failure = (json.loads(answer).get("error") or {}).get("message")
        if failure:
            raise RuntimeError(f"node {node}: the polybridge worker cannot start R or Python: {failure}")

    # A worker writes an empty line every second while it lives; one silent this long is
    # stopped or frozen, and is killed as one that died.
    SILENCE = 30

    def request(self, line):
        with self.lock:
            try:
                self.proc.stdin.write(line + "\n")
                self.proc.stdin.flush()
                answer = self._read_line()
            except (BrokenPipeError, OSError, ValueError):
                answer = ""
            if answer is None:
                self.proc.kill()
                raise WorkerDied(f"the polybridge worker process {self.proc.pid} on {socket.gethostname()} stopped "
                                 f"answering (no heartbeat for {self.SILENCE} s)")
            if not answer:
                raise WorkerDied(f"the polybridge worker process {self.proc.pid} on {socket.gethostname()} ended "
                                 f"(exit code {self.proc.poll()})")
            return answer

    def _read_line(self):
        """The next answer line ("" at the end of the output, None after SILENCE seconds of
        nothing), skipping heartbeats. Reads the descriptor itself: a buffered reader could
        hold lines that select() does not see."""
        import select
        descriptor = self.proc.stdout.fileno()
        while True:
            # Each read is searched once (a factor answer can be many megabytes).
            scanned = 0
            while (newline := self.pending.find(b"\n", scanned)) < 0:
                scanned = len(self.pending)
                ready, _, _ = select.select([descriptor], [], [], self.SILENCE)
                if not ready:
                    return None
                data = os.read(descriptor, 1 << 20)
                if not data:
                    return ""
                self.pending += data
            line = bytes(self.pending[:newline])
            del self.pending[:newline + 1]
            if line:
                return line.decode("utf-8") + "\n"

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
        import shutil
        shutil.rmtree(self.temporary, ignore_errors=True)

_STEP_PREFIX = "polybridge-step-"
_WORKERS_PREFIX = "@WORKERS_PREFIX@"

def _step_folder_base(needed):
    """Shared memory when it has room for the step's tables twice over (Docker gives it
    64 MB), else the temporary folder."""
    import shutil
    import tempfile
    if os.path.isdir("/dev/shm"):
        try:
            if shutil.disk_usage("/dev/shm").free > 2 * needed + (64 << 20):
                return "/dev/shm"
        except OSError:
            pass
    return tempfile.gettempdir()

def _remove_abandoned_step_folders():
    """Step folders and worker temporary folders whose engine worker died (SIGKILL skips
    its cleanup): their names carry the owner's process ID."""
    import shutil
    import tempfile
    for base in {"/dev/shm", tempfile.gettempdir()}:
        try:
            names = os.listdir(base)
        except OSError:
            continue
        for name in names:
            prefix = next((p for p in (_STEP_PREFIX, _WORKERS_PREFIX) if name.startswith(p)), None)
            if prefix is None:
                continue
            owner = name[len(prefix):].split("-", 1)[0]
            if not owner.isdigit():
                continue
            try:
                os.kill(int(owner), 0)
            except ProcessLookupError:
                shutil.rmtree(os.path.join(base, name), ignore_errors=True)
            except PermissionError:
                pass

# The folder holding this package and its zip, set by the coordinator after importing it
# (not __file__: Dask's upload_file may re-import the module from the zip in this process).
package_base = None

def _package_folder():
    return os.path.join(package_base, "polybridge_engine")

# --- Dask ------------------------------------------------------------------------------

try:
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPluginBase
except ImportError:  # Dask is not installed: only Ray (or nothing) is used
    _WorkerPluginBase = object

class PolybridgePlugin(_WorkerPluginBase):
    """A Dask worker plugin: starts the worker's polybridge process with the Dask worker and
    stops it with it, or when the command that registered it unregisters it. Each command
    registers its own name, so commands sharing a cluster keep their own processes."""

    def __init__(self, binary, name):
        self.binary = binary
        self.name = name

    def setup(self, worker):
        _dask_processes(worker)[self.name] = WorkerProcess(self.binary)

    def teardown(self, worker):
        process = _dask_processes(worker).pop(self.name, None)
        if process is not None:
            process.stop()

def _dask_processes(worker):
    if not hasattr(worker, "_polybridge_processes"):
        worker._polybridge_processes = {}
    return worker._polybridge_processes

# --- Requests that carry tables (pipeline steps) ----------------------------------------

def _run_with_tables(process, line, tables):
    """Runs a job request whose input's `inputs` name Arrow IPC files. `tables` (pyarrow tables
    the coordinator put into the engine's object store) are written to files in this node's
    shared memory for the worker process, which writes its outputs there too; they come
    back read into memory as pyarrow tables. Returns {"outputs": {name: table}} or
    {"failure": the job error as JSON}."""
    import shutil
    import tempfile
    import pyarrow as pa
    import pyarrow.feather as feather
    needed = sum(table.nbytes for table in tables.values())
    folder = tempfile.mkdtemp(prefix=f"{_STEP_PREFIX}{os.getpid()}-", dir=_step_folder_base(needed))
    try:
        request = json.loads(line)
        job = request["input"]
        for index, entry in enumerate(job["inputs"]):
            path = os.path.join(folder, f"in{index}.arrow")
            feather.write_feather(tables[entry["name"]], path, compression="uncompressed")
            entry["path"] = path
        job["outputDirectory"] = folder
        answer = json.loads(process.request(json.dumps(request)))
        if answer.get("error") is not None:
            return {"failure": json.dumps(answer["error"])}
        if answer.get("output") is None:
            return {"failure": json.dumps({"code": "failed", "message": "the worker gave no answer"})}
        outputs = {}
        for name, path in answer["output"]["outputs"].items():
            with pa.OSFile(path) as source:  # into memory: the folder is removed next
                outputs[name] = pa.ipc.open_file(source).read_all()
        return {"outputs": outputs}
    finally:
        shutil.rmtree(folder, ignore_errors=True)

def _work(process, line, names, tables):
    if names is None:
        return process.request(line)
    return _run_with_tables(process, line, dict(zip(names, tables)))

# --- Dask ------------------------------------------------------------------------------

def _dask_task(plugin, line, names, *tables):
    from distributed import get_worker
    processes = _dask_processes(get_worker())
    process = processes[plugin]
    try:
        return _work(process, line, names, tables)
    except WorkerDied:
        # A fresh process for the retry Dask makes; the chunk is then counted once.
        process.stop()
        processes[plugin] = WorkerProcess(process.binary)
        raise

class DaskEngine:
    """A Dask client (and, without an address, the local cluster it started)."""

    def __init__(self, address, workers, binary):
        import uuid
        from distributed import Client, LocalCluster
        self.cluster = None
        self.client = None
        self.plugin = None
        self.lock = threading.Lock()
        self.outstanding = {}  # calls not yet done, by worker address
        # multiprocessing's resource tracker, started with the first process Dask spawns,
        # unblocks SIGINT in the thread that starts it (Python 3.11), and every thread made
        # from there on inherits that: a Ctrl-C could then land on such a thread and be
        # lost. Start it here, then block SIGINT again before Dask makes its threads.
        from multiprocessing import resource_tracker
        resource_tracker.ensure_running()
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            if address:
                self.client = Client(address)
            else:
                with _usual_signals_for_children():
                    self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
                self.client = Client(self.cluster)
            # Every worker (also those that join later) imports this module from the file.
            self.client.upload_file(os.path.join(package_base, "polybridge_engine.zip"))
            self.plugin = f"polybridge-{uuid.uuid4().hex}"
            self.client.register_plugin(PolybridgePlugin(binary, self.plugin))
        except Exception:
            self.stop()
            raise

    def submit(self, line, retries, names=None, tables=(), prefer=None):
        # Each call goes to the worker `prefer` names (the one holding state the job uses) while
        # it is in the cluster, else to the worker with the fewest calls outstanding, its tables
        # with it: Dask scatters a lone table to the same first worker every time, and its
        # locality then ran independent steps one after the other there. Dask may still move it.
        workers = sorted(self.client.scheduler_info()["workers"])
        with self.lock:
            for address in workers:
                self.outstanding.setdefault(address, 0)
            if prefer in workers:
                target = prefer
            else:
                target = min(workers, key=lambda address: self.outstanding[address]) if workers else None
            if target is not None:
                self.outstanding[target] += 1
        placement = {"workers": [target]} if target is not None else {}  # no worker known yet: Dask decides
        # Tables go to the workers by Dask's scatter, as Arrow (pyarrow serialises them),
        # and the task receives them in place of the futures.
        scattered = [self.client.scatter(table, hash=False, **placement) for table in tables]
        future = self.client.submit(_dask_task, self.plugin, line, names, *scattered, retries=retries, pure=False,
                                    **placement, **({"allow_other_workers": True} if placement else {}))
        if target is not None:
            def done(_, target=target):
                with self.lock:
                    self.outstanding[target] -= 1
            future.add_done_callback(done)
        return DaskCall(future, target)

    def wait(self, handle, timeout=None):
        try:
            return handle.future.result(timeout=timeout)
        except TimeoutError:
            handle.future.cancel()
            raise ChunkTimedOut(f"timed out: the chunk exceeded the timeout of {timeout:g} s") from None

    def cancel(self, handle):
        handle.future.cancel()

    def worker_of(self, handle):
        """The address of the worker the call was sent to ("" when Dask chose)."""
        return handle.target or ""

    def stop(self):
        # On a cluster that outlives this command, its workers' polybridge processes end now.
        if self.client is not None and self.plugin is not None:
            try:
                self.client.unregister_worker_plugin(self.plugin)
            except Exception:
                pass
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

class DaskCall:
    """A Dask call: its future and the worker it was sent to (None when Dask chose)."""

    def __init__(self, future, target):
        self.future = future
        self.target = target

# --- Ray -------------------------------------------------------------------------------

class PolybridgeActor:
    """A Ray actor that owns a polybridge worker process. When that process dies mid-chunk
    the actor exits, so Ray restarts it (max_restarts) and retries the call
    (max_task_retries): the chunk is counted once."""

    def __init__(self, binary):
        self.process = WorkerProcess(binary)

    def pid(self):
        return self.process.proc.pid

    def close(self):
        """Ends the worker process and removes its temporary folder (ray.kill skips that)."""
        self.process.stop()

    def run(self, line, names, *tables):
        try:
            return _work(self.process, line, names, tables)
        except WorkerDied:
            os._exit(1)

class RayHeadFailed(RuntimeError):
    """The local Ray head ended, or never said it had started, before the driver joined it."""

    def __init__(self, message, timed_out=False):
        super().__init__(message)
        self.timed_out = timed_out

def _ray_heads_folder():
    return os.path.join(package_base, "ray-heads")

# The local head's process-group leader: runs `ray start --block` (argv[2:]) as its child,
# passes SIGTERM on to it (which stops the head in order), and kills the whole group once the
# coordinator (argv[1]) is gone, so a coordinator ended by SIGTERM or SIGKILL, which cannot
# stop the head itself, leaves no Ray running.
_HEAD_WATCHDOG = '''
import os, signal, subprocess, sys
coordinator = int(sys.argv[1])
head = None
stopping = False
def stop(number, frame):
    global stopping
    stopping = True
    if head is not None:
        head.send_signal(signal.SIGTERM)
signal.signal(signal.SIGTERM, stop)
if stopping or os.getppid() != coordinator:
    sys.exit(1)
head = subprocess.Popen(sys.argv[2:])
if stopping:
    head.send_signal(signal.SIGTERM)
while True:
    try:
        status = head.wait(timeout=0.5)
    except subprocess.TimeoutExpired:
        if os.getppid() != coordinator:
            os.killpg(0, signal.SIGKILL)
        continue
    if status < 0:  # ended by a signal: end by the same one, so the coordinator sees it
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    sys.exit(status)
'''

def _start_ray_head(workers):
    """A local Ray head in a process of its own (`ray start --head --block`), started and
    ready; returns it and its address. ray.init() would start Ray's processes from this
    one, forking a process full of R's and Swift's threads with a Python function to run
    before exec: that can deadlock in the child. A head that ends while it starts is
    started again; the third failure is the error, with the last line the head printed."""
    for attempt in range(3):
        head, log = _launch_ray_head(workers)
        try:
            head.ray_address = _wait_until_ray_head_started(head, log)
            return head, head.ray_address
        except RayHeadFailed as failure:
            _stop_ray_head(head)
            # A head that hangs is not started again (that would only wait longer).
            if attempt == 2 or failure.timed_out:
                raise RayHeadFailed(f"{failure} (started {attempt + 1} times)") from None

def _launch_ray_head(workers):
    """Starts `ray start --head --block`, its output going to a log file in the package
    folder, and records its process ID for Ctrl-C. Ray picks the port itself (`--port=0`:
    its server binds a free one), so no other process can take it in between."""
    import tempfile
    heads = _ray_heads_folder()
    os.makedirs(heads, exist_ok=True)
    # Ctrl-C has already killed the heads recorded so far (EngineExecutor.abandonLocalClusters).
    if os.path.exists(os.path.join(heads, "stop")):
        raise KeyboardInterrupt()
    descriptor, log = tempfile.mkstemp(prefix="head-", suffix=".log", dir=heads)
    address_before = _read_ray_address_file()
    # Our own head on the loopback address: Ray's token authentication is off for it (the
    # token it would make is not where this process looks); nothing else can reach it.
    os.environ["RAY_AUTH_MODE"] = "disabled"
    with _usual_signals_for_children(), os.fdopen(descriptor, "w") as output:
        head = subprocess.Popen([sys.executable, "-c", _HEAD_WATCHDOG, str(os.getpid()),
                                 sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--port=0",
                                 "--node-ip-address=127.0.0.1", f"--num-cpus={workers}", "--include-dashboard=false",
                                 "--disable-usage-stats", "--block"],
                                stdout=output, stderr=subprocess.STDOUT, start_new_session=True, cwd=heads,
                                env=_local_head_environment())
    head.ray_address, head.ray_address_before = None, address_before
    # Recorded where the coordinator finds it without Python (whose lock the start may
    # hold): Ctrl-C kills the head's process group from there. Ctrl-C writes "stop" before
    # it reads the folder, so a head recorded after that reading sees "stop" here.
    open(os.path.join(heads, str(head.pid)), "w").close()
    if os.path.exists(os.path.join(heads, "stop")):
        _stop_ray_head(head)
        raise KeyboardInterrupt()
    return head, log

def _local_head_environment():
    """The environment of a local head, which its workers inherit: Ray's authentication
    off, and the engine module on the path, so the actors import it from the package folder
    without a runtime_env (which costs about 0.7 s of packaging and set-up per start)."""
    path = [package_base] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return dict(os.environ, RAY_AUTH_MODE="disabled", PYTHONPATH=os.pathsep.join(path))

def _wait_until_ray_head_started(head, log, timeout=180):
    """The head's address, once it has printed that it started (with the `ray start
    --address='…'` line for other nodes); raises RayHeadFailed if it ends first or has not
    started within `timeout` seconds (a loaded machine can take 10 s)."""
    import re
    import time
    deadline = time.monotonic() + timeout
    while True:
        with open(log, errors="replace") as output:
            printed = output.read()
        address = re.search(r"--address='([^']+)'", printed)
        if "Ray runtime started." in printed and address:
            return address.group(1)
        status = head.poll()
        if status is not None or time.monotonic() > deadline:
            lines = [line.strip() for line in printed.splitlines() if line.strip()]
            if status is None:
                what = f"did not start within {timeout} s"
            elif status < 0:
                what = f"ended by signal {-status}"
            else:
                what = f"ended with status {status}"
            raise RayHeadFailed(f"the local Ray head {what}: " + (lines[-1] if lines else "it printed nothing"),
                                timed_out=status is None)
        time.sleep(0.05)

def _ray_address_file():
    """Where `ray start` records the newest cluster's address, which a plain `ray.init()`
    connects to (Ray's own rule: $RAY_TMPDIR, else $TMPDIR on Linux, else /tmp; then ray/)."""
    base = os.environ.get("RAY_TMPDIR") or (os.environ.get("TMPDIR") if sys.platform.startswith("linux") else None) or "/tmp"
    return os.path.join(base, "ray", "ray_current_cluster")

def _read_ray_address_file():
    try:
        with open(_ray_address_file()) as recorded:
            return recorded.read()
    except OSError:
        return None

def _forget_ray_address(head):
    """Puts back the address file as it was before the head started when it still names
    the head: otherwise a user's own `ray.init()` would wait for minutes on a head that
    is gone."""
    if head.ray_address is None or (_read_ray_address_file() or "").strip() != head.ray_address:
        return
    try:
        if head.ray_address_before is None:
            os.remove(_ray_address_file())
        else:
            with open(_ray_address_file(), "w") as recorded:
                recorded.write(head.ray_address_before)
    except OSError:
        pass

def _stop_ray_head(head):
    """Stops the head: SIGTERM to its watchdog, which passes it to `ray start --block`
    alone, which stops its raylet, GCS and workers in order (~2 s; the same signal sent to
    the whole group at once makes the head wait ~30 s for them), then SIGKILL to whatever
    of its group is left."""
    if head is None:
        return
    try:
        head.terminate()
        head.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(head.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    head.wait()
    _forget_ray_address(head)
    try:
        os.remove(os.path.join(_ray_heads_folder(), str(head.pid)))
    except OSError:
        pass

def _reach(address, what, seconds):
    """Waits until something accepts a connection at `address` (host:port, a scheme such as
    ray:// allowed), for up to `seconds`: ray.init waits for good on an address where
    nothing listens."""
    import time
    target = address.split("://", 1)[-1].rstrip("/")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" and other forms Ray resolves itself
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=min(5, max(0.1, deadline - time.monotonic()))).close()
            return
        except OSError as error:
            if time.monotonic() >= deadline:
                raise ConnectionError(f"cannot reach the {what} at {address}: nothing accepted a connection there "
                                      f"within {seconds} s ({error.strerror or error})") from None
            time.sleep(0.5)

class RayCall:
    """A call on one actor: its object reference and which actor has it."""

    def __init__(self, reference, actor):
        self.reference = reference
        self.actor = actor

class RayEngine:
    """A Ray driver with one PolybridgeActor per worker (and, without an address, the local
    head it started). Each call goes to an idle actor, waiting for one when all are busy."""

    def __init__(self, address, workers, binary, verbose=False):
        import logging
        import time
        # Importing Ray takes most of a second: it overlaps the head's start.
        importing = threading.Thread(target=__import__, args=("ray",))
        importing.start()
        # The actors import this module: a local head's workers from the package folder on
        # their path, a cluster's from the package Ray ships to every node.
        runtime_env = None
        self.head = None
        try:
            if not address:
                self.head, address = _start_ray_head(workers)
            else:
                runtime_env = {"py_modules": [_package_folder()]}
                _reach(address, "Ray cluster", 30)
        finally:
            importing.join()
        import ray
        deadline = time.monotonic() + 120
        while True:
            try:
                # Workers' output comes to this command (on its stderr), prefixed by Ray.
                ray.init(address=address, log_to_driver=True, runtime_env=runtime_env,
                         logging_level=logging.INFO if verbose else logging.ERROR)
                break
            except Exception:
                if self.head is None or time.monotonic() > deadline or self.head.poll() is not None:
                    _stop_ray_head(self.head)
                    raise
                time.sleep(0.5)
        actor = ray.remote(max_restarts=3, max_task_retries=3)(PolybridgeActor)
        self.actors = [actor.remote(binary) for _ in range(workers)]
        self.outstanding = [0] * workers
        self.lock = threading.Condition()
        try:
            ray.get([a.pid.remote() for a in self.actors])
        except Exception as error:
            self.stop()
            # Ray wraps the actor's own error (which names the node) in pages of context.
            cause = [line for line in str(error).splitlines() if line.startswith("RuntimeError: node ")]
            if cause:
                raise RuntimeError(cause[-1][len("RuntimeError: "):]) from None
            raise

    def submit(self, line, retries, names=None, tables=(), prefer=None):
        import ray
        # Tables go into Ray's object store (as Arrow); the actor receives the tables.
        references = [ray.put(table) for table in tables]
        # A call goes to the actor `prefer` names (the one holding state the job uses; Ray
        # restarts a dead actor in its place), else to an idle actor, waiting for one if all
        # are busy: an actor runs its calls one after another, so a call queued behind a long
        # one on a busy actor would wait for it while another actor, busy only with a short
        # call, soon sits idle.
        wanted = int(prefer) if prefer not in (None, "") and 0 <= int(prefer) < len(self.actors) else None
        with self.lock:
            if wanted is None:
                self.lock.wait_for(lambda: 0 in self.outstanding)
                index = self.outstanding.index(0)
            else:
                self.lock.wait_for(lambda: self.outstanding[wanted] == 0)
                index = wanted
            self.outstanding[index] += 1
        return RayCall(self.actors[index].run.remote(line, names, *references), index)

    def wait(self, call, timeout=None):
        import ray
        try:
            return ray.get(call.reference, timeout=timeout)
        except ray.exceptions.GetTimeoutError:
            ray.cancel(call.reference)
            raise ChunkTimedOut(f"timed out: the chunk exceeded the timeout of {timeout:g} s") from None
        finally:
            with self.lock:
                self.outstanding[call.actor] -= 1
                self.lock.notify_all()

    def worker_of(self, call):
        """The actor the call was sent to, as text."""
        return str(call.actor)

    def cancel(self, call):
        # Ray cancels an actor call that has not started; one that runs finishes (Ray has no
        # forced cancel for actor calls, and killing the actor would make Ray retry it).
        import ray
        ray.cancel(call.reference)

    def stop(self):
        import ray
        # The actors first (their worker processes end with them): a head asked to stop
        # while actors still run waits ~30 s for them.
        # Idle actors close their worker first (its temporary folder goes with it); a busy
        # one would answer only after its call, so it is killed and the coordinator removes
        # the folder once the process is gone.
        actors = getattr(self, "actors", [])
        outstanding = getattr(self, "outstanding", [1] * len(actors))
        idle = [actor for actor, calls in zip(actors, outstanding) if calls == 0]
        try:
            ray.get([actor.close.remote() for actor in idle], timeout=5)
        except Exception:
            pass
        for actor in actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception:
                pass
        ray.shutdown()
        _stop_ray_head(self.head)

def start(engine, address, workers, binary, base, verbose=False):
    """The engine's coordinator object: DaskEngine or RayEngine. Without `verbose`, the
    engine's own log lines below ERROR stay out of the command's output."""
    global package_base
    package_base = base
    if engine == "ray":
        return RayEngine(address, workers, binary, verbose)
    return DaskEngine(address, workers, binary)

def cancel(engine, handle):
    try:
        engine.cancel(handle)
    except Exception:
        pass

def installed(engine):
    """The engine's version, or an error naming how to install it."""
    module = {"ray": "ray", "dask": "distributed"}[engine]
    try:
        imported = __import__(module)
    except ImportError as error:
        raise ImportError(f"{engine} is not installed for {sys.executable} ({error}); install it with "
                          f"`make setup-engines` (pip install -r requirements-engines.txt)") from None
    return getattr(imported, "__version__", "?")
