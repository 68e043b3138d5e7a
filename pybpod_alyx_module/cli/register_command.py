"""``pybpod-alyx register`` and ``outbox``: sessions, weights and water to Alyx (``weigh``: its own file).

Every command queues into the project's outbox first, then sends what is pending; the
exit codes are in :mod:`.registering`. ``register --dry-run`` goes through the same steps
without writing: it lists what a real run would queue, and every pending item it would
send with the values queued (a weight typed in PyBpod included); sessions sent before
are not listed. A discarded item is not queued again unless named with ``--again``.
"""

from __future__ import annotations

import argparse
import datetime
import os
from pathlib import Path
from typing import Any

from pybpod_alyx_module.register import DISCARDED, PENDING, Outbox, QueueReport, Registrar
from pybpod_alyx_module.register.project_reader import ProjectOnDisk, read_project

from . import exit_codes
from .defaults import Defaults
from .outbox_command import run_outbox
from .output import format_table
from .registering import (
    options_from,
    outbox_exit_code,
    refuse,
    send_pending,
)

DRY_RUN_COLUMNS = ("item", "weight (g)", "water (ml)", "location", "queued")


def add_commands(commands: Any, connection: argparse.ArgumentParser) -> None:
    """Add ``register`` and ``outbox`` to the ``pybpod-alyx`` subcommands."""
    epilog = "exit codes:\n" + exit_codes.describe()
    raw = argparse.RawDescriptionHelpFormatter
    register = commands.add_parser(
        "register", parents=[connection], epilog=epilog, formatter_class=raw,
        help="queue the project's sessions (session, weight, water) and send them to Alyx",
    )  # fmt: skip
    register.add_argument("project_dir", type=Path, metavar="PROJECT_DIR")
    register.add_argument(
        "--session", nargs="+", metavar="NAME", help="only these sessions (folder names)"
    )
    register.add_argument(
        "--since", type=_date, metavar="YYYY-MM-DD", help="only sessions started on or after"
    )
    register.add_argument(
        "--again", nargs="+", type=_item_id, default=[], metavar="ID",
        help="queue these discarded items' sessions anew (ids from 'outbox PROJECT --all'); "
        "a plain register leaves a discarded item discarded",
    )  # fmt: skip
    register.add_argument(
        "--dry-run", action="store_true",
        help="print what would be queued and sent, with the values; queue and send nothing",
    )  # fmt: skip
    register.set_defaults(run=run_register, needs_server=lambda args: not args.dry_run)

    outbox = commands.add_parser(
        "outbox", parents=[connection], epilog=epilog, formatter_class=raw,
        help="list what waits to be sent, was sent or needs attention; retry or discard",
    )  # fmt: skip
    outbox.add_argument("project_dir", type=Path, metavar="PROJECT_DIR")
    outbox.add_argument(
        "--retry", nargs="?", const="all", type=_item_or_all, metavar="ID",
        help="send again now: one item, or all pending and needs-attention items",
    )  # fmt: skip
    outbox.add_argument(
        "--discard", type=_item_id, metavar="ID",
        help="give up this item for good (register queues it again only with --again ID)",
    )  # fmt: skip
    outbox.add_argument(
        "--withdraw", type=_item_id, metavar="ID",
        help="remove this sent item's records from Alyx (asks first; needs the server)",
    )  # fmt: skip
    outbox.add_argument("--yes", action="store_true", help="withdraw without asking")
    outbox.add_argument(
        "--all", action="store_true", help="also list sent, discarded and withdrawn items"
    )
    outbox.set_defaults(
        run=run_outbox,
        needs_server=lambda args: args.retry is not None or args.withdraw is not None,
    )


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _item_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an item id (a number): {text!r}") from None


def _item_or_all(text: str) -> int | str:
    return text if text == "all" else _item_id(text)


# -- register ---------------------------------------------------------------------------------


def run_register(args: argparse.Namespace, defaults: Defaults) -> int:
    options = options_from(defaults)  # a bad setting is said before anything is read
    project = read_project(args.project_dir)
    registrar = Registrar.of(project, options)
    files = registrar.session_files()
    if args.session:
        wanted = set(args.session)
        files = [f for f in files if f.parent.name in wanted]
        missing = wanted - {f.parent.name for f in files}
        if missing:
            return refuse(f"no session {', '.join(sorted(missing))} in {project.path}")
    if not files:
        print(NO_SESSIONS_YET.format(project=project.path))
    if args.dry_run and not os.path.lexists(registrar.outbox_path):  # a dry run makes no outbox
        return _dry_run(None, project, registrar.plan(None, files, args.since))
    with registrar.open_outbox() as outbox:
        again = {}
        for item_id in args.again:
            problem = _not_again(outbox, item_id)
            if problem:
                return refuse(problem)
            again[outbox.get(item_id).key] = item_id
        report = registrar.plan(outbox, files, args.since, again)
        lost = [item_id for key, item_id in again.items()
                if key not in {r.key for r in report.registrations}]  # fmt: skip
        if lost:
            return refuse(
                f"the session of item {lost[0]} is not among the sessions selected in "
                f"{project.path} (moved, deleted, or left out: try --dry-run); nothing was queued"
            )
        if args.dry_run:
            return _dry_run(outbox, project, report)
        registrar.queue(outbox, report, again)
        _print_left_out(project, report, outbox)
        print(f"Queued {report.queued} new registrations in {outbox.path} "
              f"({report.already} were queued before)")  # fmt: skip
        return send_pending(args, defaults, outbox, registrar.options) or outbox_exit_code(outbox)


#: Why a project's register finds nothing: it has no session yet, and where one comes from.
NO_SESSIONS_YET = (
    "  no session in {project} yet: each run of a setup writes one "
    "(experiments/<experiment>/setups/<setup>/sessions/<session>/); without a Bpod board, "
    "see 'Trying registration without a Bpod board' in docs/user-guide.md"
)


def _not_again(outbox: Outbox, item_id: int) -> str | None:
    """Why ``--again ID`` cannot queue this item anew, or ``None``."""
    item = outbox.get(item_id)
    if item is None:
        return (
            f"no item {item_id} in the outbox {outbox.path} to register again "
            "('pybpod-alyx outbox PROJECT --all' lists every item with its id)"
        )
    if item.state != DISCARDED:
        return (
            f"item {item_id} ({item.label}) is {item.state}, not discarded: --again only "
            "queues a discarded item anew (a pending one is sent by a plain register; one "
            "needing attention by 'pybpod-alyx outbox PROJECT --retry ID')"
        )
    if item.payload.get("kind") != "session":
        return (
            f"item {item_id} ({item.label}) is not a session: to record the weight after "
            "all, weigh again: pybpod-alyx weigh PROJECT SUBJECT GRAMS"
        )
    return None


def _dry_run(outbox: Outbox | None, project: ProjectOnDisk, report: QueueReport) -> int:
    """Print what a real ``register`` would queue and send, with the values it would send."""
    _print_left_out(project, report, outbox)
    waiting = outbox.items(PENDING) if outbox is not None else []
    rows = [_would_send(r.label, r.payload, "now") for r in report.registrations]
    rows += [_would_send(i.label, i.payload, f"before (item {i.id})") for i in waiting]
    if rows:
        print(format_table(DRY_RUN_COLUMNS, rows))
        print()
    print(f"{len(report.registrations)} registrations would be queued and {len(rows)} items "
          f"sent ({len(waiting)} queued before); {report.already} registrations of these "
          "sessions were queued before and are not queued again "
          "(dry run: nothing queued or sent)")  # fmt: skip
    return exit_codes.OK


def _print_left_out(project: ProjectOnDisk, report: QueueReport, outbox: Outbox | None) -> None:
    for problem in project.problems:
        print(f"  left out {problem}")
    for problem in report.problems:
        print(f"  left out {problem.session}: {problem.reason}")
    if report.discarded and outbox is not None:
        ids = {item.key: item.id for item in outbox.items(DISCARDED)}
        for registration in report.discarded:
            print(f"  left out {registration.label}: discarded on purpose (item "
                  f"{ids.get(registration.key)}); --again {ids.get(registration.key)} "
                  "queues it anew")  # fmt: skip


def _would_send(label: str, payload: dict[str, Any], queued: str) -> tuple:
    weighing, water = payload.get("weighing") or {}, payload.get("water") or {}
    location = payload.get("location")
    return (label, weighing.get("weight"), water.get("water_administered"), location, queued)
