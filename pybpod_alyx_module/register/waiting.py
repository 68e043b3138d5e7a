"""Why an outbox item is where it is and what to do, in words people read at a glance.

One source for the command line's ``outbox`` table and the GUI's outbox window, so that
both say the same thing of the same item ("Why" and "What to do" of a pending item too:
never an empty cell beside an item that is not moving).

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

from .outbox_items import DISCARDED, PENDING, WITHDRAWN, Item

#: What to do about a pending item: nothing, it goes by itself.
SENT_BY_ITSELF = "nothing: it is sent by itself when Alyx answers (or send it now)"
#: What to do about a pending item that waits for a person (no address, not logged in).
AFTER_THE_FIX = "what its reason says; it is sent after that"


def next_try_words(moment: float, now: float | None = None) -> str:
    """``'due now'`` for a moment past, else ``'at HH:MM:SS'`` (with the day if not today)."""
    now = time.time() if now is None else now
    if moment <= now:
        return "due now"
    when = datetime.datetime.fromtimestamp(moment)
    if when.date() == datetime.datetime.fromtimestamp(now).date():
        return f"at {when:%H:%M:%S}"
    return f"on {when:%Y-%m-%d} at {when:%H:%M:%S}"


def item_words(
    item: Item, server_error: str | None = None, stopped: str | None = None
) -> tuple[str, str]:
    """``(why, what to do)`` of an outbox item, as its row shows them.

    Parameters
    ----------
    server_error
        Why Alyx could not be reached lately (:meth:`~.outbox.Outbox.server_state`), if so.
    stopped
        Why the last send stopped before trying anything (no address, not logged in), if so:
        the reason a pending item never tried is still waiting.

    Examples
    --------
    >>> item = Item(1, "k", "SW_001 23.4 g", {}, PENDING, {}, 0, 0, 0, 0.0, None, None, 0.0, 0.0)
    >>> item_words(item)
    ('queued, not sent yet', 'nothing: it is sent by itself when Alyx answers (or send it now)')
    >>> item_words(item, stopped="Not logged in to Alyx: open Sync to Alyx and Connect once")[0]
    'Not logged in to Alyx: open Sync to Alyx and Connect once'
    """
    if item.state == PENDING:
        why = item.last_error or server_error or stopped or "queued, not sent yet"
        to_do = item.fix or (AFTER_THE_FIX if why == stopped else SENT_BY_ITSELF)
        if item.next_try:
            why = f"{why} (next try {next_try_words(item.next_try)})"
        return why, to_do
    if item.state == DISCARDED:
        return item.last_error or "discarded by a person: it is not sent", item.fix or ""
    if item.state == WITHDRAWN:
        when = datetime.datetime.fromtimestamp(item.updated)
        return f"withdrawn on {when:%Y-%m-%d %H:%M}: its records were removed from Alyx", ""
    return item.last_error or "", item.fix or ""  # sent (with a note) or needs attention
