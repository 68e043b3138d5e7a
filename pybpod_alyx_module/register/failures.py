"""What a failure to send means: wait and retry, ask a person, or stop the whole flush.

- *transient* — no answer (server down, network cut, timeout), 5xx, 429: the item stays
  pending and is retried later with backoff and jitter. A server that keeps failing on
  one item (``MAX_SERVER_FAILURES`` answers of 5xx) is not down: that item then needs
  attention, so that a broken record cannot keep the others waiting forever unseen.
- *attention* — Alyx answered and refused the record (400 with a field message, 404, 403)
  or the subject belongs to another server: kept with the server's words and the fix,
  until a person retries or discards it.
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
    ServerError,
    ServerUnreachableError,
)

from .sender import WrongServer

TRANSIENT, ATTENTION, STOP = "transient", "attention", "stop"

#: 5xx answers to one item before it needs a person (a down server never answers at all).
MAX_SERVER_FAILURES = 8
#: Backoff of the n-th retry: ``BASE * 2**n`` seconds, at most ``CAP``, times a jitter in [0.5, 1].
BACKOFF_BASE = 5.0
BACKOFF_CAP = 15 * 60.0

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
DEFAULT_FIX = (
    "Correct the record in Alyx or in the settings, then retry this item; discard it only "
    "if it must never reach Alyx"
)
UNEXPECTED_FIX = (
    "This is a fault of the plugin: report it with PyBpod's log (app.log); then retry this item"
)
WRONG_SERVER_FIX = (
    "Send this project's outbox to the Alyx the subject was synced from (ALYX_PLUGIN_ADDRESS), "
    "or sync the subject from this Alyx and register the session again"
)


@dataclass(frozen=True)
class Verdict:
    kind: str
    message: str
    fix: str = ""
    server_failure: bool = False


def judge(error: Exception) -> Verdict:
    """What to do after ``error`` while sending one item."""
    if isinstance(error, WrongServer):
        return Verdict(ATTENTION, str(error), WRONG_SERVER_FIX)
    if isinstance(error, (BadCredentialsError, InvalidTokenError, NotLoggedInError)):
        return Verdict(STOP, str(error))
    if isinstance(error, ServerUnreachableError):
        return Verdict(TRANSIENT, str(error))
    if isinstance(error, ServerError):
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


def backoff(attempts: int, rng: random.Random) -> float:
    """Seconds before the next try, after ``attempts`` failed ones (exponential, jittered)."""
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** min(attempts, 20)) * rng.uniform(0.5, 1.0)
