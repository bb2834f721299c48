"""Every bad input a user can give ends the command with exit 2, one line per problem, nothing
written and no engine contacted (issue 14, item 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from basebench import cli
from basebench import engine as engine_module
from basebench.commands import run as run_command
from basebench.errors import ConfigError
from basebench.variants import load_catalogue

#: (what, argv after the command, config-file text or "", the message's expected part)
CASES: list[tuple[str, list[str], str, str]] = [
    (
        "python 2.7 local",
        ["--python", "2.7", "--base-source", "local"],
        "",
        "--python 2.7: Python 2.7 cannot be built locally",
    ),
    (
        "python 3.99 auto",
        ["--python", "3.99"],
        "",
        "--python 3.99: no official tag of ",
    ),
    (
        "python 2.7 official",
        ["--python", "2.7", "--base-source", "official", "--variant", "trixie"],
        "",
        "--python 2.7: there is no official python:2.7-trixie image",
    ),
    ("requirements missing", ["--requirements", "{tmp}/nope.txt"], "", "nope.txt: no such file"),
    ("requirements folder", ["--requirements", "{tmp}"], "", "is a folder, not a file"),
    ("requirements empty", ["--requirements", "{tmp}/empty.txt"], "", "names no requirement"),
    (
        "dockerfile without ARG",
        ["--dockerfile", "{tmp}/noarg.Dockerfile", "--app", "{tmp}"],
        "",
        "declares no ARG BASE_IMAGE",
    ),
    (
        "dockerfile FROM ignores BASE_IMAGE",
        ["--dockerfile", "{tmp}/nofrom.Dockerfile", "--app", "{tmp}"],
        "",
        "no FROM line uses ${BASE_IMAGE}",
    ),
    (
        "dockerfile without app",
        ["--dockerfile", "{tmp}/good.Dockerfile"],
        "",
        "--dockerfile needs --app DIR",
    ),
    (
        "app without requirements",
        ["--app", "{tmp}/emptyapp"],
        "",
        "has no requirements.txt (or requirements.lock)",
    ),
    ("app missing", ["--app", "{tmp}/noapp"], "", "noapp: no such folder"),
    ("cpuset abc", ["--cpuset", "abc"], "", "--cpuset 'abc': not a CPU set"),
    ("cpuset absent CPU", ["--cpuset", "0,64"], "", "--cpuset '0,64': this machine has no CPU 64"),
    ("cpus too many", ["--cpus", "999"], "", "--cpus 999: a CPU quota must be above 0"),
    ("cpus negative", ["--cpus", "-1"], "", "--cpus: cpus must be a number >= 0"),
    ("cpus nan", ["--cpus", "nan"], "", "--cpus nan: a CPU quota must be above 0"),
    ("mem_limit lots", ["--profile", "p"], 'mem_limit = "lots"', "mem_limit 'lots': not a memory"),
    ("pids_limit -1", ["--profile", "p"], "pids_limit = -1", "pids_limit must be a whole number"),
    ("profile not a table", ["--profile", "quick"], "", "profile 'quick' must be a table"),
    ("variant = 5 in a profile", ["--profile", "p"], "variant = 5", "unknown field 'variant'"),
    ("rounds as text", ["--profile", "p"], 'rounds = "x"', "rounds must be a whole number"),
    ("baseline nosuch", ["--baseline", "nosuch"], "", "--baseline nosuch: not a variant of this"),
    ("rounds 0", ["--rounds", "0"], "", "--rounds 0: rounds must be at least 1"),
]


def _files(tmp: Path) -> None:
    (tmp / "empty.txt").write_text("# nothing yet\n\n--index-url https://example.org\n")
    (tmp / "noarg.Dockerfile").write_text("FROM python:3.13-slim\nRUN true\n")
    (tmp / "nofrom.Dockerfile").write_text("ARG BASE_IMAGE\nFROM python:3.13-slim\n")
    (tmp / "good.Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n")
    (tmp / "emptyapp").mkdir()


def _config(tmp: Path, text: str, what: str) -> list[str]:
    if what == "profile not a table":
        body = "[profiles]\nquick = 3\n"
    elif text:
        body = f'[profiles.p]\npythons = ["3.13"]\nvariants = ["slim-trixie"]\n{text}\n'
    else:
        return []
    path = tmp / "basebench.toml"
    path.write_text(body)
    return ["--config", str(path)]


#: The validate profile brings its own Dockerfile and --app: these cases are run's only.
RUN_ONLY = {"dockerfile without app", "app without requirements"}


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to Docker fails the test (and never starts real work)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the engine was contacted before the input was checked")

    monkeypatch.setattr(engine_module, "connect", refuse)
    monkeypatch.setattr(run_command, "measure_run", refuse)


def _run_cli(
    command: str, argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[str]]:
    results = tmp_path / "results"
    code = cli.main([command, "--results", str(results), *argv])
    assert not results.exists(), "a refused run must write nothing"
    return code, capsys.readouterr().err.splitlines()


@pytest.mark.usefixtures("no_engine")
@pytest.mark.parametrize(
    ("command", "what", "argv", "text", "expected"),
    [
        pytest.param(command, *case, id=f"{command}-{case[0]}")
        for command in ("run", "validate")
        for case in CASES
        if not (command == "validate" and case[0] in RUN_ONLY)
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    command: str,
    what: str,
    argv: list[str],
    text: str,
    expected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _files(tmp_path)
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv] + _config(tmp_path, text, what)
    code, lines = _run_cli(command, args, tmp_path, capsys)
    assert code == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"basebench {command}: error: ")
    assert expected in lines[0]


@pytest.mark.usefixtures("no_engine")
def test_all_problems_are_listed_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--python", "2.7", "--base-source", "local", "--rounds", "0", "--cpuset", "abc"]
    argv += ["--baseline", "nosuch", "--requirements", str(tmp_path)]
    code, lines = _run_cli("run", argv, tmp_path, capsys)
    assert code == 2
    assert lines[0] == "basebench run: error: 5 problems, nothing was started:"
    assert [line.split(":")[0] for line in lines[1:]] == [
        "  - --python 2.7",
        "  - --baseline nosuch",
        "  - --rounds 0",
        "  - --cpuset 'abc'",
        f"  - --requirements {tmp_path}",
    ]


def test_profile_blames_the_file(tmp_path: Path) -> None:
    from basebench.config import load_config

    path = tmp_path / "c.toml"
    path.write_text('[profiles.p]\nrounds = 0\nmem_limit = "lots"\n')
    with pytest.raises(ConfigError) as info:
        load_config("p", path=path, catalogue=load_catalogue())
    message = str(info.value)
    assert f"{path} [profiles.p] rounds 0: rounds must be at least 1" in message
    assert f"{path} [profiles.p] mem_limit 'lots'" in message


CATALOGUE_CASES = [
    ("variant = 5\n", "variant must be [[variant]] tables, got 5"),
    ("variant = [5]\n", "variant #1: must be a [[variant]] table, got 5"),
    (
        '[[variant]]\nname = "x"\nfamily = "debian-slim"\nlibc = "glibc"\nsuite = "trixie"\n'
        'official_tag = "{python}-x"\nofficial_pythons = "3.13"\n',
        "official_pythons must be a list of strings such as [\"3.13\"], got '3.13'",
    ),
    (
        '[[variant]]\nname = 5\nfamily = "debian-slim"\nlibc = "glibc"\nsuite = "trixie"\n'
        'official_tag = "{python}-x"\nofficial_pythons = ["3.13"]\n',
        "name must be a string, got 5",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CATALOGUE_CASES)
def test_catalogue_types(text: str, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "variants.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_catalogue(path)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("factor", ["nan", "inf", "0.9"])
def test_compare_factor_is_a_finite_ratio(
    factor: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["compare", str(tmp_path), str(tmp_path), "--fail-on-regression", factor])
    assert code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert lines == [
        f"basebench compare: error: --fail-on-regression {float(factor)}: must be a finite "
        "ratio >= 1.0, e.g. 1.10 for 10 %"
    ]


def test_compare_with_no_metric_in_common(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import report_sample as sample

    base = sample.write_run(
        tmp_path / "base", sample.synthetic_frame("base"), sample.synthetic_meta("base")
    )
    frame = sample.synthetic_frame("new", pythons=("3.14",))
    new = sample.write_run(tmp_path / "new", frame, sample.synthetic_meta("new"))
    assert cli.main(["compare", str(base), str(new)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("basebench compare: error: no metric in common: the baseline has")
    assert not (new / "report").exists()


@pytest.mark.parametrize(("content", "expected"), [("[1, 2]", "a JSON list"), ("{oops", "JSON")])
def test_report_on_a_bad_run_json(
    content: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "run.json").write_text(content)
    assert cli.main(["report", str(tmp_path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert expected in lines[0]


def test_good_input_passes(no_engine: None, tmp_path: Path) -> None:
    from basebench.config import load_config

    config = load_config("quick", {"cpuset": "0", "cpus": 1.0}, catalogue=load_catalogue())
    assert config.cpuset == "0"
    assert json.dumps(config.as_dict())
