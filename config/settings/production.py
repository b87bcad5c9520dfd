"""Production: refuses to start without its secrets (STYLE.md rule 7)."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASES, MIDDLEWARE, env_bool, env_int, env_list, logging_config

for required in ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS"):
    if not os.environ.get(required):
        raise ImproperlyConfigured(f"{required} must be set in production.")

DEBUG = False

# Persistent database connections (issue 16): each request reuses its process's connection for up to
# CONN_MAX_AGE seconds instead of opening one (a TCP and authentication round trip to PostgreSQL) per
# request; a connection that broke while idle is found by the health check before a request uses it.
# PostgreSQL's max_connections must cover every process's connections (docs/DEPLOYMENT.md, section 2).
# The replica too, when there is one (core/replica.py).
for database in DATABASES.values():
    database["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
    database["CONN_HEALTH_CHECKS"] = True
CLUSTERPACTS_ALLOW_DEMO_DATA = False
TWO_FACTOR_REQUIRED = env_bool("TWO_FACTOR_REQUIRED", default=True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")

# --- HTTPS and browser security (issue 12, item 6) ---------------------------------------------
# `manage.py check --deploy` is silent with these and the documented environment (docs/DEPLOYMENT.md).
# nginx terminates TLS and sets X-Forwarded-Proto; only a proxy that overwrites it may sit in front.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
# A load balancer probes /healthz over plain http on the private network: answer it, don't redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 60 * 60)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# The `preload` directive only allows the domain's owner to submit it to the browsers' built-in
# lists (hstspreload.org); nothing is listed until someone does. An operator who turns it off has
# chosen so, and the check that asks for it is silenced.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# --- end HTTPS and browser security ------------------------------------------------------------

# whitenoise right after SecurityMiddleware (its documented place), before anything that needs a session.
_security = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware")
MIDDLEWARE = [*MIDDLEWARE[: _security + 1], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[_security + 1 :]]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# JSON lines on stdout unless the operator asks for text (LOG_FORMAT, see base.py).
LOGGING = logging_config(os.environ.get("LOG_FORMAT", "json"))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
