"""What a failure to send means: wait and retry, ask a person, or stop the whole flush.

- *transient* — no answer (server down, network cut, timeout), a busy server (429, or a
  ``Retry-After``), a 5xx that names nothing to fix, an answer that is not Alyx's (a
  proxy's page), numbers still being settled by other rigs: the item stays pending, and
  is tried again by a later flush after a backoff (the client's
  :class:`~pybpod_alyx_module.alyx.retry_policy.RetryPolicy`), or after the wait a busy
  server asked for. However often a server fails, an item is never given up for that
  alone: a failing server is not a wrong record.
- *attention* — Alyx answered and the answer names a fix: a refusal (400 with field
  messages, 404, 403), a 500 whose words are known (two labs sharing a nickname), an
  answer that is not the record sent (:mod:`.answers`), a subject that belongs to
  another server or to none recorded: kept with the server's words and the fix, until a
  person retries or discards it.
- *stop* — the login itself failed: nothing can be sent by anyone until it is fixed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pybpod_alyx_module.alyx import (
    AlyxError,
    BadCredentialsError,
    BadResponseError,
    InvalidTokenError,
    NotLoggedInError,
    ServerBusyError,
    ServerError,
    ServerUnreachableError,
)
from pybpod_alyx_module.alyx.retry_policy import DEFAULT_POLICY, RetryPolicy

from .answers import CHECK_FIX, IdentityError, UncheckedAnswer
from .numbering import NumbersUnsettled
from .sender import WrongServer
from .times import TimeZoneError

TRANSIENT, ATTENTION, STOP = "transient", "attention", "stop"

#: Field of a refusal -> what to do about it.
FIXES = {
    "users": "Create this user in Alyx (an Alyx admin can), or log in to PyBpod as an "
    "existing Alyx user for future sessions; then retry this item",
    "subject": "The subject is not on this Alyx: check ALYX_PLUGIN_ADDRESS, or sync the "
    "subject from Alyx again; then retry this item",
    "projects": "Add the Alyx project, or remove it from the subject in Alyx and sync "
    "again; then discard this item and register the session again",
    "procedures": "Set ALYX_PLUGIN_PROCEDURES to procedures Alyx has; then discard this "
    "item and register the session again",
    "water_type": "Set ALYX_PLUGIN_WATER_TYPE to a water type Alyx has; then discard this "
    "item and register the session again",
    "location": "Create the location in Alyx, or map the setup with ALYX_PLUGIN_LOCATIONS; "
    "then retry this item",
}
#: A server's 500 whose words name a fix: its words -> the fix.
KNOWN_SERVER_FAILURES = {
    "returned more than one Subject": "Two labs share this nickname on Alyx, and this Alyx "
    "finds a session's subject by nickname alone: ask an Alyx admin to rename one of the two "
    "subjects (a nickname unique across labs), sync again, then discard this item and "
    "register the session again",
}
DEFAULT_FIX = (
    "Correct the record in Alyx or in the settings, then retry this item; discard it only "
    "if it must never reach Alyx"
)
UNEXPECTED_FIX = (
    "This is a fault of the plugin: report it with PyBpod's log (app.log); then retry this item"
)
WRONG_SERVER_FIX = (
    "Sync the subject from the Alyx it belongs to (pybpod-alyx sync, or Sync to Alyx), then "
    "discard this item and register the session again; or send this project's outbox to the "
    "Alyx the subject was synced from (ALYX_PLUGIN_ADDRESS)"
)
DAMAGED_FIX = "The outbox item is damaged: discard it and register the session again from its file"
TIME_ZONE_FIX = (
    "Set ALYX_PLUGIN_RIG_TIME_ZONE and ALYX_PLUGIN_SERVER_TIME_ZONE to zones this computer "
    "knows (on Windows, install the 'tzdata' package); then retry this item"
)


@dataclass(frozen=True)
class Verdict:
    """What to do with an item after a failure.

    ``retry_after``: seconds the server asked to wait (a busy server), if it did.
    """

    kind: str
    message: str
    fix: str = ""
    server_failure: bool = False
    retry_after: float | None = None


def judge(error: Exception) -> Verdict:
    """What to do after ``error`` while sending one item."""
    if isinstance(error, WrongServer):
        return Verdict(ATTENTION, str(error), WRONG_SERVER_FIX)
    if isinstance(error, UncheckedAnswer):
        return Verdict(ATTENTION, str(error), CHECK_FIX)
    if isinstance(error, TimeZoneError):
        return Verdict(ATTENTION, str(error), TIME_ZONE_FIX)
    if isinstance(error, IdentityError):
        return Verdict(ATTENTION, str(error), DAMAGED_FIX)
    if isinstance(error, NumbersUnsettled):
        return Verdict(TRANSIENT, str(error), server_failure=True)
    if isinstance(error, (BadCredentialsError, InvalidTokenError, NotLoggedInError)):
        return Verdict(STOP, str(error))
    if isinstance(error, ServerUnreachableError):
        return Verdict(TRANSIENT, str(error))
    if isinstance(error, ServerBusyError):
        return Verdict(TRANSIENT, str(error), server_failure=True, retry_after=error.retry_after)
    if isinstance(error, ServerError):
        for words, fix in KNOWN_SERVER_FAILURES.items():
            if words in f"{error.detail or ''} {error}":
                return Verdict(ATTENTION, str(error), fix)
        return Verdict(TRANSIENT, str(error), server_failure=True)
    if isinstance(error, BadResponseError) or (isinstance(error, AlyxError) and not error.status):
        return Verdict(TRANSIENT, str(error), server_failure=True)  # e.g. a proxy's page
    if isinstance(error, AlyxError):
        return Verdict(ATTENTION, str(error), fix_for(error.detail or ""))
    raise error


def fix_for(detail: str) -> str:
    """The fix for a refusal, from the field Alyx named first."""
    for part in detail.split(";"):
        field_name = part.split(":", 1)[0].strip()
        if field_name in FIXES:
            return FIXES[field_name]
    return DEFAULT_FIX


def wait_before_next_try(
    verdict: Verdict, attempts: int, rng: random.Random, policy: RetryPolicy = DEFAULT_POLICY
) -> float:
    """Seconds before a postponed item is due: what a busy server asked, else the backoff."""
    if verdict.retry_after is not None:
        return min(policy.item_ceiling, max(policy.floor, verdict.retry_after))
    return policy.backoff(attempts, rng)
