"""The team's requirements asked of the package index before anything is built."""

from __future__ import annotations

from pathlib import Path

from basebench.index_check import check_index

# What `pip index versions` prints (abridged), per project; a missing one fails like pip does.
INDEX = {
    "pydantic": "pydantic (2.14.4)\nAvailable versions: 2.14.4, 2.14.3, 2.0, 1.10.27\n",
    "requests": "requests (2.34.2)\nAvailable versions: 2.34.2, 2.33.0\n",
    "uvloop": "uvloop (0.22.1)\nAvailable versions: 0.22.1, 0.21.0\n",
}


def fake_ask(project: str, python: str) -> tuple[int, str]:
    if project == "offline-pkg":
        return 1, "WARNING: Retrying ... ConnectTimeoutError\nERROR: Could not reach the index"
    if project not in INDEX:
        return 1, f"ERROR: No matching distribution found for {project}"
    if project == "uvloop" and python == "3.15":
        return 1, f"ERROR: No matching distribution found for {project}"
    return 0, INDEX[project]


def _check(tmp_path: Path, text: str, pythons: tuple[str, ...] = ("3.13",)) -> list[str]:
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    return check_index(path, pythons, "--requirements", ask=fake_ask)


def test_a_file_the_index_can_satisfy_has_no_problem(tmp_path: Path) -> None:
    text = "# our service\npydantic>=2  # models\n\n--index-url https://example.invalid/simple\n"
    assert _check(tmp_path, text + "requests[socks]==2.34.2\n./vendored/pkg\n") == []


def test_a_missing_project_and_an_impossible_pin_name_their_lines(tmp_path: Path) -> None:
    problems = _check(tmp_path, "pydantic\nnosuch-project\nrequests==0.0.1\n")
    assert len(problems) == 2
    assert (
        "line 2 `nosuch-project`: the package index has no release of nosuch-project"
        in (problems[0])
    )
    assert "line 3 `requests==0.0.1`: no release of requests matches ==0.0.1" in problems[1]
    assert "(newest: 2.34.2)" in problems[1]


def test_a_project_without_a_release_for_one_python_is_named_once(tmp_path: Path) -> None:
    problems = _check(tmp_path, "uvloop\n", pythons=("3.13", "3.14", "3.15"))
    assert problems == [
        f"--requirements {tmp_path / 'requirements.txt'} line 1 `uvloop`: the package index "
        "has no release of uvloop for Python 3.15"
    ]


def test_an_unreadable_line_and_an_unreachable_index_are_problems(tmp_path: Path) -> None:
    problems = _check(tmp_path, "pydantic>=>2\noffline-pkg\n")
    assert "line 1 `pydantic>=>2`: not a requirement pip can read" in problems[0]
    assert "could not ask the package index about offline-pkg" in problems[1]
