"""The runtime workloads (benchmarks/runtime) and the loopback load generator.

Every manifest entry's script runs once on the host Python with `--debug-single-value` and
must write a pyperf file holding its benchmark; loadgen must refuse every non-loopback
target and measure a small real load against a tiny HTTP server on 127.0.0.1.
"""

import importlib.util
import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import redirect_stdout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from platform import python_version
from types import ModuleType
from typing import Any

import pyperf
import pytest

from basebench.measure.http import load_loadgen
from basebench.paths import IMAGES_DIR
from basebench.runtime_manifest import RUNTIME_DIR, Workload, read_manifest

APP_DIR = IMAGES_DIR / "app"
SCRIPT_TIMEOUT_S = 180

# The manifest as basebench reads it: read_manifest checks every rule (fields, names, mechanisms,
# scripts; see test_runtime_manifest.py), so a malformed entry fails the collection here.
MANIFEST = read_manifest()
WORKLOADS = list(MANIFEST.workloads)
WORKER_OPTIONS = ("--threads", "--pool-processes")


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def requirements_missing(workload: Workload) -> list[str]:
    """The packages ``workload`` requires that this Python cannot import."""
    return [module for module in workload.requires if not _importable(module)]


# --- the manifest ------------------------------------------------------------------------


def test_every_script_is_in_the_manifest() -> None:
    scripts = {p.name for p in RUNTIME_DIR.glob("bm_*.py")}
    assert scripts == {w.script for w in WORKLOADS}


def test_workloads_span_the_planned_mechanisms() -> None:
    mechanisms = {w.mechanism for w in WORKLOADS}
    assert mechanisms >= {
        "interpreter",
        "small-objects",
        "medium-objects",
        "large-objects",
        "realloc-growth",
        "strings",
        "threads",
        "processes",
    }
    # Every declared mechanism has a workload, and every workload says why it exists.
    assert mechanisms == {m.name for m in MANIFEST.mechanisms}
    assert all(w.purpose and w.description for w in WORKLOADS)


def test_the_thread_series_is_one_loop_with_1_and_2_workers() -> None:
    by_name = {w.name: w for w in WORKLOADS}
    one, two = by_name["medium_threads_1"], by_name["medium_threads_2"]
    assert one.script == two.script == by_name["medium_processes_2"].script
    assert (one.args, one.cpus) == (("--threads", "1"), 1)
    assert (two.args, two.cpus) == (("--threads", "2"), 2)
    assert by_name["medium_processes_2"].cpus == 2
    # One CPU per worker: no workload asks for more workers than CPUs.
    for w in WORKLOADS:
        workers = [int(v) for k, v in zip(w.args, w.args[1:], strict=False) if k in WORKER_OPTIONS]
        assert w.cpus == (workers[0] if workers else 1), w.name


# --- every workload, once --------------------------------------------------------------


@pytest.mark.parametrize("workload", WORKLOADS, ids=[w.name for w in WORKLOADS])
def test_workload_writes_its_benchmark(workload: Workload, tmp_path: Path) -> None:
    if not workload.python_ok(python_version()):
        pytest.skip(f"needs Python >= {workload.min_python}")
    for module in requirements_missing(workload):
        pytest.skip(f"{module} is not installed on this Python")

    out = tmp_path / "result.json"
    env = dict(os.environ)
    env["BASEBENCH_APP_DIR"] = str(APP_DIR)
    # Never the developer's own app database: the Django workload must build a temporary one.
    env["DJANGO_DB_PATH"] = str(tmp_path / "missing" / "db.sqlite3")
    cmd = [
        sys.executable,
        str(RUNTIME_DIR / workload.script),
        *workload.args,
        "--debug-single-value",
        "-o",
        str(out),
    ]
    start = time.monotonic()
    proc = subprocess.run(
        cmd,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
        check=False,
    )
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, f"{cmd}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"

    suite = pyperf.BenchmarkSuite.load(str(out))
    assert suite.get_benchmark_names() == [workload.name]
    bench = suite.get_benchmark(workload.name)
    assert bench.get_nvalue() >= 1
    assert all(v > 0 for v in bench.get_values())
    metadata = bench.get_metadata()
    assert metadata.get("basebench_description")
    # The CPUs the worker could use are in its file (2 for a 2-worker run in basebench).
    if hasattr(os, "sched_getaffinity"):
        assert metadata["basebench_worker_cpus"] == ",".join(
            map(str, sorted(os.sched_getaffinity(0)))
        )
    # A --debug-single-value run is meant to take seconds, not minutes.
    assert elapsed < 60, f"{workload.name} took {elapsed:.1f} s"
    if workload.name == "django_render_orm":
        assert metadata["basebench_db_origin"] == "temporary"
        assert metadata["basebench_db_questions"] > 0
        assert not Path(str(metadata["basebench_db_path"])).exists(), "temp DB left behind"


# --- loadgen -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def loadgen() -> ModuleType:
    """benchmarks/runtime/loadgen.py, imported as the http group imports it."""
    return load_loadgen()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.hits += 1
            self.server.peers.add(self.client_address)
        if self.path.startswith("/slow"):
            time.sleep(0.2)
        if self.path.startswith("/missing"):
            self.send_response(404)
            body = b"no\n"
        else:
            self.send_response(200)
            body = b"ok\n" * 10
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.path.startswith("/drop"):
            # Close without announcing it: the client only learns on its next request.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.hits = 0
        self.peers: set[tuple[str, int]] = set()


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def _url(srv: _Server, path: str = "/") -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}{path}"


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://192.168.1.10:8000/",
        "http://172.17.0.2:8000/",
        "http://127.0.0.2/",
        "http://0.0.0.0:8000/",
        "http://example.com/",
        "http://localhost.example.com/",
        "http://[::2]/",
        "https://127.0.0.1/",
        "ftp://localhost/",
        "http://user:secret@127.0.0.1/",
        "127.0.0.1:8000",
        "http:///nohost",
    ],
)
def test_loadgen_refuses_non_loopback_targets(
    loadgen: ModuleType, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_connection(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a refused target must not be connected to")

    monkeypatch.setattr(loadgen.http.client, "HTTPConnection", no_connection)
    with pytest.raises(loadgen.RefusedTarget):
        loadgen.run_load(url, requests=1, concurrency=1, timeout_s=1.0, warmup=0)


def test_loadgen_cli_refuses_with_exit_code_2(
    loadgen: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert loadgen.main(["http://10.1.2.3:8000/", "-n", "1"]) == 2
    assert "refusing" in capsys.readouterr().err


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/x?y=1",
        "http://localhost/",
        "http://LOCALHOST:1/",
        "http://[::1]:8000/",
    ],
)
def test_loadgen_accepts_loopback_targets(loadgen: ModuleType, url: str) -> None:
    target = loadgen.parse_target(url)
    assert target.host in {"127.0.0.1", "localhost", "::1"}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"requests": 0},
        {"requests": 10**7},
        {"concurrency": 0},
        {"concurrency": 10_000},
        {"warmup": -1},
        {"timeout_s": 0.0},
        {"time_limit_s": 0.0},
        {"time_limit_s": 10_000.0},
    ],
)
def test_loadgen_bounds(loadgen: ModuleType, kwargs: dict[str, Any]) -> None:
    params: dict[str, Any] = {"requests": 1, "concurrency": 1, "timeout_s": 1.0, "warmup": 0}
    params.update(kwargs)
    with pytest.raises(ValueError):
        loadgen.run_load("http://127.0.0.1:9/", **params)


def test_loadgen_measures_a_real_load(loadgen: ModuleType, server: _Server) -> None:
    result = loadgen.run_load(_url(server), requests=200, concurrency=4, timeout_s=5.0, warmup=20)
    assert result["completed"] == 200
    assert result["errors"] == 0
    assert result["status_counts"] == {"200": 200}
    assert server.hits == 220
    assert len(result["latencies_ms"]) == 200
    assert 0 < result["p50_ms"] <= result["p90_ms"] <= result["p99_ms"] <= result["max_ms"]
    assert result["requests_per_s"] > 0
    assert not result["stopped_by_time_limit"]
    # keep-alive: one connection per thread for the whole run
    assert len(server.peers) <= 4
    json.dumps(result)


def test_loadgen_counts_http_errors(loadgen: ModuleType, server: _Server) -> None:
    result = loadgen.run_load(
        _url(server, "/missing"), requests=20, concurrency=2, timeout_s=5.0, warmup=0
    )
    assert result["completed"] == 0
    assert result["errors"] == 20
    assert result["error_kinds"] == {"HTTP 404": 20}


def test_loadgen_survives_servers_that_drop_idle_connections(
    loadgen: ModuleType, server: _Server
) -> None:
    result = loadgen.run_load(
        _url(server, "/drop"), requests=30, concurrency=2, timeout_s=5.0, warmup=0
    )
    assert result["completed"] == 30
    assert result["errors"] == 0
    assert result["reconnects"] > 0


def test_loadgen_stops_at_the_time_limit(loadgen: ModuleType, server: _Server) -> None:
    start = time.monotonic()
    result = loadgen.run_load(
        _url(server, "/slow"),
        requests=10_000,
        concurrency=2,
        timeout_s=5.0,
        warmup=0,
        time_limit_s=0.6,
    )
    assert time.monotonic() - start < 3.0
    assert result["stopped_by_time_limit"]
    assert 0 < result["completed"] < 100


def test_loadgen_reports_connection_errors(loadgen: ModuleType) -> None:
    srv = _Server()  # bound, then closed: nothing listens on its port any more
    port = srv.server_address[1]
    srv.server_close()
    result = loadgen.run_load(
        f"http://127.0.0.1:{port}/", requests=5, concurrency=1, timeout_s=2.0, warmup=0
    )
    assert result["completed"] == 0
    assert result["errors"] == 5
    assert result["p50_ms"] != result["p50_ms"]  # NaN


def test_loadgen_cli_prints_json(loadgen: ModuleType, server: _Server) -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        code = loadgen.main([_url(server), "-n", "10", "-c", "2", "--warmup", "0"])
    assert code == 0
    data = json.loads(out.getvalue())
    assert data["completed"] == 10
    assert len(data["latencies_ms"]) == 10
