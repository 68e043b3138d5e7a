"""When something waiting in the outbox is tried next, in words people read at a glance.

A next try stored in the outbox is a moment; by the time a person reads it, it may have
passed (the outbox was listed after it, or no flush ran since). A past moment is not
shown as a clock time — "next try 07:58" read at 08:01 looks like a promise broken — but
as *due now*: the next flush (``register``, ``outbox --retry``, or PyBpod's periodic
send) tries it.

>>> next_try_words(100.0, now=200.0)
'due now'
"""

from __future__ import annotations

import datetime
import time


def next_try_words(moment: float, now: float | None = None) -> str:
    """``'due now'`` for a moment past, else ``'at HH:MM:SS'`` (with the day if not today)."""
    now = time.time() if now is None else now
    if moment <= now:
        return "due now"
    when = datetime.datetime.fromtimestamp(moment)
    if when.date() == datetime.datetime.fromtimestamp(now).date():
        return f"at {when:%H:%M:%S}"
    return f"on {when:%Y-%m-%d} at {when:%H:%M:%S}"
