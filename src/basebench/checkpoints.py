"""Results per round: what each group had finished when a run stopped, and what is missing.

A group's result files are written when the group ends (a measurement file per image or per
series holds all its rounds). So that a run stopped half-way (SIGTERM from tox, a closed
terminal, a crash) keeps every round it finished, each group also writes a checkpoint after
each round: ``rounds/<group>/round-NNNN.json`` holds the group's state after NNNN rounds (the
values measured so far, what failed), written atomically and never replaced. When the group
ends, ``rounds/<group>/finished.json`` says so.

``basebench run --resume RUN`` reads them: a finished group is not measured again, a group
with checkpoints goes on after its last finished round, and the rest starts from scratch.
:func:`missing` says, for run.json and the report, which rounds of which cells are missing.

Pure file bookkeeping: no Docker, so the report side can read it too.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from basebench.results import atomic_write_json

CHECKPOINTS_DIR = "rounds"
CHECKPOINT_FORMAT = "basebench.round/1"
FINISHED_FILE = "finished.json"
_ROUND_FILE = re.compile(r"round-(\d{4,})\.json")


@dataclass(frozen=True)
class Checkpoint:
    """A group's state after ``done`` of its ``total`` rounds (``unit``: what a round is)."""

    done: int
    total: int
    state: dict[str, Any]
    unit: str = "round"


class GroupCheckpoints:
    """One group's checkpoints in one run folder."""

    def __init__(self, run_dir: Path, group: str) -> None:
        self.group = group
        self.dir = Path(run_dir) / CHECKPOINTS_DIR / group

    def round_path(self, done: int) -> Path:
        return self.dir / f"round-{done:04d}.json"

    def save(self, done: int, total: int, state: Mapping[str, Any], unit: str = "round") -> Path:
        """The state after ``done`` rounds; a round is saved once and never replaced."""
        payload = {
            "format": CHECKPOINT_FORMAT,
            "group": self.group,
            "done": done,
            "total": total,
            "unit": unit,
            "state": dict(state),
        }
        return atomic_write_json(self.round_path(done), payload)

    def save_with_files(
        self, done: int, total: int, state: Mapping[str, Any], files: Sequence[Path]
    ) -> Path:
        """:meth:`save`, with copies of ``files`` beside it (``round-NNNN/``, see
        :meth:`files_of`). Files that grow round by round (pyperf's --append) are kept once:
        the previous round's copies go once this round's are saved, as they are a prefix of
        these."""
        folder = self.round_path(done).with_suffix("")
        staging = folder.with_name(f".tmp-{folder.name}")
        shutil.rmtree(staging, ignore_errors=True)  # a copy an interruption left half-made
        staging.mkdir(parents=True)
        for path in files:
            shutil.copy2(path, staging / path.name)
        staging.rename(folder)
        saved = self.save(done, total, state)
        shutil.rmtree(self.round_path(done - 1).with_suffix(""), ignore_errors=True)
        return saved

    def files_of(self, checkpoint: Checkpoint) -> list[Path]:
        """The files :meth:`save_with_files` kept with ``checkpoint``."""
        folder = self.round_path(checkpoint.done).with_suffix("")
        return sorted(folder.iterdir()) if folder.is_dir() else []

    def last(self) -> Checkpoint | None:
        """The checkpoint with the most finished rounds, or None (nothing finished)."""
        if not self.dir.is_dir():
            return None
        numbered = [
            (int(m.group(1)), path)
            for path in self.dir.iterdir()
            if (m := _ROUND_FILE.fullmatch(path.name))
        ]
        if not numbered:
            return None
        _, path = max(numbered)
        data = json.loads(path.read_text())
        return Checkpoint(
            int(data["done"]), int(data["total"]), dict(data["state"]), str(data["unit"])
        )

    def resume_from(self) -> Checkpoint:
        """Where to go on from: the last checkpoint, or nothing done yet."""
        return self.last() or Checkpoint(0, 0, {})

    def finish(self) -> None:
        """The group wrote its results: say so. The file copies kept with the last round go
        (the results hold all of it); the round checkpoints stay, as the record of the rounds."""
        if not self.finished:
            atomic_write_json(self.dir / FINISHED_FILE, {"group": self.group})
        last = self.last()
        if last is not None:
            shutil.rmtree(self.round_path(last.done).with_suffix(""), ignore_errors=True)

    @property
    def finished(self) -> bool:
        return (self.dir / FINISHED_FILE).is_file()


def missing(run_dir: Path, groups: Sequence[str], cells: Sequence[str]) -> list[str]:
    """A line per group of ``groups`` that did not finish in ``run_dir``: which rounds of
    which ``cells`` ("3.13-slim-trixie") are missing. Empty when every group finished."""
    where = ", ".join(cells) or "every cell"
    lines: list[str] = []
    for group in groups:
        checkpoints = GroupCheckpoints(run_dir, group)
        if checkpoints.finished:
            continue
        last = checkpoints.last()
        if last is None or last.total <= 0:
            lines.append(f"{group}: not measured ({where})")
        elif last.done >= last.total:
            lines.append(f"{group}: all {last.total} {last.unit}s done, results not yet written")
        else:
            first = last.done + 1
            span = f"{last.unit} {first}" if first == last.total else f"{last.unit}s {first}-"
            span += f"{last.total}" if first != last.total else ""
            lines.append(f"{group}: {span} of {last.total} missing ({where})")
    return lines


def config_changes(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """What differs between a run's recorded configuration and ``current`` (as run.json
    stores it), a phrase per field: "the configuration changed (rounds: 3 then, 5 now)"."""
    now = json.loads(json.dumps(dict(current), default=str))
    changed = [
        f"{key}: {recorded.get(key)!r} then, {now.get(key)!r} now"
        for key in sorted(set(recorded) | set(now))
        if recorded.get(key) != now.get(key)
    ]
    return [f"the configuration changed ({'; '.join(changed)})"] if changed else []


def image_changes(
    recorded: Mapping[str, Mapping[str, Any]], image_id: Callable[[str], str | None]
) -> list[str]:
    """A phrase per base image of a run (run.json's "images") that is gone or is another
    image now; ``image_id`` gives a reference's id on the engine (None: no such image)."""
    problems: list[str] = []
    for reference, labels in sorted(recorded.items()):
        then = str(labels.get("image_id", ""))
        now = image_id(reference)
        if now is None:
            # One the run pulled itself may be pulled again (an interrupted pull round left
            # it untagged); its id is compared once it is back.
            if not labels.get("pulled_by_basebench"):
                problems.append(f"base image {reference} is gone")
        elif then and now != then:
            problems.append(f"base image {reference} changed ({then[:19]} then, {now[:19]} now)")
    return problems
