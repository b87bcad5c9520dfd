"""The production settings, served over plain http on loopback for the load benchmark (bench/gunicorn_load.py).

Everything that shapes a request's cost stays as production has it (persistent connections, middleware,
DEBUG off, whitenoise); only the TLS redirect is off, as nginx terminates TLS in front of gunicorn, and the
URLs gain the constant view the figures are measured against (bench/urls.py)."""

from config.settings.production import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
ROOT_URLCONF = "bench.urls"
LOGGING = {"version": 1, "disable_existing_loggers": False}  # no access log in the measured path
