"""The build group end to end on real images: the post's multistage strategy.

Builds what it needs (CI starts from nothing): the local slim-trixie runner and the trixie
builder for Python 3.13, opt level none, then one cold build of the sample app timed through
benchmarks/bench_builds.py, and checks the image runs as the non-root user `app`.
"""

from pathlib import Path

import pytest

from basebench.bases import BaseImage, ensure_local
from basebench.config import Config
from basebench.engine import Engine
from basebench.measure import builds
from basebench.measure._app_image import ensure_app_image
from basebench.measure._context import RunContext
from basebench.results import ResultStore, load_run_rows
from basebench.variants import load_catalogue

PYTHON = "3.13"


@pytest.fixture(scope="module")
def slim_base(engine: Engine) -> BaseImage:
    return ensure_local(engine, load_catalogue().get("slim-trixie"), PYTHON)


def _context(engine: Engine, tmp_path: Path, bases: list[BaseImage], **config) -> RunContext:
    cfg = Config(pythons=[PYTHON], variants=[b.variant for b in bases], groups=["build"], **config)
    run = ResultStore(tmp_path / "results").create_run(config=cfg.as_dict(), host={})
    return RunContext(engine, run, cfg, load_catalogue(), bases)


def test_multistage_on_slim_trixie_end_to_end(engine: Engine, slim_base: BaseImage, tmp_path):
    ctx = _context(engine, tmp_path, [slim_base], strategies=["multistage"], rounds=1)
    builds.measure(ctx)
    assert not ctx.failures, ctx.failures
    [app] = [i for i in ctx.images if i.role == "app:multistage"]
    assert app.strategy == "multistage" and app.base is slim_base

    rows = list(load_run_rows(ctx.run.dir))
    metrics = {r["metric"]: r for r in rows if r["group"] == "build"}
    assert set(metrics) >= {"wall_time", "download_time", "install_time"}
    wall = metrics["wall_time"]
    assert wall["benchmark"] == "multistage" and wall["strategy"] == "multistage"
    assert (wall["variant"], wall["python"], wall["libc"], wall["base_source"]) == (
        "slim-trixie",
        PYTHON,
        "glibc",
        "local",
    )
    # uWSGI compiles in the install step; the download step is the network's share. (It can
    # read 0 s when BuildKit shares the step with an identical build running at that moment.)
    assert metrics["install_time"]["value"] > 5.0
    assert 0.0 <= metrics["download_time"]["value"] < wall["value"]
    assert metrics["install_time"]["value"] < wall["value"]

    # The shipped image: Django importable and uWSGI running as the non-root user.
    django = engine.run(app.reference, ["python3", "-c", "import django; print(django.VERSION)"])
    assert django.exit_code == 0, django.output
    whoami = engine.run(app.reference, ["python3", "-c", "import os; print(os.getuid())"])
    assert whoami.exit_code == 0 and whoami.output.strip() != "0"
    uwsgi = engine.run(app.reference, ["uwsgi", "--version"], user="app")
    assert uwsgi.exit_code == 0, uwsgi.output
    assert uwsgi.output.strip()[0].isdigit()
    # The seeded database is there and belongs to `app`.
    db = engine.run(app.reference, ["sh", "-c", "test -O /opt/app/var/db.sqlite3 && echo ok"])
    assert db.output.strip() == "ok", db.output
    # ensure_app_image hands the same image to the runtime/HTTP groups without rebuilding.
    assert ensure_app_image(ctx, slim_base, "multistage") == app.reference
    assert ctx.app_images[(slim_base.reference, "multistage")] == app.reference


def test_single_slim_on_a_full_base_is_not_applicable(engine: Engine, slim_base, tmp_path):
    # No build: the reason is written as a row instead of a crash.
    full = BaseImage("trixie", PYTHON, "glibc", "debian-full", "local", "unused:ref")
    ctx = _context(engine, tmp_path, [full], strategies=["single-slim"])
    builds.measure(ctx)
    assert not ctx.failures
    rows = [r for r in load_run_rows(ctx.run.dir) if r["metric"] == "not_applicable"]
    assert len(rows) == 1 and "full image" in rows[0]["detail"]


def test_your_own_dockerfile_is_built_and_measured(engine: Engine, slim_base, tmp_path):
    """Bring your own Dockerfile: it gets BASE_IMAGE, builds from --app, is timed like ours."""
    app_dir = tmp_path / "myapp"
    app_dir.mkdir()
    (app_dir / "hello.py").write_text("print('hello from my app')\n")
    dockerfile = tmp_path / "My.Dockerfile"
    dockerfile.write_text(
        "ARG BASE_IMAGE\n"
        "FROM ${BASE_IMAGE}\n"
        "COPY hello.py /srv/hello.py\n"
        "RUN python3 -m compileall -q /srv\n"
        'CMD ["python3", "/srv/hello.py"]\n'
    )
    ctx = _context(
        engine,
        tmp_path,
        [slim_base],
        strategies=["multistage", "custom"],
        dockerfile=str(dockerfile),
        app=str(app_dir),
        rounds=1,
    )
    builds.measure(ctx)
    # The app has no requirements file: our strategies cannot build it, and say why; the
    # user's own Dockerfile still builds.
    [failure] = ctx.failures
    assert failure.what == "built-in strategies" and "give --requirements FILE" in failure.message
    [image] = [i for i in ctx.images if i.role == "app:custom"]
    assert image.base is slim_base
    hello = engine.run(image.reference, ["python3", "/srv/hello.py"])
    assert hello.exit_code == 0 and hello.output.strip() == "hello from my app"
    walls = [
        r
        for r in load_run_rows(ctx.run.dir)
        if r["group"] == "build" and r["metric"] == "wall_time"
    ]
    assert len(walls) == 1 and walls[0]["strategy"] == "custom" and walls[0]["value"] > 0
