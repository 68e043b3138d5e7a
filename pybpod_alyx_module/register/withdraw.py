"""Withdrawing a sent item: its records removed from Alyx, exactly once, and only its own.

A weight typed in the wrong unit, a session of the wrong mouse: once sent, the record is
on Alyx, where a welfare decision may read it. Discarding only gives up what was not sent;
withdrawing takes back what was, after a person confirmed it (:func:`describe` is what they
are shown). The rules:

- **Only a sent item**, and only once: a withdrawn item says so, and the outbox marks it in
  one transaction (:meth:`~.outbox.Outbox.withdrawn`), so of two people withdrawing it at
  once one does and the other is told it is withdrawn already.
- **Only what the outbox created.** The records are the ids the sender stored in the
  item's progress; one it *found* on Alyx instead (a session another item of the same run
  created, or a record it could not tell was its own) is left there, and named.
- **Only the record sent.** Each is read back first and checked against what was sent
  (:func:`~.answers.checked`: subject, time, amount, the session's PyBpod uuid4), so an id
  in a damaged outbox never deletes another record; if one differs, nothing is deleted.
- **Against the Alyx it was sent to** (:func:`~.sender.check_server`): on another server
  the ids would only be "not found".
- A record not found (404, on the read or the DELETE) is **gone already** — deleted on the
  admin site, or by an earlier withdraw cut short — and recorded as such. The water goes
  first (it names the session), then the weighing, then the session.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from typing import Any

from pybpod_alyx_module.alyx import AlyxClient, NotFoundError
from pybpod_alyx_module.errors import PluginError
from pybpod_alyx_module.sync.subjects import server_origin

from .answers import UncheckedAnswer, checked, record_id, session_identity
from .outbox import SENT, WITHDRAWN, Item, Outbox
from .records import payload_times
from .sender import WrongServer, check_server

#: Where each kind of record lives on Alyx, in the order they are deleted.
ENDPOINTS = {"water": "water-administrations", "weighing": "weighings", "session": "sessions"}
#: How each kind reads in a sentence.
KIND_WORDS = {"water": "water administration", "weighing": "weighing", "session": "session"}


class WithdrawRefused(PluginError):
    """The item cannot be withdrawn (not sent, withdrawn already, a record not ours…): why."""


@dataclass(frozen=True)
class OwnRecord:
    """A record the outbox created on Alyx for an item."""

    kind: str  # "session", "weighing" or "water"
    id: str

    @property
    def path(self) -> str:
        return f"{ENDPOINTS[self.kind]}/{self.id}"

    def __str__(self) -> str:
        return f"{KIND_WORDS[self.kind]} {self.id}"


@dataclass
class WithdrawReport:
    """What a withdraw did: records deleted, found gone already, and left on Alyx (why)."""

    item: Item
    deleted: list[OwnRecord] = field(default_factory=list)
    gone: list[OwnRecord] = field(default_factory=list)
    left: list[str] = field(default_factory=list)

    def words(self) -> str:
        """One paragraph for the person who asked."""
        said = [f"Withdrew item {self.item.id} ({self.item.label}) from Alyx"]
        if self.deleted:
            said.append("deleted " + ", ".join(map(str, self.deleted)))
        if self.gone:
            said.append("gone already: " + ", ".join(map(str, self.gone)))
        if self.left:
            said.append("left on Alyx: " + "; ".join(self.left))
        return "; ".join(said) + "."


def why_not_withdraw(item: Item | None, item_id: int) -> str | None:
    """Why item ``item_id`` cannot be withdrawn, or ``None``."""
    if item is None:
        return f"there is no item {item_id} in the outbox"
    named = f"item {item_id} ({item.label})"
    if item.state == WITHDRAWN:
        return f"{named} is withdrawn already: its records were removed from Alyx"
    if item.state != SENT:
        return f"{named} is {item.state}, not sent: nothing of it is on Alyx to withdraw"
    return None


def describe(item: Item) -> str:
    """What withdrawing ``item`` removes, for the person to confirm: subject, kind, value, date.

    >>> from pybpod_alyx_module.register.outbox import Item
    >>> payload = {"kind": "weighing", "subject": {"nickname": "SW_001"},
    ...            "weighing": {"weight": 2340.0, "date_time": "2026-12-02T10:41:00"}}
    >>> describe(Item(7, "k", "SW_001 2340 g", payload, SENT, {"weighing": {"id": "x"}},
    ...               1, 0, 0, 0.0, None, None, 0.0, 0.0))
    'the weighing of SW_001 of 2340 g on 2026-12-02 10:41'
    """
    payload = item.payload
    subject = (payload.get("subject") or {}).get("nickname", "?")
    parts = []
    if payload.get("kind") == "session" and "session" in item.progress:
        session = payload.get("session") or {}
        number = item.progress["session"].get("number")
        numbered = f" (number {number})" if number is not None else ""
        parts.append(
            f"the session of {subject}{numbered} started {_when(session.get('start_time'))}"
        )
    for step, amount, unit in (("weighing", "weight", "g"), ("water", "water_administered", "mL")):
        record = payload.get(step)
        if isinstance(record, dict) and step in item.progress:
            what = "the weighing" if step == "weighing" else "the water administration"
            parts.append(
                f"{what} of {subject} of {_amount(record.get(amount))} {unit} on "
                f"{_when(record.get('date_time'))}"
            )
    return ", ".join(parts) or f"the records of item {item.id} ({item.label})"


def withdraw(outbox: Outbox, alyx: AlyxClient, item_id: int) -> WithdrawReport:
    """Remove item ``item_id``'s records from Alyx, then mark it withdrawn (see the module).

    Raises
    ------
    WithdrawRefused
        Not sent, withdrawn already (now or meanwhile), sent to another Alyx, or a record on
        Alyx is not the one sent (then nothing was deleted).
    pybpod_alyx_module.alyx.AlyxError
        Alyx failed otherwise; what was deleted stays deleted, and withdrawing again
        finishes the job (what is gone is found gone).
    """
    item = outbox.get(item_id)
    problem = why_not_withdraw(item, item_id)
    if problem:
        raise WithdrawRefused(problem)
    assert item is not None
    try:
        check_server(item.payload["subject"], server_origin(alyx.api_root))
    except WrongServer as exc:
        raise WithdrawRefused(f"{exc}; item {item_id} was not withdrawn") from None
    report = WithdrawReport(item)
    records, report.left = own_records(item)
    present = []
    for record in records:  # every record checked before anything is deleted
        try:
            answer = alyx.get(record.path)
        except NotFoundError:
            report.gone.append(record)
            continue
        _check(item, record, answer)
        present.append(record)
    for record in present:
        try:
            alyx.delete(record.path)
            report.deleted.append(record)
        except NotFoundError:
            report.gone.append(record)
    fate = {r.kind: "deleted" for r in report.deleted} | {r.kind: "gone" for r in report.gone}
    progress = dict(item.progress, withdrawn={"at": time.time(), "records": fate})
    if not outbox.withdrawn(item_id, progress):
        raise WithdrawRefused(
            why_not_withdraw(outbox.get(item_id), item_id) or f"item {item_id} changed meanwhile"
        )
    return report


def own_records(item: Item) -> tuple[list[OwnRecord], list[str]]:
    """``(records the outbox created, in delete order; records left, with why)``."""
    records, left = [], []
    for kind in ENDPOINTS:
        step = item.progress.get(kind)
        if not isinstance(step, dict) or "id" not in step:
            continue
        try:
            record = OwnRecord(kind, record_id({"id": step["id"]}, f"the {kind}"))
        except UncheckedAnswer:
            raise WithdrawRefused(
                f"item {item.id} holds a {kind} id that is not a UUID ({step['id']!r}): the "
                "outbox file may be damaged; nothing was deleted"
            ) from None
        if step.get("found"):
            left.append(f"{record} (found on Alyx when sent, not created by this outbox)")
        else:
            records.append(record)
    return records, left


def _check(item: Item, record: OwnRecord, answer: Any) -> None:
    """Refuse, before any DELETE, a record that is not the one this item sent."""
    payload, times = item.payload, payload_times(item.payload)
    try:
        if record.kind == "session":
            checked("session", answer, payload["session"], times, session_identity(payload),
                    found=True)  # fmt: skip
        else:
            sent = dict(payload[record.kind])
            if record.kind == "water" and "session" in item.progress:
                sent["session"] = item.progress["session"]["id"]
            checked(record.kind, answer, sent, times)
        if record_id(answer) != record.id:
            raise UncheckedAnswer(f"Alyx answered {record} with another record")
    except (UncheckedAnswer, KeyError, TypeError) as exc:
        raise WithdrawRefused(
            f"the {record} on Alyx is not the record item {item.id} sent ({exc}): nothing was "
            "deleted. Look at it on the Alyx admin site"
        ) from None


def _amount(value: Any) -> str:
    """``2340`` for 2340.0, ``0.8`` for 0.8: as the person typed it."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def _when(text: Any) -> str:
    """``2026-12-02 10:41`` from an Alyx time (as sent: the server's wall time)."""
    try:
        return f"{datetime.datetime.fromisoformat(str(text)):%Y-%m-%d %H:%M}"
    except ValueError:
        return str(text)
