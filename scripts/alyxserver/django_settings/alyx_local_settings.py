"""The DJANGO_SETTINGS_MODULE of the local server: alyx-local's settings, made local.

``alyx.base.settings`` hard-codes ``/app/...`` folders, a Redis cache, file loggers and,
because ``/.dockerenv`` exists in our containers, a PostgreSQL host named ``db``. We keep
everything else it defines and override just those, from environment variables set by
``scripts/alyxserver`` (``ALYX_LOCAL_HOME``, ``ALYX_LOCAL_PG_PORT``).
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

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
