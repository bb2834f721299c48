"""``basebench report --wiki``: a folder whose every link and image resolves once rendered."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import markdown
import report_sample as sample

from basebench.commands import report as command
from basebench.report.wiki import relink


def _runs(root: Path) -> list[Path]:
    runs: list[Path] = []
    for run, started, python in (
        ("run-a", "2025-01-01T10:00:00Z", "3.13"),
        ("run-b", "2025-02-01T10:00:00Z", "3.14"),
    ):
        meta = sample.synthetic_meta(run, pythons=(python,))
        meta["started"] = started
        frame = sample.synthetic_frame(run, pythons=(python,), seed=len(runs) + 1)
        runs.append(sample.write_run(root / run, frame, meta))
    return runs


def _targets(page: Path) -> list[str]:
    html = markdown.markdown(page.read_text(encoding="utf-8"), extensions=["tables"])
    return re.findall(r'(?:href|src)="([^"]+)"', html)


def test_every_link_of_the_wiki_resolves(tmp_path: Path) -> None:
    runs = _runs(tmp_path / "results")
    wiki = tmp_path / "wiki"
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    assert command.run(parser.parse_args([*map(str, runs), "--wiki", str(wiki)])) == 0
    pages = sorted(wiki.glob("*.md"))
    assert [p.name for p in pages] == ["History.md", "Home.md", "run-a.md", "run-b.md"]
    checked = 0
    for page in pages:
        for target in _targets(page):
            assert (wiki / target).is_file(), f"{page.name}: {target} does not resolve"
            checked += 1
    assert checked >= 15  # run pages, their charts, the history chart, the home page's links
    home = (wiki / "Home.md").read_text()
    assert "[History](History.md)" in home and "build with `multistage`" in home
    history = (wiki / "History.md").read_text()
    assert "run-a (3.13)" in history and "run-b (3.14)" in history


def test_relink_moves_relative_targets_only() -> None:
    text = "![c](build-time.png) [d](data.csv) [w](https://example.org/x) [a](#top)"
    assert relink(text, "r1") == (
        "![c](r1/build-time.png) [d](r1/data.csv) [w](https://example.org/x) [a](#top)"
    )
