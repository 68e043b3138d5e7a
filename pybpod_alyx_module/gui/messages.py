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

#: The override question's title and buttons (the 1.x dialog's).
UPDATE_TITLE = "Update Subject"
UPDATE_BUTTONS = ["no", "yes", "no_all", "yes_all"]


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
    """``Status: Sync done: 262 added, 0 updated, 0 removed, 0 skipped, 1 conflicts``."""
    counts = result.counts()
    parts = [f"{counts[key]} {key}" for key in ("added", "updated", "removed", "skipped")]
    parts.append(f"{counts['conflicts'] + counts['refused']} conflicts")
    return "Status: Sync done: " + ", ".join(parts)


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
