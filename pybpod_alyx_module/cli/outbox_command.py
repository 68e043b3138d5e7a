"""``pybpod-alyx outbox``: list what waits, was sent or needs attention; retry or discard an item.

An item named by ``--retry ID`` or ``--discard ID`` that cannot be retried or discarded
(there is no such item, it was sent, it was discarded) is refused in the same way for
both: one line saying why, exit code 1. A discarded item is given up for good: a plain
``register`` does not queue it again; ``register --again ID`` does.
"""

from __future__ import annotations

import argparse

from pybpod_alyx_module.register import ATTENTION, DISCARDED, PENDING, SENT, Item, Outbox
from pybpod_alyx_module.register.project_reader import read_project
from pybpod_alyx_module.register.waiting import next_try_words

from .defaults import Defaults
from .output import format_table
from .registering import (
    clear_errors,
    open_outbox,
    options_from,
    outbox_exit_code,
    refuse,
    send_pending,
)

OUTBOX_COLUMNS = ("id", "state", "item", "tries", "why", "what to do")


@clear_errors
def run_outbox(args: argparse.Namespace, defaults: Defaults) -> int:
    options = options_from(defaults)
    project = read_project(args.project_dir)
    with open_outbox(options, project.path) as outbox:
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
        return f"{named} was sent already: discarding it would not remove its records from Alyx"
    if item.state == DISCARDED:
        if action == "retry":
            return f"{named} was discarded. {again_words(item)}"
        return f"{named} is discarded already"
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
    rows = [_row(item) for item in items]
    if rows:
        print(format_table(OUTBOX_COLUMNS, rows))
    counts = ", ".join(f"{count} {state}" for state, count in outbox.counts().items())
    print(f"\nOutbox {outbox.path}: {counts}")
    failures, next_try, error = outbox.server_state()
    if failures:
        print(f"Alyx could not be reached ({failures} time(s) in a row: {error}); "
              f"next automatic try {next_try_words(next_try)}.")  # fmt: skip


def _row(item: Item) -> tuple:
    why = item.last_error or ""
    if item.state == PENDING and item.next_try:
        when = f"next try {next_try_words(item.next_try)}"
        why = f"{why} ({when})" if why else when
    return (item.id, item.state, item.label, item.attempts, why, item.fix or "")
