"""Tests of polybridge_engine's helpers, without starting Ray or Dask: reaching an address,
Ray's address file, the local head's watchdog and stop, step folders, and the worker-process
protocol against a fake `polybridge worker`."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time

import pyarrow as pa
import pyarrow.feather as feather
import pytest

import polybridge_engine as engine


@pytest.fixture
def own_tempdir(tmp_path, monkeypatch):
    """tempfile's folder (where step and worker folders go) is this test's own."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def package_base(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "package_base", str(tmp_path / "package"))
    os.makedirs(engine.package_base)
    return tmp_path / "package"


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- reaching an address ----------------------------------------------------------------

def test_reach_fails_fast_with_a_clear_error_on_a_closed_port():
    port = closed_port()
    started = time.monotonic()
    with pytest.raises(ConnectionError) as raised:
        engine._reach(f"ray://127.0.0.1:{port}", "Ray cluster", 1)
    took = time.monotonic() - started
    assert 0.9 <= took < 5
    message = str(raised.value)
    assert message.startswith(f"cannot reach the Ray cluster at ray://127.0.0.1:{port}: nothing accepted a connection there within 1 s")
    assert "refused" in message.lower()


def test_reach_returns_once_something_listens():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        started = time.monotonic()
        assert engine._reach(f"127.0.0.1:{port}/", "Dask scheduler", 10) is None
        assert engine._reach(f"tcp://[127.0.0.1]:{port}", "Dask scheduler", 10) is None
        assert time.monotonic() - started < 2


def test_reach_leaves_addresses_ray_resolves_itself():
    started = time.monotonic()
    assert engine._reach("auto", "Ray cluster", 30) is None
    assert engine._reach("ray://somewhere", "Ray cluster", 30) is None
    assert time.monotonic() - started < 0.5


# --- Ray's address file -------------------------------------------------------------------

def test_ray_address_file_follows_ray_tmpdir_then_tmpdir(monkeypatch, tmp_path):
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path / "raytmp"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    assert engine._ray_address_file() == str(tmp_path / "raytmp" / "ray" / "ray_current_cluster")
    monkeypatch.delenv("RAY_TMPDIR")
    expected = str(tmp_path / "tmp") if sys.platform.startswith("linux") else "/tmp"
    assert engine._ray_address_file() == os.path.join(expected, "ray", "ray_current_cluster")
    monkeypatch.delenv("TMPDIR")
    assert engine._ray_address_file() == "/tmp/ray/ray_current_cluster"
    monkeypatch.setenv("TMPDIR", "")
    assert engine._ray_address_file() == "/tmp/ray/ray_current_cluster"


class FakeHead:
    def __init__(self, address, before):
        self.ray_address = address
        self.ray_address_before = before


@pytest.fixture
def address_file(monkeypatch, tmp_path):
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    path = tmp_path / "ray" / "ray_current_cluster"
    path.parent.mkdir()
    return path


def test_forget_ray_address_puts_back_the_previous_content(address_file):
    address_file.write_text("127.0.0.1:40000")
    assert engine._read_ray_address_file() == "127.0.0.1:40000"
    address_file.write_text("127.0.0.1:50000\n")  # what our head wrote over it
    engine._forget_ray_address(FakeHead("127.0.0.1:50000", "127.0.0.1:40000"))
    assert address_file.read_text() == "127.0.0.1:40000"


def test_forget_ray_address_removes_a_file_that_was_not_there(address_file):
    address_file.write_text("127.0.0.1:50000")
    engine._forget_ray_address(FakeHead("127.0.0.1:50000", None))
    assert not address_file.exists()
    assert engine._read_ray_address_file() is None
    engine._forget_ray_address(FakeHead("127.0.0.1:50000", None))  # nothing to remove: no error


def test_forget_ray_address_leaves_another_clusters_address(address_file):
    address_file.write_text("127.0.0.1:60000")  # a cluster started after ours
    engine._forget_ray_address(FakeHead("127.0.0.1:50000", "127.0.0.1:40000"))
    assert address_file.read_text() == "127.0.0.1:60000"
    engine._forget_ray_address(FakeHead(None, "127.0.0.1:40000"))  # a head that never started
    assert address_file.read_text() == "127.0.0.1:60000"


# --- the local head: start detection, watchdog, stop --------------------------------------

def fake_head(tmp_path, script):
    log = tmp_path / "head.log"
    output = open(log, "w")
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], stdout=output, stderr=subprocess.STDOUT)
    output.close()
    return process, str(log)


def test_wait_until_ray_head_started_reads_the_address_from_the_log(tmp_path):
    head, log = fake_head(tmp_path, """
        import time
        print("Local node IP: 127.0.0.1", flush=True)
        time.sleep(0.2)
        print("  ray start --address='127.0.0.1:6380'", flush=True)
        print("Ray runtime started.", flush=True)
        time.sleep(30)
    """)
    try:
        assert engine._wait_until_ray_head_started(head, log, timeout=20) == "127.0.0.1:6380"
    finally:
        head.kill()
        head.wait()


def test_a_head_that_ends_while_starting_is_reported_with_its_last_line(tmp_path):
    head, log = fake_head(tmp_path, """
        import sys
        print("starting", flush=True)
        print("ValueError: port in use", flush=True)
        sys.exit(3)
    """)
    with pytest.raises(engine.RayHeadFailed) as raised:
        engine._wait_until_ray_head_started(head, log, timeout=20)
    assert str(raised.value) == "the local Ray head ended with status 3: ValueError: port in use"
    assert raised.value.timed_out is False


def test_a_head_that_hangs_times_out(tmp_path):
    head, log = fake_head(tmp_path, "import time; time.sleep(30)")
    try:
        with pytest.raises(engine.RayHeadFailed) as raised:
            engine._wait_until_ray_head_started(head, log, timeout=0.3)
    finally:
        head.kill()
        head.wait()
    assert str(raised.value) == "the local Ray head did not start within 0.3 s: it printed nothing"
    assert raised.value.timed_out is True


def watchdog(coordinator, *command, **options):
    return subprocess.Popen([sys.executable, "-c", engine._HEAD_WATCHDOG, str(coordinator), *command], **options)


def test_watchdog_passes_on_its_childs_exit_status():
    process = watchdog(os.getpid(), sys.executable, "-c", "import sys; sys.exit(7)")
    assert process.wait(timeout=20) == 7


def test_watchdog_refuses_to_start_for_another_coordinator():
    process = watchdog(1, sys.executable, "-c", "open('/nonexistent/should-not-run', 'w')")
    assert process.wait(timeout=20) == 1


def test_watchdog_passes_sigterm_to_the_head_and_ends_by_it(tmp_path):
    marker = tmp_path / "got-term"
    child = textwrap.dedent(f"""
        import signal, sys, time
        def term(number, frame):
            open({str(marker)!r}, "w").close()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.raise_signal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, term)
        print("ready", flush=True)
        time.sleep(30)
    """)
    process = watchdog(os.getpid(), sys.executable, "-c", child, stdout=subprocess.PIPE, text=True,
                       start_new_session=True)
    try:
        assert process.stdout.readline().strip() == "ready"
        process.terminate()
        assert process.wait(timeout=20) == -signal.SIGTERM
        assert marker.exists()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.stdout.close()


def process_gone(pid):
    """Whether `pid` has ended (gone, or a zombie nobody has reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_stop_ray_head_ends_its_group_and_its_record(package_base, address_file, tmp_path):
    heads = package_base / "ray-heads"
    heads.mkdir()
    # The head ends on SIGTERM; a process it started in its group ignores SIGTERM (as a Ray
    # worker stuck in a call might) and must end all the same.
    script = textwrap.dedent("""
        import subprocess, sys, time
        stuck = subprocess.Popen([sys.executable, "-c",
                                  "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(flush=True); time.sleep(60)"],
                                 stdout=subprocess.PIPE)
        stuck.stdout.readline()
        print(stuck.pid, flush=True)
        time.sleep(60)
    """)
    head = subprocess.Popen([sys.executable, "-c", script], start_new_session=True, stdout=subprocess.PIPE, text=True)
    stuck = int(head.stdout.readline())
    head.stdout.close()
    head.ray_address, head.ray_address_before = "127.0.0.1:50000", None
    address_file.write_text("127.0.0.1:50000")
    (heads / str(head.pid)).touch()
    started = time.monotonic()
    engine._stop_ray_head(head)
    assert time.monotonic() - started < 10
    assert head.returncode == -signal.SIGTERM
    deadline = time.monotonic() + 10
    while not process_gone(stuck) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_gone(stuck)
    assert not (heads / str(head.pid)).exists()
    assert not address_file.exists()  # it named the stopped head, and there was none before
    engine._stop_ray_head(None)  # no head: nothing to do


def test_local_head_environment_puts_the_package_first(package_base, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["/a", "", "/b"]))
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    environment = engine._local_head_environment()
    assert environment["PYTHONPATH"] == os.pathsep.join([str(package_base), "/a", "/b"])
    assert environment["RAY_AUTH_MODE"] == "disabled"
    # The head's environment is a copy: this process's own is left as it was.
    assert os.environ["RAY_AUTH_MODE"] == "token" and os.environ["PYTHONPATH"] == os.pathsep.join(["/a", "", "/b"])
    monkeypatch.delenv("PYTHONPATH")
    assert engine._local_head_environment()["PYTHONPATH"] == str(package_base)


def test_usual_signals_for_children_blocks_only_sigint_and_sigpipe():
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGUSR1})
    try:
        with engine._usual_signals_for_children():
            assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == {signal.SIGINT, signal.SIGPIPE}
        assert {signal.SIGTERM, signal.SIGUSR1} <= signal.pthread_sigmask(signal.SIG_BLOCK, set())
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


# --- step folders -------------------------------------------------------------------------

def dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_abandoned_step_folders_of_dead_owners_are_removed(own_tempdir):
    dead = own_tempdir / f"{engine._STEP_PREFIX}{dead_pid()}-abc"
    alive = own_tempdir / f"{engine._STEP_PREFIX}{os.getpid()}-abc"
    other = own_tempdir / f"{engine._STEP_PREFIX}notapid-abc"
    unrelated = own_tempdir / "something-else"
    for folder in (dead, alive, other, unrelated):
        folder.mkdir()
        (folder / "in0.arrow").write_bytes(b"x")
    engine._remove_abandoned_step_folders()
    assert not dead.exists()
    assert alive.exists() and other.exists() and unrelated.exists()


def test_step_folder_base_prefers_shared_memory_with_room(own_tempdir):
    if os.path.isdir("/dev/shm"):
        assert engine._step_folder_base(1) == "/dev/shm"
    assert engine._step_folder_base(1 << 60) == str(own_tempdir)


# --- a worker process, faked ------------------------------------------------------------

FAKE_WORKER = """\
#!{python}
import json, os, sys, time
assert sys.argv[1:] == ["worker"], sys.argv
mode = os.environ.get("FAKE_WORKER_MODE", "ok")
for line in sys.stdin:
    if mode == "die":
        sys.exit(3)
    print("", flush=True)  # a heartbeat
    request = json.loads(line)
    if request.get("kind") == "warm-up":
        answer = {{"error": {{"code": "rError", "message": "R is missing"}}}} if mode == "fail" else {{"output": True}}
        print(json.dumps(answer), flush=True)
    elif request.get("exit"):
        sys.exit(0)
    else:
        sys.stdout.write("\\n\\n" + json.dumps({{"echo": request, "tmp": os.environ["TMPDIR"]}}) + "\\n")
        sys.stdout.flush()
"""


@pytest.fixture
def fake_binary(tmp_path):
    path = tmp_path / "polybridge"
    path.write_text(FAKE_WORKER.format(python=sys.executable))
    path.chmod(0o755)
    return str(path)


def test_worker_process_answers_and_skips_heartbeats(fake_binary, own_tempdir):
    process = engine.WorkerProcess(fake_binary)
    try:
        assert os.path.basename(process.temporary).startswith(f"{engine._WORKERS_PREFIX}{os.getpid()}-")
        answer = json.loads(process.request(json.dumps({"chunk": 3})))
        assert answer == {"echo": {"chunk": 3}, "tmp": process.temporary}
        with pytest.raises(engine.WorkerDied, match=r"ended \(exit code"):
            process.request(json.dumps({"exit": True}))
    finally:
        process.stop()
    assert not os.path.exists(process.temporary)
    assert process.proc.poll() is not None


def test_worker_process_that_cannot_start_r_names_the_failure(fake_binary, own_tempdir, monkeypatch):
    monkeypatch.setenv("FAKE_WORKER_MODE", "fail")
    with pytest.raises(RuntimeError, match=r"node .*: the polybridge worker cannot start R or Python: R is missing"):
        engine.WorkerProcess(fake_binary)
    assert os.listdir(own_tempdir) == []  # its temporary folder went with it


def test_worker_process_that_dies_at_start_says_to_run_doctor(fake_binary, own_tempdir, monkeypatch):
    monkeypatch.setenv("FAKE_WORKER_MODE", "die")
    with pytest.raises(RuntimeError, match=rf"did not start \(exit code 3\); run `{fake_binary} doctor` there"):
        engine.WorkerProcess(fake_binary)
    assert os.listdir(own_tempdir) == []


def test_worker_binary_problems_are_named(tmp_path, own_tempdir):
    with pytest.raises(RuntimeError, match="does not exist"):
        engine.WorkerProcess(str(tmp_path / "missing"))
    with pytest.raises(RuntimeError, match="is a directory, not the polybridge executable"):
        engine.WorkerProcess(str(tmp_path))
    plain = tmp_path / "plain"
    plain.write_text("")
    plain.chmod(0o644)
    if os.access(plain, os.X_OK):  # root may execute anything
        pytest.skip("this user can execute any file")
    with pytest.raises(RuntimeError, match="is not executable"):
        engine.WorkerProcess(str(plain))


# --- requests with tables -------------------------------------------------------------------

class TableWorker:
    """Stands in for WorkerProcess: reads the input files, writes one output per input."""

    def __init__(self, answer_payload=True):
        self.answer_payload = answer_payload
        self.seen = None

    def request(self, line):
        request = json.loads(line)
        payload = request["input"]
        self.seen = payload
        if not self.answer_payload:
            return json.dumps({"error": {"code": "rError", "message": "step failed: boom"}})
        outputs = {}
        for entry in payload["inputs"]:
            table = feather.read_table(entry["path"])
            doubled = table.append_column("twice", pa.compute.multiply(table.column("x"), 2))
            path = os.path.join(payload["outputDirectory"], f"out-{entry['name']}.arrow")
            feather.write_feather(doubled, path)
            outputs[entry["name"]] = path
        return json.dumps({"output": {"outputs": outputs}})


def test_run_with_tables_hands_files_over_and_reads_outputs_back(own_tempdir):
    worker = TableWorker()
    tables = {"a": pa.table({"x": [1, 2, 3]}), "b": pa.table({"x": [10]})}
    line = json.dumps({"kind": "pipeline-step", "input": {"inputs": [{"name": "a"}, {"name": "b"}], "step": "s1"}})
    result = engine._work(worker, line, ["a", "b"], [tables["a"], tables["b"]])
    assert set(result) == {"outputs"}
    assert result["outputs"]["a"].to_pydict() == {"x": [1, 2, 3], "twice": [2, 4, 6]}
    assert result["outputs"]["b"].to_pydict() == {"x": [10], "twice": [20]}
    assert worker.seen["step"] == "s1"
    folder = worker.seen["outputDirectory"]
    assert os.path.basename(folder).startswith(f"{engine._STEP_PREFIX}{os.getpid()}-")
    assert [entry["path"] for entry in worker.seen["inputs"]] == [os.path.join(folder, "in0.arrow"), os.path.join(folder, "in1.arrow")]
    assert not os.path.exists(folder)  # removed once the outputs are in memory


def test_run_with_tables_passes_a_failure_on(own_tempdir):
    worker = TableWorker(answer_payload=False)
    line = json.dumps({"kind": "pipeline-step", "input": {"inputs": [{"name": "a"}]}})
    result = engine._run_with_tables(worker, line, {"a": pa.table({"x": [1]})})
    assert json.loads(result["failure"]) == {"code": "rError", "message": "step failed: boom"}
    assert not os.path.exists(worker.seen["outputDirectory"])


def test_work_without_tables_is_a_plain_request():
    class Echo:
        def request(self, line):
            return "answer to " + line
    assert engine._work(Echo(), "{}", None, ()) == "answer to {}"


# --- installed ----------------------------------------------------------------------------

def test_installed_names_how_to_install_a_missing_engine(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if not installed
    with pytest.raises(ImportError) as raised:
        engine.installed("dask")
    assert str(raised.value).startswith(f"dask is not installed for {sys.executable}")
    assert "make setup-engines" in str(raised.value)


def test_start_sets_the_package_base_and_chooses_the_engine(monkeypatch, tmp_path):
    made = []
    monkeypatch.setattr(engine, "RayEngine", lambda *arguments: made.append(("ray", arguments)) or "ray engine")
    monkeypatch.setattr(engine, "DaskEngine", lambda *arguments: made.append(("dask", arguments)) or "dask engine")
    monkeypatch.setattr(engine, "package_base", None)
    assert engine.start("ray", None, 2, "/bin/polybridge", str(tmp_path), True) == "ray engine"
    assert engine.package_base == str(tmp_path)
    assert engine._package_folder() == os.path.join(str(tmp_path), "polybridge_engine")
    assert engine.start("dask", "tcp://h:1", 3, "/bin/polybridge", str(tmp_path)) == "dask engine"
    assert made == [("ray", (None, 2, "/bin/polybridge", True)), ("dask", ("tcp://h:1", 3, "/bin/polybridge"))]
