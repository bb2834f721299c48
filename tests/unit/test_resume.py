"""Results per round and ``basebench run --resume``: the bookkeeping, with fakes.

What a group saves after each round, what an interrupted run is said to be missing, when a
resume is refused, and that a resumed group measures only the rounds it had not finished.
"""

from __future__ import annotations

import json
import os
import signal
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeEngine, allocator, base_image, make_context, workload, workload_image

from basebench.checkpoints import GroupCheckpoints, config_changes, image_changes, missing
from basebench.cli import build_parser
from basebench.commands.run import invocation, refuse_resume, resumed_config
from basebench.config import Config
from basebench.engine import RunResult
from basebench.errors import UserError
from basebench.measure import runtime, startup
from basebench.measure.installs import Outcome, outcome_from_dict
from basebench.report.build import run_status
from basebench.results import Measurement, ResultExists, ResultStore, Tags, read_run_meta
from basebench.stopping import Stopped
from basebench.variants import load_catalogue


def test_each_round_is_saved_once_and_the_last_one_is_read(tmp_path: Path) -> None:
    checkpoints = GroupCheckpoints(tmp_path, "startup")
    assert checkpoints.last() is None and checkpoints.resume_from().done == 0
    checkpoints.save(1, 3, {"samples": [1.0]})
    checkpoints.save(2, 3, {"samples": [1.0, 2.0]})
    last = checkpoints.last()
    assert last is not None and (last.done, last.total) == (2, 3)
    assert last.state == {"samples": [1.0, 2.0]}
    with pytest.raises(ResultExists):
        checkpoints.save(2, 3, {"samples": []})  # a finished round is never replaced
    assert not checkpoints.finished
    checkpoints.finish()
    assert checkpoints.finished


def test_missing_names_the_rounds_and_cells_of_each_unfinished_group(tmp_path: Path) -> None:
    GroupCheckpoints(tmp_path, "size").finish()
    GroupCheckpoints(tmp_path, "startup").save(3, 15, {})
    GroupCheckpoints(tmp_path, "install").save(2, 2, {})
    GroupCheckpoints(tmp_path, "build").save(2, 3, {})
    cells = ["3.13-slim-trixie", "3.13-alpine"]
    lines = missing(tmp_path, ["size", "startup", "build", "install", "runtime"], cells)
    assert lines == [
        "startup: rounds 4-15 of 15 missing (3.13-slim-trixie, 3.13-alpine)",
        "build: round 3 of 3 missing (3.13-slim-trixie, 3.13-alpine)",
        "install: all 2 rounds done, results not yet written",
        "runtime: not measured (3.13-slim-trixie, 3.13-alpine)",
    ]
    GroupCheckpoints(tmp_path, "startup").finish()
    assert missing(tmp_path, ["size", "startup"], cells) == []


def test_files_saved_with_a_round_are_kept_for_the_last_round_only(tmp_path: Path) -> None:
    checkpoints = GroupCheckpoints(tmp_path / "run", "runtime")
    pyperf_file = tmp_path / "w.json"
    for done in (1, 2):
        pyperf_file.write_text(json.dumps({"runs": done}))
        checkpoints.save_with_files(done, 4, {"jobs": {}}, [pyperf_file])
    last = checkpoints.last()
    assert last is not None and last.done == 2
    [kept] = checkpoints.files_of(last)
    assert json.loads(kept.read_text()) == {"runs": 2}
    # Round 1's copy was a prefix of round 2's: gone; its checkpoint stays.
    assert not checkpoints.round_path(1).with_suffix("").exists()
    assert checkpoints.round_path(1).is_file()
    # Once the group wrote its results, the copies have no use left.
    checkpoints.finish()
    assert not checkpoints.round_path(2).with_suffix("").exists()
    assert checkpoints.round_path(2).is_file()


def test_a_changed_configuration_is_named_field_by_field() -> None:
    recorded = json.loads(json.dumps(Config(rounds=3).as_dict()))
    assert config_changes(recorded, Config(rounds=3).as_dict()) == []
    [problem] = config_changes(recorded, Config(rounds=5).as_dict())
    assert problem == "the configuration changed (rounds: 3 then, 5 now)"


def test_a_base_image_that_is_gone_or_another_image_is_named() -> None:
    recorded = {
        "basebench/local:3.13-alpine": {"image_id": "sha256:aaa"},
        "basebench/local:3.13-slim-trixie": {"image_id": "sha256:bbb"},
        "basebench/local:3.13-trixie": {"image_id": "sha256:ccc"},
    }
    now = {"basebench/local:3.13-slim-trixie": "sha256:bbb", "basebench/local:3.13-trixie": "x"}
    assert image_changes(recorded, now.get) == [
        "base image basebench/local:3.13-alpine is gone",
        "base image basebench/local:3.13-trixie changed (sha256:ccc then, x now)",
    ]
    # A base the run pulled itself may be gone (a pull round untags it): pulled again later.
    pulled = {"python:3.13-alpine": {"image_id": "sha256:aaa", "pulled_by_basebench": True}}
    assert image_changes(pulled, now.get) == []


class _InspectingEngine(FakeEngine):
    def __init__(self, ids: dict[str, str]) -> None:
        super().__init__(existing=list(ids))
        self.ids = ids

    def inspect_image(self, reference: str) -> dict[str, Any]:
        return {"Id": self.ids[reference]}


def _interrupted_meta(config: Config, images: dict[str, str]) -> dict[str, Any]:
    return {
        "run_id": "r1",
        "status": "interrupted",
        "finished": "2026-01-01T10:00:00+0000",
        "config": json.loads(json.dumps(config.as_dict())),
        "images": {ref: {"image_id": image_id} for ref, image_id in images.items()},
    }


def test_resume_is_refused_in_one_line_when_anything_changed() -> None:
    images = {"basebench/local:3.13-slim-trixie": "sha256:bbb"}
    meta = _interrupted_meta(Config(rounds=3), images)
    refuse_resume(meta, Config(rounds=3), _InspectingEngine(images))  # nothing changed
    with pytest.raises(UserError, match=r"^cannot resume run r1: the configuration changed"):
        refuse_resume(meta, Config(rounds=4), _InspectingEngine(images))
    changed = {"basebench/local:3.13-slim-trixie": "sha256:new"}
    with pytest.raises(UserError, match="slim-trixie changed") as refused:
        refuse_resume(meta, Config(rounds=3), _InspectingEngine(changed))
    assert "\n" not in str(refused.value)
    with pytest.raises(UserError, match="is gone"):
        refuse_resume(meta, Config(rounds=3), _InspectingEngine({}))
    finished = {**meta, "status": "finished"}
    with pytest.raises(UserError, match="is finished: nothing to resume"):
        refuse_resume(finished, Config(rounds=3), _InspectingEngine(images))


def test_resume_without_flags_asks_for_the_interrupted_runs_own_configuration() -> None:
    catalogue = load_catalogue()
    first = build_parser().parse_args(["run", "--python", "3.14", "--group", "startup"])
    meta = {"invocation": invocation(first)}
    resume = build_parser().parse_args(["run", "--resume", "RUN"])
    config = resumed_config(resume, meta, catalogue)
    assert config.pythons == ["3.14"] and config.groups == ["startup"]
    # Flags given with --resume are taken as they are (refused later if they differ).
    other = build_parser().parse_args(["run", "--resume", "RUN", "--python", "3.13"])
    assert resumed_config(other, meta, catalogue).pythons == ["3.13"]


def test_reopen_keeps_the_interruption_and_marks_the_run_running(tmp_path: Path) -> None:
    run = ResultStore(tmp_path).create_run(config={}, host={})
    stop = {"signal": "SIGTERM", "at": "t", "step": "startup", "missing": ["startup: ..."]}
    run.update_meta(status="interrupted", finished="t", interrupted=stop)
    run.reopen()
    meta = read_run_meta(run.dir)
    assert meta["status"] == "running" and meta["finished"] is None
    assert "interrupted" not in meta and meta["interruptions"] == [stop]
    assert len(meta["resumed"]) == 1


def test_an_interrupted_runs_status_says_what_is_missing() -> None:
    stop = {"signal": "SIGTERM", "at": "t", "step": "startup round 2"}
    missing_rounds = {**stop, "missing": ["startup: rounds 3-15 of 15 missing (3.13-alpine)"]}
    said = run_status({"status": "interrupted", "finished": "t", "interrupted": missing_rounds})
    assert "missing startup: rounds 3-15 of 15 missing (3.13-alpine)" in said
    assert "--resume" in said
    # A run stopped before per-round checkpoints existed says what it always said.
    older = run_status({"status": "interrupted", "finished": "t", "interrupted": stop})
    assert older.endswith("later groups are missing")
    resumed = {"status": "finished", "finished": "t", "interruptions": [stop]}
    assert run_status(resumed) == "finished (resumed after 1 interruption)"


class _StoppingEngine(FakeEngine):
    """Stopped by SIGTERM at its ``stop_at``-th container."""

    def __init__(self, stop_at: int) -> None:
        super().__init__(RunResult(exit_code=0, output="", seconds=0.5))
        self.stop_at = stop_at

    def run(self, image: str, command: Any, **kwargs: Any) -> RunResult:
        if len(self.calls) + 1 == self.stop_at:
            raise Stopped(signal.SIGTERM)
        return super().run(image, command, **kwargs)


def test_a_resumed_start_up_group_measures_only_its_missing_rounds(tmp_path: Path) -> None:
    config = Config(cpuset="", startup_rounds=3)
    base = base_image()
    commands = len(startup.base_commands())
    # Stopped in the third round: two rounds finished, nothing written as a result yet.
    stopped = make_context(tmp_path, _StoppingEngine(2 * commands + 1), config, [base])
    with pytest.raises(Stopped):
        startup.measure(stopped)
    assert list(stopped.run.measurements_dir.glob("*.json")) == []
    last = stopped.checkpoints("startup").last()
    assert last is not None and last.done == 2
    engine = FakeEngine(RunResult(exit_code=0, output="", seconds=0.7))
    resumed = make_context(tmp_path / "resumed", engine, config, [base])
    resumed.run = stopped.run  # the interrupted run's folder
    startup.measure(resumed)
    assert len(engine.calls) == commands  # the third round only
    [written] = resumed.run.measurements_dir.glob("startup-*.json")
    rows = json.loads(written.read_text())["rows"]
    assert [row["values"] for row in rows] == [[0.5, 0.5, 0.7]] * commands


def test_a_resumed_runtime_group_gets_its_jobs_and_pyperf_files_back(tmp_path: Path) -> None:
    image = workload_image(base_image(), [allocator("pymalloc")])
    job = runtime.Job(workload("w"), image, image.allocators[0], tmp_path / "before")
    job.out_dir.mkdir()
    job.host_file.write_text('{"version": "1.0"}')
    job.loops, job.rounds_done, job.runs_after_round = 16, 2, [4, 7]
    checkpoints = GroupCheckpoints(tmp_path / "run", "runtime")
    checkpoints.save_with_files(2, 4, runtime._jobs_state([job]), [job.host_file])
    again = runtime.Job(workload("w"), image, image.allocators[0], tmp_path / "after")
    again.out_dir.mkdir()
    assert runtime._restore(checkpoints, [again]) == 2
    assert (again.loops, again.rounds_done, again.runs_after_round) == (16, 2, [4, 7])
    assert again.host_file.read_text() == '{"version": "1.0"}'


def test_an_install_outcome_survives_its_checkpoint() -> None:
    outcome = Outcome("sdist", [1.0, 2.0], [0.5], 3.0, deps=("gcc", "libffi-dev"))
    assert outcome_from_dict(json.loads(json.dumps(asdict(outcome)))) == outcome


def test_resumed_bases_must_be_the_images_measured_before() -> None:
    from basebench.commands.run import _as_recorded

    pulled = base_image("alpine", libc="musl")
    recorded = {pulled.reference: {"image_id": pulled.image_id, "pulled_by_basebench": True}}
    _as_recorded([pulled], recorded)
    assert pulled.pulled  # still the run's own to pull again, not a user's image
    with pytest.raises(UserError, match="changed"):
        _as_recorded(
            [base_image("alpine", libc="musl")],
            {pulled.reference: {"image_id": "sha256:other"}},
        )
    with pytest.raises(UserError, match="is new"):
        _as_recorded([base_image("trixie")], recorded)


def test_a_resumed_run_keeps_a_result_written_before_the_signal(tmp_path: Path) -> None:
    run = ResultStore(tmp_path).create_run(config={}, host={})
    rows = [Measurement("startup", "pass", "wall_time", "s", [0.5], Tags(variant="alpine"))]
    first = run.write_measurements("startup-base-alpine", rows)
    run.reopen()  # as --resume does: the group's results are written again after the signal
    again = [Measurement("startup", "pass", "wall_time", "s", [0.9], Tags(variant="alpine"))]
    assert run.write_measurements("startup-base-alpine", again) == first
    assert json.loads(first.read_text())["rows"][0]["values"] == [0.5]
    # Host probes describe each attempt: a file of their own.
    probes = run.write_measurements("calibration", rows, every_attempt=True)
    assert run.write_measurements("calibration", again, every_attempt=True) != probes
    assert len(list(run.measurements_dir.glob("*.json"))) == 3


def test_a_signal_inside_a_deferred_block_stops_the_run_at_its_end() -> None:
    from basebench import stopping

    steps: list[str] = []
    with stopping.graceful():
        with pytest.raises(Stopped) as stopped, stopping.deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            steps.append("the block went on")  # a container create is not cut in two
        assert stopped.value.signum == signal.SIGTERM
        with stopping.deferred():
            steps.append("no signal, no stop")
    assert steps == ["the block went on", "no signal, no stop"]


def test_a_run_whose_engine_went_away_can_be_resumed_and_says_what_is_missing(
    tmp_path: Path,
) -> None:
    images = {"basebench/local:3.13-slim-trixie": "sha256:bbb"}
    meta = {**_interrupted_meta(Config(rounds=3), images), "status": "engine lost"}
    refuse_resume(meta, Config(rounds=3), _InspectingEngine(images))  # not refused
    lost = {"at": "t", "step": "runtime", "message": "gone", "missing": ["runtime: not measured"]}
    said = run_status({**meta, "engine_lost": lost})
    assert "missing runtime: not measured" in said
    run = ResultStore(tmp_path).create_run(config={}, host={})
    run.update_meta(status="engine lost", finished="t", engine_lost=lost)
    run.reopen()
    assert read_run_meta(run.dir)["interruptions"] == [lost]
