"""What ``alyx.base.settings`` imports as ``from custom_settings import *``.

alyx-local expects its installer to generate this file from a template; these are the
values a throwaway, local-only test server needs. Everything that depends on where the
server runs (ports, folders) is overridden afterwards in ``alyx_local_settings``.
This folder is put on the PYTHONPATH of alyx-local's own processes only.
"""

DEBUG = False  # True would add django-debug-toolbar to every response
DEFAULT_LAB_NAME = "defaultlab"
# As the canonical cortex-lab deployment (with USE_TZ = False in alyx_local_settings): naive
# times are London wall-clock times, stored in timestamptz columns.
TIME_ZONE = "Europe/London"
# Test-only server bound to 127.0.0.1: a fixed key is fine and keeps tokens reproducible.
SECRET_KEY = "alyxserver-local-test-only-not-a-secret"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
CSRF_TRUSTED_ORIGINS = ["http://127.0.0.1", "http://localhost"]
NARRATIVE_TEMPLATES = {}
DBBACKUP_HOSTNAME = "alyx-local-test"
AUTO_RESTORE_ON_STARTUP = False
