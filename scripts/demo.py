"""The README's main job: a real local Alyx with sample subjects, synced into a PyBpod project.

Brings up alyx-local (``scripts/alyxserver``; it keeps running afterwards, on the same
port as last time when that port is free, or on ``--port``) and logs the sample user
``alice`` in once (the token is saved in the demo's own token file; no password is written
anywhere). The server's home is the demo's own (``ALYX_LOCAL_HOME``, default
``<repo>/.alyx-local``; the tests use another) and keeps its data across stops and starts:
what was registered or changed on the local Alyx is still there next time. Then:

- with a display, opens the real PyBpod GUI with the plugin enabled, on the demo project
  pointed at the local Alyx: right-click the project, "Sync to Alyx", Connect, Get Subjects;
- without one (or with ``--headless``), runs the plugin's headless sync
  (``pybpod-alyx sync``) into the demo project and prints what it now holds.

Everything lives in ``demo/`` inside the repository: ``demo/user_settings.py`` (read by
PyBpod and by ``pybpod-alyx`` run from there), the token file
``demo/.pybpod_alyx/tokens.json`` (never the user's own ``~/.pybpod_alyx``) and the project
``demo/alyx-demo/``, kept between runs. ``--fresh`` starts both anew: the project, and the
local Alyx back to its sample data. ``--stop`` only stops the local Alyx (its data stays).
Run it through ``scripts/demo``, which installs what is missing first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"
sys.path.insert(0, str(SCRIPTS))

from alyxserver import seed_data  # noqa: E402

from pybpod_alyx_module.cli.main import main as pybpod_alyx  # noqa: E402
from pybpod_alyx_module.cli.output import format_table  # noqa: E402
from pybpod_alyx_module.sync.project_files import open_project  # noqa: E402
from pybpod_alyx_module.sync.subjects import alyx_data  # noqa: E402

#: Subjects listed at the end (the project may hold hundreds).
SHOWN_ROWS = 12
FOLDER = REPO / "demo"
PROJECT = FOLDER / "alyx-demo"
TOKEN_FILE = FOLDER / ".pybpod_alyx" / "tokens.json"
#: The command line, as a user types it from the demo folder.
CLI = os.path.relpath(REPO / ".venv" / "bin" / "pybpod-alyx", FOLDER)

USER_SETTINGS = """\
# The demo's PyBpod settings, written by scripts/demo.py.
SETTINGS_PRIORITY = 0
GENERIC_EDITOR_PLUGINS_LIST = ['pybpodgui_plugin', 'pybpod_alyx_module']
DEFAULT_PROJECT_PATH = {project!r}
ALYX_PLUGIN_ADDRESS = {address!r}
ALYX_PLUGIN_USERNAME = {username!r}
ALYX_PLUGIN_TOKEN_FILE = {token_file!r}
"""


def alyxserver(command: str, *options: str) -> subprocess.CompletedProcess:
    """``python scripts/alyxserver COMMAND``: its logs go to our stderr, its JSON is returned."""
    return subprocess.run(
        [sys.executable, str(SCRIPTS / "alyxserver"), command, *options],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", default="alice", choices=sorted(seed_data.USERS))
    parser.add_argument("--headless", action="store_true", help="sync without the GUI")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="start demo/alyx-demo/ anew and bring the local Alyx back to its sample data",
    )
    parser.add_argument(
        "--port",
        help="serve the local Alyx on this port (default: $ALYX_LOCAL_PORT, else the last one)",
    )
    parser.add_argument(
        "--stop", action="store_true", help="only stop the local Alyx (its data stays)"
    )
    args = parser.parse_args()
    if args.stop:
        return alyxserver("stop").returncode

    if args.fresh:
        alyxserver("reset")  # the next start restores the sample data
        if PROJECT.exists():
            shutil.rmtree(PROJECT)
    port = ("--port", args.port) if args.port else ()
    server = json.loads(alyxserver("start", "--keep-data", *port).stdout)
    write_settings(server["base_url"], args.user)
    os.chdir(FOLDER)  # pybpod-alyx reads demo/user_settings.py there
    # A sample user of the local test server: its password is public test data.
    os.environ["ALYX_PASSWORD"] = seed_data.USERS[args.user]
    try:
        code = pybpod_alyx(["login"])
    finally:
        del os.environ["ALYX_PASSWORD"]  # from here on, the saved token is used
    if code == 0:
        if has_display() and not args.headless:
            code = open_gui()
        else:
            code = pybpod_alyx(["sync", str(PROJECT), "--create", "--override", "yes"])
            print_project(PROJECT)
    print_next_steps(server["base_url"], args.user)
    return code


def write_settings(address: str, username: str) -> None:
    """``demo/user_settings.py``, rewritten only when what it says changes."""
    FOLDER.mkdir(exist_ok=True)
    path = FOLDER / "user_settings.py"
    text = USER_SETTINGS.format(
        project=str(PROJECT), address=address, username=username, token_file=str(TOKEN_FILE)
    )
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def open_gui() -> int:
    """Start PyBpod from the demo folder (it reads ``user_settings.py`` there)."""
    from pybpodgui_api.models.project import Project

    if not PROJECT.exists():
        empty = Project()
        empty.name = PROJECT.name
        empty.save(str(PROJECT))
    print(f"Opening PyBpod on {PROJECT}: right-click the project, then Sync to Alyx,")
    print("Connect (the password may stay empty: a token is saved) and Get Subjects.")
    env = dict(os.environ, QT_API="pyqt5")
    return subprocess.run([sys.executable, "-m", "pybpodgui_plugin"], env=env).returncode


def print_project(path: Path) -> None:
    """What the synced project holds: a few subjects, the count, the users."""
    project = open_project(path)
    rows = sorted(
        (s.name, alyx_data(s).get("lab"), alyx_data(s).get("sex"), alyx_data(s).get("alyx_id"))
        for s in project.subjects
    )
    shown = rows[:SHOWN_ROWS]
    print()
    print(format_table(("subject", "lab", "sex", "alyx_id"), shown))
    if len(rows) > len(shown):
        print(f"… and {len(rows) - len(shown)} more in {path / 'subjects'}")
    users = ", ".join(
        f"{u.name}@{(u.data or {}).get('connection', 'local')}" for u in project.users
    )
    print(f"\nThe PyBpod project {path} holds {len(rows)} subjects; users: {users}")


def print_next_steps(address: str, user: str) -> None:
    """What runs now, the sample users, and what to try next."""
    users = [
        (name, password, seed_data.alive_count(name)) for name, password in seed_data.USERS.items()
    ]
    print(f"""
The local Alyx keeps running at {address} (API: {address}/api).
Stop it with: scripts/demo --stop (its data stays; --fresh brings back the sample data)

Sample users (test data from scripts/alyxserver/seed_data.py):""")
    print(format_table(("user", "password", "alive subjects"), users))
    admin, admin_password = seed_data.ADMIN_USER
    print(f"and the administrator {admin} / {admin_password}.")
    other = next(name for name in seed_data.USERS if name != user)
    tries = (
        ("subjects --alive", f"{user}'s alive subjects on the local Alyx"),
        ("sync alyx-demo --dry-run", "the plan: nothing to do right after a sync"),
        (f"login --username {other}", "another sample user (password above)"),
    )
    width = max(len(command) for command, _ in tries)
    print("\nThe command line is .venv/bin/pybpod-alyx. Try next, from the demo folder (its")
    print("settings and token file are in demo/, never in your ~/.pybpod_alyx):")
    print("  cd demo")
    for command, what in tries:
        print(f"  {CLI} {command:<{width}}  # {what}")
    print("Or run scripts/demo again: it keeps demo/alyx-demo/ and the local Alyx's data, and")
    print("syncs again (--fresh starts both anew).")


if __name__ == "__main__":
    sys.exit(main())
