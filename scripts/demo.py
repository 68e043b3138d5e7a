"""The README's main job: a real local Alyx with sample subjects, seen through the plugin's client.

Brings up alyx-local (``scripts/alyxserver``), logs in as the sample user ``alice``
and prints her subjects as a table. Run it through ``scripts/demo``, which installs
what is missing first.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS))

from alyxserver import seed_data  # noqa: E402

from pybpod_alyx_module.alyx import AlyxClient  # noqa: E402

COLUMNS = ("nickname", "lab", "sex", "birth_date", "alive", "projects")


def start_server() -> dict:
    """Start (or find running) the local Alyx and return its description."""
    out = subprocess.run(
        [sys.executable, str(SCRIPTS / "alyxserver"), "start"],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    return json.loads(out)


def print_table(subjects: list) -> None:
    rows = [[_cell(s.get(c)) for c in COLUMNS] for s in subjects]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    print("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)))


def _cell(value) -> str:
    return ",".join(value) if isinstance(value, list) else str(value if value is not None else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", default="alice", choices=sorted(seed_data.USERS))
    parser.add_argument("--stop", action="store_true", help="stop the local Alyx afterwards")
    args = parser.parse_args()

    server = start_server()
    try:
        with AlyxClient(server["url"], args.user, seed_data.USERS[args.user]) as alyx:
            alyx.login()
            subjects = list(alyx.subjects(responsible_user=args.user))
        print_table(subjects)
        alive = sum(1 for s in subjects if s.get("alive"))
        print(f"\n{len(subjects)} subjects of {args.user} on {server['url']} ({alive} alive)")
    finally:
        if args.stop:
            subprocess.run([sys.executable, str(SCRIPTS / "alyxserver"), "stop"], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
