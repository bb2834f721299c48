"""The one place that talks to Docker.

docker-py drives the engine API (containers, images, inspect, sizes, removal). Builds go through a
docker CLI, because docker-py's ``images.build()`` only speaks the classic builder and we need
BuildKit (secrets, cache mounts, multi-stage targets). Every object the suite creates carries the
label ``org.basebench.managed=true`` so that ``basebench clean`` can remove exactly those.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import docker
import docker.errors
import requests.exceptions
from docker.models.containers import Container
from docker.utils import parse_repository_tag

from basebench import stopping
from basebench.errors import (
    BuildFailed,
    EngineLost,
    EngineUnavailable,
    MeasurementFailed,
    UserError,
)
from basebench.labels import KIND as KIND_LABEL
from basebench.labels import MANAGED as MANAGED_LABEL
from basebench.labels import OBJECT as OBJECT_LABEL
from basebench.labels import REF as REF_LABEL
from basebench.labels import RUN as RUN_LABEL
from basebench.limits import Limits
from basebench.netconf import CA_SECRET_ID, PROXY_SECRET_ID, NetworkSettings
from basebench.paths import new_log_path

MANAGED_FILTER = f"{MANAGED_LABEL}=true"

#: What docker-py and the docker CLI use when DOCKER_HOST is not set.
DEFAULT_ENGINE = "unix:///var/run/docker.sock"

#: What a container may reach. "none": nothing but its own loopback (every measured workload);
#: "index": the package index and the distribution's mirror, through the run's network mode
#: (downloads, package managers); "host": the host's network itself (an HTTP server the load
#: generator on the host reaches at 127.0.0.1, with no NAT in the measured path).
ContainerNetwork = Literal["none", "index", "host"]

#: The user of containers that need no root: nobody and nogroup in Debian and Alpine alike; a
#: number, so it needs no passwd entry in the image.
UNPRIVILEGED_USER = "65534:65534"

#: What a package manager running as root needs once every capability is dropped: apt and dpkg
#: change owners and modes of the files they unpack and drop to the _apt user to download.
PACKAGE_MANAGER_CAPS = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "SETUID", "SETGID")

#: The limits of a container nobody configured any for (builds of sdists, probes): its CPU quota
#: is the engine's CPU count, filled in when the engine is asked.
DEFAULT_CEILING = Limits(memory="4g", pids=512)

#: The exit code a timed-out container is given (it is killed: SIGKILL, like the shell's 137).
TIMEOUT_EXIT = 137

BUILD_LOG_TAIL_LINES = 25


# --------------------------------------------------------------------------------------------
# Finding a CLI that can do BuildKit builds
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildKitCLI:
    path: str
    version: str
    how: str  # "buildx plugin" or "built-in BuildKit (DOCKER_BUILDKIT=1)"

    def environment(self) -> dict[str, str]:
        """The environment of every call of this CLI: the engine docker-py talks to, named."""
        env = dict(os.environ)
        # docker-py reads DOCKER_HOST only; the CLI would follow a docker context (`docker
        # context use`) where DOCKER_HOST is unset, and build on another engine than the one
        # the suite inspects and runs. DOCKER_HOST outranks any context in the CLI.
        env.pop("DOCKER_CONTEXT", None)
        env["DOCKER_HOST"] = engine_address()
        # Harmless with buildx, required for the 20.10 CLI's built-in BuildKit.
        env["DOCKER_BUILDKIT"] = "1"
        return env


def engine_address() -> str:
    """The engine every call goes to: ``DOCKER_HOST`` as docker-py reads it, else the default."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_ENGINE


def _cli_candidates() -> list[str]:
    """BASEBENCH_DOCKER_CLI first, then every ``docker`` on PATH, then Debian's /usr/bin/docker."""
    seen: list[str] = []
    explicit = os.environ.get("BASEBENCH_DOCKER_CLI")
    if explicit:
        seen.append(explicit)
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(directory or ".", "docker")
        if os.access(candidate, os.X_OK) and os.path.realpath(candidate) not in {
            os.path.realpath(p) for p in seen
        }:
            seen.append(candidate)
    if os.access("/usr/bin/docker", os.X_OK) and "/usr/bin/docker" not in seen:
        seen.append("/usr/bin/docker")
    return seen


def _quiet(cmd: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(cmd), capture_output=True, text=True, timeout=30, check=False, stdin=subprocess.DEVNULL
    )


def check_buildkit_cli(path: str) -> BuildKitCLI | str:
    """A usable CLI, or a sentence saying why this one cannot do BuildKit."""
    try:
        version_run = _quiet([path, "version", "--format", "{{.Client.Version}}"])
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{path}: cannot run ({exc})"
    version = version_run.stdout.strip() or "unknown"
    try:
        buildx = _quiet([path, "buildx", "version"])
    except (OSError, subprocess.TimeoutExpired):
        buildx = None
    if buildx is not None and buildx.returncode == 0:
        return BuildKitCLI(path, version, "buildx plugin")
    major = re.match(r"(\d+)\.", version)
    # Before 23.0 the CLI carried BuildKit itself and DOCKER_BUILDKIT=1 switched it on; from 23.0
    # on `docker build` is an alias for buildx and fails without the plugin.
    if major and int(major.group(1)) < 23:
        return BuildKitCLI(path, version, "built-in BuildKit (DOCKER_BUILDKIT=1)")
    return f"{path} (client {version}) has no buildx plugin"


def find_buildkit_cli() -> BuildKitCLI:
    reasons = []
    for candidate in _cli_candidates():
        found = check_buildkit_cli(candidate)
        if isinstance(found, BuildKitCLI):
            return found
        reasons.append(found)
    tried = "; ".join(reasons) or "no docker CLI on PATH"
    raise EngineUnavailable(
        "no docker CLI here can do BuildKit builds ("
        + tried
        + "). Install the buildx plugin (Debian/Ubuntu: apt-get install docker-buildx, or "
        "docker-buildx-plugin from Docker's repository), or Debian's docker.io whose 20.10 CLI "
        "has BuildKit built in, or point BASEBENCH_DOCKER_CLI at a docker CLI that can."
    )


# --------------------------------------------------------------------------------------------
# Build log parsing: BuildKit's plain progress gives each step a number, a name and a duration.
# --------------------------------------------------------------------------------------------

_STEP_NAME = re.compile(r"^#(\d+) (\[.+)$")
_STEP_DONE = re.compile(r"^#(\d+) DONE (\d+(?:\.\d+)?)s$")
_STEP_CACHED = re.compile(r"^#(\d+) CACHED$")


@dataclass
class StepTiming:
    number: int
    name: str
    seconds: float | None = None
    cached: bool = False


def parse_step_timings(lines: Sequence[str]) -> list[StepTiming]:
    """Per-step durations from ``--progress=plain`` output (steps named ``[stage n/m] INSTR``)."""
    steps: dict[int, StepTiming] = {}
    for raw in lines:
        line = raw.rstrip("\n")
        if m := _STEP_NAME.match(line):
            number = int(m.group(1))
            steps.setdefault(number, StepTiming(number, m.group(2)))
        elif m := _STEP_DONE.match(line):
            number = int(m.group(1))
            if number in steps:
                steps[number].seconds = float(m.group(2))
        elif m := _STEP_CACHED.match(line):
            number = int(m.group(1))
            if number in steps:
                steps[number].cached = True
    return sorted(steps.values(), key=lambda s: s.number)


#: A line of a RUN step's output: "#12 34.567 text" (seconds since the step started).
_STEP_OUTPUT = re.compile(r"^#(\d+) (\d+(?:\.\d+)?) (.*)$")
_STEP_ERROR = re.compile(r"^#(\d+) ERROR")
_STEP_FIRST = re.compile(r"^#(\d+) (.+)$")
#: A phase marker a recipe script echoes ("== configure", "== building openssl from ..."):
#: lower case and no colon, unlike the "== CPython 3.13.5 ...", "== cwd: ..." header that
#: CPython's test runner prints during a PGO training run.
PHASE_MARKER = re.compile(r"^== ([a-z][^:]*?)(?: from .*)?$")
#: Lines of CPython's own Makefile that start the long phases of ``make`` with
#: --enable-optimizations (PGO); ``in`` the line, as make echoes the training command with
#: its environment in front ("LD_LIBRARY_PATH=... ./python -m test --pgo ... || true").
UPSTREAM_PHASES = {
    "Running code to generate profile data": "make: PGO instrumented build",
    "./python -m test --pgo": "make: PGO training run (CPython's test suite)",
    "Rebuilding with profile guided optimizations": "make: PGO rebuild",
}


def phase_of(text: str) -> str | None:
    """The phase a build's output line starts, or None."""
    text = text.strip()
    if marker := PHASE_MARKER.match(text):
        return marker.group(1)
    for needle, phase in UPSTREAM_PHASES.items():
        if needle in text:
            return phase
    return None


@dataclass(frozen=True)
class PhaseEvent:
    """A phase of a build starting or ending, from BuildKit's plain progress output.

    A phase is a step that printed output (a RUN step), or the part of one between two phase
    markers. ``seconds`` (on "end") is BuildKit's own clock: the step's timestamps and DONE.
    """

    kind: str  # "start" or "end" ("failed" when the step ended in an error)
    step: str  # the step's name, "[stage n/m] RUN ..."
    phase: str  # the marker's text, "" before any marker
    seconds: float = 0.0


@dataclass
class _RunningStep:
    name: str
    phase: str = ""
    phase_started: float = 0.0
    started: bool = False
    cached: bool = False


class PlainLogPhases:
    """Follows ``--progress=plain`` output line by line and says when phases start and end.

    Steps of different stages may run at once and their lines interleave; each is followed by
    its own number. A cached step prints no output and so has no phase.
    """

    def __init__(self) -> None:
        self.steps: dict[int, _RunningStep] = {}

    def feed(self, line: str) -> list[PhaseEvent]:
        line = line.rstrip("\n")
        if m := _STEP_DONE.match(line):
            return self._end(int(m.group(1)), float(m.group(2)), "end")
        if m := _STEP_CACHED.match(line):
            self.steps.setdefault(int(m.group(1)), _RunningStep(f"#{m.group(1)}")).cached = True
            return []
        if m := _STEP_ERROR.match(line):
            step = self.steps.get(int(m.group(1)))
            return self._end(int(m.group(1)), step.phase_started if step else 0.0, "failed")
        if m := _STEP_OUTPUT.match(line):
            return self._output(int(m.group(1)), float(m.group(2)), m.group(3))
        if (m := _STEP_FIRST.match(line)) and int(m.group(1)) not in self.steps:
            self.steps[int(m.group(1))] = _RunningStep(m.group(2))
        return []

    def _output(self, number: int, at: float, text: str) -> list[PhaseEvent]:
        step = self.steps.setdefault(number, _RunningStep(f"#{number}"))
        phase = phase_of(text)
        events: list[PhaseEvent] = []
        if phase is not None and step.started:
            events += self._end(number, at, "end", keep=True)
        if phase is not None or not step.started:
            step.phase = phase or ""
            step.phase_started = at if phase is not None else 0.0
            step.started = True
            events.append(PhaseEvent("start", step.name, step.phase))
        return events

    def _end(self, number: int, at: float, kind: str, keep: bool = False) -> list[PhaseEvent]:
        step = self.steps.get(number)
        if step is None or not step.started:
            return []
        step.started = keep
        return [PhaseEvent(kind, step.name, step.phase, max(0.0, at - step.phase_started))]


class Observer:
    """What the engine tells a person watching: long steps and the phases of each build.

    The default says nothing; ``basebench.measure._progress.ConsoleObserver`` prints them.
    """

    @contextmanager
    def long_step(self, key: str, what: str, log_path: Path | None = None) -> Iterator[None]:
        """A long step other than a build (debootstrap): ``key`` is its identity on this
        machine (never a run id), for an estimate from its previous duration."""
        yield

    @contextmanager
    def build(self, identity: str, log_path: Path) -> Iterator[Callable[[str], None]]:
        """A build: the context gives the function each line of its output is fed to."""
        yield lambda line: None


@dataclass
class BuildResult:
    tag: str
    image_id: str
    log_path: Path
    seconds: float
    steps: list[StepTiming] = field(default_factory=list)


@dataclass
class RunResult:
    exit_code: int
    output: str
    seconds: float
    #: Why the container did not end by itself ("" when it did): out of memory, timed out.
    killed: str = ""
    #: The container's output, kept in a file when it failed ("" when it did not fail).
    log_path: str = ""

    @property
    def reason(self) -> str:
        """The failure in a few words: "exit 1", or "exit 137: killed by the OOM killer ..."."""
        return f"exit {self.exit_code}" + (f": {self.killed}" if self.killed else "")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _build_failure(tag: str, code: int, tail: Sequence[str], log_path: Path) -> BuildFailed:
    summary = "\n".join(f"    {t}" for t in tail)
    # BuildKit marks the failing step "#N ERROR: ..."; that line says what went wrong, so it
    # leads the message (the first line is what one-line summaries show).
    errors = [t for t in tail if re.match(r"^(#\d+ )?ERROR[: ]", t)]
    reason = f": {errors[-1]}" if errors else ""
    return BuildFailed(
        f"docker build of {tag} failed (exit {code}){reason}\nLast lines:\n{summary}\n"
        f"  full log: {log_path}",
        str(log_path),
    )


@dataclass(frozen=True)
class PullResult:
    reference: str
    seconds: float  # request to last layer extracted: download plus extraction
    layers_downloaded: int
    layers_present: int  # layers the engine already had (shared with another image)
    image_id: str


#: The engine reports the kernel's machine name; registries use Go's names for architectures.
_GO_ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}


def _label_changes(labels: Mapping[str, str]) -> list[str]:
    """Dockerfile ``LABEL`` instructions for ``docker import``/``commit`` changes."""
    return [f"LABEL {k}={json.dumps(v)}" for k, v in labels.items()]


# --------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------


def connect() -> docker.DockerClient:
    """docker-py client from the environment (DOCKER_HOST etc.), or a clear error."""
    try:
        client = docker.from_env(timeout=300)
        client.ping()
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(
            f"no Docker engine answers at {engine_address()} ({exc}). Start it (Debian/Ubuntu: "
            "apt-get install docker.io, then `dockerd &` or `systemctl start docker`; "
            "Docker Desktop: start the app) or set DOCKER_HOST."
        ) from None
    return client


class Engine:
    def __init__(
        self,
        *,
        network: NetworkSettings | None = None,
        run_id: str = "",
        log_dir: Path | None = None,
        client: docker.DockerClient | None = None,
        ceiling: Limits = DEFAULT_CEILING,
    ) -> None:
        self.client = client or connect()
        self.network = network or NetworkSettings()
        #: The memory and process limits of containers whose caller sets none (CPU: all of
        #: the engine's CPUs), see :meth:`Limits.within`.
        self.ceiling = ceiling
        self.run_id = run_id
        self.log_dir = log_dir or Path(".basebench/logs")
        self._cli: BuildKitCLI | None = None
        #: Told about long steps and build phases (a console for a person watching).
        self.observer = Observer()

    # -- labels --------------------------------------------------------------------------

    def labels(
        self,
        kind: str,
        extra: Mapping[str, str] | None = None,
        *,
        ref: str = "",
        obj: str = "",
    ) -> dict[str, str]:
        """Labels for a new object: ``ref`` for images (their tag), ``obj`` for the others."""
        labels = {MANAGED_LABEL: "true", KIND_LABEL: kind}
        if self.run_id:
            labels[RUN_LABEL] = self.run_id
        if ref:
            labels[REF_LABEL] = ref
        if obj:
            labels[OBJECT_LABEL] = obj
        labels.update(extra or {})
        return labels

    # -- facts -----------------------------------------------------------------------------

    @property
    def cli(self) -> BuildKitCLI:
        if self._cli is None:
            self._cli = find_buildkit_cli()
        return self._cli

    def server_info(self) -> dict[str, Any]:
        info = self.client.info()
        version = self.client.version()
        return {
            "docker_server_version": version.get("Version", "unknown"),
            "api_version": version.get("ApiVersion", "unknown"),
            "storage_driver": info.get("Driver", "unknown"),
            "cgroup_version": info.get("CgroupVersion", "unknown"),
            "cgroup_driver": info.get("CgroupDriver", "unknown"),
            "operating_system": info.get("OperatingSystem", "unknown"),
            "docker_root_dir": info.get("DockerRootDir", ""),
            "ncpu": info.get("NCPU"),
            "mem_total": info.get("MemTotal"),
        }

    def cpu_count(self) -> int:
        """CPUs the engine can give containers (numbered 0..n-1, as --cpuset-cpus counts)."""
        return int(self.client.info().get("NCPU") or os.cpu_count() or 1)

    def answers(self) -> bool:
        """Is the engine still there? (After an error: a refused request or a dead socket.)"""
        try:
            return bool(self.client.ping())
        except (docker.errors.DockerException, requests.exceptions.RequestException, OSError):
            return False

    @contextmanager
    def failures_of(self, what: str) -> Iterator[None]:
        """docker-py's errors said as what they mean for the run: this one operation failed
        (:class:`MeasurementFailed`, the run goes on) or the engine has gone
        (:class:`EngineLost`, the run ends)."""
        try:
            yield
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            if not self.answers():
                raise EngineLost(
                    f"the Docker engine stopped answering ({what}: {_first_line(exc)})"
                ) from None
            if isinstance(exc, docker.errors.ImageNotFound):
                raise UserError(f"{what}: the image does not exist on this engine") from None
            raise MeasurementFailed(f"{what}: engine error: {_first_line(exc)}") from None

    def registry_answers(self, reference: str = "python:3-slim", timeout_s: float = 15.0) -> bool:
        """Does a registry serve ``reference``? Asks for its manifest only; pulls nothing."""
        client = docker.from_env(timeout=int(timeout_s))
        try:
            client.api.inspect_distribution(reference)  # type: ignore[no-untyped-call]
        except (docker.errors.DockerException, OSError):
            return False
        finally:
            client.close()
        return True

    def platform(self) -> tuple[str, str]:
        """(os, architecture) of the engine as registries name them: ("linux", "amd64")."""
        info = self.client.info()
        machine = str(info.get("Architecture", ""))
        return str(info.get("OSType", "linux")), _GO_ARCHITECTURES.get(machine, machine)

    def image_exists(self, reference: str) -> bool:
        try:
            self.client.images.get(reference)
        except docker.errors.ImageNotFound:
            return False
        return True

    def inspect_image(self, reference: str) -> dict[str, Any]:
        try:
            attrs: dict[str, Any] = self.client.images.get(reference).attrs
        except docker.errors.ImageNotFound:
            raise UserError(f"image {reference} does not exist on this engine") from None
        return attrs

    def image_history(self, reference: str) -> list[dict[str, Any]]:
        history: list[dict[str, Any]] = self.client.api.history(reference)  # type: ignore[no-untyped-call]
        return history

    def save_image(self, reference: str) -> Iterator[bytes]:
        """The image as ``docker save`` writes it: a tar stream, in chunks."""
        yield from self.client.images.get(reference).save(named=True)

    def pull(self, reference: str) -> str:
        return self.pull_timed(reference).image_id

    def pull_timed(self, reference: str) -> PullResult:
        """Pull ``reference``, timed from the request to the last layer extracted, and count
        the layers it downloaded and those the engine already had."""
        repository, tag = parse_repository_tag(reference)
        downloaded: set[str] = set()
        present: set[str] = set()
        start = time.perf_counter()
        try:
            events = self.client.api.pull(repository, tag=tag or "latest", stream=True, decode=True)
            for event in events:
                if "error" in event:
                    raise docker.errors.APIError(str(event["error"]))
                status = str(event.get("status", ""))
                if status == "Already exists":
                    present.add(str(event.get("id", "")))
                elif status == "Pull complete":
                    downloaded.add(str(event.get("id", "")))
            seconds = time.perf_counter() - start
            image_id = str(self.client.images.get(reference).id)
        except docker.errors.DockerException as exc:
            raise UserError(
                f"cannot pull {reference}: {exc}. Without a registry use --base-source local."
            ) from None
        return PullResult(reference, seconds, len(downloaded), len(present), image_id)

    def push(self, source: str, target: str) -> str:
        """Push image ``source`` as ``target``; the registry's manifest digest. The ``target``
        name is removed from the engine afterwards (``source`` keeps the image)."""
        if self.image_exists(target):  # a name we would move, then remove: maybe the user's
            raise UserError(
                f"{target} already names an image on this engine: remove it (docker rmi) or "
                "push under another prefix"
            )
        self.client.images.get(source).tag(target)
        repository, tag = parse_repository_tag(target)
        digest = ""
        try:
            for event in self.client.api.push(repository, tag=tag, stream=True, decode=True):
                if "error" in event:
                    raise UserError(f"cannot push {target}: {event['error']}")
                digest = str((event.get("aux") or {}).get("Digest", digest))
        except docker.errors.DockerException as exc:
            raise UserError(f"cannot push {target}: {exc}") from None
        finally:
            self.client.images.remove(target)  # only the name: ``source`` keeps the image
        return digest

    def untag(self, reference: str) -> None:
        """Remove the name ``reference``; the image goes too when no other name holds it."""
        self.client.images.remove(reference)

    # -- builds ----------------------------------------------------------------------------

    def build(
        self,
        context: Path,
        *,
        tag: str,
        kind: str,
        dockerfile: Path | None = None,
        target: str | None = None,
        build_args: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        no_cache: bool = False,
        log_name: str | None = None,
        identity: str | None = None,
    ) -> BuildResult:
        """BuildKit build through the CLI, output streamed to a log file per build.

        ``identity`` names what is built across runs (recipe, target, variant, Python, opt
        level; default ``log_name``): the observer's estimates of its phases are kept under it.
        """
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", log_name or tag)
        log_path = new_log_path(self.log_dir, f"build-{safe}")
        iid_file = log_path.with_suffix(".iid")  # as unique as the log's name
        cmd = [self.cli.path, "build", "--progress=plain", "--tag", tag, "--iidfile", str(iid_file)]
        if self.network.build_mode != "default":
            cmd += ["--network", self.network.build_mode]
        if dockerfile is not None:
            cmd += ["--file", str(dockerfile)]
        if target:
            cmd += ["--target", target]
        if no_cache:
            cmd.append("--no-cache")
        # Never the proxies: a build arg shows in the build log, in `ps`, and in `docker
        # history` as soon as a Dockerfile declares it (ARG HTTP_PROXY). They are a secret.
        for key, value in (build_args or {}).items():
            cmd += ["--build-arg", f"{key}={value}"]
        for key, value in self.labels(kind, labels, ref=tag).items():
            cmd += ["--label", f"{key}={value}"]
        if self.network.ca_bundle is not None:
            cmd += ["--secret", f"id={CA_SECRET_ID},src={self.network.ca_bundle.path}"]
        with (
            self._proxy_secret() as proxy_file,
            self.observer.build(identity or log_name or tag, log_path) as on_line,
        ):
            if proxy_file is not None:
                cmd += ["--secret", f"id={PROXY_SECRET_ID},src={proxy_file}"]
            cmd.append(str(context))
            code, seconds, step_lines, tail = self._stream_build(cmd, log_path, on_line)
            if code != 0:
                if not self.answers():
                    raise EngineLost(f"the Docker engine stopped answering (build of {tag})")
                raise _build_failure(tag, code, tail, log_path)
        image_id = iid_file.read_text().strip()
        iid_file.unlink(missing_ok=True)
        return BuildResult(tag, image_id, log_path, seconds, parse_step_timings(step_lines))

    @contextmanager
    def _proxy_secret(self) -> Iterator[Path | None]:
        """The proxy variables as a BuildKit secret: a file of ``export NAME='value'`` lines
        that the recipes' network steps source (images/strategies/scripts/env.sh). Readable by
        this user only, removed when the build ends; None without proxies."""
        if not self.network.proxies:
            yield None
            return
        with tempfile.TemporaryDirectory(prefix="basebench-proxy-") as folder:
            path = Path(folder) / "proxy.sh"
            path.touch(mode=0o600)
            path.write_text(self.network.proxy_script())
            yield path

    def _stream_build(
        self, cmd: Sequence[str], log_path: Path, on_line: Callable[[str], None]
    ) -> tuple[int, float, list[str], deque[str]]:
        """Run ``cmd`` writing its output to ``log_path`` (and each line to ``on_line``):
        (exit code, seconds, BuildKit step lines, the last lines for an error message)."""
        tail: deque[str] = deque(maxlen=BUILD_LOG_TAIL_LINES)
        step_lines: list[str] = []
        start = time.perf_counter()
        with open(log_path, "w", encoding="utf-8") as log:
            log.write("$ " + " ".join(cmd) + "\n")
            log.flush()
            proc = subprocess.Popen(
                list(cmd),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
                env=self.cli.environment(),
            )
            assert proc.stdout is not None
            try:
                for line in proc.stdout:
                    log.write(line)
                    tail.append(line.rstrip("\n"))
                    if line.startswith("#"):
                        step_lines.append(line)
                        on_line(line)
                code = proc.wait()
            except BaseException:
                # Ctrl-C: stop the build too, and keep its log.
                proc.terminate()
                proc.wait(timeout=30)
                raise
        return code, time.perf_counter() - start, step_lines, tail

    def import_rootfs(
        self,
        tar_stream: Any,
        *,
        tag: str,
        labels: Mapping[str, str] | None = None,
        kind: str = "rootfs",
        command: Sequence[str] = ("/bin/bash",),
        env: Mapping[str, str] | None = None,
    ) -> str:
        """``docker import`` a root filesystem tar (a file object or bytes) as a labelled image."""
        repository, _, image_tag = tag.partition(":")
        changes = _label_changes(self.labels(kind, labels, ref=tag))
        changes += [f"ENV {k}={json.dumps(v)}" for k, v in (env or {}).items()]
        changes.append("CMD " + json.dumps(list(command)))
        result = self.client.api.import_image_from_data(
            tar_stream, repository=repository, tag=image_tag or "latest", changes=changes
        )
        return self.inspect_image(tag)["Id"] if result is not None else ""

    def commit_labels(self, source: str, tag: str, labels: Mapping[str, str], *, kind: str) -> str:
        """``tag``: image ``source`` with ``labels`` added, committed from a container that
        never ran. No build: the layers stay exactly ``source``'s, and no BuildKit cache
        keeps a reference to them once the images are gone."""
        # Unlabelled on purpose: a commit copies the container's labels into the image, and
        # the object label must never be on an image (see labels.OBJECT). It lives for
        # milliseconds and is removed whatever happens.
        container = self.client.containers.create(source)
        try:
            repository, image_tag = parse_repository_tag(tag)
            changes = _label_changes(self.labels(kind, labels, ref=tag))
            image = container.commit(repository, image_tag, changes="\n".join(changes))
        finally:
            container.remove(force=True)
        return str(image.id)

    # -- containers ------------------------------------------------------------------------

    def _container_kwargs(
        self,
        *,
        environment: Mapping[str, str] | None,
        volumes: Mapping[str, Mapping[str, str]] | None,
        limits: Limits | None,
        labels: Mapping[str, str] | None,
        kind: str,
        network: ContainerNetwork,
        package_manager: bool,
    ) -> dict[str, Any]:
        """Every container: labelled, limited (memory, processes, CPU), no new privileges,
        every capability dropped but what a package manager needs when it runs one, and no
        network beyond what ``network`` says it needs."""
        if network == "none":  # nothing to reach: no proxy, no CA bundle either
            environment_, mounts = {}, {}
            mode = "none"
        else:
            environment_ = self.network.container_environment()
            mounts = self.network.container_mounts()
            mode = "host" if network == "host" else self.network.mode
        kwargs: dict[str, Any] = {
            "environment": {**environment_, **(environment or {})},
            "volumes": {**mounts, **(volumes or {})},
            "labels": self.labels(kind, labels, obj="container"),
            "security_opt": ["no-new-privileges"],
            "cap_drop": ["ALL"],
            **(limits or Limits()).within(self._ceiling_with_cpus()).docker_kwargs(),
        }
        if package_manager:
            kwargs["cap_add"] = list(PACKAGE_MANAGER_CAPS)
        if mode != "default":
            kwargs["network_mode"] = mode
        return kwargs

    def _ceiling_with_cpus(self) -> Limits:
        """The ceiling, its gaps filled: the defaults, and a CPU quota of every engine CPU."""
        ceiling = self.ceiling.within(DEFAULT_CEILING)
        if not ceiling.cpus and not ceiling.cpuset:
            ceiling = replace(ceiling, cpus=float(self.cpu_count()))
        self.ceiling = ceiling
        return ceiling

    def run(
        self,
        image: str,
        command: Sequence[str],
        *,
        kind: str = "workload",
        environment: Mapping[str, str] | None = None,
        volumes: Mapping[str, Mapping[str, str]] | None = None,
        limits: Limits | None = None,
        labels: Mapping[str, str] | None = None,
        timeout_s: float = 3600.0,
        user: str | None = None,
        workdir: str | None = None,
        hostname: str | None = None,
        network: ContainerNetwork = "none",
        package_manager: bool = False,
    ) -> RunResult:
        """Run a command to completion in a new labelled container, then remove it.

        ``network``: what it reaches (see :data:`ContainerNetwork`; nothing by default);
        ``package_manager``: it runs apt or apk as root. A container killed for its memory
        limit or its timeout gives a result whose ``killed`` says so; a failed one has its
        output in a log file (``log_path``). Engine errors raise :class:`MeasurementFailed`,
        an engine that has gone :class:`EngineLost`."""
        kwargs = self._container_kwargs(
            environment=environment,
            volumes=volumes,
            limits=limits,
            labels=labels,
            kind=kind,
            network=network,
            package_manager=package_manager,
        )
        kwargs.update(
            {
                k: v
                for k, v in (("user", user), ("working_dir", workdir), ("hostname", hostname))
                if v
            }
        )
        what = f"container of {image} ({' '.join(command)[:80]})"
        start = time.perf_counter()
        with self.failures_of(what):
            container: Container | None = None
            try:
                # A stop during the create would leave a container whose id nobody has: it
                # lands once the create returned, and the container is removed below.
                with stopping.deferred():
                    container = self.client.containers.create(image, list(command), **kwargs)
                container.start()
                code, killed = self._wait(container, timeout_s)
                seconds = time.perf_counter() - start
                output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
            finally:
                if container is not None:
                    with suppress(
                        docker.errors.DockerException, requests.exceptions.RequestException
                    ):
                        container.remove(force=True)
        result = RunResult(code, output, seconds, killed)
        if code != 0 or killed:
            result.log_path = str(self._container_log(kind, what, result))
        return result

    def _wait(self, container: Container, timeout_s: float) -> tuple[int, str]:
        """(exit code, why it was killed or ""): the container ends, or is killed at
        ``timeout_s``; the kernel's OOM killer is read from the container's state."""
        try:
            status = container.wait(timeout=timeout_s)
        except requests.exceptions.RequestException:
            # docker-py says a wait that outlived its timeout as a read timeout (a
            # ConnectionError on a unix socket): told apart from an engine that has gone.
            if not self.answers():
                raise
            with suppress(docker.errors.APIError):  # it may have ended meanwhile
                container.kill()
            return TIMEOUT_EXIT, f"timed out after {timeout_s:g} s and killed"
        container.reload()
        state = container.attrs.get("State") or {}
        if state.get("OOMKilled"):
            memory = (container.attrs.get("HostConfig") or {}).get("Memory") or 0
            return int(status.get("StatusCode", -1)), (
                f"killed by the kernel's OOM killer (memory limit {memory / 2**20:g} MiB)"
            )
        return int(status.get("StatusCode", -1)), ""

    def _container_log(self, kind: str, what: str, result: RunResult) -> Path:
        """The output of a failed container, in the run's log folder: the failure's evidence."""
        path = new_log_path(self.log_dir, f"container-{kind}")
        path.write_text(
            f"# {what}\n{result.output}\n[{result.reason}, {result.seconds:.1f} s]\n",
            encoding="utf-8",
        )
        return path

    def start(
        self,
        image: str,
        command: Sequence[str] | None = None,
        *,
        kind: str = "workload",
        environment: Mapping[str, str] | None = None,
        volumes: Mapping[str, Mapping[str, str]] | None = None,
        limits: Limits | None = None,
        labels: Mapping[str, str] | None = None,
        name: str | None = None,
        hostname: str | None = None,
        network: ContainerNetwork = "none",
        user: str | None = None,
    ) -> Container:
        """Start a labelled container in the background (a server); the caller stops it."""
        kwargs = self._container_kwargs(
            environment=environment,
            volumes=volumes,
            limits=limits,
            labels=labels,
            kind=kind,
            network=network,
            package_manager=False,
        )
        if hostname:
            kwargs["hostname"] = hostname
        if user:
            kwargs["user"] = user
        container: Container | None = None
        with self.failures_of(f"server container of {image}"):
            try:
                with stopping.deferred():  # (see run): a stop lands once the container is known
                    container = self.client.containers.run(
                        image, list(command) if command else None, detach=True, name=name, **kwargs
                    )
            except KeyboardInterrupt:
                if container is not None:  # the caller never gets it to stop
                    container.remove(force=True)
                raise
        assert container is not None
        return container

    def create_volume(self, name: str, *, kind: str = "workload") -> str:
        volume = self.client.volumes.create(name=name, labels=self.labels(kind, obj="volume"))
        return str(volume.name)

    # -- clean -----------------------------------------------------------------------------

    def managed(self, run_id: str | None = None) -> dict[str, list[Any]]:
        labels = [MANAGED_FILTER] + ([f"{RUN_LABEL}={run_id}"] if run_id else [])
        with_object: dict[str, str | list[str] | bool] = {"label": [*labels, OBJECT_LABEL]}
        return {
            "containers": self.client.containers.list(all=True, filters=with_object),
            "images": self.client.images.list(filters={"label": labels}),
            "volumes": self.client.volumes.list(filters=with_object),
        }

    def remove_managed(
        self, *, run_id: str | None = None, keep_kinds: Sequence[str] = (), dry_run: bool = False
    ) -> CleanReport:
        """Remove our containers, then volumes, then images; nothing the suite did not create.

        An image is removed only under the tag the suite gave it (REF_LABEL): an image a user
        built FROM ours inherits our labels but not our tag, and an image the user also tagged
        keeps its other names. ``docker rmi`` without force refuses to remove an image that
        containers still use; that is reported, not forced.
        """
        report = CleanReport()
        objects = self.managed(run_id)
        # Listed before any tag is removed: a user's child of one of ours is told apart by
        # the image that has the tag now (see dangling_managed).
        dangling = self.dangling_managed(run_id)
        for container in objects["containers"]:
            if container.labels.get(KIND_LABEL) in keep_kinds:
                continue
            report.removed.append(f"container {container.name}")
            if not dry_run:
                container.remove(force=True)
        for volume in objects["volumes"]:
            labels = volume.attrs.get("Labels") or {}
            if labels.get(KIND_LABEL) in keep_kinds:
                continue
            report.removed.append(f"volume {volume.name}")
            if not dry_run:
                volume.remove(force=True)
        for image in objects["images"]:
            ref = image.labels.get(REF_LABEL, "")
            if ref not in image.tags:
                continue  # not ours: derived from one of our images, or renamed by the user
            if image.labels.get(KIND_LABEL) in keep_kinds:
                report.kept.append(f"image {ref}")
                continue
            try:
                if not dry_run:
                    self.client.images.remove(ref)
                report.removed.append(f"image {ref}")
            except docker.errors.APIError as exc:
                report.kept.append(f"image {ref}: {exc.explanation or exc}")
        for image in dangling:
            if image.labels.get(KIND_LABEL) in keep_kinds:
                continue
            name = f"dangling image {image.short_id} (was {image.labels.get(REF_LABEL)})"
            try:
                if not dry_run:
                    self.client.images.remove(image.id)
                report.removed.append(name)
            except docker.errors.APIError as exc:
                report.kept.append(f"{name}: {exc.explanation or exc}")
        return report

    def dangling_managed(self, run_id: str | None = None) -> list[Any]:
        """Untagged images the suite built whose tag moved on (a rebuild under the same tag).

        Ours: the managed and ref labels, no tag left. An image a user built FROM one of ours
        inherits those labels; while the image its REF names still exists, such a child has
        that image's layers as a strict prefix of its own and is left alone.
        """
        labels = [MANAGED_FILTER, REF_LABEL] + ([f"{RUN_LABEL}={run_id}"] if run_id else [])
        found = self.client.images.list(filters={"label": labels, "dangling": True})
        ours = []
        for image in found:
            if image.tags:
                continue
            parent_layers = self._layers(image.labels.get(REF_LABEL, ""))
            layers = (image.attrs.get("RootFS") or {}).get("Layers") or []
            n = len(parent_layers)
            if n and len(layers) > n and layers[:n] == parent_layers:
                continue  # built FROM the image that now has the tag: a user's child
            ours.append(image)
        return ours

    def _layers(self, reference: str) -> list[str]:
        try:
            attrs = self.client.images.get(reference).attrs
        except (docker.errors.ImageNotFound, docker.errors.APIError):
            return []
        return list((attrs.get("RootFS") or {}).get("Layers") or [])

    def prune_build_cache(self, *, dry_run: bool = False) -> str:
        """``docker builder prune -f`` through the BuildKit CLI: the engine's unused build cache.

        BuildKit's cache carries no labels: this prunes every build's unused cache on the
        engine, not only ours (that is why ``clean`` asks for --include-cache).
        """
        cli = self.cli
        cmd = [cli.path, "builder", "prune", "-f"]
        if dry_run:
            return "would run: " + " ".join(cmd)
        proc = subprocess.run(
            cmd, env=cli.environment(), capture_output=True, text=True, timeout=600, check=False
        )
        if proc.returncode != 0:
            raise UserError(f"{' '.join(cmd)} failed: {(proc.stderr or proc.stdout).strip()}")
        lines = proc.stdout.strip().splitlines()
        return lines[-1] if lines else "build cache pruned"


@dataclass
class CleanReport:
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
