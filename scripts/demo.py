"""The README's main job: a real local Alyx with sample subjects, synced into a fresh PyBpod project.

Brings up alyx-local (``scripts/alyxserver``), then runs the plugin's headless sync
(``pybpod-alyx sync``) as the sample user ``alice`` into ``demo-project/``, and prints
what the project now holds. Run it through ``scripts/demo``, which installs what is
missing first.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", default="alice", choices=sorted(seed_data.USERS))
    parser.add_argument("--project", type=Path, default=REPO / "demo-project")
    parser.add_argument("--stop", action="store_true", help="stop the local Alyx afterwards")
    args = parser.parse_args()

    server = start_server()
    try:
        if args.project.exists():
            shutil.rmtree(args.project)
        # A sample user of the local test server: its password is public test data.
        os.environ["ALYX_PASSWORD"] = seed_data.USERS[args.user]
        sync = ["sync", str(args.project), "--create", "--override", "yes"]
        code = pybpod_alyx([*sync, "--address", server["base_url"], "--username", args.user])
        project = open_project(args.project)
        rows = sorted(
            (s.name, alyx_data(s).get("lab"), alyx_data(s).get("sex"), alyx_data(s).get("alyx_id"))
            for s in project.subjects
        )
        shown = rows[:SHOWN_ROWS]
        print()
        print(format_table(("subject", "lab", "sex", "alyx_id"), shown))
        if len(rows) > len(shown):
            print(f"… and {len(rows) - len(shown)} more in {args.project / 'subjects'}")
        users = ", ".join(
            f"{u.name}@{(u.data or {}).get('connection', 'local')}" for u in project.users
        )
        print(f"\nThe PyBpod project {args.project} holds {len(rows)} subjects; users: {users}")
        return code
    finally:
        if args.stop:
            subprocess.run([sys.executable, str(SCRIPTS / "alyxserver"), "stop"], check=False)


if __name__ == "__main__":
    sys.exit(main())
