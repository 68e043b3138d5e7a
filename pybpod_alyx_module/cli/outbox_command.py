"""``pybpod-alyx outbox``: list what waits, was sent or needs attention; retry, discard, withdraw.

An item named by ``--retry ID``, ``--discard ID`` or ``--withdraw ID`` that cannot be
retried, discarded or withdrawn (there is no such item, it was sent, it was discarded, it was
withdrawn) is refused in the same way for all: one line saying why, exit code 1. A discarded
item is given up for good: a plain ``register`` does not queue it again; ``register --again
ID`` does. ``--withdraw ID`` removes a sent item's records from Alyx (:mod:`~pybpod_alyx_module
.register.withdraw`), after asking (``--yes``: without asking); listing reads the local file
only, so it needs no server.
"""

from __future__ import annotations

import argparse
import sys

from pybpod_alyx_module.register import (
    ATTENTION,
    DISCARDED,
    PENDING,
    SENT,
    WITHDRAWN,
    Item,
    Outbox,
)
from pybpod_alyx_module.register.project_reader import read_project
from pybpod_alyx_module.register.waiting import item_words, next_try_words
from pybpod_alyx_module.register.withdraw import describe, why_not_withdraw, withdraw

from . import exit_codes
from .connecting import connect
from .defaults import Defaults
from .output import format_table
from .registering import (
    open_outbox,
    options_from,
    outbox_exit_code,
    refuse,
    send_pending,
)

OUTBOX_COLUMNS = ("id", "state", "item", "tries", "why", "what to do")


def run_outbox(args: argparse.Namespace, defaults: Defaults) -> int:
    options = options_from(defaults)
    project = read_project(args.project_dir)
    with open_outbox(options, project.path) as outbox:
        if args.withdraw is not None:
            return run_withdraw(args, defaults, outbox)
        if args.discard is not None:
            problem = why_not(outbox, args.discard, "discard")
            if problem is None and not outbox.discard(args.discard):  # changed meanwhile
                problem = why_not(outbox, args.discard, "discard") or "it changed meanwhile"
            if problem:
                return refuse(problem)
            print(discarded_words(outbox.get(args.discard)))
        if args.retry is not None:
            item_id = None if args.retry == "all" else args.retry
            problem = None if item_id is None else why_not(outbox, item_id, "retry")
            if problem:
                return refuse(problem)
            print(f"Retrying {outbox.retry(item_id)} item(s).")
            return send_pending(args, defaults, outbox, options) or outbox_exit_code(outbox)
        print_items(outbox, args.all)
        return outbox_exit_code(outbox)


def run_withdraw(args: argparse.Namespace, defaults: Defaults, outbox: Outbox) -> int:
    """``--withdraw ID``: say what goes, ask (unless ``--yes``), remove it from Alyx, mark it."""
    item_id = args.withdraw
    item = outbox.get(item_id)
    problem = why_not_withdraw(item, item_id)
    if problem:
        return refuse(f"{problem} ('pybpod-alyx outbox PROJECT --all' lists every item)")
    assert item is not None
    what = describe(item)
    if not args.yes:
        if not sys.stdin.isatty():
            return refuse(
                f"withdrawing item {item_id} deletes {what} from Alyx: confirm with --yes "
                "(no terminal to ask at)"
            )
        reply = input(f"Delete {what} from Alyx (item {item_id})? [y/N] ").strip().lower()
        if reply not in ("y", "yes"):
            print("Nothing was withdrawn.")
            return exit_codes.CANCELLED
    with connect(args, defaults) as alyx:
        report = withdraw(outbox, alyx, item_id)
    print(report.words())
    return exit_codes.OK


def why_not(outbox: Outbox, item_id: int, action: str) -> str | None:
    """Why item ``item_id`` cannot be retried or discarded (``action``), or ``None``."""
    item = outbox.get(item_id)
    if item is None:
        return (
            f"no item {item_id} in the outbox {outbox.path} to {action} "
            "('pybpod-alyx outbox PROJECT --all' lists every item with its id)"
        )
    named = f"item {item_id} ({item.label})"
    if item.state == SENT:
        if action == "retry":
            return f"{named} was sent already: there is nothing to retry"
        return (
            f"{named} was sent already: discarding it would not remove its records from Alyx "
            f"(withdrawing does: pybpod-alyx outbox PROJECT --withdraw {item_id})"
        )
    if item.state == DISCARDED:
        if action == "retry":
            return f"{named} was discarded. {again_words(item)}"
        return f"{named} is discarded already"
    if item.state == WITHDRAWN:
        return f"{named} was withdrawn: its records were removed from Alyx, nothing to {action}"
    return None


def discarded_words(item: Item | None) -> str:
    """What the user is told after discarding ``item``: it is given up for good, unless…"""
    if item is None:
        return "Discarded."
    return (
        f"Discarded item {item.id} ({item.label}): it will not be sent, and a plain "
        f"'pybpod-alyx register' does not queue it again (still listed with --all). "
        f"{again_words(item)}"
    )


def again_words(item: Item) -> str:
    """How to register a discarded item after all."""
    if item.payload.get("kind") == "session":
        return f"To register it after all: pybpod-alyx register PROJECT --again {item.id}"
    return "To record it after all, weigh again: pybpod-alyx weigh PROJECT SUBJECT GRAMS"


def print_items(outbox: Outbox, everything: bool) -> None:
    items = outbox.items() if everything else outbox.items(PENDING, ATTENTION)
    failures, next_try, error = outbox.server_state()
    server_error = error if failures else None
    rows = [
        (item.id, item.state, item.label, item.attempts, *item_words(item, server_error))
        for item in items
    ]
    if rows:
        print(format_table(OUTBOX_COLUMNS, rows))
    counts = ", ".join(f"{count} {state}" for state, count in outbox.counts().items())
    print(f"\nOutbox {outbox.path}: {counts}")
    if failures:
        print(f"Alyx could not be reached ({failures} time(s) in a row: {error}); "
              f"next automatic try {next_try_words(next_try)}.")  # fmt: skip
