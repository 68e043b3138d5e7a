"""The README's main job: a real local Alyx with sample subjects, synced into a fresh PyBpod project.

Brings up alyx-local (``scripts/alyxserver``) and logs the sample user ``alice`` in
once (the token is saved; no password is written anywhere). Then:

- with a display, opens the real PyBpod GUI with the plugin enabled, on a fresh demo
  project pointed at the local Alyx: right-click the project, "Sync to Alyx",
  Connect, Get Subjects;
- without one (or with ``--headless``), runs the plugin's headless sync
  (``pybpod-alyx sync``) into the demo project and prints what it now holds.

Everything lives in ``demo/`` (``demo/user_settings.py``, ``demo/alyx-demo/``). Run it
through ``scripts/demo``, which installs what is missing first.
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


def start_server() -> dict:
    """Start (or find running) the local Alyx and return its description."""
    out = subprocess.run(
        [sys.executable, str(SCRIPTS / "alyxserver"), "start"],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    return json.loads(out)


USER_SETTINGS = """\
# The demo's PyBpod settings, written by scripts/demo.py.
SETTINGS_PRIORITY = 0
GENERIC_EDITOR_PLUGINS_LIST = ['pybpodgui_plugin', 'pybpod_alyx_module']
DEFAULT_PROJECT_PATH = {project!r}
ALYX_PLUGIN_ADDRESS = {address!r}
ALYX_PLUGIN_USERNAME = {username!r}
"""


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", default="alice", choices=sorted(seed_data.USERS))
    parser.add_argument("--headless", action="store_true", help="sync without the GUI")
    parser.add_argument("--stop", action="store_true", help="stop the local Alyx afterwards")
    args = parser.parse_args()

    server = start_server()
    folder = REPO / "demo"
    project = folder / "alyx-demo"
    try:
        if project.exists():
            shutil.rmtree(project)
        folder.mkdir(exist_ok=True)
        (folder / "user_settings.py").write_text(
            USER_SETTINGS.format(
                project=str(project), address=server["base_url"], username=args.user
            )
        )
        connection = ["--address", server["base_url"], "--username", args.user]
        # A sample user of the local test server: its password is public test data.
        os.environ["ALYX_PASSWORD"] = seed_data.USERS[args.user]
        pybpod_alyx(["login", *connection])
        if has_display() and not args.headless:
            return open_gui(folder, project)
        sync = ["sync", str(project), "--create", "--override", "yes"]
        code = pybpod_alyx([*sync, *connection])
        print_project(project)
        return code
    finally:
        if args.stop:
            subprocess.run([sys.executable, str(SCRIPTS / "alyxserver"), "stop"], check=False)


def open_gui(folder: Path, project: Path) -> int:
    """Start PyBpod from the demo folder (it reads ``user_settings.py`` there) on a new project."""
    from pybpodgui_api.models.project import Project

    empty = Project()
    empty.name = project.name
    empty.save(str(project))
    print(f"Opening PyBpod on {project}: right-click the project, then Sync to Alyx,")
    print("Connect (the password may stay empty: a token is saved) and Get Subjects.")
    env = dict(os.environ, QT_API="pyqt5")
    env.pop("ALYX_PASSWORD")
    return subprocess.run(
        [sys.executable, "-m", "pybpodgui_plugin"], cwd=folder, env=env
    ).returncode


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


if __name__ == "__main__":
    sys.exit(main())
