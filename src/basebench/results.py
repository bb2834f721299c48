"""The result store: one folder per run, atomic writes, one tidy DataFrame out.

Layout of ``results/<run-id>/``::

    run.json                  host metadata, resolved configuration, start/end, base source
    measurements/*.json       pytest-benchmark JSON (host-timed steps), pyperf JSON (in-container
                              timings) or basebench's own ``basebench.measurements/1`` (sizes,
                              install outcomes, HTTP load...), and
                              ``basebench.resolved/1`` (the install group's resolved set of a
                              team's requirements per base, read by load_resolved)
    rounds/<group>/           each group's state after each finished round (see
                              basebench.checkpoints; what ``run --resume`` goes on from)
    logs/                     build logs (not committed)
    report/                   written by ``basebench report``

Every file is written to a temporary name and renamed into place, and no file is ever replaced:
a run that is interrupted keeps everything it finished, and two runs never share a folder.
"""

from __future__ import annotations

import bisect
import json
import os
import secrets
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from basebench.errors import UserError

RUN_FORMAT = "basebench.run/1"
MEASUREMENTS_FORMAT = "basebench.measurements/1"
#: The resolved set of a team's requirements per base (basebench.measure.resolved.ResolvedSet
#: as dicts, under "sets"): no values, so no rows of the tidy frame.
RESOLVED_FORMAT = "basebench.resolved/1"

# The tags every measured value carries (empty string when not applicable).
TAG_COLUMNS = ("variant", "python", "libc", "base_source", "strategy", "allocator")
TIDY_COLUMNS = (
    "run",
    "group",
    "benchmark",
    *TAG_COLUMNS,
    "metric",
    "value",
    "unit",
    "sample",
    #: The unit of replication the value belongs to: a container invocation for pyperf files
    #: (several processes and values each), else the value's own repetition (round = sample).
    "round",
    "detail",
)
# pyperf metadata keys under which the tags travel inside pyperf JSON files.
PYPERF_TAG_PREFIX = "basebench_"
#: pyperf metadata (after the prefix): the file's run count after each round, e.g. "4,7,10,13".
ROUND_RUNS_KEY = "round_runs"
#: pyperf metadata (after the prefix) of files written before ROUND_RUNS_KEY: how many rounds.
ROUNDS_KEY = "rounds"
#: pyperf metadata (after the prefix): ``pyperf check``'s warnings on the file, "none" if none.
PYPERF_WARNINGS_KEY = "pyperf_warnings"
#: run.json key the runtime group writes: workload name -> {"cpus": CPUs it needs, "cpuset":
#: the CPUs its containers got} (a report reads run folders, not pyperf's metadata).
RUNTIME_CPUS_KEY = "runtime_cpus"
#: run.json key the runtime group writes: "<python>-<variant>" -> {"available": {allocator:
#: how it is set and where it came from}, "unavailable": {allocator: why not}}.
RUNTIME_ALLOCATORS_KEY = "runtime_allocators"

# Host probes (see :mod:`basebench.measure._host_probe`) are stored as rows of this group, one
# benchmark per measurement group they were taken in. The name predates the word "host probe"
# and stays, so that every run ever written still loads.
HOST_PROBE_GROUP = "calibration"
#: A fixed pure-Python loop timed on the host, pinned to the measured CPUs.
CPU_PROBE_METRIC = "probe_time"
#: One ``docker run --rm`` of a tiny image of the host's own ``true``.
CONTAINER_PROBE_METRIC = "container_probe_time"
PROBE_METRICS = (CPU_PROBE_METRIC, CONTAINER_PROBE_METRIC)
LOAD_METRIC = "load_1min"


class ResultExists(UserError):
    pass


def atomic_write_bytes(path: Path, data: bytes, *, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    With ``overwrite=False`` an existing file is never replaced: results are not lost.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{path.name}.")
    try:
        # mkstemp makes the file owner-only; results and reports are read by other people and
        # tools (a web server, a wiki sync), so they get the permissions of a plain write.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            # link() fails if the target exists, unlike rename(): no silent replacement.
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise ResultExists(
                    f"{path} exists already; results are never overwritten"
                ) from None
            os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_json(path: Path, data: Any, *, overwrite: bool = False) -> Path:
    text = json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
    return atomic_write_bytes(path, text.encode(), overwrite=overwrite)


def new_run_id() -> str:
    host = socket.gethostname().split(".")[0][:16] or "host"
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{host}-{secrets.token_hex(2)}"


@dataclass(frozen=True)
class Tags:
    variant: str = ""
    python: str = ""
    libc: str = ""
    base_source: str = ""
    strategy: str = ""
    allocator: str = ""

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in TAG_COLUMNS}

    def replace(self, **changes: str) -> Tags:
        return Tags(**{**self.as_dict(), **changes})


@dataclass
class Measurement:
    """One series of values of one metric (a basebench.measurements/1 row)."""

    group: str
    benchmark: str
    metric: str
    unit: str
    values: Sequence[float]
    tags: Tags
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "benchmark": self.benchmark,
            "metric": self.metric,
            "unit": self.unit,
            "values": [float(v) for v in self.values],
            "detail": self.detail,
            **self.tags.as_dict(),
        }


class Run:
    """An open run folder. Create one with :meth:`ResultStore.create_run`."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.run_id = directory.name
        self.measurements_dir = directory / "measurements"
        self.logs_dir = directory / "logs"
        #: Reopened by ``run --resume``: a result whose file the interrupted attempt wrote
        #: already (a signal between a group's last write and its finish mark) is kept, not
        #: written a second time (see :meth:`written`).
        self.resumed = False

    @property
    def meta_path(self) -> Path:
        return self.dir / "run.json"

    def meta(self) -> dict[str, Any]:
        return read_run_meta(self.dir)

    def update_meta(self, **changes: Any) -> None:
        meta = self.meta()
        meta.update(changes)
        atomic_write_json(self.meta_path, meta, overwrite=True)

    def reopen(self) -> None:
        """Mark a stopped run as running again (``basebench run --resume``): what stopped it
        (run.json's "interrupted" or "engine_lost") moves to "interruptions", and finish_run
        marks it finished when the rest is done."""
        meta = self.meta()
        # A signal, or an engine that went away: either is what stopped it.
        stops = [s for s in (meta.pop("interrupted", None), meta.pop("engine_lost", None)) if s]
        meta["interruptions"] = [*(meta.get("interruptions") or []), *stops]
        meta["resumed"] = [*(meta.get("resumed") or []), now()]
        meta.update(status="running", finished=None)
        atomic_write_json(self.meta_path, meta, overwrite=True)
        self.resumed = True

    def written(self, stem: str, suffix: str = ".json") -> Path | None:
        """In a resumed run, the file an earlier attempt wrote under ``stem``; else None.

        Each result of a run has a stem of its own (an image's sizes, a series' pyperf file,
        a build round), so one already there is the same result, measured before the signal.
        """
        path = self.measurements_dir / f"{_safe_stem(stem)}{suffix}"
        return path if self.resumed and path.is_file() else None

    def unique_path(self, stem: str, suffix: str = ".json") -> Path:
        """A measurements/ path that does not exist yet (stem, stem-2, stem-3...)."""
        self.measurements_dir.mkdir(parents=True, exist_ok=True)
        safe = _safe_stem(stem)
        path = self.measurements_dir / f"{safe}{suffix}"
        n = 2
        while path.exists():
            path = self.measurements_dir / f"{safe}-{n}{suffix}"
            n += 1
        return path

    def write_measurements(
        self, stem: str, measurements: Iterable[Measurement], *, every_attempt: bool = False
    ) -> Path:
        """``every_attempt``: each attempt of a resumed run writes its own (host probes)."""
        rows = [m.as_dict() for m in measurements]
        payload = {"format": MEASUREMENTS_FORMAT, "run": self.run_id, "rows": rows}
        earlier = None if every_attempt else self.written(stem)
        return earlier or atomic_write_json(self.unique_path(stem), payload)

    def write_resolved(self, stem: str, sets: Iterable[Mapping[str, Any]]) -> Path:
        payload = {"format": RESOLVED_FORMAT, "run": self.run_id, "sets": list(sets)}
        return self.written(stem) or atomic_write_json(self.unique_path(stem), payload)

    def add_pyperf_file(self, source: Path, stem: str, tags: Tags) -> Path:
        """Copy a pyperf JSON into the run with the tags added as pyperf metadata.

        The file stays a pyperf file (``python -m pyperf compare_to`` reads it); the tags ride
        in metadata keys prefixed ``basebench_``.
        """
        import pyperf

        earlier = self.written(stem)
        if earlier:
            return earlier
        suite = pyperf.BenchmarkSuite.load(str(source))
        metadata = {f"{PYPERF_TAG_PREFIX}{k}": v for k, v in tags.as_dict().items() if v}
        for bench in suite.get_benchmarks():
            bench.update_metadata(metadata)
        target = self.unique_path(stem)
        with tempfile.TemporaryDirectory(dir=self.measurements_dir) as tmp:
            tmp_file = Path(tmp) / "suite.json"
            suite.dump(str(tmp_file))
            atomic_write_bytes(target, tmp_file.read_bytes())
        return target

    def add_pytest_benchmark_file(self, source: Path, stem: str) -> Path:
        """Adopt a pytest-benchmark JSON (tags are in each benchmark's extra_info)."""
        return self.written(stem) or atomic_write_bytes(self.unique_path(stem), source.read_bytes())


def _safe_stem(stem: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in stem)


class ResultStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def create_run(self, *, config: Mapping[str, Any], host: Mapping[str, Any]) -> Run:
        self.root.mkdir(parents=True, exist_ok=True)
        for _ in range(20):
            directory = self.root / new_run_id()
            try:
                directory.mkdir()  # exclusive: a run never shares another run's folder
            except FileExistsError:
                continue
            break
        else:  # pragma: no cover - 20 collisions of a random suffix within a second
            raise UserError(f"could not create a new run folder under {self.root}")
        from basebench import __version__

        meta = {
            "format": RUN_FORMAT,
            "run_id": directory.name,
            "started": now(),
            "finished": None,
            "status": "running",
            "basebench_version": __version__,
            "git_commit": _git_commit(),
            "host": dict(host),
            "config": dict(config),
            "images": {},
        }
        atomic_write_json(directory / "run.json", meta)
        return Run(directory)

    def runs(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if (p / "run.json").is_file())


def finish_run(run: Run, status: str = "finished", **extra: Any) -> None:
    run.update_meta(finished=now(), status=status, **extra)


def now() -> str:
    """The local time as run.json writes it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _git_commit() -> str:
    import subprocess

    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            cwd=Path(__file__).resolve().parent,
        )
    except OSError:
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def read_run_meta(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / "run.json"
    try:
        meta: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{run_dir} is not a basebench run (no run.json)") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise UserError(
            f"{path}: not a basebench run.json (a JSON {type(meta).__name__}, not an object)"
        )
    if meta.get("format") != RUN_FORMAT:
        raise UserError(f"{path}: unknown format {meta.get('format')!r}, expected {RUN_FORMAT}")
    return meta


def latest_validation(results_root: Path, cpu_model: str) -> dict[str, Any] | None:
    """The newest ``basebench validate`` record of a host with ``cpu_model`` under
    ``results_root`` (its run.json's "validation", plus "run_id"), or None."""
    if not results_root.is_dir():
        return None
    for run_dir in sorted(results_root.iterdir(), reverse=True):  # run ids start with the time
        if not (run_dir / "run.json").is_file():
            continue  # results/README.md, a folder that is not a run
        try:
            meta = read_run_meta(run_dir)
        except UserError:
            continue
        validation = meta.get("validation")
        if isinstance(validation, dict) and (meta.get("host") or {}).get("cpu_model") == cpu_model:
            return {**validation, "run_id": meta.get("run_id", run_dir.name)}
    return None


def _rows_from_measurements(run: str, data: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    # Each value is one repetition (a build, an install, a start-up, a load test): its own round.
    for row in data.get("rows", []):
        for i, value in enumerate(row["values"]):
            yield {
                "run": run,
                "group": row["group"],
                "benchmark": row["benchmark"],
                **{k: str(row.get(k, "")) for k in TAG_COLUMNS},
                "metric": row["metric"],
                "value": float(value),
                "unit": row["unit"],
                "sample": i,
                "round": i,
                "detail": row.get("detail", ""),
            }


def pyperf_run_rounds(runs: Sequence[bool], metadata: Mapping[str, Any]) -> list[int]:
    """The round (container invocation) of each pyperf run; ``runs[i]``: run i has values.

    ``basebench_round_runs`` gives the file's run count after each round (calibration runs,
    which have no values, count too). Older files only say how many rounds
    (``basebench_rounds``): the runs with values are split evenly, in order, into that many,
    and a run without values joins the round of the next run with values. Without either,
    each run is its own round.
    """
    cumulative = str(metadata.get(f"{PYPERF_TAG_PREFIX}{ROUND_RUNS_KEY}", "") or "")
    if cumulative.strip():
        ends = [int(part) for part in cumulative.split(",") if part.strip()]
        return [bisect.bisect_right(ends, i) for i in range(len(runs))]
    count = int(metadata.get(f"{PYPERF_TAG_PREFIX}{ROUNDS_KEY}", 0) or 0)
    valued = [i for i, has_values in enumerate(runs) if has_values]
    if count <= 0 or not valued:
        return list(range(len(runs)))
    round_of = {run: j * count // len(valued) for j, run in enumerate(valued)}
    rounds, following = [0] * len(runs), count - 1
    for i in reversed(range(len(runs))):
        following = round_of.get(i, following)
        rounds[i] = following
    return rounds


def _rows_from_pyperf(run: str, path: Path) -> Iterator[dict[str, Any]]:
    import pyperf

    suite = pyperf.BenchmarkSuite.load(str(path))
    for bench in suite.get_benchmarks():
        meta = bench.get_metadata()
        tags = {k: str(meta.get(f"{PYPERF_TAG_PREFIX}{k}", "")) for k in TAG_COLUMNS}
        # pyperf's own stability warnings ride with every row of the file they concern.
        warnings = str(meta.get(f"{PYPERF_TAG_PREFIX}{PYPERF_WARNINGS_KEY}", ""))
        base = {
            "run": run,
            "group": str(meta.get(f"{PYPERF_TAG_PREFIX}group", "runtime")),
            "benchmark": bench.get_name(),
            **tags,
            "detail": "" if warnings in ("", "none") else warnings,
        }
        unit = bench.get_unit()
        runs = bench.get_runs()
        rounds = pyperf_run_rounds([bool(r.values) for r in runs], meta)
        values = [(v, k) for r, k in zip(runs, rounds, strict=True) for v in r.values]
        for i, (value, round_id) in enumerate(values):
            yield {
                **base,
                "metric": "time" if unit == "second" else unit,
                "value": float(value),
                "unit": {"second": "s", "byte": "bytes", "integer": "count"}.get(unit, unit),
                "sample": i,
                "round": round_id,
            }
        rss = [(r.get_metadata().get("mem_max_rss"), k) for r, k in zip(runs, rounds, strict=True)]
        for i, (value, round_id) in enumerate((v, k) for v, k in rss if v):
            yield {
                **base,
                "metric": "mem_max_rss",
                "value": float(value),
                "unit": "bytes",
                "sample": i,
                "round": round_id,
            }


def _rows_from_pytest_benchmark(run: str, data: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    # Each timed value is one repetition of the step: its own round. The build group runs one
    # file per round (interleaved across variants) and says which in extra_info["round"];
    # older files hold all their rounds in one benchmark.
    for bench in data.get("benchmarks", []):
        extra = bench.get("extra_info", {})
        first = int(extra.get("round", 0))
        stats = bench.get("stats", {})
        values = stats.get("data") or [stats.get("median")]
        base = {
            "run": run,
            "group": extra.get("group") or bench.get("group") or "build",
            "benchmark": extra.get("benchmark") or bench.get("name"),
            **{k: str(extra.get(k, "")) for k in TAG_COLUMNS},
            "detail": str(extra.get("detail", "")),
        }
        for i, value in enumerate(v for v in values if v is not None):
            yield {
                **base,
                "metric": extra.get("metric", "wall_time"),
                "value": float(value),
                "unit": "s",
                "sample": first + i,
                "round": first + i,
            }
        # Numbers that are not a time (download time measured separately, sizes...).
        for key, value in (extra.get("metrics") or {}).items():
            yield {
                **base,
                "metric": key,
                "value": float(value["value"]),
                "unit": value["unit"],
                "sample": first,
                "round": first,
            }


def _measurement_files(run_dir: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    measurements = Path(run_dir) / "measurements"
    if not measurements.is_dir():
        return
    for path in sorted(measurements.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise UserError(f"{path}: not a measurement file (a JSON {type(data).__name__})")
        yield path, data


def load_resolved(run_dirs: Sequence[Path]) -> list[dict[str, Any]]:
    """Every resolved set the runs stored (``basebench.resolved/1``), each with its run id."""
    sets: list[dict[str, Any]] = []
    for run_dir in run_dirs:
        for _path, data in _measurement_files(run_dir):
            if data.get("format") == RESOLVED_FORMAT:
                run = str(data.get("run", Path(run_dir).name))
                sets += [{**s, "run": run} for s in data.get("sets", []) if isinstance(s, dict)]
    return sets


def load_run_rows(run_dir: Path) -> Iterator[dict[str, Any]]:
    meta = read_run_meta(run_dir)
    run = meta["run_id"]
    for path, data in _measurement_files(run_dir):
        if data.get("format") == RESOLVED_FORMAT:
            continue  # no values: load_resolved reads it
        if data.get("format") == MEASUREMENTS_FORMAT:
            yield from _rows_from_measurements(run, data)
        elif "machine_info" in data and "benchmarks" in data:
            yield from _rows_from_pytest_benchmark(run, data)
        elif "benchmarks" in data and "version" in data:
            yield from _rows_from_pyperf(run, path)
        else:
            raise UserError(f"{path}: not a measurement format basebench knows")


def load_runs(run_dirs: Sequence[Path]) -> pd.DataFrame:
    """One tidy DataFrame, one row per measured value, from any number of runs."""
    rows: list[dict[str, Any]] = []
    for run_dir in run_dirs:
        rows.extend(load_run_rows(Path(run_dir)))
    frame = pd.DataFrame(rows, columns=list(TIDY_COLUMNS))
    frame["value"] = frame["value"].astype(float)
    frame["sample"] = frame["sample"].astype(int)
    frame["round"] = frame["round"].astype(int)
    return frame
