"""Settings of the basebench sample application.

Everything that differs between a laptop and a container comes from the environment, with
defaults that are safe to ship (DEBUG off, only loopback hosts allowed):

- DJANGO_SECRET_KEY     secret key; the default is a public placeholder that `check --deploy`
                        reports, so set a real one wherever the app is reachable by others.
- DJANGO_DEBUG          "1"/"true"/"yes"/"on" turns DEBUG on (default: off).
- DJANGO_ALLOWED_HOSTS  comma-separated host names (default: localhost,127.0.0.1,[::1]).
- DJANGO_DB_PATH        path of the SQLite file (default: <app dir>/var/db.sqlite3).
- DJANGO_HTTPS          "1" when TLS is terminated in front of the app: secure cookies,
                        HTTPS redirect and HSTS (default: off, plain HTTP on a private port).
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str) -> list[str]:
    raw = os.environ.get(name) or default
    return [item.strip() for item in raw.split(",") if item.strip()]


# A public placeholder: `check --deploy` flags it (security.W009) until DJANGO_SECRET_KEY is set.
INSECURE_PLACEHOLDER_KEY = "django-insecure-basebench-sample-app-placeholder"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or INSECURE_PLACEHOLDER_KEY
DEBUG = _env_bool("DJANGO_DEBUG")
ALLOWED_HOSTS = _env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

INSTALLED_APPS = [
    "polls.apps.PollsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mysite.urls"
WSGI_APPLICATION = "mysite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_DB_PATH") or str(BASE_DIR / "var" / "db.sqlite3"),
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# The sample app serves no static files; the setting keeps `check` quiet.
STATIC_URL = "static/"

if _env_bool("DJANGO_HTTPS"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}
