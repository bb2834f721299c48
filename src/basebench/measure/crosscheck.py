"""Cross-checks of basebench's own measurements against independent tools (``basebench validate``).

Each check measures the same thing another way and says whether the two agree within a stated
tolerance:

- start-up: hyperfine (Debian's package) timing ``docker run --rm IMAGE python3 -c ...``
  through the docker CLI for the start-up group's two base commands, against the same
  difference of the group's medians;
- sizes: ``docker image inspect``'s Size against the size group's uncompressed bytes (exact),
  and ``docker save IMAGE | gzip -6 | wc -c`` against the sum of the gzip-compressed layers
  (the archive adds configs, a manifest and tar headers, hence a tolerance);
- runtime: ``python -m pyperf compare_to`` on two runtime files against basebench's ratio.

A check that cannot run (a tool missing) fails with what to install: validation that silently
skips a check proves nothing.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from basebench.engine import Engine
from basebench.limits import Limits
from basebench.measure.startup import IMPORT_STDLIB, PASS, base_commands
from basebench.report.validation import Check

#: The CLI's ``docker run --rm`` makes more API calls than basebench's docker-py path (attach,
#: remove before exiting) and starts a Go program each time: its medians carry a fixed extra
#: (30-60 ms seen here). So hyperfine is held to the *difference* between two commands on one
#: image, where that extra cancels: the time the stdlib imports add, within this fraction (or
#: HYPERFINE_SLACK_S, whichever is larger). hyperfine runs minutes after the suite measured, not
#: interleaved with it, and this shared host's speed moves by 10-15 % between such phases (the
#: A/A across runs sees it): the tolerance is wider than that.
HYPERFINE_TOLERANCE = 0.20
HYPERFINE_SLACK_S = 0.010
#: The whole `docker save` archive (configs, manifest, tar headers) against the layers alone.
SAVE_GZIP_TOLERANCE = 0.05
#: pyperf compares means, basebench medians: on a skewed series they differ a little.
PYPERF_TOLERANCE = 0.05


def within(measured: float, expected: float, tolerance: float) -> bool:
    return expected > 0 and abs(measured / expected - 1.0) <= tolerance


def hyperfine_startup(
    engine: Engine, image: str, limits: Limits, suite_medians: dict[str, float], runs: int = 15
) -> Check:
    """hyperfine on ``docker run --rm IMAGE python3 -c ...`` for the start-up group's two base
    commands: the time the stdlib imports add must match basebench's (see the tolerance)."""
    name = "start-up vs hyperfine (import stdlib minus python -c pass)"
    hyperfine = shutil.which("hyperfine")
    if hyperfine is None:
        return Check("startup", name, False, "hyperfine not installed", "apt-get install hyperfine")
    # As the start-up group runs its containers (Engine.run): no network, no privileges.
    prefix = [engine.cli.path, "run", "--rm", "--network", "none"]
    prefix += ["--security-opt", "no-new-privileges", "--cap-drop", "ALL"]
    if limits.cpuset:
        prefix += ["--cpuset-cpus", limits.cpuset]
    if limits.cpus:
        prefix += ["--cpus", f"{limits.cpus:g}"]
    if limits.memory:
        prefix += ["--memory", limits.memory, "--memory-swap", limits.memory]
    if limits.pids:
        prefix += ["--pids-limit", str(limits.pids)]
    commands = [
        shlex.join([*prefix, image, *base_commands()[key]]) for key in (PASS, IMPORT_STDLIB)
    ]
    with tempfile.TemporaryDirectory(prefix="basebench-hyperfine-") as tmp:
        out = Path(tmp) / "hyperfine.json"
        options = ["-N", "--warmup", "2", "--runs", str(runs), "--style", "none"]
        proc = subprocess.run(
            [hyperfine, *options, "--export-json", str(out), *commands],
            env=engine.cli.environment(),  # hyperfine's children are docker CLI calls
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if proc.returncode != 0 or not out.is_file():
            tail = (proc.stderr or proc.stdout).strip()[-300:]
            return Check("startup", name, False, f"hyperfine failed: {tail}", "two medians")
        pass_s, stdlib_s = (float(r["median"]) for r in json.loads(out.read_text())["results"])
    theirs = stdlib_s - pass_s
    ours = suite_medians[IMPORT_STDLIB] - suite_medians[PASS]
    allowed = max(HYPERFINE_TOLERANCE * abs(ours), HYPERFINE_SLACK_S)
    return Check(
        "startup",
        name,
        abs(theirs - ours) <= allowed,
        f"hyperfine {theirs * 1000:.0f} ms ({stdlib_s * 1000:.0f} - {pass_s * 1000:.0f} ms; "
        f"the CLI's own extra: {(pass_s - suite_medians[PASS]) * 1000:+.0f} ms)",
        f"basebench {ours * 1000:.0f} ms ± {allowed * 1000:.0f} ms",
    )


def inspect_size(engine: Engine, image: str, suite_uncompressed: float) -> Check:
    size = int(engine.inspect_image(image)["Size"])
    return Check(
        "size",
        "uncompressed vs docker image inspect",
        size == int(suite_uncompressed),
        f"inspect Size {size} bytes",
        f"basebench {int(suite_uncompressed)} bytes, exactly",
    )


def save_gzip_size(engine: Engine, image: str, suite_compressed: float) -> Check:
    """``docker save IMAGE | gzip -6 | wc -c`` through the CLI and the gzip program."""
    name = "compressed vs docker save | gzip -6"
    gzip = shutil.which("gzip")
    if gzip is None:
        return Check("size", name, False, "gzip not installed", "apt-get install gzip")
    save = subprocess.Popen(
        [engine.cli.path, "save", image],
        env=engine.cli.environment(),
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert save.stdout is not None
    compressed = subprocess.run(
        [gzip, "-6", "-c"], stdin=save.stdout, capture_output=True, check=False, timeout=1800
    )
    save.stdout.close()
    if save.wait() != 0 or compressed.returncode != 0:
        return Check("size", name, False, "docker save or gzip failed", "an archive size")
    total = len(compressed.stdout)
    return Check(
        "size",
        name,
        within(total, suite_compressed, SAVE_GZIP_TOLERANCE),
        f"whole archive {total} bytes",
        f"sum of layers {int(suite_compressed)} bytes ± {SAVE_GZIP_TOLERANCE:.0%}",
    )


_PYPERF_RATIO = re.compile(r"([0-9.]+)x (slower|faster)")


def pyperf_compare(reference: Path, other: Path, suite_ratio: float, workload: str) -> Check:
    """``python -m pyperf compare_to REFERENCE OTHER``'s ratio vs basebench's (other/reference)."""
    name = f"{workload}: ratio vs pyperf compare_to"
    proc = subprocess.run(
        [sys.executable, "-m", "pyperf", "compare_to", str(reference), str(other)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    text = proc.stdout + proc.stderr
    match = _PYPERF_RATIO.search(text)
    if "Not significant" in text and match is None:
        pyperf_ratio = 1.0
    elif match is None:
        return Check("runtime", name, False, f"no ratio in: {text.strip()[-200:]}", "a ratio")
    else:
        value = float(match.group(1))
        pyperf_ratio = value if match.group(2) == "slower" else 1.0 / value
    return Check(
        "runtime",
        name,
        within(suite_ratio, pyperf_ratio, PYPERF_TOLERANCE),
        f"basebench {suite_ratio:.3f}x",
        f"pyperf {pyperf_ratio:.3f}x ± {PYPERF_TOLERANCE:.0%}",
    )
