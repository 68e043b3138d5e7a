"""``pybpod-alyx register``, ``outbox`` and ``weigh``: sessions, weights and water to Alyx.

Every command queues into the project's outbox first, then sends what is pending.
The exit code says how it ended: ``0`` everything sent, ``7`` some items still wait
(Alyx could not be reached: they are sent by the next run, or by the GUI), ``8`` some
items need attention (Alyx refused them: ``pybpod-alyx outbox PROJECT`` says why and
what to do). Attention wins over pending.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pybpod_alyx_module.alyx import NotLoggedInError
from pybpod_alyx_module.client_settings import setting
from pybpod_alyx_module.register import (
    ATTENTION,
    PENDING,
    FlushReport,
    Item,
    Outbox,
    OutboxError,
    QueueReport,
    RegisterOptions,
    alyx_subjects,
    flush,
    queue_sessions,
    queue_weighing,
    session_files,
)
from pybpod_alyx_module.register.typed_amounts import parse_grams
from pybpod_alyx_module.sync.project_files import ProjectError, open_project

from . import exit_codes
from .defaults import Defaults, load_user_settings
from .output import format_table

OUTBOX_COLUMNS = ("id", "state", "item", "tries", "why", "what to do")


def add_commands(commands: Any, connection: argparse.ArgumentParser) -> None:
    """Add ``register``, ``outbox`` and ``weigh`` to the ``pybpod-alyx`` subcommands."""
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
        "--dry-run", action="store_true", help="print what would be queued; send nothing"
    )
    register.set_defaults(run=run_register)

    outbox = commands.add_parser(
        "outbox", parents=[connection], epilog=epilog, formatter_class=raw,
        help="list what waits to be sent, was sent or needs attention; retry or discard",
    )  # fmt: skip
    outbox.add_argument("project_dir", type=Path, metavar="PROJECT_DIR")
    outbox.add_argument(
        "--retry", nargs="?", const="all", type=_item_id, metavar="ID",
        help="send again now: one item, or all pending and needs-attention items",
    )  # fmt: skip
    outbox.add_argument("--discard", type=int, metavar="ID", help="give up this item, on purpose")
    outbox.add_argument("--all", action="store_true", help="also list sent and discarded items")
    outbox.set_defaults(run=run_outbox)

    weigh = commands.add_parser(
        "weigh",
        parents=[connection],
        epilog=epilog,
        formatter_class=raw,
        help="record a subject's weight now",
    )
    weigh.add_argument("project_dir", type=Path, metavar="PROJECT_DIR")
    weigh.add_argument("subject", metavar="SUBJECT", help="the subject's name in the project")
    weigh.add_argument("grams", type=_grams, metavar="GRAMS")
    weigh.set_defaults(run=run_weigh)


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _item_id(text: str) -> int | str:
    if text == "all":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an item id (a number): {text!r}") from None


def _grams(text: str) -> float:
    try:
        grams = parse_grams(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if grams is None:
        raise argparse.ArgumentTypeError("a weight in grams is needed")
    return grams


def options_from(defaults: Defaults) -> RegisterOptions:
    """The registering settings of ``./user_settings.py`` (or the plugin's defaults)."""
    module = load_user_settings(defaults.source) if defaults.source else None
    return RegisterOptions.from_settings(lambda name: setting(module, name))


def _clear_errors(run: Callable[[argparse.Namespace, Defaults], int]):
    """A broken project folder or outbox is a one-line error (exit 1), not a traceback."""

    @functools.wraps(run)
    def wrapper(args: argparse.Namespace, defaults: Defaults) -> int:
        try:
            return run(args, defaults)
        except (ProjectError, OutboxError) as exc:
            print(f"pybpod-alyx: {exc}", file=sys.stderr)
            return exit_codes.ERROR

    return wrapper


# -- register ---------------------------------------------------------------------------------


@_clear_errors
def run_register(args: argparse.Namespace, defaults: Defaults) -> int:
    options = options_from(defaults)
    project = open_project(args.project_dir)
    files = session_files(project.path)
    if args.session:
        wanted = set(args.session)
        files = [f for f in files if f.parent.name in wanted]
        missing = wanted - {f.parent.name for f in files}
        if missing:
            print(f"pybpod-alyx: no session {', '.join(sorted(missing))} in {project.path}",
                  file=sys.stderr)  # fmt: skip
            return exit_codes.ERROR
    if args.dry_run:
        report = queue_sessions(None, project, options, files, since=args.since, dry_run=True)
        _print_problems(report)
        rows = [_would_send(r.label, r.payload) for r in report.registrations]
        if rows:
            print(format_table(("session", "weight (g)", "water (ml)", "location"), rows))
            print()
        print(f"{len(rows)} registrations (dry run: nothing queued or sent)")
        return exit_codes.OK
    with _open_outbox(options, project.path) as outbox:
        report = queue_sessions(outbox, project, options, files, since=args.since)
        _print_problems(report)
        print(f"Queued {report.queued} new registrations in {outbox.path} "
              f"({report.already} were queued before)")  # fmt: skip
        return _send(args, defaults, outbox, options)


def _print_problems(report: QueueReport) -> None:
    for problem in report.problems:
        print(f"  left out {problem.session}: {problem.reason}")


def _would_send(label: str, payload: dict[str, Any]) -> tuple:
    weighing, water = payload.get("weighing") or {}, payload.get("water") or {}
    return (label, weighing.get("weight"), water.get("water_administered"), payload["location"])


# -- outbox -----------------------------------------------------------------------------------


@_clear_errors
def run_outbox(args: argparse.Namespace, defaults: Defaults) -> int:
    options = options_from(defaults)
    project = open_project(args.project_dir)
    with _open_outbox(options, project.path) as outbox:
        if args.discard is not None:
            if not outbox.discard(args.discard):
                print(f"pybpod-alyx: no pending or needs-attention item {args.discard}",
                      file=sys.stderr)  # fmt: skip
                return exit_codes.ERROR
            print(f"Discarded item {args.discard}: it will not be sent (still listed with --all).")
        if args.retry is not None:
            item_id = None if args.retry == "all" else args.retry
            print(f"Retrying {outbox.retry(item_id)} item(s).")
            return _send(args, defaults, outbox, options)
        _print_items(outbox, args.all)
        return _exit_code(outbox)


def _print_items(outbox: Outbox, everything: bool) -> None:
    items = outbox.items() if everything else outbox.items(PENDING, ATTENTION)
    rows = [_row(item) for item in items]
    if rows:
        print(format_table(OUTBOX_COLUMNS, rows))
    counts = ", ".join(f"{count} {state}" for state, count in outbox.counts().items())
    print(f"\nOutbox {outbox.path}: {counts}")
    failures, next_try, error = outbox.server_state()
    if failures:
        when = datetime.datetime.fromtimestamp(next_try).strftime("%H:%M:%S")
        print(f"Alyx could not be reached ({failures} time(s) in a row: {error}); "
              f"next automatic try {when}.")  # fmt: skip


def _row(item: Item) -> tuple:
    why = item.last_error or ""
    if item.state == PENDING and item.next_try:
        when = datetime.datetime.fromtimestamp(item.next_try).strftime("%H:%M:%S")
        why = f"{why} (next try {when})" if why else f"next try {when}"
    return (item.id, item.state, item.label, item.attempts, why, item.fix or "")


# -- weigh ------------------------------------------------------------------------------------


@_clear_errors
def run_weigh(args: argparse.Namespace, defaults: Defaults) -> int:
    options = options_from(defaults)
    project = open_project(args.project_dir)
    named = [s for s in alyx_subjects(project).values() if s.name == args.subject]
    if not named:
        print(f"pybpod-alyx: {args.subject} is not an Alyx subject of {project.path} "
              "(sync it from Alyx first)", file=sys.stderr)  # fmt: skip
        return exit_codes.ERROR
    with _open_outbox(options, project.path) as outbox:
        queue_weighing(outbox, named[0], args.grams, args.username)
        return _send(args, defaults, outbox, options)


# -- sending ----------------------------------------------------------------------------------


def _open_outbox(options: RegisterOptions, project_path: str) -> Outbox:
    return Outbox(options.outbox_path(project_path))


def _send(
    args: argparse.Namespace, defaults: Defaults, outbox: Outbox, options: RegisterOptions
) -> int:
    from .main import connect

    try:
        with connect(args, defaults) as alyx:
            report = flush(
                outbox, alyx, workers=options.send_workers, due_only=False, on_event=_print_event
            )
    except NotLoggedInError as exc:
        print(f"pybpod-alyx: {exc}", file=sys.stderr)
        return exit_codes.BAD_CREDENTIALS
    _print_report(report, outbox)
    return _exit_code(outbox)


def _print_event(event: str, item: Item, message: str) -> None:
    if event == "sent":
        print(f"  sent      {item.label}")
    elif event == "retry":
        print(f"  waiting   {item.label}: {message}")
    else:
        print(f"  ATTENTION {item.label}: {message}")


def _print_report(report: FlushReport, outbox: Outbox) -> None:
    for notice in report.notices:
        print(f"\nNote: {notice}")
    if report.stopped:
        print(f"\nStopped sending: {report.stopped}")
    counts = outbox.counts()
    print(f"\nSent {len(report.sent)} now. Outbox: {counts[PENDING]} pending, "
          f"{counts[ATTENTION]} need attention.")  # fmt: skip
    if counts[PENDING]:
        print("Pending items are sent by the next 'pybpod-alyx register' or "
              "'pybpod-alyx outbox PROJECT --retry', or by PyBpod.")  # fmt: skip
    if counts[ATTENTION]:
        print("See why and what to do: pybpod-alyx outbox PROJECT")


def _exit_code(outbox: Outbox) -> int:
    counts = outbox.counts()
    if counts[ATTENTION]:
        return exit_codes.NEEDS_ATTENTION
    if counts[PENDING]:
        return exit_codes.PENDING
    return exit_codes.OK
