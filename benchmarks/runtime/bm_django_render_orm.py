"""Django: ORM queries on SQLite and template rendering, through the sample app's WSGI handler.

Each loop sends two GET requests straight into the app's WSGI callable (what uWSGI calls,
without the network): the HTML list of the latest questions (an annotated query, a prefetch,
a template with loops and filters) and the JSON list of the same (the ORM plus
``JsonResponse``). It measures the Python side of a typical request.

The app is the one in ``images/app`` (installed at ``/opt/app`` in the images): its directory
comes from ``--app-dir``, else the environment variable ``BASEBENCH_APP_DIR``, else
``/opt/app``, else the repository's ``images/app`` next to this script. The database is the
app's own SQLite file when it exists and holds polls; otherwise the main process creates and
seeds a fresh one in a temporary directory (removed at exit) and hands its path to the
workers with ``--db-path``.
"""

import argparse
import atexit
import io
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from _common import make_runner, set_metadata, time_body

NAME = "django_render_orm"
DEFAULT_APP_DIR = "/opt/app"
SEED_QUESTIONS = 200
SEED_CHOICES = 4

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def find_app_dir(explicit: str | None) -> Path:
    candidates = [explicit, os.environ.get("BASEBENCH_APP_DIR"), DEFAULT_APP_DIR]
    candidates.append(str(Path(__file__).resolve().parents[2] / "images" / "app"))
    for candidate in candidates:
        if candidate and (Path(candidate) / "manage.py").is_file():
            return Path(candidate).resolve()
    tried = ", ".join(c for c in candidates if c)
    raise SystemExit(f"{NAME}: no Django app (manage.py) found in: {tried}")


def count_questions(db_path: Path) -> int:
    """Questions in an existing database, 0 if the file is missing or not migrated."""
    if not db_path.is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM polls_question").fetchone()[0])
    except sqlite3.Error:
        return 0


def setup_django(app_dir: Path, db_path: Path | None) -> None:
    if str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    os.environ["DJANGO_SETTINGS_MODULE"] = "mysite.settings"
    if db_path is not None:
        os.environ["DJANGO_DB_PATH"] = str(db_path)
    # Benchmark the production configuration whatever the caller's environment says.
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")
    import django

    django.setup()


def configured_db_path() -> Path:
    from django.conf import settings

    return Path(settings.DATABASES["default"]["NAME"])


def create_temp_db(app_dir: Path) -> Path:
    """Migrate and seed a database in a new temporary directory (main process only)."""
    tmp = Path(tempfile.mkdtemp(prefix="basebench-django-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    db_path = tmp / "db.sqlite3"
    os.environ["DJANGO_DB_PATH"] = str(db_path)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    settings.DATABASES["default"]["NAME"] = str(db_path)
    out = io.StringIO()
    call_command("migrate", interactive=False, verbosity=0, stdout=out)
    call_command(
        "seed_data", questions=SEED_QUESTIONS, choices=SEED_CHOICES, stdout=out, stderr=out
    )
    connections.close_all()
    return db_path


def make_environ(path: str, query: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "HTTP_ACCEPT": "text/html,application/json",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def get(app: WSGIApp, path: str, query: str) -> tuple[str, bytes]:
    status: list[str] = []

    def start_response(s: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        status.append(s)

    result = app(make_environ(path, query), start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return status[0], body


def loop_of(app: WSGIApp, requests: list[tuple[str, str]]) -> Callable[[], None]:
    def body() -> None:
        for path, query in requests:
            get(app, path, query)

    return body


def prepare(args: argparse.Namespace) -> Callable[[], object]:
    """One loop of the timed work, ready to call (Django set up, the database seeded)."""
    app, requests, _ = setup(args)
    return loop_of(app, requests)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--app-dir", default=None, help="directory of the app's manage.py")
    parser.add_argument("--db-path", default=None, help="SQLite database to use")
    parser.add_argument("--limit", type=int, default=50, help="questions per page")
    # Set by the main process for its workers: where the database came from.
    parser.add_argument("--db-origin", default="given", help=argparse.SUPPRESS)


def forward(args: argparse.Namespace) -> list[str]:
    argv = ["--app-dir", str(args.app_dir), "--limit", str(args.limit)]
    if args.db_path:
        argv += ["--db-path", str(args.db_path), "--db-origin", args.db_origin]
    return argv


def setup(args: argparse.Namespace) -> tuple[WSGIApp, list[tuple[str, str]], dict[str, Any]]:
    """Django set up on the app and its database: the WSGI app, the requests of one loop, and
    the metadata saying what they run on. Sets ``args.app_dir``/``args.db_path``/
    ``args.db_origin`` for the workers."""
    app_dir = find_app_dir(args.app_dir)
    args.app_dir = str(app_dir)
    db_path = Path(args.db_path) if args.db_path else None
    setup_django(app_dir, db_path)
    if db_path is None:
        db_path = configured_db_path()
        args.db_origin = "app"
        if count_questions(db_path) == 0:
            if getattr(args, "worker", False):
                raise SystemExit(f"{NAME}: worker started without a seeded --db-path")
            db_path = create_temp_db(app_dir)
            args.db_origin = "temporary"
        # Workers must use exactly this database, whatever their environment says.
        args.db_path = str(db_path)
    questions = count_questions(db_path)
    if questions == 0:
        raise SystemExit(f"{NAME}: database {db_path} has no polls")

    import django
    from django.core.wsgi import get_wsgi_application

    app: WSGIApp = get_wsgi_application()
    query = f"limit={args.limit}"
    requests = [("/polls/", query), ("/polls/api/questions/", query)]
    for path, q in requests:
        status, body = get(app, path, q)
        if not status.startswith("200"):
            raise SystemExit(f"{NAME}: GET {path}?{q} answered {status}: {body[:300]!r}")
    metadata: dict[str, Any] = {
        "django_version": django.get_version(),
        "app_dir": str(app_dir),
        "db_origin": args.db_origin,
        "db_path": str(db_path),
        "db_questions": questions,
        "page_limit": args.limit,
        "requests_per_loop": len(requests),
        "sqlite_version": sqlite3.sqlite_version,
    }
    return app, requests, metadata


def main() -> None:
    runner, args = make_runner(add_arguments, forward)
    app, requests, metadata = setup(args)
    set_metadata(
        runner,
        "Django list page (ORM + template) and JSON view through the WSGI handler",
        **metadata,
    )
    runner.bench_time_func(NAME, time_body, loop_of(app, requests))


if __name__ == "__main__":
    main()
