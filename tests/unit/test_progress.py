"""Progress a person can follow: build phases from BuildKit's plain log, estimates by step."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from basebench.cache import JsonCache
from basebench.engine import PhaseEvent, PlainLogPhases
from basebench.measure._progress import (
    BuildProgress,
    ConsoleObserver,
    Progress,
    StepEstimates,
    duration,
    step_label,
)

# An excerpt of a real musl stand-in build log (--progress=plain), with the phase markers that
# build-python.sh and build-musl-deps.sh echo, and source fetch and openssl interleaved as
# BuildKit runs two stages at once.
RECORDED = Path(__file__).parent / "data" / "buildkit-plain-musl.log"


def _events() -> list[PhaseEvent]:
    phases = PlainLogPhases()
    return [event for line in RECORDED.read_text().splitlines() for event in phases.feed(line)]


def _progress(tmp_path: Path) -> Progress:
    console = Console(file=io.StringIO(), record=True, width=400)
    return Progress(console, estimates=StepEstimates(JsonCache("d.json", tmp_path)))


def test_the_recorded_log_gives_each_phase_with_buildkits_durations() -> None:
    ended = {(step_label(e.step), e.phase): e.seconds for e in _events() if e.kind == "end"}
    assert ended[("[source 2/2] fetch-python-source.sh", "")] == 12.4
    assert ended[("[musl-builder 7/11] build-musl-deps.sh openssl", "building openssl")] == (
        141.0 - 0.101
    )
    python = "[musl-builder 10/11] build-python.sh musl"
    assert ended[(python, "configure")] == 21.40 - 0.101
    assert round(ended[(python, "make")], 2) == round(160.3 - 21.40, 2)
    assert round(ended[(python, "install")], 2) == round(200.2 - 160.3, 2)
    # Cached steps print no output: no phase of theirs.
    assert not any("build-musl-deps.sh sqlite" in label for label, _ in ended)


def test_phases_start_before_they_end_and_interleaved_steps_stay_apart() -> None:
    events = _events()
    starts = [(e.step, e.phase) for e in events if e.kind == "start"]
    ends = [(e.step, e.phase) for e in events if e.kind == "end"]
    assert sorted(starts) == sorted(ends)
    for key in ends:
        assert starts.index(key) <= ends.index(key)
    kinds = [(e.kind, step_label(e.step)) for e in events[:4]]
    assert kinds == [
        ("start", "[source 2/2] fetch-python-source.sh"),
        ("start", "[musl-builder 7/11] build-musl-deps.sh openssl"),
        ("end", "[source 2/2] fetch-python-source.sh"),
        ("end", "[musl-builder 7/11] build-musl-deps.sh openssl"),
    ]


def test_a_failed_step_ends_as_failed() -> None:
    phases = PlainLogPhases()
    lines = ["#7 [app 2/3] RUN sh fetch.sh", "#7 0.5 Collecting x", "#7 ERROR: exit code 1"]
    events = [e for line in lines for e in phases.feed(line)]
    assert [e.kind for e in events] == ["start", "failed"]


def test_estimates_come_from_the_previous_duration_of_the_same_step(tmp_path: Path) -> None:
    estimates = StepEstimates(JsonCache("d.json", tmp_path))
    assert estimates.seconds("build:x|step|make") is None
    assert estimates.describe("build:x|step|make") == "no estimate yet"
    estimates.record("build:x|step|make", 150.0)
    again = StepEstimates(JsonCache("d.json", tmp_path))  # another process, later
    assert again.seconds("build:x|step|make") == 150.0
    assert again.describe("build:x|step|make") == "estimate 2:30"


def test_build_phase_lines_name_phase_estimate_and_log(tmp_path: Path) -> None:
    progress = _progress(tmp_path)
    log = tmp_path / "build-local.log"
    watch = BuildProgress(progress, "local-3.13-musl-none", log)
    for line in RECORDED.read_text().splitlines():
        watch.line(line)
    text = progress.console.export_text()
    assert "[musl-builder 10/11] build-python.sh musl · make · no estimate yet · log " in text
    assert f"{log}" in text
    assert "build-python.sh musl · make: done in 2:19" in text
    # A second build of the same identity: estimates from the first; short phases go quiet.
    again = _progress(tmp_path)
    watch = BuildProgress(again, "local-3.13-musl-none", log)
    for line in RECORDED.read_text().splitlines():
        watch.line(line)
    text = again.console.export_text()
    assert "build-python.sh musl · make · estimate 2:19" in text
    assert "[musl 2/2]" not in text  # 3.6 s last time
    # A recipe edit that changes a step's RUN line (a new mount) keeps its estimates.
    edited = _progress(tmp_path)
    watch = BuildProgress(edited, "local-3.13-musl-none", log)
    for line in RECORDED.read_text().splitlines():
        watch.line(line.replace("RUN --mount=", "RUN --mount=type=secret,id=x --mount=", 1))
    assert "build-python.sh musl · make · estimate 2:19" in edited.console.export_text()


def test_a_build_estimate_is_kept_only_for_a_build_that_ran_cold(tmp_path: Path) -> None:
    progress = _progress(tmp_path)
    observer = ConsoleObserver(progress)
    with observer.build("ident", tmp_path / "log") as feed:
        feed("#5 [a 1/2] RUN x")
        feed("#5 CACHED")
    assert progress.estimates.seconds("build:ident") is None
    with observer.build("ident", tmp_path / "log") as feed:
        feed("#5 [a 1/2] RUN x")
        feed("#5 0.1 output")
        feed("#5 DONE 0.2s")
    assert progress.estimates.seconds("build:ident") is not None


def test_group_steps_show_their_estimate_and_log(tmp_path: Path) -> None:
    progress = _progress(tmp_path)
    for _ in range(2):
        with progress.step("runtime", "round 1/3: 12 pyperf runs", log=tmp_path):
            pass
    text = progress.console.export_text()
    assert "round 1/3: 12 pyperf runs · no estimate yet · log " in text
    assert "round 1/3: 12 pyperf runs · estimate 0.0 s · log " in text


def test_durations_read_at_a_glance() -> None:
    assert [duration(s) for s in (4.25, 42.4, 185, 3723)] == ["4.2 s", "42 s", "3:05", "1:02:03"]
