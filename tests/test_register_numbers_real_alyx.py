"""Rigs registering one subject's days at once, on the real alyx-local: numbers stay unique.

Two and then ten rigs (processes, each with its own outbox, as after an outage when every
rig flushes together) register sessions of one mouse on the same days (five, or three
for ten rigs: ten rigs on one mouse's day is already a storm no lab sees); their
sessions start in an order unrelated to the order they are created. The canonical server
accepts a taken number, so nothing but the plugin's repair keeps numbers unique: after
the flushes, every day holds each session exactly once, numbered 1..n in start order,
with one weighing and one water administration each, linked to its own session.
"""

from __future__ import annotations

import datetime
import random

import pytest
from alyxserver import registering
from alyxserver.layout import Layout
from register_payloads import LONDON, queue_payload, session_payload
from register_world import (
    bob_logged_in,  # noqa: F401 (this module's alyx fixture)
    finish_outboxes,
    held_on,
    numbered_in_start_order,
    rig_process,
    rig_report,
    synced_subjects,
)

from pybpod_alyx_module.register import Outbox

MOUSE = "bob_mouse_3"
#: Days each test registers, per number of rigs (ten rigs on one mouse's day is a storm).
DAYS = {2: 5, 10: 3}
#: Days of their own (the other register tests use January's and February's).
FIRST_DAY = {2: datetime.date(2021, 5, 3), 10: datetime.date(2021, 5, 10)}


@pytest.fixture(params=[2, 10])
def rigs(request):
    """How many rigs; nothing of ``MOUSE`` on their days before or after the test."""
    first = FIRST_DAY[request.param]
    last = first + datetime.timedelta(DAYS[request.param])
    layout = Layout()
    registering.delete_registered(layout, [MOUSE], str(first), str(last), [])
    yield request.param
    registering.delete_registered(layout, [MOUSE], str(first), str(last), [])


def test_rigs_at_once_number_each_day_in_start_order_with_each_session_once(alyx, tmp_path, rigs):
    subject = synced_subjects(alyx, nickname=MOUSE)[MOUSE]
    rng = random.Random(rigs)
    days = [FIRST_DAY[rigs] + datetime.timedelta(n) for n in range(DAYS[rigs])]
    outboxes = [tmp_path / f"rig{r}.sqlite" for r in range(rigs)]
    expected: dict[datetime.date, set[str]] = {day: set() for day in days}
    for day in days:
        order = rng.sample(range(rigs), rigs)  # who starts first that day: not who sends first
        for rig, place in enumerate(order):
            started = datetime.datetime.combine(day, datetime.time(9)) + datetime.timedelta(
                minutes=7 * place
            )
            payload = session_payload(subject, started, options=LONDON)
            with Outbox(outboxes[rig]) as outbox:
                queue_payload(outbox, subject, payload)
            expected[day].add(payload["session"]["json"]["pybpod_session_uuid4"])
    processes = [rig_process(path, alyx) for path in outboxes]
    reports = [rig_report(process) for process in processes]
    finish_outboxes(outboxes, alyx)  # what a busy server made a rig leave for later
    assert sum(report["sent"] for report in reports) > 0
    for day in days:
        held = held_on(alyx, MOUSE, day)
        uuids = [s["json"]["pybpod_session_uuid4"] for s in held["sessions"]]
        assert sorted(uuids) == sorted(expected[day]), day  # each exactly once
        assert numbered_in_start_order(held["sessions"]), [
            (s["start_time"], s["number"]) for s in held["sessions"]
        ]
        assert len(held["weighings"]) == rigs
        assert sorted(w["session"] for w in held["water"]) == sorted(
            s["id"] for s in held["sessions"]
        )
