"""Django management commands of alyx-local, run in its own venv with our settings.

``alyx manage --internal <args>`` is alyx-local's ``manage.py`` (without ``--internal`` it
tries ``docker exec``). It honours ``DJANGO_SETTINGS_MODULE``, so every alyx process gets
the environment built by :func:`alyx_env`. Users cannot be created over REST, so the seed's
users (and the water-type fixture) are created here, with the canonical server's schema
(``canonical_server.drop_unique_session_names``), in one Django shell to pay Django's
start-up once.
"""

from __future__ import annotations

import json
import os
import subprocess

from alyxserver import seed_data
from alyxserver.layout import DJANGO_SETTINGS_DIR, DJANGO_SETTINGS_MODULE, Layout, log

# Fixtures that load cleanly one per call (misc.lab.json is broken upstream).
FIXTURES = ("actions.watertype.json", "actions.proceduretype.json", "subjects.source.json")

# Runs inside alyx-local's Django shell; reads the users from the environment as JSON.
CREATE_USERS = """
import json, os
from django.contrib.auth import get_user_model
from django.core.management import call_command
User = get_user_model()
for name, password in json.loads(os.environ["ALYXSERVER_USERS"]).items():
    user, _ = User.objects.get_or_create(username=name)
    user.email = name + "@example.org"
    user.is_staff = True
    user.is_superuser = True
    user.set_password(password)
    user.save()
for fixture in json.loads(os.environ["ALYXSERVER_FIXTURES"]):
    call_command("loaddata", fixture, verbosity=0)
"""

# Runs in alyx-local's Python with our settings; prints the settings named in argv as JSON.
PRINT_SETTINGS = """
import json, sys, django
django.setup()
from django.conf import settings
print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}, default=str))
"""

# Runs inside alyx-local's Django shell (our settings folder is on its PYTHONPATH).
CANONICAL_SCHEMA = """
from canonical_server import drop_unique_session_names
print("canonical schema: dropped", drop_unique_session_names() or "nothing")
"""


class ManageError(RuntimeError):
    """A management command failed; the message has the tail of its output."""


def alyx_env(layout: Layout, pg_port: int) -> dict:
    """The environment of every alyx-local process (manage commands and gunicorn)."""
    env = dict(os.environ)
    env.pop("PYTHONHOME", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": DJANGO_SETTINGS_MODULE,
            "PYTHONPATH": str(DJANGO_SETTINGS_DIR),
            "ALYX_LOCAL_HOME": str(layout.home),
            "ALYX_LOCAL_PG_PORT": str(pg_port),
            # alyx's settings read this file whenever /.dockerenv exists; ours ignore it.
            "POSTGRES_PASSWORD_FILE": str(layout.password_file),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def prepare_folders(layout: Layout) -> None:
    for folder in (layout.data_dir / "logs", layout.data_dir / "backups", layout.uploaded_dir):
        folder.mkdir(parents=True, exist_ok=True)
    if not layout.password_file.exists():
        layout.password_file.write_text("unused: trust authentication on 127.0.0.1\n")


def manage(layout: Layout, pg_port: int, *args: str, env_extra: dict | None = None) -> None:
    env = alyx_env(layout, pg_port)
    env.update(env_extra or {})
    cmd = [str(layout.venv_bin("alyx")), "manage", "--internal", *args]
    log.debug("running %s", " ".join(cmd))
    layout.logs.mkdir(parents=True, exist_ok=True)
    with open(layout.manage_log, "a", encoding="utf-8") as out:
        out.write(f"\n=== {' '.join(args[:2])}\n")
        out.flush()
        result = subprocess.run(
            cmd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=str(layout.home)
        )
    if result.returncode != 0:
        tail = "\n".join(layout.manage_log.read_text(errors="replace").splitlines()[-30:])
        raise ManageError(f"`alyx manage {' '.join(args[:2])}` failed:\n{tail}")


def migrate(layout: Layout, pg_port: int) -> None:
    """Creates the schema, superuser admin/admin, lab ``defaultlab``, species Mus musculus."""
    log.info("migrating a new database")
    manage(layout, pg_port, "migrate", "--noinput")


def create_users_and_fixtures(layout: Layout, pg_port: int) -> None:
    """The seed's users and fixtures, on the canonical server's schema."""
    log.info("creating users %s and loading fixtures", ", ".join(seed_data.USERS))
    manage(
        layout,
        pg_port,
        "shell",
        "-c",
        CREATE_USERS + CANONICAL_SCHEMA,
        env_extra={
            "ALYXSERVER_USERS": json.dumps(seed_data.USERS),
            "ALYXSERVER_FIXTURES": json.dumps(FIXTURES),
        },
    )


def bring_schema_up_to_date(layout: Layout, pg_port: int) -> None:
    """A kept database, after the pins or settings changed: migrate it and make it canonical."""
    log.info("bringing the kept database up to date (migrate, canonical schema)")
    manage(layout, pg_port, "migrate", "--noinput")
    manage(layout, pg_port, "shell", "-c", CANONICAL_SCHEMA)


def loaded_settings(layout: Layout, pg_port: int, names: list[str]) -> dict:
    """The Django settings ``names`` as alyx-local's processes load them (for tests)."""
    result = subprocess.run(
        [str(layout.venv_bin("python")), "-c", PRINT_SETTINGS, *names],
        env=alyx_env(layout, pg_port),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=str(layout.home),
    )
    if result.returncode != 0:
        raise ManageError(f"cannot load alyx-local's settings:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.splitlines()[-1])
