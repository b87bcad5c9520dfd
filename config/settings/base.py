"""Settings shared by every environment, read from the environment (STYLE.md rule 7).

The embedded default needs nothing: SQLite in the project folder, console e-mail,
and Celery tasks run eagerly when no broker is configured.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab
from csp import constants as csp_constants
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-development-key-not-for-production")
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "core",
    "clusterpacts",
    "evaluations",
    "funding",
    "insights",
    "workbook",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.two_factor.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "core.replica.ReplicaReadsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves several requests at once. WAL lets readers go on while one writer writes;
    # a transaction takes the write lock when it begins (IMMEDIATE), not halfway, where SQLite could only
    # fail it; and a writer waits up to SQLITE_BUSY_TIMEOUT seconds for the lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )


def postgres_options(database: dj_database_url.DBConfig) -> dj_database_url.DBConfig:
    """A PostgreSQL connection's settings. PostgreSQL's JIT compiles a query whose estimated cost passes
    jit_above_cost: at 3,000 clusters some of the briefing's aggregates paid 30-80 ms of compiling for queries
    that run in 20 (docs/PERFORMANCE.md). The portal's queries are short: JIT off, unless POSTGRES_JIT=on."""
    if database["ENGINE"].startswith("django.db.backends.postgresql"):
        database.setdefault("OPTIONS", {})["options"] = f"-c jit={'on' if env_bool('POSTGRES_JIT') else 'off'}"
    return database


postgres_options(DATABASES["default"])
# A PostgreSQL replica for the read-only parts (core/replica.py; docs/PERFORMANCE.md, "Beyond one machine"):
# off unless DATABASE_REPLICA_URL is set. In tests it mirrors the default database.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"], conn_max_age=DATABASES["default"].get("CONN_MAX_AGE", 0)
    )
    postgres_options(DATABASES["replica"])
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["core.replica.ReplicaRouter"]
REPLICA_READ_PATHS = ("/api/v1/", "/insights/")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our own date formats where Django's do not suit the readers: English day-first (config/formats/en/).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Europe/Brussels"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# A session ends after this many minutes without a request (each request renews it).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=False)
# Amounts group thousands explicitly (floatformat "g"); years and ids must never be grouped.

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
# Two-factor login (issue 12, item 3; core/two_factor.py): officers, and staff users in the admin, must pass
# a TOTP or backup code once per session. Off here so the embedded demo runs with one command; on in
# production. Anyone who set up a device is asked for it either way.
TWO_FACTOR_REQUIRED = env_bool("TWO_FACTOR_REQUIRED", default=False)
OTP_TOTP_ISSUER = "Clusterpact portal"
LOGOUT_REDIRECT_URL = "/accounts/login/"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "clusterpact@vlaio.example")
# The portal's address as officers reach it, for links in e-mail.
CLUSTERPACTS_SITE_URL = os.environ.get("CLUSTERPACTS_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Celery: with no broker configured, tasks run in-process (the embedded default), so `make run`
# needs no Redis. In production CELERY_BROKER_URL points at Redis; run a worker and beat.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True  # no result backend: tasks write what they do to the database
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 15 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 14 * 60)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "scan-flags-daily": {
        "task": "funding.tasks.scan_flags",
        "schedule": crontab(hour=6, minute=0),  # 06:00 Europe/Brussels (CELERY_TIMEZONE)
    },
}

# --- Outbox and redelivery (issue 12, item 5: Redis down, nothing lost) ------------------------------
# A task that is not acknowledged within the visibility timeout (a late-acked task lost with its worker,
# a retry waiting for its countdown) is handed to another worker: just above the time limit, so a lost
# task comes back within minutes, not hours, and a running one is never handed out twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 60),
}
# What the outbox (core.outbox) could not hand to the broker right after a commit is sent from here.
CELERY_BEAT_SCHEDULE["send-outbox"] = {
    "task": "core.tasks.send_outbox",
    "schedule": 60.0,  # seconds
}
# --- end of outbox ----------------------------------------------------------------------------------

REST_FRAMEWORK = {
    # Token first, so an anonymous request is answered 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # knox's token check in one query with the user's role (core/auth.py).
        "core.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # The project's viewsets set their own (core.api.RolePermission); this covers the rest.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "core.filters.FilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "core.schema.ProjectAutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "60/minute"),
        "user": os.environ.get("API_THROTTLE_USER", "2000/minute"),
        "auth": os.environ.get("API_THROTTLE_AUTH", "10/minute"),
    },
    "COERCE_DECIMAL_TO_STRING": False,
    "DATE_FORMAT": "iso-8601",
}

REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env_int("API_TOKEN_TTL_HOURS", 10)),
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Clusterpact portal API",
    "DESCRIPTION": (
        "VLAIO's system of record for the Flemish spearhead clusters: cluster pacts, annual plans and "
        "reports, KPIs, evaluations, support agreements, budgets and flags. Obtain a token with "
        "POST /api/v1/auth/token/ and send it as `Authorization: Token <token>`. A cluster manager's "
        "token reaches only their own cluster: anything else answers 404."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs are public (they hold no data), so a consumer can read how to obtain a token.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "WorkflowStatusEnum": "clusterpacts.models.Workflow",
        "EvaluationStageEnum": "evaluations.models.Stage",
        "ConclusionEnum": "evaluations.models.Conclusion",
        "PactStatusEnum": "clusterpacts.models.ClusterPact.Status",
        "CommitmentStatusEnum": "clusterpacts.models.Commitment.Status",
        "LessonStatusEnum": "evaluations.models.Lesson.Status",
        "OrganisationKindEnum": "clusterpacts.models.Organisation.Kind",
        "ClusterKindEnum": "clusterpacts.models.Cluster.Kind",
        "EvaluationKindEnum": "evaluations.models.Evaluation.Kind",
        "LessonKindEnum": "evaluations.models.Lesson.Kind",
        "FlagKindEnum": "funding.models.Flag.Kind",
        "KpiCategoryEnum": "clusterpacts.models.KpiDefinition.Category",
        # Named after their model: "type", "status" and "role" are too common to stay unique.
        "ProjectTypeEnum": "funding.models.Project.Type",
        "ProjectStatusEnum": "funding.models.Project.Status",
        "ProjectPartnerRoleEnum": "funding.models.ProjectPartner.Role",
    },
}

# Throttling counts live in the cache: shared (Redis) when CACHE_URL is set, as it must be with
# several web processes; per process otherwise.
if os.environ.get("CACHE_URL"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["CACHE_URL"]}
    }

# --- Logins: lockout after repeated failures, and the client's address (issue 12, item 2) -------------
# How many reverse proxies in front of the portal append to X-Forwarded-For. 0 (the default): the
# client is REMOTE_ADDR and the header is ignored, so a client cannot pick its own address. Behind one
# nginx, 1. Both the lockout (axes) and the API throttles read this one number.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT

INSTALLED_APPS += ["axes"]
# Axes' backend first: it refuses a locked-out user or address before the password is even checked.
# Then Django's, loading the session's user with their role in one query (core/auth.py). A session opened
# before this backend replaced Django's own names the old one and ends: its user logs in again, once.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "core.auth.ModelBackend",
]
# Last, as axes asks: it turns a flagged login response into the lockout page.
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
# The attempts live in the database, shared by every web process (not in process memory).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
# Locked when either the username or the client address reached the limit: guessing one account from
# many addresses, or many accounts from one address, both stop.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "core.logins.client_ip"
AXES_LOCKOUT_CALLABLE = "core.logins.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False  # no start-up banner in the logs (production logs are JSON lines on stdout)

# Domain settings (documented in the README).
CLUSTERPACTS_REPORT_DUE_MONTH = env_int("CLUSTERPACTS_REPORT_DUE_MONTH", 3)
CLUSTERPACTS_REPORT_DUE_DAY = env_int("CLUSTERPACTS_REPORT_DUE_DAY", 31)
CLUSTERPACTS_DEFAULT_RESERVATION_EUR = env_int("CLUSTERPACTS_DEFAULT_RESERVATION_EUR", 8_000_000)
CLUSTERPACTS_MAX_TERM_YEARS = 3
CLUSTERPACTS_MAX_CHAIN_YEARS = 10
CLUSTERPACTS_RENEWAL_WINDOW_DAYS = env_int("CLUSTERPACTS_RENEWAL_WINDOW_DAYS", 180)
CLUSTERPACTS_CAP_WINDOW_DAYS = env_int("CLUSTERPACTS_CAP_WINDOW_DAYS", 365)
CLUSTERPACTS_ATTACHMENT_MAX_BYTES = env_int("CLUSTERPACTS_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
CLUSTERPACTS_IMPORT_MAX_BYTES = env_int("CLUSTERPACTS_IMPORT_MAX_BYTES", 50 * 1024 * 1024)

# --- Logging (issue 12, item 6) ------------------------------------------------------------------
# Everything goes to stdout (systemd's journal or the container runtime collects it), one line a
# record, tagged with the request's id (core.logging). LOG_FORMAT=json writes JSON lines, the
# default in production; text is easier to read in a terminal.


def logging_config(log_format: str) -> dict[str, Any]:
    """LOGGING with records on stdout as `log_format` ("json" or "text"), each with its request id."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "core.logging.RequestIdFilter"}},
        "formatters": {
            "json": {"()": "core.logging.JsonFormatter"},
            "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "filters": ["request_id"],
                "formatter": log_format,
            }
        },
        "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    }


LOGGING = logging_config(os.environ.get("LOG_FORMAT", "text"))
MIDDLEWARE.insert(0, "core.logging.RequestIdMiddleware")
# --- end logging ---------------------------------------------------------------------------------
CLUSTERPACTS_ALLOW_DEMO_DATA = True

# Change history is read-only in the admin: a revert would bypass the workflow services.
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Content-Security-Policy (issue 12, item 6; django-csp 4) ---------------------------------
# Every response (portal, admin, API docs) carries it. Scripts come only from this origin: the
# portal and the admin have no inline script, and the API docs load their start-up script as a
# file (SpectacularSwaggerSplitView). A template that ever needs inline code gives the tag
# nonce="{{ request.csp_nonce }}"; the nonce is added to the header only on pages that use it.
# Styles allow inline because the admin, Swagger UI and the charts set style attributes, which a
# nonce cannot cover; a style cannot run code.
INSTALLED_APPS += ["csp"]
# Early, right after SecurityMiddleware: every response gets the policy, also one that a middleware further in
# answers itself (a 400 for a host that is not allowed, a CSRF refusal).
_security_at = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware")
MIDDLEWARE.insert(_security_at + 1, "csp.middleware.CSPMiddleware")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", csp_constants.NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],  # Swagger UI's and the admin's icons are data: URIs
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Swagger UI would load a validator badge from validator.swagger.io: the portal fetches nothing abroad.
SPECTACULAR_SETTINGS["SWAGGER_UI_SETTINGS"] = {"deepLinking": True, "validatorUrl": None}
# --- end Content-Security-Policy ---------------------------------------------------------------
