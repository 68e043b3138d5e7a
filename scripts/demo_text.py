"""What ``scripts/demo`` tells the user: the steps to try in PyBpod, and what runs afterwards.

Every number comes from where it is defined (the sample users from
:mod:`alyxserver.seed_data`, the rig's subject from :mod:`demo_rig`, its reference weight
from :mod:`alyxserver.seed_welfare`, the threshold from the plugin's settings), so the text
cannot drift from what the demo built.
"""

from __future__ import annotations

import os
from pathlib import Path

import demo_rig
from alyxserver import seed_data, seed_welfare

from pybpod_alyx_module import settings
from pybpod_alyx_module.cli.output import format_table

REPO = Path(__file__).resolve().parent.parent
#: The command line, as a user types it from the demo folder.
CLI = os.path.relpath(REPO / ".venv" / "bin" / "pybpod-alyx", REPO / "demo")
PROJECT_NAME = "alyx-demo"


def rig_subject() -> seed_welfare.Welfare:
    """The rig's subject and its welfare story."""
    by_name = {s.nickname: s for s in seed_welfare.RESTRICTED}
    return by_name[demo_rig.SUBJECTS[0]]


def gui_steps(project: Path, user: str, rig: bool) -> str:
    """What to try in PyBpod, printed before its window opens."""
    lines = [f"Opening PyBpod on {project}, logged in as {user}."]
    if rig:
        subject = rig_subject()
        threshold = settings.ALYX_PLUGIN_WEIGHT_THRESHOLD
        lowest = subject.reference_g * threshold
        lines += [
            "To register a run in Alyx (no Bpod board needed):",
            f"  1. open {demo_rig.EXPERIMENT} > {demo_rig.SETUP} in the project tree, press Run;",
            f"  2. Weigh before the run: type {subject.nickname}'s weight (reference "
            f"{subject.reference_g:g} g; below {lowest:.1f} g",
            f"     the {threshold * 100:.0f} % warning shows), then Start;",
            f"  3. the task {demo_rig.TASK} runs 10 trials (3 s); After the run shows the water",
            "     it gave and what remains to give today;",
            "  4. the session's node gets a tick: sent to Alyx (right-click the project:",
            "     Alyx outbox lists what was sent).",
            f"Right-click {subject.nickname} > Alyx details: its weight against the reference and "
            "threshold,",
            "and its water per day. Right-click the project > Sync to Alyx to sync again.",
        ]
    else:
        lines.append("Right-click the project > Sync to Alyx, Connect, Get Subjects.")
    return "\n".join(lines)


def print_next_steps(address: str, user: str, rig: bool, gui: bool) -> None:
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
    tries = _tries(user, rig, gui)
    width = max(len(command) for command, _ in tries)
    print("\nThe command line is .venv/bin/pybpod-alyx. Try next, from the demo folder (its")
    print("settings and token file are in demo/, never in your ~/.pybpod_alyx):")
    print("  cd demo")
    for command, what in tries:
        print(f"  {CLI} {command:<{width}}  # {what}")
    if rig and not gui:
        print("A run of the demo rig needs PyBpod's window: scripts/demo with a display (see")
        print('docs/user-guide.md, "Trying registration without a Bpod board").')
    print("Or run scripts/demo again: it keeps demo/alyx-demo/ and the local Alyx's data, and")
    print("syncs again (--fresh starts both anew).")


def _tries(user: str, rig: bool, gui: bool) -> list[tuple[str, str]]:
    other = next(name for name in seed_data.USERS if name != user)
    tries = [
        ("subjects --alive", f"{user}'s alive subjects on the local Alyx"),
        (f"sync {PROJECT_NAME} --dry-run", "the plan: nothing to do right after a sync"),
    ]
    if rig:
        subject = rig_subject()
        if gui:
            tries.append((f"register {PROJECT_NAME} --dry-run", "the runs made in PyBpod"))
        tries += [
            (f"outbox {PROJECT_NAME} --all", "what was sent to Alyx, and what waits"),
            (
                f"weigh {PROJECT_NAME} {subject.nickname} {subject.reference_g * 0.84:.1f}",
                f"weigh {subject.nickname} (84 % of its reference) in Alyx",
            ),
        ]
    tries.append((f"login --username {other}", "another sample user (password above)"))
    return tries
