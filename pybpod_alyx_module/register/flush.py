"""Flushing the outbox: send every pending item, a few at a time, and say what happened.

Items are sent by a small pool of workers (``ALYX_PLUGIN_SEND_WORKERS``, bounded to
stay under the server's throttle); each worker claims one item at a time from the
outbox, so a second process flushing the same outbox takes other items. When the
server cannot be reached, the workers stop taking items: the rest wait for the next
flush, and the report says when that may be. A server that cannot be reached at all is
retried with the same backoff as an item (recorded in the outbox, so that a flush started
every minute by the GUI asks it only when due).

One try per item per flush: an item that failed is postponed at once (its next try is
recorded in the outbox, and told), and the flush never claims it again (a flush asked to
try every pending item, ``due_only=False``, would otherwise see it still pending). So a
failing server sees each item once per flush, and the time told is when the item is due
again: nothing is tried again in between.

A session's number is settled with the other rigs' (:mod:`.numbering`) once the flush has
created everything else: each item's session, weighing and water are sent first and the
item is given back; when no other item is left to create, the items given back are taken
again for their numbers. Rigs flushing together after an outage have then mostly created
their sessions when they compare numbers, and settle each day in a read or two instead of
chasing each other's creates; one rig reads each day it created sessions on once.

This module is the one writer of an item's state: :mod:`.sender` sends, and hands each
step's progress back through the ``save`` given to it; the outcome (sent, with a note if
the session went without its location; postponed; needing attention) is written here.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pybpod_alyx_module.alyx import AlyxClient, AlyxError
from pybpod_alyx_module.alyx.retry_policy import DEFAULT_POLICY, RetryPolicy

from .failures import (
    ATTENTION,
    STOP,
    TRANSIENT,
    UNEXPECTED_FIX,
    Verdict,
    judge,
    wait_before_next_try,
)
from .locations import location_note
from .outbox import PENDING, ClaimLost, Item, Outbox, OutboxError
from .sender import SendContext, numbers_settled, send_item

logger = logging.getLogger(__name__)

#: ``on_event(event, item, message)``: ``"sent"``, ``"retry"`` (with the error and when the
#: item is due again), ``"attention"`` (with the server's words).
EventHandler = Callable[[str, Item, str], None]


@dataclass
class FlushReport:
    """What one flush did, and what it left."""

    sent: list[Item] = field(default_factory=list)
    postponed: list[tuple[Item, str]] = field(default_factory=list)
    attention: list[tuple[Item, str]] = field(default_factory=list)
    stopped: str | None = None  # why the flush stopped early (login refused, server away)
    notices: list[str] = field(default_factory=list)


@dataclass
class _Run:
    """What the workers of one flush share."""

    context: SendContext
    outbox: Outbox
    report: FlushReport
    rng: random.Random
    policy: RetryPolicy
    on_event: EventHandler | None
    lock: threading.Lock = field(default_factory=threading.Lock)
    halt: threading.Event = field(default_factory=threading.Event)
    tried: set[int] = field(default_factory=set)
    #: Items whose records are on Alyx, left for their numbers until the rest is created.
    numbers_later: set[int] = field(default_factory=set)


def flush(
    outbox: Outbox,
    alyx: AlyxClient,
    workers: int = 4,
    due_only: bool = True,
    rng: random.Random | None = None,
    on_event: EventHandler | None = None,
) -> FlushReport:
    """Send the outbox's pending items to ``alyx``, each tried at most once.

    Parameters
    ----------
    workers
        Items sent at the same time.
    due_only
        Leave items whose retry time has not come yet (False: try every pending item now,
        as when a person asks to).
    rng
        Jitter of the retry delays (seed it to reproduce a run).
    on_event
        Called from the worker threads after each item.

    Returns
    -------
    FlushReport
        Never raises for an item's failure: each one is in the report and in the outbox.
        A server unreachable from the start, or a login refused mid-way, ends the flush
        with ``stopped`` set.

    Raises
    ------
    BadCredentialsError, InvalidTokenError, NotLoggedInError
        The login needed before anything is sent failed (nothing was claimed).
    """
    report = FlushReport()
    rng = rng or random.Random()
    # The client's policy for every wait; a stand-in client (tests) may carry none.
    policy = getattr(alyx, "retry_policy", DEFAULT_POLICY)
    failures, next_try, last_error = outbox.server_state()
    if due_only and next_try > time.time():
        report.stopped = f"{last_error} (next try {_clock(next_try)})"
        return report
    try:
        context = SendContext.open(alyx, (item.payload for item in outbox.items(PENDING)))
    except AlyxError as exc:
        verdict = judge(exc)
        if verdict.kind == STOP:
            raise  # the login itself: the caller asks for a password
        delay = wait_before_next_try(verdict, failures, rng, policy)
        outbox.server_away(str(exc), delay)
        report.stopped = f"{exc} (next try {_clock(time.time() + delay)})"
        return report
    outbox.server_back()
    run = _Run(context, outbox, report, rng, policy, on_event)

    def worker() -> None:
        while not run.halt.is_set():
            with run.lock:  # a claim and its note are one step: no worker claims a tried item
                waiting = frozenset(run.numbers_later)
                claimed = outbox.claim(1, due_only=due_only, exclude=run.tried | waiting)
                if not claimed:  # everything created: now the numbers left for later
                    claimed = outbox.claim(1, due_only=due_only, exclude=frozenset(run.tried))
                if not claimed:
                    return
                item = claimed[0]
                numbers = item.id in run.numbers_later
                run.numbers_later.discard(item.id)
                run.tried.add(item.id)
            _send_one(item, run, numbers)

    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="alyx-outbox") as pool:
        for future in [pool.submit(worker) for _ in range(max(1, workers))]:
            future.result()
    report.notices = outbox.take_notices()
    return report


def _send_one(item: Item, run: _Run, numbers: bool) -> None:
    """Try ``item``; a session's number is settled only once the flush created the rest."""
    outbox, report = run.outbox, run.report
    try:
        progress = send_item(
            item, run.context, lambda done: outbox.save_progress(item.id, done), numbers
        )
        if not numbers_settled(item.payload, progress):
            outbox.save_progress(item.id, progress)
            outbox.release(item.id)  # its subject's other items go on meanwhile
            with run.lock:
                run.tried.discard(item.id)
                run.numbers_later.add(item.id)
            return
    except ClaimLost as exc:
        logger.warning("%s", exc)
        return
    except OutboxError:
        raise  # the outbox cannot be written: nothing more can be recorded, stop
    except Exception as exc:
        _failed(item, _judged(exc), run)
        return
    note = location_note(item.payload, progress, run.context.server)
    if note is None:
        outbox.finish(item.id, progress)
    else:
        outbox.notice(note.key, note.notice)
        outbox.finish(item.id, progress, note.why, note.fix)
    with run.lock:
        report.sent.append(item)
    _tell(run.on_event, "sent", item, "")


def _failed(item: Item, verdict: Verdict, run: _Run) -> None:
    """Record a failed try: pending with its next try, needing attention, or the flush stops."""
    outbox, report = run.outbox, run.report
    if verdict.kind == STOP:
        outbox.release(item.id)
        with run.lock:
            report.stopped = verdict.message
        run.halt.set()
        return
    if verdict.kind == TRANSIENT:
        with run.lock:
            delay = wait_before_next_try(verdict, item.failed_tries, run.rng, run.policy)
        outbox.postpone(item.id, verdict.message, delay, verdict.server_failure)
        recorded = outbox.get(item.id)  # the time told is the one recorded, to the second
        due = _clock(recorded.next_try if recorded else time.time() + delay)
        with run.lock:
            report.postponed.append((item, verdict.message))
            if not verdict.server_failure:
                report.stopped = f"{verdict.message} (next try {due})"  # no answer: leave the rest
        if not verdict.server_failure:
            outbox.server_away(verdict.message, delay)
            run.halt.set()
        _tell(run.on_event, "retry", item, f"{verdict.message}; kept pending, due again at {due}")
        return
    outbox.needs_attention(item.id, verdict.message, verdict.fix or UNEXPECTED_FIX)
    with run.lock:
        report.attention.append((item, verdict.message))
    _tell(run.on_event, ATTENTION, item, verdict.message)


def _clock(moment: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(moment))


def _judged(error: Exception) -> Verdict:
    """The verdict on a failure; a failure nobody foresaw is kept for a person, not raised."""
    try:
        return judge(error)
    except Exception:
        logger.exception("Unexpected error while sending an outbox item")
        return Verdict(ATTENTION, f"Unexpected error: {error!r}", UNEXPECTED_FIX)


def _tell(on_event: EventHandler | None, event: str, item: Item, message: str) -> None:
    if on_event is not None:
        on_event(event, item, message)
    else:
        logger.info("%s %s %s", event, item.label, message)
