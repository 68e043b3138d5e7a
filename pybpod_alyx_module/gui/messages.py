"""The words the Alyx windows show: status lines, the override question, the sync summary,
and what registering says.

Plain functions of plain values, so that they are tested without a GUI and
every failure reaches the user in words (1.x bug 2: every failure was silent).
"""

from __future__ import annotations

import time

from pybpod_alyx_module.alyx import errors
from pybpod_alyx_module.register import ATTENTION, PENDING, SENT, Item
from pybpod_alyx_module.sync import SubjectUpdate, SyncResult

NOT_CONNECTED = "Status: Not Connected"
CONNECTING = "Status: Connecting…"
CONNECTED = "Status: CONNECTED"
CANCELLED = "Status: Sync cancelled: the project was not changed"

#: The override question's title and buttons: the 1.x dialog's, and Cancel (nothing changes).
#: With a Cancel button, Qt makes Escape and closing the dialog answer Cancel too.
UPDATE_TITLE = "Update Subject"
UPDATE_BUTTONS = ["no", "yes", "no_all", "yes_all", "cancel"]


def connection_failed(error: BaseException) -> str:
    """The status line for a failed connection, naming the reason."""
    if isinstance(error, errors.BadCredentialsError):
        return "Status: Wrong user name or password"
    if isinstance(error, errors.ServerUnreachableError):
        return f"Status: Server unreachable: {error}"
    if isinstance(error, (errors.NotLoggedInError, errors.InvalidTokenError)):
        return f"Status: Password needed: {error}"
    if isinstance(error, errors.AlyxError):
        return f"Status: Connection failed: {error}"
    if isinstance(error, ValueError):  # e.g. an Alyx user name that cannot be a PyBpod user
        return f"Status: {error}"
    return f"Status: Unexpected error: {error!r}"


def sync_failed(error: BaseException) -> str:
    """The status line for a download that failed (the project is unchanged)."""
    reason = connection_failed(error).removeprefix("Status: ")
    return f"Status: Get Subjects failed, the project was not changed: {reason}"


def downloading(done: int, total: int | None) -> str:
    """``Status: Downloading subjects 500/1242``."""
    return f"Status: Downloading subjects {done}/{total if total is not None else '?'}"


def override_question(update: SubjectUpdate) -> str:
    """The 1.x question, word for word, plus what would change."""
    changed = ", ".join(update.changed)
    return (
        f"Subject '{update.name}' already exists locally. Replace local details?\n\n"
        f"Changed on Alyx: {changed}"
    )


def summary(result: SyncResult) -> str:
    """``Status: Sync done: 262 added, 0 updated, 0 removed, 0 skipped, 1 conflicts, 1 refused``.

    Refused nicknames (that cannot be folder names) are counted apart from name
    conflicts, as the command line reports them.
    """
    counts = result.counts()
    keys = ("added", "updated", "removed", "skipped", "conflicts", "refused")
    return "Status: Sync done: " + ", ".join(f"{counts[key]} {key}" for key in keys)


def apply_failed(error: BaseException, result: SyncResult | None) -> str:
    """The status line for an apply that stopped half-way (or before any change)."""
    if result is None or not result.changes_anything:
        return f"Status: Applying the subjects failed, the project was not changed: {error}"
    return (
        f"Status: Applying the subjects stopped after {len(result.added)} added, "
        f"{len(result.updated)} updated, {len(result.removed)} removed: {error}. "
        "Get Subjects again to complete the sync, or close the project without saving."
    )


def unexpected_error(error: BaseException) -> str:
    """The status line for an error nobody expected (it is in PyBpod's log, with its traceback)."""
    return f"Status: Unexpected error (details in PyBpod's log): {error!r}"


def report(result: SyncResult) -> str:
    """The details behind the summary: every subject left out, and why; what to do next."""
    lines = []
    for problem in [*result.conflicts, *result.refused]:
        lab = f" ({problem.lab})" if problem.lab else ""
        lines.append(f"Not added: {problem.nickname}{lab}: {problem.reason}")
    for subject in result.declined:
        lines.append(f"Kept local details: {subject.name}")
    for subject in result.removed:
        lines.append(f"Removed (dead on Alyx): {subject.name}")
    if result.unchanged:
        lines.append(f"{result.unchanged} subjects were already up to date")
    if result.changes_anything:
        lines.append("Save the project to keep these changes.")
    return "\n".join(lines)


# -- registering ------------------------------------------------------------------------------

#: Why the outbox was not sent: nobody connected, and no address is known.
NO_ALYX_ADDRESS = "No Alyx address: connect once with Sync to Alyx, or set ALYX_PLUGIN_ADDRESS"
#: The titles of what "Register in Alyx" says.
NOT_REGISTERED_TITLE = "Not registered in Alyx"
NOT_SENT_TITLE = "Alyx outbox"
REGISTERED_BEFORE_TITLE = "Already in Alyx"


def not_logged_in(error: BaseException) -> str:
    """Why the outbox was not sent: the login failed (no saved token, the token refused)."""
    return (
        f"Not logged in to Alyx ({error}): open Sync to Alyx and Connect once; "
        "pending items are sent after that"
    )


def not_sent_yet(stopped: str) -> str:
    return f"The session is in the Alyx outbox, not sent yet: {stopped}"


def registered_before(items: list[Item]) -> str:
    """What "Register in Alyx" says of a session queued before: where it is; nothing sent again.

    Examples
    --------
    >>> item = Item(3, "k", "M1 20260105-090000", {}, SENT, {"session": {"id": "a1b2"}},
    ...             1, 0, 0, 0.0, None, None, 0.0, time.mktime((2026, 1, 5, 9, 41, 0, 0, 0, -1)))
    >>> print(registered_before([item]))
    M1 20260105-090000: sent to Alyx on 2026-01-05 09:41 (Alyx session a1b2).
    <BLANKLINE>
    Nothing was queued or sent again.
    """
    lines = []
    for item in items:
        if item.state == SENT:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(item.updated))
            session = item.progress.get("session") or {}
            line = f"{item.label}: sent to Alyx on {when} (Alyx session {session.get('id')})."
            if item.last_error:
                line += f" {item.last_error}. {item.fix or ''}".rstrip()
        elif item.state == PENDING:
            line = (
                f"{item.label}: in the Alyx outbox, waiting to be sent"
                + (f" ({item.last_error})" if item.last_error else "")
                + "; it is sent when Alyx answers."
            )
        elif item.state == ATTENTION:
            line = (
                f"{item.label}: needs attention: {item.last_error}. See the project's Alyx "
                "outbox for what to do."
            )
        else:
            line = f"{item.label}: {item.state}."
        lines.append(line)
    return "\n".join(lines) + "\n\nNothing was queued or sent again."
