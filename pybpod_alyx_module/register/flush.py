"""Flushing the outbox: send every pending item, a few at a time, and say what happened.

Items are sent by a small pool of workers (``ALYX_PLUGIN_SEND_WORKERS``, bounded to
stay under the server's throttle); each worker claims one item at a time from the
outbox, so a second process flushing the same outbox takes other items. When the
server cannot be reached, the workers stop taking items: the rest wait for the next
flush, and the report says when that may be. A server that cannot be reached at all is
retried with the same backoff as an item (recorded in the outbox, so that a flush started
every minute by the GUI asks it only when due).
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

from .failures import (
    ATTENTION,
    MAX_SERVER_FAILURES,
    STOP,
    TRANSIENT,
    UNEXPECTED_FIX,
    Verdict,
    backoff,
    judge,
)
from .outbox import ClaimLost, Item, Outbox, OutboxError
from .sender import SendContext, send_item

logger = logging.getLogger(__name__)

#: ``on_event(event, item, message)``: ``"sent"``, ``"retry"`` (with the error and the
#: delay), ``"attention"`` (with the server's words).
EventHandler = Callable[[str, Item, str], None]


@dataclass
class FlushReport:
    """What one flush did, and what it left."""

    sent: list[Item] = field(default_factory=list)
    postponed: list[tuple[Item, str]] = field(default_factory=list)
    attention: list[tuple[Item, str]] = field(default_factory=list)
    stopped: str | None = None  # why the flush stopped early (login refused, server away)
    notices: list[str] = field(default_factory=list)


def flush(
    outbox: Outbox,
    alyx: AlyxClient,
    workers: int = 4,
    due_only: bool = True,
    rng: random.Random | None = None,
    on_event: EventHandler | None = None,
) -> FlushReport:
    """Send the outbox's pending items to ``alyx``.

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
    failures, next_try, last_error = outbox.server_state()
    if due_only and next_try > time.time():
        report.stopped = f"{last_error} (next try {_clock(next_try)})"
        return report
    try:
        context = SendContext.open(alyx, outbox)
    except AlyxError as exc:
        if judge(exc).kind == STOP:
            raise  # the login itself: the caller asks for a password
        delay = backoff(failures, rng)
        outbox.server_away(str(exc), delay)
        report.stopped = f"{exc} (next try {_clock(time.time() + delay)})"
        return report
    outbox.server_back()
    halt = threading.Event()
    lock = threading.Lock()

    def worker() -> None:
        while not halt.is_set():
            claimed = outbox.claim(1, due_only=due_only)
            if not claimed:
                return
            _send_one(claimed[0], context, report, rng, lock, halt, on_event)

    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="alyx-outbox") as pool:
        for future in [pool.submit(worker) for _ in range(max(1, workers))]:
            future.result()
    report.notices = outbox.take_notices()
    return report


def _send_one(
    item: Item,
    context: SendContext,
    report: FlushReport,
    rng: random.Random,
    lock: threading.Lock,
    halt: threading.Event,
    on_event: EventHandler | None,
) -> None:
    outbox = context.outbox
    try:
        progress = send_item(item, context)
    except ClaimLost as exc:
        logger.warning("%s", exc)
        return
    except OutboxError:
        raise  # the outbox cannot be written: nothing more can be recorded, stop
    except Exception as exc:
        verdict = _judged(exc)
        if verdict.kind == STOP:
            outbox.release(item.id)
            with lock:
                report.stopped = verdict.message
            halt.set()
            return
        if verdict.kind == TRANSIENT and not (
            verdict.server_failure and item.server_failures + 1 >= MAX_SERVER_FAILURES
        ):
            with lock:
                delay = backoff(item.attempts, rng)
            outbox.postpone(item.id, verdict.message, delay, verdict.server_failure)
            with lock:
                report.postponed.append((item, verdict.message))
                if not verdict.server_failure:
                    report.stopped = verdict.message  # no answer at all: leave the rest
            if not verdict.server_failure:
                outbox.server_away(verdict.message, delay)
                halt.set()
            _tell(on_event, "retry", item, f"{verdict.message}; next try in {delay:.0f} s")
            return
        fix = verdict.fix or "The server keeps failing on this item: retry it later"
        outbox.needs_attention(item.id, verdict.message, fix)
        with lock:
            report.attention.append((item, verdict.message))
        _tell(on_event, ATTENTION, item, verdict.message)
        return
    outbox.finish(item.id, progress)
    with lock:
        report.sent.append(item)
    _tell(on_event, "sent", item, "")


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
