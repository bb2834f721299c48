"""Progress lines of a real BuildKit build, and the estimate they leave for the next one."""

import io
from pathlib import Path

from rich.console import Console

from basebench.cache import JsonCache
from basebench.engine import Engine
from basebench.measure._progress import ConsoleObserver, Progress, StepEstimates


def test_a_build_shows_its_phases_with_estimate_and_log(
    engine: Engine, rootfs: str, tmp_path: Path
):
    (tmp_path / "Dockerfile").write_text(
        f"FROM {rootfs}\nRUN echo '== warming up' && sleep 1 && echo '== the work' && echo done\n"
    )
    estimates = StepEstimates(JsonCache("durations.json", tmp_path / "cache"))
    console = Console(file=io.StringIO(), record=True, width=400)
    observer = engine.observer
    engine.observer = ConsoleObserver(Progress(console, estimates=estimates))
    try:
        built = engine.build(
            tmp_path,
            tag=f"basebench-test/progress:{engine.run_id}",
            kind="test",
            identity="itest-progress",
            no_cache=True,
        )
    finally:
        engine.observer = observer
    text = console.export_text()

    assert f"build itest-progress · no estimate yet · log {built.log_path}" in text
    assert "[2/2] RUN echo '== warming up' && sleep 1 &&" in text
    assert "· the work · no estimate yet · log " in text
    assert "· warming up: done in " in text
    assert "build itest-progress: done in " in text
    keys = set(estimates.store.entries)
    assert "build:itest-progress" in keys
    warming = [k for k in keys if k.endswith("|warming up")]
    assert len(warming) == 1 and 0.9 <= (estimates.seconds(warming[0]) or 0) < 10
