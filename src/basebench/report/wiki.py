"""``basebench report --wiki DIR``: a folder a GitHub or GitLab wiki takes as it is.

Wikis are git repositories of Markdown pages at the top level. So: one page per run
(``<run-id>.md``) with its charts and data in a folder of the same name, a ``History.md``
across the runs, and ``Home.md`` listing them; every link and image is relative, so the folder
can be pushed to a wiki, committed to a docs folder or opened locally.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from basebench.report.build import make_report, run_status
from basebench.report.doc import Document, Para, Table, to_markdown
from basebench.report.frame import check_run_dirs
from basebench.report.history import write_history
from basebench.results import atomic_write_bytes, read_run_meta

#: A Markdown link or image target: ``](target)``.
_LINK = re.compile(r"\]\(([^)\s]+)\)")


@dataclass(frozen=True)
class WikiResult:
    home: Path
    pages: list[Path]


def relink(markdown: str, prefix: str) -> str:
    """Every relative link and image of ``markdown`` moved under ``prefix/``."""

    def move(match: re.Match[str]) -> str:
        target = match.group(1)
        if "://" in target or target.startswith(("/", "#", "mailto:")):
            return match.group(0)
        return f"]({prefix}/{target})"

    return _LINK.sub(move, markdown)


def write_wiki(run_dirs: Sequence[Path], wiki: Path, prefer: str | None = None) -> WikiResult:
    dirs = check_run_dirs(list(run_dirs))
    wiki.mkdir(parents=True, exist_ok=True)
    pages: list[Path] = []
    rows: list[list[str]] = []
    for run_dir in dirs:
        meta = read_run_meta(run_dir)
        run_id = str(meta.get("run_id", run_dir.name))
        result = make_report([run_dir], wiki / run_id, prefer=prefer)
        page = relink(result.markdown.read_text(encoding="utf-8"), run_id)
        pages.append(_write(wiki / f"{run_id}.md", page))
        rows.append(_home_row(meta, run_id, page))
    history = write_history(dirs, wiki / "history")
    if history is not None:
        text = relink(history.markdown.read_text(encoding="utf-8"), "history")
        pages.append(_write(wiki / "History.md", text))
    home = Document("basebench results")
    home.add(
        Para(
            f"{len(rows)} run(s), oldest first"
            + (" · [History](History.md): each key figure across the runs" if history else "")
            + ". Each page is the run's own report; its data.csv and charts sit in the folder "
            "of the same name."
        ),
        Table(
            ["Run", "Started", "Python", "Profile", "Base images", "Status", "Recommendation"],
            rows,
        ),
    )
    home_path = _write(wiki / "Home.md", to_markdown(home))
    return WikiResult(home_path, pages)


def _home_row(meta: Mapping[str, Any], run_id: str, page: str) -> list[str]:
    config = meta.get("config") or {}
    return [
        f"[{run_id}]({run_id}.md)",
        str(meta.get("started", "?"))[:16].replace("T", " "),
        ", ".join(str(p) for p in config.get("pythons") or []) or "?",
        str(config.get("profile", "?")),
        str(meta.get("base_source", "?")),
        run_status(meta),
        _recommendation_line(page),
    ]


def _recommendation_line(page: str) -> str:
    """The report's own verdict sentence, without its rule (that is on the page)."""
    for line in page.splitlines():
        if "Recommendation:" in line or "No recommendation" in line:
            return line.split(" (rule ", 1)[0].strip("*").replace("**", "")
    return "–"


def _write(path: Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), overwrite=True)
