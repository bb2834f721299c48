"""``--shard I/N``: a deterministic split of the (python, variant, group) cells."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from basebench.cli import main
from basebench.config import Config
from basebench.errors import ConfigError
from basebench.report.shards import are_shards, cross_machine, merge_shards, shard_sentence
from basebench.results import HOST_PROBE_GROUP
from basebench.shards import Shard, machine_id, matrix_cells, matrix_id, shard_cells


def _config(**changes: object) -> Config:
    fields: dict[str, object] = {
        "pythons": ["3.13", "3.14"],
        "variants": ["trixie", "slim-trixie", "alpine"],
        "groups": ["size", "startup", "build", "runtime"],
        "baseline_variant": "slim-trixie",
        "cpuset": "",
    }
    fields.update(changes)
    return Config(**fields)  # type: ignore[arg-type]


def test_shards_cover_the_matrix_and_each_keeps_the_baseline() -> None:
    config = _config()
    shards = [shard_cells(config, Shard(i, 3)) for i in (1, 2, 3)]
    others = [{c for c in cells if c[1] != config.baseline_variant} for cells in shards]
    # Every non-baseline cell in exactly one shard.
    assert sorted(c for part in others for c in part) == sorted(
        c for c in matrix_cells(config) if c[1] != config.baseline_variant
    )
    assert sum(len(part) for part in others) == len(set().union(*others))
    for cells in shards:
        for python, _, group in cells:
            assert (python, config.baseline_variant, group) in cells


def test_groups_that_measure_built_images_go_with_the_build() -> None:
    config = _config()
    for index in (1, 2):
        cells = set(shard_cells(config, Shard(index, 2)))
        for python, variant, group in cells:
            if group in ("size", "startup"):
                assert (python, variant, "build") in cells


def test_the_split_is_deterministic_and_the_ids_stable() -> None:
    assert shard_cells(_config(), Shard(2, 3)) == shard_cells(_config(), Shard(2, 3))
    assert matrix_id(_config()) == matrix_id(_config())
    assert matrix_id(_config()) != matrix_id(_config(pythons=["3.13"]))
    host = {"hostname": "a", "cpu_model": "x", "cores": 2, "memory_bytes": 1}
    assert machine_id(host) != machine_id({**host, "hostname": "b"})


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_a_bad_shard_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="write I/N"):
        Shard.parse(text)


def test_more_shards_than_work_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "--profile", "sizes", "--python", "3.13", "--variant", "slim-trixie"]
    argv += ["--variant", "alpine", "--group", "size", "--shard", "3/2"]
    assert main([*argv, "--results", str(tmp_path)]) == 2
    assert "--shard 3/2: write I/N" in capsys.readouterr().err
    argv[-1] = "2/2"
    assert main([*argv, "--results", str(tmp_path)]) == 2
    assert "use at most 1 shards" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # refused before any run folder


def _frame(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["run", "python", "variant", "group"])


SHARDS = [
    {"run_id": "r1", "shard": "1/2", "matrix_id": "m", "machine_id": "a"},
    {"run_id": "r2", "shard": "2/2", "matrix_id": "m", "machine_id": "b"},
]


def test_merge_keeps_each_cell_from_one_shard() -> None:
    frame = _frame(
        [
            ("r1", "3.13", "slim-trixie", "startup"),
            ("r1", "3.13", "trixie", "startup"),
            ("r2", "3.13", "slim-trixie", "startup"),  # the baseline again, on machine b
            ("r2", "3.13", "alpine", "startup"),
            ("r2", "3.13", "alpine", HOST_PROBE_GROUP),
            ("r2", "3.13", "alpine", "size"),
        ]
    )
    merged = merge_shards(frame, SHARDS)
    baseline = merged[(merged["variant"] == "slim-trixie")]
    assert baseline["run"].tolist() == ["r1"]  # no median pools two machines
    assert len(merged) == len(frame) - 1
    # alpine's start-up (machine b) against the baseline of machine a: said; sizes are not.
    assert cross_machine(merged, SHARDS, "slim-trixie") == ["3.13 alpine startup (machine b vs a)"]
    assert "**Cross-machine comparisons**" in shard_sentence(merged, SHARDS, "slim-trixie")


def test_runs_that_are_not_shards_of_one_matrix_are_left_alone() -> None:
    frame = _frame([("r1", "3.13", "slim-trixie", "size"), ("r2", "3.13", "slim-trixie", "size")])
    other = [SHARDS[0], {**SHARDS[1], "matrix_id": "n"}]
    assert not are_shards(other) and merge_shards(frame, other).equals(frame)
    assert not are_shards([SHARDS[0], {**SHARDS[1], "shard": "1/2"}])
    assert shard_sentence(frame, other, "slim-trixie") == ""
