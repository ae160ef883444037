"""Settings for interviewsite, read from the environment in this one place.

Every knob has an embedded default so a fresh machine needs no services:
SQLite under ``var/``, Channels' in-memory layer and the offline interviewer.
Set ``DATABASE_URL`` / ``REDIS_URL`` / ``REALTIME_PROVIDER`` to scale out.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from interviewsite.converters import OPENAPI_ID

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment "
            "(or DEBUG=1 for a local development default)."
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "csp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "interviews",
    "realtime",
    "media_export",
    "admin_explorer",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "interviewsite.urls"

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
            ],
        },
    },
]

ASGI_APPLICATION = "interviewsite.asgi.application"

# --- Database -------------------------------------------------------------
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
# daphne and the export worker write to one SQLite file at once. WAL lets readers
# run beside the writer, IMMEDIATE takes the write lock up front instead of failing
# mid-transaction, and the timeout makes a second writer wait rather than error.
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR_DIR / "db.sqlite3"}
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", None)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_POOL", True):
    # Under ASGI every request runs in its own thread, so persistent connections
    # (CONN_MAX_AGE) would leak; psycopg's pool reuses connections safely instead.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN_SIZE", 1),
        # Small per process: processes x max_size must stay under PostgreSQL's
        # max_connections (or PgBouncer's pool) when many daphne processes run.
        "max_size": env_int("DB_POOL_MAX_SIZE", 4),
        "timeout": env_float("DB_POOL_TIMEOUT", 10.0),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Tables derived by triggers stay out of dumpdata/loaddata (see the router's docstring).
DATABASE_ROUTERS = ["admin_explorer.routers.DerivedTablesRouter"]

# --- Channels -------------------------------------------------------------


def redis_channel_layer(url: str) -> dict:
    """The channels-redis layer for ``url``.

    channels-redis blocks on reads for 5 s; redis-py's default 5 s socket timeout
    would cut those reads and kill idle websockets, so reads get more room.
    """
    return {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": url, "socket_timeout": 15}]},
    }


REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CHANNEL_LAYERS = {"default": redis_channel_layer(REDIS_URL)}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Tasks (durable export jobs) -------------------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "media"],
    }
}

# --- Auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# django-axes counts failed logins per (username, client address) and refuses that pair,
# even with the right password, until the lock-out ends: password guessing gets a few
# tries per LOGIN_LOCKOUT_MINUTES, and the same account stays open from other addresses.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_float("LOGIN_LOCKOUT_MINUTES", 15.0) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# Behind reverse proxies the peer address is the nearest proxy's; with TRUSTED_PROXY_COUNT
# set, the client is read from the X-Forwarded-For entries those proxies appended.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "interviewsite.client_ip.client_ip"

# --- I18N -----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Only needed for `collectstatic` (optional: WhiteNoise also serves straight from the finders).
STATIC_ROOT = os.environ.get("STATIC_ROOT", "").strip() or None
# WhiteNoise serves static files from daphne itself; finders mean no collectstatic step is needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Media is never served as a public directory: see media_export's protected views.
MEDIA_URL = "/media/"
UPLOADS_AUDIO_DIR = MEDIA_ROOT / "uploads" / "audio"
UPLOADS_VIDEOS_DIR = MEDIA_ROOT / "uploads" / "videos"
SPOOL_DIR = MEDIA_ROOT / "spool"


def media_storages(environ) -> tuple[dict, list[str]]:
    """``STORAGES`` for ``MEDIA_STORAGE`` and the origins the pages may play media from.

    ``local`` (the default) keeps uploads, WAVs, MP4s and shipped spool segments under
    MEDIA_ROOT; ``s3`` puts them in an S3-compatible bucket through django-storages,
    configured with its own setting names (read from the environment below).
    """
    kind = (environ.get("MEDIA_STORAGE", "") or "local").strip().lower()
    static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    if kind == "local":
        local = {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"allow_overwrite": True},
        }
        return {"default": local, "staticfiles": static}, []
    if kind != "s3":
        raise ImproperlyConfigured("MEDIA_STORAGE must be 'local' or 's3'")
    if not environ.get("AWS_STORAGE_BUCKET_NAME", "").strip():
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME")
    s3 = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"file_overwrite": True}}
    endpoint = environ.get("AWS_S3_ENDPOINT_URL", "").strip()
    if endpoint:
        parts = endpoint.split("/")
        origins = [f"{parts[0]}//{parts[2]}", f"{parts[0]}//*.{parts[2]}"]
    else:
        origins = ["https://*.amazonaws.com"]
    return {"default": s3, "staticfiles": static}, origins


MEDIA_STORAGE = (os.environ.get("MEDIA_STORAGE", "") or "local").strip().lower()
STORAGES, MEDIA_STORAGE_ORIGINS = media_storages(os.environ)
# django-storages' own names; unset ones fall back to boto3's credential chain and defaults.
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "").strip()
AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL", "").strip() or None
AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME", "").strip() or None
AWS_S3_ADDRESSING_STYLE = os.environ.get("AWS_S3_ADDRESSING_STYLE", "").strip() or None
AWS_ACCESS_KEY_ID = os.environ.get("AWS_ACCESS_KEY_ID", "").strip() or None
AWS_SECRET_ACCESS_KEY = os.environ.get("AWS_SECRET_ACCESS_KEY", "").strip() or None
AWS_DEFAULT_ACL = None
# Staff playback from S3 goes through signed URLs that expire after this long.
AWS_QUERYSTRING_EXPIRE = env_int("MEDIA_URL_EXPIRE_SECONDS", 300)

# --- Product settings -----------------------------------------------------
INVITATION_MAX_AGE_SECONDS = env_int("INVITATION_MAX_AGE_SECONDS", 14 * 24 * 3600)
REALTIME_PROVIDER = os.environ.get("REALTIME_PROVIDER", "local").strip() or "local"
if REALTIME_PROVIDER not in {"local", "openai"}:
    raise ImproperlyConfigured("REALTIME_PROVIDER must be 'local' or 'openai'")
OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY", "").strip()
OPENAI_REALTIME_MODEL = os.environ.get("OPENAI_REALTIME_MODEL", "gpt-realtime-1.5").strip()
OPENAI_BASE_URL = os.environ.get("OPENAI_BASE_URL", "").strip() or None
OPENAI_REALTIME_VOICE = os.environ.get("OPENAI_REALTIME_VOICE", "marin").strip()
# Turn detection: semantic_vad waits for the end of a thought (low eagerness: the longest);
# server_vad ends a turn after OPENAI_VAD_SILENCE_MS of silence.
OPENAI_TURN_DETECTION = os.environ.get("OPENAI_TURN_DETECTION", "semantic_vad").strip()
if OPENAI_TURN_DETECTION not in {"semantic_vad", "server_vad"}:
    raise ImproperlyConfigured("OPENAI_TURN_DETECTION must be 'semantic_vad' or 'server_vad'")
OPENAI_VAD_EAGERNESS = os.environ.get("OPENAI_VAD_EAGERNESS", "low").strip()
if OPENAI_VAD_EAGERNESS not in {"low", "medium", "high", "auto"}:
    raise ImproperlyConfigured("OPENAI_VAD_EAGERNESS must be low, medium, high or auto")
OPENAI_VAD_SILENCE_MS = env_int("OPENAI_VAD_SILENCE_MS", 1000)
# Upstream sessions last at most 60 minutes: move to a fresh one after this, between replies.
OPENAI_RECYCLE_MINUTES = env_float("OPENAI_RECYCLE_MINUTES", 50.0)
# US dollars per million tokens, for the estimated cost on the admin interview page.
OPENAI_PRICES = {
    "text_input": 4.00,
    "cached_text_input": 0.40,
    "audio_input": 32.00,
    "cached_audio_input": 0.40,
    "text_output": 16.00,
    "audio_output": 64.00,
    "transcription_input": 3.00,
    "transcription_output": 5.00,
}
SESSION_RESUME_SECONDS = env_int("SESSION_RESUME_SECONDS", 60)
# Longest interview: client timestamps beyond it are refused (bounds every WAV).
MAX_INTERVIEW_SECONDS = env_int("MAX_INTERVIEW_SECONDS", 2 * 3600)
# How far a client timestamp may run ahead of the server's elapsed time for the session.
CLIENT_CLOCK_SLACK_SECONDS = env_float("CLIENT_CLOCK_SLACK_SECONDS", 30.0)
LATENCY_LOGS = env_bool("LATENCY_LOGS", False)
MAX_VIDEO_UPLOAD_BYTES = env_int("MAX_VIDEO_UPLOAD_BYTES", 2 * 1024**3)
# A recording part is at most this many bytes (the browser cuts its parts smaller).
MAX_RECORDING_PART_BYTES = env_int("MAX_RECORDING_PART_BYTES", 8 * 1024**2)
# Any request body over this is refused by daphne before it is read (413, connection closed).
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", MAX_RECORDING_PART_BYTES + 1024**2)
MIX_WAIT_SECONDS = env_float("MIX_WAIT_SECONDS", 10.0)
# The export worker encodes the MP4's audio a minute at a time while the interview runs
# (media_export/preencode.py): how often it looks (0: never), and how old audio must be.
AUDIO_PREENCODE_SECONDS = env_float("AUDIO_PREENCODE_SECONDS", 60.0)
AUDIO_PREENCODE_SETTLE_SECONDS = env_float("AUDIO_PREENCODE_SETTLE_SECONDS", 30.0)
SPOOL_FLUSH_SECONDS = env_float("SPOOL_FLUSH_SECONDS", 1.0)
# How often a live session's new spool bytes are shipped to the media storage.
SPOOL_SHIP_SECONDS = env_float("SPOOL_SHIP_SECONDS", 10.0)
# prune_spools removes an exported interview's spool after this many days.
SPOOL_RETENTION_DAYS = env_float("SPOOL_RETENTION_DAYS", 7.0)
# When the candidate ends the interview, how long their last answer may take to be transcribed.
END_TRANSCRIPT_WAIT_SECONDS = env_float("END_TRANSCRIPT_WAIT_SECONDS", 10.0)
FFMPEG_BINARY = os.environ.get("FFMPEG_BINARY", "").strip() or None

# The offline interviewer's ears: speech-to-text and turn detection (see realtime/transcription).
TRANSCRIPTION = os.environ.get("TRANSCRIPTION", "whisper-base").strip() or "whisper-base"
if TRANSCRIPTION not in {"whisper-base", "whisper-tiny", "off"}:
    raise ImproperlyConfigured("TRANSCRIPTION must be 'whisper-base', 'whisper-tiny' or 'off'")
TRANSCRIPTION_MODEL_DIR = os.environ.get("TRANSCRIPTION_MODEL_DIR", "").strip() or None
TRANSCRIPTION_WORKERS = env_int("TRANSCRIPTION_WORKERS", 1)
TRANSCRIPTION_THREADS = env_int("TRANSCRIPTION_THREADS", min(4, os.cpu_count() or 1))
TRANSCRIPTION_QUEUE = env_int("TRANSCRIPTION_QUEUE", 16)
if min(TRANSCRIPTION_WORKERS, TRANSCRIPTION_THREADS, TRANSCRIPTION_QUEUE) < 1:
    raise ImproperlyConfigured(
        "TRANSCRIPTION_WORKERS, TRANSCRIPTION_THREADS and TRANSCRIPTION_QUEUE must be at least 1"
    )
LOCAL_VAD = os.environ.get("LOCAL_VAD", "silero").strip() or "silero"
if LOCAL_VAD not in {"silero", "energy"}:
    raise ImproperlyConfigured("LOCAL_VAD must be 'silero' or 'energy'")

# Uploads stream to disk in chunks; never hold a whole video in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = None

# --- REST framework -------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "interviewsite API",
    "DESCRIPTION": "Admin Data Explorer and interview media endpoints.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # <pk:...> path segments (interviewsite.converters) are 64-bit database ids.
    "PATH_CONVERTER_OVERRIDES": {"pk": OPENAPI_ID},
}

# --- Security ---------------------------------------------------------------
# Every page works without inline code: scripts and styles are static files, page data
# comes through json_script blocks (data, not code). ws: and wss: to this host are 'self'.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "media-src": [SELF, *MEDIA_STORAGE_ORIGINS],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# HTTPS=1 for a deployment served over HTTPS (directly or behind a TLS proxy).
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS and env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = HTTPS and env_bool("HSTS_PRELOAD", True)
if HTTPS and env_bool("TRUST_X_FORWARDED_PROTO", False):
    # Only behind a proxy that sets this header itself: a client could send it too.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging --------------------------------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    # Invitation tokens are credentials: "Not Found: /interview/<token>/" and the like
    # are written with the token replaced (daphne's access log: interviewsite/accesslog.py).
    "filters": {"redact_tokens": {"()": "interviewsite.redaction.RedactTokens"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_tokens"],
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        # App loggers propagate to the root handler (so test capture sees them too).
        "django": {"level": "WARNING"},
        "interviews": {"level": LOG_LEVEL},
        "realtime": {"level": LOG_LEVEL},
        "realtime.latency": {"level": "INFO" if LATENCY_LOGS else "WARNING"},
        "media_export": {"level": LOG_LEVEL},
        "admin_explorer": {"level": LOG_LEVEL},
    },
}
