"""The README's main job: a real local Alyx with sample subjects, synced into a PyBpod project.

Brings up alyx-local (``scripts/alyxserver``; it keeps running afterwards, on the same
port as last time when that port is free, or on ``--port``), adds the demo's welfare data
once (:mod:`alyxserver.seed_welfare`: reference weights, water restrictions, weeks of
weighings and water) and logs the sample user ``alice`` in once (the token is saved in the
demo's own token file; no password is written anywhere). The server's home is the demo's
own (``ALYX_LOCAL_HOME``, default ``<repo>/.alyx-local``; the tests use another) and keeps
its data across stops and starts: what was registered or changed on the local Alyx is
still there next time. Then it syncs the demo project headless (``pybpod-alyx sync``) and
gives it a rig that runs without a Bpod board (:mod:`demo_rig`), and:

- with a display, opens the real PyBpod GUI with the plugin enabled on that project,
  logged in as the user: the rig's Run weighs, runs the task and registers the session;
  a GUI that cannot start (Qt's xcb plugin lacking system libraries, no X server) is told
  apart from one that ran, with what to install (:mod:`qt_platform`);
- without one (or with ``--headless``), prints what the project now holds.

Everything lives in ``demo/`` inside the repository: ``demo/user_settings.py`` (read by
PyBpod and by ``pybpod-alyx`` run from there), the token file
``demo/.pybpod_alyx/tokens.json`` (never the user's own ``~/.pybpod_alyx``) and the project
``demo/alyx-demo/``, kept between runs. ``--fresh`` starts both anew: the project, and the
local Alyx back to its sample data. ``--stop`` only stops the local Alyx (its data stays).
Run it through ``scripts/demo``, which installs what is missing first.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"
sys.path.insert(0, str(SCRIPTS))

import demo_rig  # noqa: E402
import qt_platform  # noqa: E402
from alyxserver import seed_data, seed_welfare  # noqa: E402
from alyxserver.layout import Layout  # noqa: E402
from demo_text import gui_steps, print_next_steps  # noqa: E402

from pybpod_alyx_module.cli.main import main as pybpod_alyx  # noqa: E402
from pybpod_alyx_module.cli.output import format_table  # noqa: E402
from pybpod_alyx_module.sync.project_files import open_project  # noqa: E402
from pybpod_alyx_module.sync.subjects import alyx_data  # noqa: E402

#: Subjects listed at the end (the project may hold hundreds).
SHOWN_ROWS = 12
FOLDER = REPO / "demo"
PROJECT = FOLDER / "alyx-demo"
TOKEN_FILE = FOLDER / ".pybpod_alyx" / "tokens.json"
#: Lines of PyBpod's error output kept to tell why it ended.
ERROR_TAIL = 200

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


def parse_args() -> argparse.Namespace:
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
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if args.stop:
        return alyxserver("stop").returncode
    if args.fresh:
        alyxserver("reset")  # the next start restores the sample data
        if PROJECT.exists():
            shutil.rmtree(PROJECT)
    port = ("--port", args.port) if args.port else ()
    server = json.loads(alyxserver("start", "--keep-data", *port).stdout)
    if seed_welfare.seed_welfare(Layout()):
        print("Added welfare data: reference weights, water restrictions, weeks of weighings")
    write_settings(server["base_url"], args.user)
    os.chdir(FOLDER)  # pybpod-alyx reads demo/user_settings.py there
    code = login(args.user)
    if code == 0:
        # With --details: the weighings and water that Alyx details charts.
        code = pybpod_alyx(["sync", str(PROJECT), "--create", "--details", "--override", "yes"])
    if code != 0:
        return code
    rig = add_rig()
    gui = has_display() and not args.headless
    if gui:
        problem = open_gui(args.user, rig)
        if problem:
            print(f"\n{problem}", file=sys.stderr)
            return 1
    else:
        print_project(PROJECT)
    print_next_steps(server["base_url"], args.user, rig, gui)
    return 0


def login(user: str) -> int:
    """``pybpod-alyx login`` as a sample user; its token is saved, its password forgotten."""
    # A sample user of the local test server: its password is public test data.
    os.environ["ALYX_PASSWORD"] = seed_data.USERS[user]
    try:
        return pybpod_alyx(["login"])
    finally:
        del os.environ["ALYX_PASSWORD"]  # from here on, the saved token is used


def write_settings(address: str, username: str) -> None:
    """``demo/user_settings.py``, rewritten only when what it says changes."""
    FOLDER.mkdir(exist_ok=True)
    path = FOLDER / "user_settings.py"
    text = USER_SETTINGS.format(
        project=str(PROJECT), address=address, username=username, token_file=str(TOKEN_FILE)
    )
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def add_rig() -> bool:
    """Give the synced project the demo rig; ``False`` when its subjects are not there."""
    try:
        if demo_rig.add_rig(PROJECT):
            print(f"Added the rig {demo_rig.SETUP} (no Bpod needed) to {PROJECT}")
    except LookupError as exc:  # another user's sync: alice's subjects are not in it
        print(f"No demo rig: {exc}")
        return False
    return True


def open_gui(user: str, rig: bool) -> str | None:
    """Run PyBpod from the demo folder (it reads ``user_settings.py`` there) until it is
    closed; why it could not start, with what to do, or ``None``."""
    platform = os.environ.get("QT_QPA_PLATFORM") or ("xcb" if sys.platform == "linux" else "")
    problem = qt_platform.xcb_problem() if platform == "xcb" else None
    if problem:
        return problem
    print(gui_steps(PROJECT, user, rig))
    # PyBpod runs a task with the `python` on PATH: this venv's, which has pybpodapi.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = dict(os.environ, QT_API="pyqt5", PATH=path)
    child = subprocess.Popen(
        [sys.executable, "-m", "pybpodgui_plugin"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    tail: collections.deque[str] = collections.deque(maxlen=ERROR_TAIL)
    for line in child.stderr:  # shown as it comes, and kept to tell why it ended
        sys.stderr.write(line)
        tail.append(line)
    code = child.wait()
    if code == 0:
        return None
    return qt_platform.why_not_started(code, "".join(tail)) or (
        f"PyBpod ended with exit code {code}: its messages are above and in {FOLDER / 'app.log'}."
    )


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
