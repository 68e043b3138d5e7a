"""The words the Alyx windows show: status lines, the override question, the sync summary.

Plain functions of plain values, so that they are tested without a GUI and
every failure reaches the user in words (1.x bug 2: every failure was silent).
"""

from __future__ import annotations

from pybpod_alyx_module.alyx import errors
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
