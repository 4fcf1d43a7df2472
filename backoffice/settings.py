"""Settings, read once from the environment (or a `.env` file) with django-environ.

With nothing configured the project runs on a SQLite file and executes Celery tasks
eagerly, so `make run` works on a fresh machine. Production sets DEBUG=False and must
provide SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, CELERY_BROKER_URL and EMAIL_HOST (no
defaults).
"""

from decimal import Decimal
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-local-development-only")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
else:
    SECRET_KEY = env.str("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

INSTALLED_APPS = [
    "backoffice.apps.BackofficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "accounts",
    "billing",
]

MIDDLEWARE = [
    "backoffice.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.WorkspaceActivityMiddleware",
    "backoffice.middleware.AgentTimezoneMiddleware",
]

ROOT_URLCONF = "backoffice.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "billing.context_processors.portal",
            ],
        },
    },
]

WSGI_APPLICATION = "backoffice.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    if DEBUG
    else env.db("DATABASE_URL"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Production keeps each worker's connection for a minute (a new PostgreSQL connection costs
# more than a whole API request), checked before reuse so a restarted database costs one
# failed check, not one failed request. Development and tests open one per request.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0 if DEBUG else 60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", not DEBUG)
# PostgreSQL: parameters bound by the server, so psycopg prepares a statement its connection
# has run five times and PostgreSQL no longer plans it on every run. Planning was most of the
# database's time in an API request (2.2 ms of the quote's subscription query against 0.3 ms
# running it). Django turns psycopg's preparing off unless a threshold is given.
# DATABASE_PREPARE=false turns both off, for a pooler in transaction mode that cannot keep
# prepared statements (PgBouncer before 1.21).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DATABASE_PREPARE", default=True
):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server and a second process (a command) read while one writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
FORMAT_MODULE_PATH = ["backoffice.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# WhiteNoise serves the collected files from the web process (hashed names, compressed,
# cached for a year); `collectstatic` is part of every deploy. Development serves the
# source files as they are.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Read once here: the test runner turns settings.DEBUG off at run time.
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- Email ---------------------------------------------------------------
# Development prints emails; production delivers them over SMTP and needs EMAIL_HOST
# (`check --deploy` refuses a backend that delivers nothing, see backoffice/checks.py).
if DEBUG:
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
    )
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
else:
    EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
    EMAIL_HOST = env.str("EMAIL_HOST")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "test-artifacts" / "emails"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="billing@backoffice.localhost")

# --- Cache (rate limits, activity throttling) ----------------------------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- Celery --------------------------------------------------------------
if DEBUG:
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://")
else:
    # Without a broker every task would run eagerly inside the web request.
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None) or None
if CELERY_RESULT_BACKEND is None:
    # Nothing to expire; otherwise beat adds a `celery.backend_cleanup` periodic task
    # that agents would see in the admin next to the real schedules.
    CELERY_RESULT_EXPIRES = None
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL.startswith("memory://")
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Client address and rate limits ---------------------------------------
# How many reverse proxies of ours stand in front of the app (0: none, X-Forwarded-For is
# ignored). Every rate limit reads the client address through backoffice.client_ip.
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)

# --- REST API ------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "billing.api.authentication.CompiledTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["billing.api.throttles.CustomerRateThrottle"],
    "NUM_PROXIES": TRUSTED_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "customer": env.str("API_RATE_CUSTOMER", default="60/min"),
        "anon": env.str("API_RATE_ANON", default="20/min"),
        "password_reset_client": env.str("PASSWORD_RESET_RATE_CLIENT", default="10/hour"),
        "password_reset_address": env.str("PASSWORD_RESET_RATE_ADDRESS", default="3/hour"),
    },
    "EXCEPTION_HANDLER": "backoffice.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Cancellations & refunds API",
    "DESCRIPTION": "Customer API: quotes, cancellation requests, refund reviews, plan changes.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "backoffice.api_schema.document_common_answers",
    ],
    "ENUM_NAME_OVERRIDES": {
        "AddOnKindEnum": "billing.models.subscriptions.AddOn.Kind",
        "ReviewKindEnum": "billing.models.refunds.RefundReviewRequest.Kind",
    },
}

# --- Payments ------------------------------------------------------------
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="local")
STRIPE_API_KEY = env.str("STRIPE_API_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# Refunds above this amount (in the payment's currency) need a Billing lead.
REFUND_LEAD_APPROVAL_THRESHOLD = Decimal(
    env.str("REFUND_LEAD_APPROVAL_THRESHOLD", default="500.00")
)

# --- Retention -----------------------------------------------------------
PURGE_WARNING_DAYS = env.int("PURGE_WARNING_DAYS", default=7)
ACTIVITY_WRITE_INTERVAL_SECONDS = env.int("ACTIVITY_WRITE_INTERVAL_SECONDS", default=300)
PURGE_BATCH_SIZE = env.int("PURGE_BATCH_SIZE", default=500)
# Absolute links in emails (the export link in the deletion warning).
SITE_URL = env.str("SITE_URL", default="http://localhost:8000")
# The product's name on every customer page and email.
SITE_NAME = env.str("SITE_NAME", default="Acme Billing")

# --- Logging: no personal data in logs (see backoffice/logging.py) ------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "backoffice.logging.RedactPersonalData"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact"], "formatter": "plain"}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own request loggers ("Not Found: /path?...", runserver's request lines)
    # come with handlers of their own that do not redact: route them through ours.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# --- Security (production) -----------------------------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
