"""Checking what Alyx answers about a record against what was sent: the one door back in.

A record the sender created or found is taken as ours only after :func:`checked` says so:
it is a record of the right kind (a session has a subject, a start and a number; a
weighing a weight; a water administration an amount), of the same subject (exactly, not
case-folded), at the same time (on the server's clock, :mod:`.times`), with the same
amount, number and session link where they were sent, and it carries a UUID id (its
``id``, or the last part of its ``url``; when it has both, they agree). Anything else —
a 201 naming another subject, an id such as ``../../x``, a list where a record belongs —
raises :class:`UncheckedAnswer`, which leaves the item "needs attention" with the reason:
never "sent", and no water is linked to an id that was not checked.

Examples
--------
>>> sent = {"subject": "M1", "weight": 21.5, "date_time": "2031-01-02T09:00:00"}
>>> answer = dict(sent, url="http://alyx/api/weighings/6f1f3b9e-0000-4000-8000-000000000000")
>>> checked("weighing", answer, sent, ServerTimes()).id
'6f1f3b9e-0000-4000-8000-000000000000'
>>> checked("weighing", dict(answer, subject="m1"), sent, ServerTimes())
Traceback (most recent call last):
...
pybpod_alyx_module.register.answers.UncheckedAnswer: Alyx answered the weighing with a record of subject 'm1', not 'M1'
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from pybpod_alyx_module.alyx.server_words import shown
from pybpod_alyx_module.errors import PluginError

from .times import ServerTimes

#: Each kind of record: its time field and its amount field (``None``: none).
KINDS = {
    "session": ("start_time", None),
    "weighing": ("date_time", "weight"),
    "water": ("date_time", "water_administered"),
}
#: How close an answered amount must be to the amount sent: Alyx keeps them as 64-bit
#: floats, so a JSON round trip returns them exactly; this only forgives a last digit.
AMOUNT_TOLERANCE = 1e-9
#: The key of a session's PyBpod identity in its ``json``.
SESSION_UUID = "pybpod_session_uuid4"

CHECK_FIX = (
    "Alyx's answer did not match what was sent, so the item was not marked sent. Look on "
    "Alyx (admin site) for what was made, delete a wrong record, then retry this item "
    "(a retry looks for the record before creating anything)"
)


class UncheckedAnswer(PluginError):
    """Alyx answered something that is not the record sent; the message says how."""


@dataclass(frozen=True)
class CheckedRecord:
    """A record of ours on Alyx: its UUID id, and the session's number."""

    id: str
    number: int | None = None


def checked(
    kind: str,
    answer: Any,
    sent: Mapping[str, Any],
    times: ServerTimes,
    identity: str | None = None,
    found: bool = False,
) -> CheckedRecord:
    """``answer`` as our ``kind`` record (``session``, ``weighing``, ``water``), or raise.

    Parameters
    ----------
    sent
        The body sent (or, for a record found, the body that would have been sent). Its
        subject, time, amount, ``lab``, ``number`` and ``session`` are each checked when
        present.
    times
        The zones ``sent`` was written in (an answer with an offset is read on them).
    identity
        For a session: the PyBpod uuid4 its ``json`` must carry, if the answer has one.
    found
        The answer is a record found on Alyx, not the answer to our create: a session's
        ``json`` must then be there and carry ``identity`` (it is how we know it is ours).

    Raises
    ------
    UncheckedAnswer
        The answer is not that record; the message says what differs.
    """
    what = "the water administration" if kind == "water" else f"the {kind}"
    if not isinstance(answer, dict):
        raise UncheckedAnswer(f"Alyx answered {what} with a {type(answer).__name__}, not a record")
    time_field, amount_field = KINDS[kind]
    _same_text(answer, sent, "subject", what)
    if not times.same_time(answer.get(time_field), str(sent[time_field])):
        raise moved(
            f"answered {what} with {time_field}", answer.get(time_field), sent[time_field], times
        )
    if amount_field is not None:
        _same_amount(answer, sent, amount_field, what)
    if "lab" in sent and "lab" in answer:
        _same_text(answer, sent, "lab", what)
    if "session" in sent:
        _same_text(answer, sent, "session", what)
    number = None
    if kind == "session":
        number = _number(answer, sent.get("number"), what)
        _same_identity(answer, identity, found, what)
    return CheckedRecord(record_id(answer, what), number)


def moved(how: str, answered: Any, sent: Any, times: ServerTimes) -> UncheckedAnswer:
    """The error for a time Alyx holds other than the one sent (``how``: "answered the …")."""
    return UncheckedAnswer(
        f"Alyx {how} {_show(answered)}, not {sent} as sent ({times.describe()}): if the "
        "server's TIME_ZONE is not the server zone set here, set ALYX_PLUGIN_SERVER_TIME_ZONE "
        "to it"
    )


def record_id(answer: Mapping[str, Any], what: str = "the record") -> str:
    """The UUID of a record: its ``id``, or the last part of its ``url``; both must agree."""
    ids = []
    if answer.get("id") is not None:
        ids.append(_uuid(answer["id"], f"{what}'s id", what))
    if answer.get("url") is not None:
        url = answer["url"]
        if not isinstance(url, str):
            raise UncheckedAnswer(f"Alyx answered {what} with a url that is not text")
        tail = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
        ids.append(_uuid(tail, f"{what}'s url {_show(url)}", what))
    if not ids:
        raise UncheckedAnswer(f"Alyx answered {what} without an id or a url")
    if len(set(ids)) > 1:
        raise UncheckedAnswer(f"Alyx answered {what} with an id and a url naming two records")
    return ids[0]


class IdentityError(PluginError):
    """A session item names no usable PyBpod uuid4 (a damaged outbox item)."""


def session_identity(payload: Mapping[str, Any]) -> str:
    """The PyBpod uuid4 of a session payload, checked to be a UUID (canonical form).

    It goes into a ``django=`` filter, which Alyx parses and evaluates: only a UUID may.

    Raises
    ------
    IdentityError
        The payload's uuid4 is not a UUID.
    """
    document = payload["session"].get("json")
    value = document.get(SESSION_UUID) if isinstance(document, dict) else None
    try:
        if isinstance(value, str) and str(uuid.UUID(value)) == value.lower():
            return value.lower()
    except ValueError:
        pass
    raise IdentityError(
        f"The session's PyBpod uuid4 {_show(value)} is not a UUID: it cannot be looked for on "
        "Alyx, so it is not sent"
    )


def _uuid(value: Any, named: str, what: str) -> str:
    try:
        if isinstance(value, str) and str(uuid.UUID(value)) == value.lower():
            return value.lower()
    except ValueError:
        pass
    raise UncheckedAnswer(f"Alyx answered {what} with an id that is not a UUID: {named} is "
                          f"{_show(value)}")  # fmt: skip


def _same_text(answer: Mapping[str, Any], sent: Mapping[str, Any], key: str, what: str) -> None:
    if answer.get(key) != sent[key]:
        noun = "record of subject" if key == "subject" else f"record whose {key} is"
        raise UncheckedAnswer(
            f"Alyx answered {what} with a {noun} {_show(answer.get(key))}, not {sent[key]!r}"
        )


def _same_amount(answer: Mapping[str, Any], sent: Mapping[str, Any], key: str, what: str) -> None:
    value = answer.get(key)
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isclose(value, float(sent[key]), rel_tol=AMOUNT_TOLERANCE, abs_tol=0.0)
    ):
        raise UncheckedAnswer(f"Alyx answered {what} with {key} {_show(value)}, not {sent[key]}")


def _number(answer: Mapping[str, Any], expected: Any, what: str) -> int:
    number = answer.get("number")
    if isinstance(number, bool) or not isinstance(number, int):
        raise UncheckedAnswer(f"Alyx answered {what} without a session number ({_show(number)})")
    if expected is not None and number != expected:
        raise UncheckedAnswer(f"Alyx answered {what} with number {number}, not {expected}")
    return number


def _same_identity(answer: Mapping[str, Any], identity: str | None, found: bool, what: str) -> None:
    """The answer's ``json`` names our PyBpod session (it must have one if ``found``)."""
    if identity is None or ("json" not in answer and not found):
        return
    document = answer.get("json")
    named = document.get(SESSION_UUID) if isinstance(document, dict) else None
    if not isinstance(named, str) or named.lower() != identity:
        raise UncheckedAnswer(
            f"Alyx answered {what} with a record of another PyBpod session "
            f"({SESSION_UUID} {_show(named)}, not {identity})"
        )


def _show(value: Any) -> str:
    """A value from the server, short and scrubbed, for a message."""
    return shown(repr(value), 80)
