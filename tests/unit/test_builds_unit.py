"""Parsing and planning behind the build and install groups: no Docker needed."""

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import pytest

from basebench.bases import BaseImage
from basebench.config import Config
from basebench.engine import Engine, StepTiming, parse_step_timings
from basebench.errors import ConfigError, UserError
from basebench.measure import _app_image, builds, installs
from basebench.measure._build_work import WORK_ENV, Outcome, WorkFile, WorkItem, read_outcomes
from basebench.measure._context import RunContext
from basebench.measure._strategies import STRATEGIES_FILE, load_strategies
from basebench.paths import BENCHMARKS_DIR, PROJECT_ROOT, resolve
from basebench.results import ResultStore
from basebench.variants import load_catalogue

SCRIPTS = Path(_app_image.SCRIPTS_DIR)

BUILD_LOG = """\
#5 [runner 1/7] FROM docker.io/basebench/local:3.13-slim-trixie
#5 DONE 0.0s
#8 [download 2/2] RUN --mount=type=secret,id=basebench_ca  sh /tmp/bb/fetch.sh /wheels r.lock
#8 12.97 Collecting packaging>=24.0 (from wheel)
#8 DONE 13.6s
#9 [builder 2/2] RUN --mount=type=bind,from=download  COLLECT=/out sh /tmp/bb/install.sh offline
#9 DONE 61.2s
#10 [runner 2/7] COPY --from=builder /usr/local/lib/python3.13/site-packages/ /usr/local/lib/
#10 DONE 1.5s
#11 [runner 6/7] RUN --mount=type=bind,source=bb,target=/tmp/bb sh /tmp/bb/app-setup.sh
#11 CACHED
#12 [runner 5/7] RUN sh /tmp/bb/install.sh online /tmp/req/requirements.lock
#12 DONE 4.0s
"""


def test_split_step_timings_download_vs_install():
    steps = parse_step_timings(BUILD_LOG.splitlines())
    download, install = builds.split_step_timings(steps)
    assert download == pytest.approx(13.6)
    assert install == pytest.approx(65.2)


def test_split_ignores_cached_and_unfinished_steps():
    steps = [
        StepTiming(1, "[a 1/2] RUN sh /tmp/bb/fetch.sh /w r", None),
        StepTiming(2, "[a 2/2] RUN sh /tmp/bb/install.sh offline /w r", 9.0, cached=True),
    ]
    assert builds.split_step_timings(steps) == (0.0, 0.0)


def _report(url: str, name: str, requested: bool = True) -> dict[str, Any]:
    return {
        "version": "1",
        "install": [
            {
                "download_info": {"url": url, "archive_info": {}},
                "requested": requested,
                "metadata": {"name": name, "version": "1.0"},
            }
        ],
    }


@pytest.mark.parametrize(
    ("url", "name", "expected"),
    [
        (
            "file:///wheelhouse/orjson-3.10.18-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "orjson",
            "wheel:manylinux_2_17_x86_64",
        ),
        (
            "file:///wheelhouse/orjson-3.10.18-cp313-cp313-musllinux_1_2_x86_64.whl",
            "orjson",
            "wheel:musllinux_1_2_x86_64",
        ),
        ("file:///wheelhouse/uwsgi-2.0.31.tar.gz", "uWSGI", "sdist"),
        ("file:///wheelhouse/six-1.17.0-py2.py3-none-any.whl", "six", "wheel:any"),
        (
            "file:///w/PyYAML-6.0.3-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
            "PyYAML",
            "wheel:manylinux_2_17_x86_64",
        ),
        (
            "file:///wheelhouse/PyYAML-6.0.2-cp313-cp313-manylinux_2_17_x86_64.whl",
            "PyYAML",
            "wheel:manylinux_2_17_x86_64",
        ),
    ],
)
def test_outcome_from_pip_report(url, name, expected):
    package = installs.canonical_name(name)
    assert installs.outcome_from_report(_report(url, name), package) == expected


def test_outcome_missing_package_is_empty_and_sdist_dependencies_are_listed():
    report = _report("file:///wheelhouse/psycopg2-2.9.10.tar.gz", "psycopg2", requested=False)
    assert installs.outcome_from_report(report, "numpy") == ""
    assert installs.built_from_source(report) == ["psycopg2"]


def test_canonical_name_and_requirement_lines(tmp_path):
    assert installs.canonical_name("Pillow>=10") == "pillow"
    assert installs.canonical_name("psycopg2_binary==2.9 ; python_version>'3'") == "psycopg2-binary"
    req = tmp_path / "requirements.txt"
    req.write_text("# c\n-r other.txt\n--index-url x\n\nDjango==5.2  # pinned\nrequests[socks]\n")
    assert installs.read_requirement_lines(req) == ["Django==5.2", "requests[socks]"]


def test_default_package_set_has_the_c_extension_set():
    specs = installs.read_requirement_lines(resolve("benchmarks/packages.txt"))
    for name in (
        "numpy",
        "pandas",
        "lxml",
        "cryptography",
        "psycopg2",
        "psycopg2-binary",
        "pillow",
        "orjson",
        "pyyaml",
        "uwsgi",
    ):
        assert name in specs


NO_GCC = """\
  Building wheel for uWSGI (pyproject.toml): started
  error: subprocess-exited-with-error
  × Building wheel for uWSGI (pyproject.toml) did not run successfully.
  │ exit code: 1
  ╰─> [12 lines of output]
      using profile: buildconf/default.ini
      detected include path: ['/usr/include']
      error: command 'gcc' failed: No such file or directory
      [end of output]
  note: This error originates from a subprocess, and is likely not a problem with pip.
  ERROR: Failed building wheel for uWSGI
ERROR: Failed to build installable wheels for some pyproject.toml based projects (uWSGI)
BASEBENCH_PIP_SECONDS=3.2
"""

PG_CONFIG = """\
  Preparing metadata (pyproject.toml): finished with status 'error'
  error: subprocess-exited-with-error
  ╰─> [21 lines of output]
      Error: pg_config executable not found.

      pg_config is required to build psycopg2 from source.  Please add the directory
      If you prefer to avoid building psycopg2 from source, please install the PyPI
      'psycopg2-binary' package instead.
      [end of output]
error: metadata-generation-failed
"""

UWSGI_NO_CC = """\
      File "/tmp/x/uwsgiconfig.py", line 412, in spcall
      AttributeError: 'NoneType' object has no attribute 'split'
      During handling of the above exception, another exception occurred:
      File "/tmp/x/uwsgiconfig.py", line 760, in __init__
        raise Exception("you need a C compiler to build uWSGI")
      Exception: you need a C compiler to build uWSGI
      [end of output]
  note: This error originates from a subprocess, and is likely not a problem with pip.
  ERROR: Failed building wheel for uwsgi
"""

HEADER = """\
      gcc -pthread -fPIC -I/usr/local/include/python3.13 -c foo.c -o foo.o
      foo.c:1:10: fatal error: Python.h: No such file or directory
      compilation terminated.
      error: command '/usr/bin/gcc' failed with exit code 1
"""


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (NO_GCC, "error: command 'gcc' failed: No such file or directory"),
        (PG_CONFIG, "Error: pg_config executable not found."),
        (UWSGI_NO_CC, "Exception: you need a C compiler to build uWSGI"),
        (HEADER, "foo.c:1:10: fatal error: Python.h: No such file or directory"),
        ("", "no output"),
    ],
)
def test_failure_line(output, expected):
    assert installs.failure_line(output) == expected


def test_pip_seconds():
    assert installs.pip_seconds(NO_GCC) == pytest.approx(3.2)
    assert installs.pip_seconds("nothing") is None


def test_build_failure_last_line():
    message = "docker build of x failed (exit 1). Last lines:\n    #9 ERROR: boom\n  full log: /l"
    assert builds.last_line(message) == "#9 ERROR: boom"


def _sdist(tmp_path: Path, name: str, pyproject: str | None) -> Path:
    src = tmp_path / name
    src.mkdir()
    if pyproject is not None:
        (src / "pyproject.toml").write_text(pyproject)
    (src / "setup.py").write_text("")
    archive = tmp_path / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname=name)
    return archive


def _fetch_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("bb_fetch", SCRIPTS / "fetch.py")
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fetch_reads_build_requirements_of_sdists(tmp_path):
    fetch = _fetch_module()
    legacy = _sdist(tmp_path, "legacy-1.0", None)
    meson = _sdist(
        tmp_path,
        "fast-2.0",
        '[build-system]\nrequires = ["meson-python>=0.15", "Cython>=3"]\n'
        'build-backend = "mesonpy"\n',
    )
    assert fetch.build_requires(fetch.read_pyproject(str(legacy))) == [
        "setuptools>=40.8.0",
        "wheel",
    ]
    assert fetch.build_requires(fetch.read_pyproject(str(meson))) == [
        "meson-python>=0.15",
        "Cython>=3",
        "ninja",
    ]
    parsed = fetch._parse_build_system(
        '[project]\nname="x"\n[build-system]\nrequires = ["setuptools>=64", \'wheel\']\n'
    )
    assert parsed == {"requires": ["setuptools>=64", "wheel"]}


def test_fetch_script_is_valid_for_old_pythons():
    # It runs on each base's own Python: keep it free of syntax newer than the bases'.
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "fetch.py")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "pip download" in result.stderr


def test_strategy_dockerfiles_take_base_image_and_keep_the_ca_out():
    for strategy in load_strategies().by_name.values():
        text = strategy.dockerfile.read_text()
        assert not text.startswith("# syntax"), strategy.name
        assert "ARG BASE_IMAGE" in text
        for line in text.splitlines():
            if "fetch.sh" in line:
                # every step that reaches PyPI has the secret mounted in the same RUN
                block = text[: text.index(line)].rsplit("RUN", 1)[1]
                assert "type=secret,id=basebench_ca" in block, strategy.name
        assert "COPY" not in text.replace("COPY app", "").replace("COPY --from", "")


# --------------------------------------------------------------------------------------------
# Strategies as data (images/strategies/strategies.toml) and planning
# --------------------------------------------------------------------------------------------

PY = "3.13"


def _base(variant: str, source: str = "local", python: str = PY) -> BaseImage:
    v = load_catalogue().get(variant)
    return BaseImage(variant, python, v.libc, v.family, source, f"ref/{variant}:{python}-{source}")


def _ctx(tmp_path: Path, bases: list[BaseImage], **config: Any) -> RunContext:
    cfg = Config(pythons=[PY], variants=[b.variant for b in bases], groups=["build"], **config)
    run = ResultStore(tmp_path / "results").create_run(config=cfg.as_dict(), host={})
    # Nothing here reaches the engine: planning is asked only what needs no Docker.
    return RunContext(cast(Engine, None), run, cfg, load_catalogue(), bases)


def test_builtin_strategies_are_declared_with_their_dockerfile_and_runner():
    strategies = load_strategies()
    assert strategies.names() == ["single-full", "single-slim", "multistage", "pip-cache-copy"]
    for strategy in strategies.by_name.values():
        assert strategy.dockerfile == STRATEGIES_FILE.parent / f"{strategy.name}.Dockerfile"
        assert strategy.description and "\n" not in strategy.description
    runs_on = {s.name: s.runs_on for s in strategies.by_name.values()}
    assert runs_on == {
        "single-full": "builder",
        "single-slim": "base",
        "multistage": "base",
        "pip-cache-copy": "base",
    }
    assert "2020" in strategies.get("multistage").description


SLIM_ON_FULL = (
    "trixie is a full image with the compiler already in it: single-slim applies to slim bases"
)
SLIM_ON_MUSL = (
    "the local musl stand-in has no package manager to install and purge a compiler in one "
    "layer (on the official Alpine image: apk add --virtual .build-deps ... && apk del "
    ".build-deps)"
)
FULL_ON_SLIM = (
    "single-full builds on the full image: the same image as single-full on 3.13-trixie, "
    "measured there"
)


@pytest.mark.parametrize(
    ("strategy", "base", "others", "expected"),
    [
        ("single-slim", _base("trixie"), [], SLIM_ON_FULL),
        ("single-slim", _base("trixie", "official"), [], SLIM_ON_FULL),
        ("single-slim", _base("alpine"), [], SLIM_ON_MUSL),
        ("single-slim", _base("musl-debianflags"), [], SLIM_ON_MUSL),
        ("single-slim", _base("alpine", "official"), [], ""),
        ("single-slim", _base("slim-trixie"), [], ""),
        ("single-full", _base("slim-trixie"), [_base("trixie")], FULL_ON_SLIM),
        # The full sibling must be of the same Python and the same source.
        ("single-full", _base("slim-trixie"), [_base("trixie", python="3.12")], ""),
        ("single-full", _base("slim-trixie"), [_base("trixie", "official")], ""),
        ("single-full", _base("slim-trixie"), [_base("bookworm")], ""),
        ("single-full", _base("slim-trixie"), [], ""),
        ("single-full", _base("trixie"), [_base("slim-trixie")], ""),
        ("single-full", _base("alpine"), [], ""),
        ("multistage", _base("alpine"), [_base("trixie")], ""),
        ("pip-cache-copy", _base("trixie"), [], ""),
        ("custom", _base("alpine"), [], ""),
    ],
)
def test_not_applicable_follows_the_strategies_file(tmp_path, strategy, base, others, expected):
    ctx = _ctx(tmp_path, [base, *others])
    assert _app_image.not_applicable(ctx, base, strategy) == expected


def test_plan_passes_the_runner_each_strategy_declares(tmp_path, monkeypatch):
    base = _base("slim-trixie")
    ctx = _ctx(tmp_path, [base], dockerfile="my/Dockerfile", app="/somewhere/app")
    monkeypatch.setattr(_app_image, "builder_image", lambda ctx, base: "builder/full:3.13")
    full = _app_image.plan(ctx, base, "single-full", tmp_path / "context")
    assert full.build_args == {
        "BASE_IMAGE": "builder/full:3.13",
        "BUILDER_IMAGE": "builder/full:3.13",
        "PYTHON_VERSION": PY,
    }
    assert full.dockerfile == str(STRATEGIES_FILE.parent / "single-full.Dockerfile")
    assert full.context == str(tmp_path / "context")
    multi = _app_image.plan(ctx, base, "multistage", tmp_path / "context")
    assert multi.build_args["BASE_IMAGE"] == base.reference
    assert multi.tag.startswith(f"basebench/app:{PY}-slim-trixie-local-multistage-")
    custom = _app_image.plan(ctx, base, "custom", tmp_path / "context")
    assert custom.build_args["BASE_IMAGE"] == base.reference
    assert (custom.dockerfile, custom.context) == (
        str(PROJECT_ROOT / "my/Dockerfile"),
        "/somewhere/app",
    )
    with pytest.raises(UserError, match=r"unknown build strategy 'fancy'; strategies: .*multi"):
        _app_image.plan(ctx, base, "fancy", tmp_path / "context")


def test_default_strategies_are_the_file_s_plus_custom_with_a_dockerfile(tmp_path):
    base = _base("slim-trixie")
    assert builds.strategies(_ctx(tmp_path / "a", [base])) == load_strategies().names()
    mine = builds.strategies(_ctx(tmp_path / "b", [base], dockerfile="D"))
    assert mine == [*load_strategies().names(), "custom"]


GOOD_STRATEGY = """\
[[strategy]]
name = "mine"
dockerfile = "mine.Dockerfile"
description = "one stage"
runs_on = "base"
"""
GOOD_RULE = """
[[strategy.not_applicable]]
family = "debian-full"
reason = "not on {variant}"
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"no \[\[strategy\]\] entries"),
        ("[[strategy]\n", r"TOML syntax error"),
        (
            GOOD_STRATEGY.replace('runs_on = "base"\n', ""),
            r"#1 \(mine\): missing field 'runs_on'",
        ),
        (
            GOOD_STRATEGY.replace('"base"', '"runner"'),
            r"field 'runs_on' is 'runner', not one of base, builder",
        ),
        (GOOD_STRATEGY.replace("one stage", ""), r"field 'description' must be a non-empty"),
        (
            GOOD_STRATEGY.replace("mine.Dockerfile", "gone.Dockerfile"),
            r"field 'dockerfile': .*gone.Dockerfile does not exist",
        ),
        (GOOD_STRATEGY + "colour = 'red'\n", r"unknown field 'colour'"),
        (GOOD_STRATEGY + GOOD_STRATEGY, r"#2: field 'name': 'mine' is declared twice"),
        (GOOD_STRATEGY.replace('"mine"', '"custom"'), r"#1: field 'name': 'custom' is the user"),
        (
            GOOD_STRATEGY + GOOD_RULE.replace("family", "familly"),
            r"\(mine\): not_applicable #1: unknown field 'familly'",
        ),
        (
            GOOD_STRATEGY + GOOD_RULE.replace("debian-full", "debian"),
            r"not_applicable #1: field 'family' is 'debian', not one of debian-full",
        ),
        (
            GOOD_STRATEGY + GOOD_RULE.replace('family = "debian-full"\n', ""),
            r"not_applicable #1: give at least one condition",
        ),
        (
            GOOD_STRATEGY + GOOD_RULE.replace("{variant}", "{varient}"),
            r"field 'reason' names \{varient\}; it may name \{variant\}, \{python\}",
        ),
        (GOOD_STRATEGY + GOOD_RULE.replace("{variant}", "{variant"), r"field 'reason': .*brace"),
        (
            GOOD_STRATEGY + GOOD_RULE + "full_sibling_in_run = 'yes'\n",
            r"field 'full_sibling_in_run' must be true or false",
        ),
    ],
)
def test_a_malformed_strategies_file_names_the_file_and_the_field(tmp_path, text, message):
    (tmp_path / "mine.Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n")
    path = tmp_path / "strategies.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as error:
        load_strategies(path)
    assert str(path) in str(error.value)


def test_a_well_formed_strategies_file_loads(tmp_path):
    (tmp_path / "mine.Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n")
    path = tmp_path / "strategies.toml"
    path.write_text(GOOD_STRATEGY + GOOD_RULE)
    [mine] = load_strategies(path).by_name.values()
    assert mine.why_not(load_catalogue().get("trixie"), _base("trixie"), []) == "not on trixie"
    assert mine.why_not(load_catalogue().get("alpine"), _base("alpine"), []) == ""


# --------------------------------------------------------------------------------------------
# The hand-over to benchmarks/bench_builds.py
# --------------------------------------------------------------------------------------------


def _item(name: str = "multistage@3.13-slim-trixie-local") -> WorkItem:
    return WorkItem(
        id=name,
        strategy="multistage",
        tag="basebench/app:x",
        dockerfile="/d/multistage.Dockerfile",
        context="/c",
        build_args={"BASE_IMAGE": "b", "BUILDER_IMAGE": "f", "PYTHON_VERSION": PY},
        builder="f",
        base="b",
        rounds=3,
        tags={"variant": "slim-trixie", "python": PY, "strategy": "multistage"},
    )


def test_work_item_round_trips_through_json():
    item = _item()
    assert WorkItem.from_json(json.loads(json.dumps(item.to_json()))) == item


def test_work_file_and_outcomes_round_trip(tmp_path):
    work = WorkFile(
        run_id="r1",
        log_dir="/logs",
        network="host",
        ca_bundle="/ca.pem",
        ca_origin="--ca-bundle",
        outcomes=str(tmp_path / "outcomes.jsonl"),
        items=[_item("a"), _item("b")],
    )
    work.write(tmp_path / "work.json")
    assert WorkFile.read(tmp_path / "work.json") == work
    assert read_outcomes(Path(work.outcomes)) == {}
    Outcome("a", image_id="sha256:1", log="/logs/a.log").append_to(Path(work.outcomes))
    Outcome("b", error="boom", log="/logs/b.log").append_to(Path(work.outcomes))
    assert read_outcomes(Path(work.outcomes)) == {
        "a": Outcome("a", image_id="sha256:1", log="/logs/a.log"),
        "b": Outcome("b", error="boom", log="/logs/b.log"),
    }


def test_bench_builds_skips_without_a_work_file():
    env = {k: v for k, v in os.environ.items() if k != WORK_ENV}
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", str(BENCHMARKS_DIR / "bench_builds.py"), "-q"),
            *("-rs", "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir", str(BENCHMARKS_DIR)),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    # 5: pytest collected nothing, the module skipped itself before defining a test.
    assert result.returncode == 5, result.stdout + result.stderr
    assert f"{WORK_ENV} not set" in result.stdout


def test_every_build_line_reaches_the_console_after_pytests_dots(tmp_path):
    # pytest -q prints a "." per finished test with no newline: the next build's progress
    # line then starts after it, and must still be shown (only the first one was, before).
    import io

    from fakes import FakeEngine, make_context, said

    from basebench.measure._build_work import PROGRESS_PREFIX
    from basebench.measure.builds import _follow

    ctx = make_context(tmp_path, FakeEngine())
    lines = [
        f"{PROGRESS_PREFIX}  build a: 24 s\n",
        f".{PROGRESS_PREFIX}  build b: 30 s\n",
        "=== pytest-benchmark's wide table ===\n",
        f".{PROGRESS_PREFIX}  build c: 28 s\n",
    ]

    class Proc:
        stdout = io.StringIO("".join(lines))

        def wait(self) -> int:
            return 0

    log = io.StringIO()
    _follow(ctx, cast(subprocess.Popen[str], Proc()), log)
    text = said(ctx)
    assert all(f"build {name}:" in text for name in "abc")
    assert "wide table" not in text and "wide table" in log.getvalue()
