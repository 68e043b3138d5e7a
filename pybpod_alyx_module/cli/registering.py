"""What ``register``, ``outbox`` and ``weigh`` share: the options, the outbox, sending, exit codes.

The exit code says how a command ended: ``0`` done, ``7`` items still wait (Alyx could
not be reached: they are sent by the next run, or by the GUI), ``8`` items need attention
(Alyx refused them: ``pybpod-alyx outbox PROJECT`` says why and what to do); attention
wins over pending. ``register`` and ``outbox`` answer for the whole outbox; ``weigh`` for
its own weighing only.
"""

from __future__ import annotations

import argparse
import sys

from pybpod_alyx_module.alyx import NotLoggedInError
from pybpod_alyx_module.register import (
    ATTENTION,
    PENDING,
    SENT,
    FlushReport,
    Item,
    Outbox,
    RegisterOptions,
    send_outbox,
)
from pybpod_alyx_module.register.registrar import project_outbox

from . import exit_codes
from .connecting import connect
from .defaults import Defaults


def options_from(defaults: Defaults) -> RegisterOptions:
    """The registering settings (checked once, with the others, in :class:`Defaults`)."""
    return RegisterOptions.of(defaults)


def refuse(message: str) -> int:
    """Say why a command cannot do what it was asked (one line on stderr); exit 1."""
    print(f"pybpod-alyx: {message}", file=sys.stderr)
    return exit_codes.ERROR


def open_outbox(options: RegisterOptions, project_path: str) -> Outbox:
    """The project's outbox, opened (``outbox`` and ``weigh``; ``register`` through its registrar)."""
    return project_outbox(options, project_path)


def send_pending(
    args: argparse.Namespace, defaults: Defaults, outbox: Outbox, options: RegisterOptions
) -> int | None:
    """Send every pending item and print what happened; an exit code if it could not start."""
    try:
        with connect(args, defaults) as alyx:
            report = send_outbox(outbox, alyx, options, due_only=False, on_event=_print_event)
    except NotLoggedInError as exc:
        print(f"pybpod-alyx: {exc}", file=sys.stderr)
        return exit_codes.BAD_CREDENTIALS
    _print_report(report, outbox)
    return None


def outbox_exit_code(outbox: Outbox) -> int:
    """The exit code of the whole outbox: attention wins over pending."""
    counts = outbox.counts()
    if counts[ATTENTION]:
        return exit_codes.NEEDS_ATTENTION
    if counts[PENDING]:
        return exit_codes.PENDING
    return exit_codes.OK


def item_exit_code(state: str | None) -> int:
    """The exit code of one item's state (``weigh``: its weighing, whatever else waits)."""
    codes = {
        SENT: exit_codes.OK,
        PENDING: exit_codes.PENDING,
        ATTENTION: exit_codes.NEEDS_ATTENTION,
    }
    return codes.get(state or "", exit_codes.ERROR)


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
