"""A small, bounded HTTP load generator for servers on this machine (stdlib only).

It sends GET requests to one URL from a few threads, each over its own keep-alive connection
(``http.client``), and reports throughput and latency percentiles. It is deliberately unable to
load anything but the loopback interface: the host must be ``127.0.0.1``, ``localhost`` or
``::1``, the request count is capped, and a hard wall-clock limit stops the run whatever the
server does.

Library use::

    from loadgen import run_load
    result = run_load("http://127.0.0.1:8000/polls/", requests=2000, concurrency=4,
                      timeout_s=5.0, warmup=100)
    print(result["requests_per_s"], result["p50_ms"], result["p99_ms"])

Command line (prints one JSON object)::

    python loadgen.py http://127.0.0.1:8000/ --requests 2000 --concurrency 4

The first ``warmup`` requests run before the measured phase, over the same connections, and
are not counted. Latencies are those of the successful measured requests (status < 400),
in milliseconds, from sending the request to reading the last byte of the body.
"""

import argparse
import http.client
import json
import math
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

ALLOWED_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_REQUESTS = 1_000_000
MAX_CONCURRENCY = 256
DEFAULT_TIME_LIMIT_S = 60.0
MAX_TIME_LIMIT_S = 600.0
USER_AGENT = "basebench-loadgen/1"
_STALE_CONNECTION_ERRORS = (
    http.client.RemoteDisconnected,
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
)


class RefusedTarget(ValueError):
    """The URL names a host outside the loopback allow-list, or is not plain HTTP."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    path: str
    url: str


def parse_target(url: str) -> Target:
    """Check ``url`` and split it; raise :class:`RefusedTarget` unless it is loopback HTTP."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise RefusedTarget(f"only http:// URLs are supported, got {url!r}")
    host = (parts.hostname or "").lower()
    if host not in ALLOWED_HOSTS:
        allowed = ", ".join(sorted(ALLOWED_HOSTS))
        raise RefusedTarget(f"refusing to load {host or '(no host)'!r}: only {allowed} allowed")
    if parts.username or parts.password:
        raise RefusedTarget("URLs with credentials are not supported")
    try:
        port = parts.port or 80
    except ValueError as exc:
        raise RefusedTarget(f"bad port in {url!r}: {exc}") from None
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(host=host, port=port, path=path, url=url)


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of already sorted values; NaN if empty."""
    if not sorted_values:
        return math.nan
    if len(sorted_values) == 1:
        return sorted_values[0]
    rank = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    frac = rank - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * frac


@dataclass
class _Phase:
    """Shared state of one phase (warmup or measured): a ticket counter and the results."""

    total: int
    deadline: float
    record: bool
    lock: threading.Lock = field(default_factory=threading.Lock)
    issued: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    error_kinds: Counter[str] = field(default_factory=Counter)
    bytes_received: int = 0
    reconnects: int = 0
    stopped_by_time: bool = False

    def take_ticket(self) -> bool:
        with self.lock:
            if self.issued >= self.total:
                return False
            if time.monotonic() >= self.deadline:
                self.stopped_by_time = True
                return False
            self.issued += 1
            return True


class _Worker:
    """One thread's keep-alive connection, reused across phases."""

    def __init__(self, target: Target, timeout_s: float) -> None:
        self.target = target
        self.timeout_s = timeout_s
        self.conn: http.client.HTTPConnection | None = None
        self.served = 0  # responses read on the current connection
        self.headers = {"Host": self._host_header(), "User-Agent": USER_AGENT, "Accept": "*/*"}

    def _host_header(self) -> str:
        host = f"[{self.target.host}]" if ":" in self.target.host else self.target.host
        return host if self.target.port == 80 else f"{host}:{self.target.port}"

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(
                self.target.host, self.target.port, timeout=self.timeout_s
            )
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _once(self) -> tuple[int, bytes, float]:
        start = time.perf_counter()
        conn = self._connection()
        conn.request("GET", self.target.path, headers=self.headers)
        response = conn.getresponse()
        body = response.read()
        elapsed_ms = (time.perf_counter() - start) * 1000.0
        if response.will_close:
            self.close()
            self.served = 0
        else:
            self.served += 1
        return response.status, body, elapsed_ms

    def run(self, phase: _Phase) -> None:
        while phase.take_ticket():
            try:
                try:
                    status, body, elapsed_ms = self._once()
                except _STALE_CONNECTION_ERRORS:
                    # A server may close an idle keep-alive connection without saying so; like
                    # any HTTP client, retry a GET once on a fresh connection, then give up.
                    if not self.served:
                        raise
                    self.close()
                    self.served = 0
                    with phase.lock:
                        phase.reconnects += 1
                    status, body, elapsed_ms = self._once()
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                self.served = 0
                with phase.lock:
                    phase.error_kinds[type(exc).__name__] += 1
                continue
            with phase.lock:
                phase.statuses[status] += 1
                phase.bytes_received += len(body)
                if status >= 400:
                    phase.error_kinds[f"HTTP {status}"] += 1
                elif phase.record:
                    phase.latencies_ms.append(elapsed_ms)


def _run_phase(workers: list[_Worker], phase: _Phase) -> float:
    threads = [
        threading.Thread(target=w.run, args=(phase,), name=f"loadgen-{i}", daemon=True)
        for i, w in enumerate(workers)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        # Each thread stops taking tickets at the deadline; one request in flight may still
        # need up to its socket timeout (connect + read), so allow for that, then give up.
        t.join(timeout=max(0.0, phase.deadline - time.monotonic()) + 2 * workers[0].timeout_s + 1)
    return time.perf_counter() - start


def run_load(
    url: str,
    *,
    requests: int,
    concurrency: int,
    timeout_s: float,
    warmup: int,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> dict[str, Any]:
    """Load ``url`` (loopback only) and return throughput, latency percentiles and errors.

    ``requests`` measured requests are sent by ``concurrency`` threads after ``warmup``
    unmeasured ones; ``timeout_s`` bounds each socket operation; ``time_limit_s`` bounds the
    whole run (warmup included): past it no new request starts.
    """
    target = parse_target(url)
    if not 1 <= requests <= MAX_REQUESTS:
        raise ValueError(f"requests must be in 1..{MAX_REQUESTS}, got {requests}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"concurrency must be in 1..{MAX_CONCURRENCY}, got {concurrency}")
    if not 0 <= warmup <= MAX_REQUESTS:
        raise ValueError(f"warmup must be in 0..{MAX_REQUESTS}, got {warmup}")
    if not 0 < timeout_s <= MAX_TIME_LIMIT_S:
        raise ValueError(f"timeout_s must be in (0, {MAX_TIME_LIMIT_S}], got {timeout_s}")
    if not 0 < time_limit_s <= MAX_TIME_LIMIT_S:
        raise ValueError(f"time_limit_s must be in (0, {MAX_TIME_LIMIT_S}], got {time_limit_s}")

    deadline = time.monotonic() + time_limit_s
    workers = [_Worker(target, timeout_s) for _ in range(concurrency)]
    try:
        warm = _Phase(total=warmup, deadline=deadline, record=False)
        warmup_s = _run_phase(workers, warm) if warmup else 0.0
        measured = _Phase(total=requests, deadline=deadline, record=True)
        elapsed_s = _run_phase(workers, measured)
    finally:
        for w in workers:
            w.close()

    with measured.lock:
        latencies = list(measured.latencies_ms)
        errors = sum(measured.error_kinds.values())
        ok = len(latencies)
        issued = measured.issued
        statuses = dict(sorted(measured.statuses.items()))
        error_kinds = dict(sorted(measured.error_kinds.items()))
        bytes_received = measured.bytes_received
    ordered = sorted(latencies)
    return {
        "url": target.url,
        "requests": requests,
        "issued": issued,
        "completed": ok,
        "errors": errors,
        "error_kinds": error_kinds,
        "status_counts": {str(k): v for k, v in statuses.items()},
        "concurrency": concurrency,
        "warmup": warmup,
        "warmup_errors": sum(warm.error_kinds.values()),
        "warmup_s": warmup_s,
        "timeout_s": timeout_s,
        "time_limit_s": time_limit_s,
        "stopped_by_time_limit": measured.stopped_by_time or warm.stopped_by_time,
        "elapsed_s": elapsed_s,
        "requests_per_s": ok / elapsed_s if elapsed_s > 0 else 0.0,
        "bytes_received": bytes_received,
        "reconnects": measured.reconnects,
        "p50_ms": percentile(ordered, 50),
        "p90_ms": percentile(ordered, 90),
        "p99_ms": percentile(ordered, 99),
        "mean_ms": sum(ordered) / ok if ok else math.nan,
        "min_ms": ordered[0] if ordered else math.nan,
        "max_ms": ordered[-1] if ordered else math.nan,
        "latencies_ms": latencies,
    }


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Bounded HTTP load on a loopback URL (127.0.0.1, localhost, ::1 only); "
        "prints a JSON object."
    )
    parser.add_argument("url", help="http://127.0.0.1:PORT/path")
    parser.add_argument("-n", "--requests", type=int, default=1000, help="measured requests")
    parser.add_argument("-c", "--concurrency", type=int, default=4, help="threads/connections")
    parser.add_argument("--timeout", type=float, default=5.0, help="socket timeout, seconds")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured requests first")
    parser.add_argument(
        "--time-limit", type=float, default=DEFAULT_TIME_LIMIT_S, help="hard limit, seconds"
    )
    parser.add_argument(
        "--no-latencies", action="store_true", help="leave the raw latencies out of the output"
    )
    args = parser.parse_args(argv)
    try:
        result = run_load(
            args.url,
            requests=args.requests,
            concurrency=args.concurrency,
            timeout_s=args.timeout,
            warmup=args.warmup,
            time_limit_s=args.time_limit,
        )
    except ValueError as exc:  # RefusedTarget included
        print(f"loadgen: {exc}", file=sys.stderr)
        return 2
    if args.no_latencies:
        result.pop("latencies_ms")
    json.dump(_json_safe(result), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0 if result["completed"] else 1


if __name__ == "__main__":
    sys.exit(main())
