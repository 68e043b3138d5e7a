"""The DJANGO_SETTINGS_MODULE of the local server: alyx-local's settings, made local and canonical.

``alyx.base.settings`` hard-codes ``/app/...`` folders, a Redis cache, file loggers and,
because ``/.dockerenv`` exists in our containers, a PostgreSQL host named ``db``. We keep
everything else it defines and override just those, from environment variables set by
``scripts/alyxserver`` (``ALYX_LOCAL_HOME``, ``ALYX_LOCAL_PG_PORT``).

Then the server is made to answer like the canonical cortex-lab deployment (its
``deploy/app/docker/settings-deploy.py``): naive times in London (``USE_TZ = False``; the
zone is in ``custom_settings``), its DRF throttles, and the behaviours of
:mod:`canonical_server`. ``ALYX_LOCAL_THROTTLE_BURST_RATE`` (read when the server starts;
canonical ``THROTTLE_BURST_RATE``) sets another burst rate, e.g. for a load test.
"""

import os
from pathlib import Path

from alyx.base.settings import *  # noqa: F403

_HOME = Path(os.environ["ALYX_LOCAL_HOME"])

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "alyx",  # a migration grants on this name
        "USER": "postgres",
        "PASSWORD": "",  # trust authentication, 127.0.0.1 only
        "HOST": "127.0.0.1",
        "PORT": os.environ["ALYX_LOCAL_PG_PORT"],
    }
}

DATA_DIR = _HOME / "data"
UPLOADED_DIR = _HOME / "uploaded"
STATIC_ROOT = str(UPLOADED_DIR / "static")
MEDIA_ROOT = str(UPLOADED_DIR / "media")
TABLES_ROOT = str(DATA_DIR / "tables")
STATICFILES_DIRS = ()
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT},
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "OPTIONS": {"location": STATIC_ROOT, "base_url": STATIC_URL},  # noqa: F405
    },
    "dbbackup": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "backups")},
    },
}

# Each process's own memory, as the canonical deployment's default cache: throttles are
# counted per gunicorn worker.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# -- the canonical deployment -------------------------------------------------------------
USE_TZ = False
# Before django_cleanup, which "needs to be last in the list".
INSTALLED_APPS = [*INSTALLED_APPS[:-1], "canonical_server.CanonicalServer", INSTALLED_APPS[-1]]  # noqa: F405
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_CLASSES": [
        "canonical_server.BurstRateThrottle",
        "canonical_server.SustainedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "burst": os.environ.get("ALYX_LOCAL_THROTTLE_BURST_RATE") or "550/minute",
        "sustained": None,  # canonical: THROTTLE_SUSTAINED_RATE, unset by default
    },
}

# -- passwords: checked in a millisecond ---------------------------------------------------
# Django's default PBKDF2 runs 1,000,000 iterations: ~0.5 s of server CPU per login, and a
# test run logs in ~265 times on a 2-core machine. This server listens on 127.0.0.1 only,
# with trust authentication to its database and the seed's published passwords, so the
# strength of a stored hash protects nothing here. Hashes stored with the default (a
# cached seed) are still checked, and rewritten with this one at their first login.
PASSWORD_HASHERS = [
    "quick_passwords.QuickPBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
