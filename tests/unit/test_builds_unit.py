"""Parsing behind the build and install groups: no Docker needed."""

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from basebench.engine import StepTiming, parse_step_timings
from basebench.measure import builds, installs
from basebench.paths import resolve

SCRIPTS = Path(builds.SCRIPTS_DIR)

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


def _report(url: str, name: str, requested: bool = True) -> dict:
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


def _fetch_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bb_fetch", SCRIPTS / "fetch.py")
    module = importlib.util.module_from_spec(spec)
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
    for strategy in builds.BUILTIN_STRATEGIES:
        text = (builds.STRATEGIES_DIR / f"{strategy}.Dockerfile").read_text()
        assert not text.startswith("# syntax"), strategy
        assert "ARG BASE_IMAGE" in text
        for line in text.splitlines():
            if "fetch.sh" in line:
                # every step that reaches PyPI has the secret mounted in the same RUN
                block = text[: text.index(line)].rsplit("RUN", 1)[1]
                assert "type=secret,id=basebench_ca" in block, strategy
        assert "COPY" not in text.replace("COPY app", "").replace("COPY --from", "")
    assert json.dumps(builds.BUILTIN_STRATEGIES)
