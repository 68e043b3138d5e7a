"""One try per item per flush, waits that are true, and only answers that name a fix need a person.

Against the in-memory Alyx of :mod:`register_stub` (through the plugin's real client):
a failing or busy server leaves items pending with their next try, never tried twice
in one flush (issue 14 point 4, issue 15 class 2); a 500 whose words are known, a
subject from another server or from none recorded need attention (class 4); a location
of another lab is not used; a case twin is never taken for our subject, and its
sessions never counted in our numbers; the one-rig case costs four requests a session.
"""

from __future__ import annotations

import datetime
import random
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fault_server import PASSWORD, USERNAME, Answer, running_fault_server
from register_payloads import alyx_subject, queue_payload, session_payload
from register_stub import AlyxStub

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.register import ATTENTION, PENDING, SENT, Outbox, flush

pytestmark = pytest.mark.fault

START = datetime.datetime(2021, 6, 1, 9, 0)


@pytest.fixture
def stub() -> Iterator[AlyxStub]:
    with running_fault_server() as server:
        yield AlyxStub(server, locations=[("rig1", "cortexlab"), ("rig2", "cortexlab"),
                                          ("rig2", "mainenlab")])  # fmt: skip


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    with Outbox(tmp_path / "o.sqlite") as box:
        yield box


def client(stub: AlyxStub, **options: Any) -> AlyxClient:
    return AlyxClient(
        stub.server.url,
        username=USERNAME,
        password=PASSWORD,
        max_requests_per_minute=None,
        **options,
    )


def queue_days(stub: AlyxStub, outbox: Outbox, days: int, nickname: str = "M1", **kw: Any):
    subject = alyx_subject(stub.server.url, nickname, kw.pop("lab", "cortexlab"))
    for n in range(days):
        queue_payload(
            outbox, subject, session_payload(subject, START + datetime.timedelta(n), **kw)
        )
    return subject


def test_a_failing_server_gets_each_item_once_per_flush_and_the_items_stay_pending(stub, outbox):
    stub.fail[("POST", "sessions")] = Answer.json({"detail": "Internal Server Error"}, 500)
    queue_days(stub, outbox, 3)
    events: list[tuple[str, str]] = []
    with client(stub) as alyx:
        for flushes in range(1, 11):
            report = flush(outbox, alyx, due_only=False, rng=random.Random(flushes),
                           on_event=lambda event, item, words: events.append((event, words)))  # fmt: skip
            assert stub.server.count("POST", "/api/sessions") == 3 * flushes
            assert len(report.postponed) == 3 and report.attention == []
    assert [item.state for item in outbox.items()] == [PENDING] * 3  # never given up for it
    # The time told is the time recorded: when a flush that waits for it tries it again.
    told = {words.rsplit("due again at ", 1)[1] for event, words in events[-3:]}
    assert told == {time.strftime("%H:%M:%S", time.localtime(i.next_try)) for i in outbox.items()}
    assert all(item.next_try > time.time() for item in outbox.items())
    assert (
        flush(outbox, client(stub)).sent == [] and stub.server.count("POST", "/api/sessions") == 30
    )  # not due: a flush that waits for it sends nothing


def test_a_busy_server_sets_when_the_item_is_tried_again(stub, outbox):
    stub.fail[("POST", "sessions")] = Answer.json(
        {"detail": "Request was throttled."}, 429, headers={"Retry-After": "120"}
    )
    queue_days(stub, outbox, 1)
    with client(stub, busy_deadline=1.0) as alyx:
        before = time.time()
        report = flush(outbox, alyx, due_only=False)
    (item,) = outbox.items()
    assert item.state == PENDING and len(report.postponed) == 1
    assert 119 <= item.next_try - before <= 122
    assert stub.server.count("POST", "/api/sessions") == 1


def test_a_500_naming_two_labs_sharing_a_nickname_needs_attention_with_the_fix(stub, outbox):
    stub.fail[("POST", "sessions")] = Answer.json(
        {"detail": "get() returned more than one Subject -- it returned 2!"}, 500
    )
    queue_days(stub, outbox, 1)
    with client(stub) as alyx:
        report = flush(outbox, alyx, due_only=False)
    (item,) = outbox.items()
    assert item.state == ATTENTION and len(report.attention) == 1
    assert "Two labs share this nickname" in item.fix


@pytest.mark.parametrize("server", ["", "https://alyx.other-lab.org"])
def test_a_subject_not_synced_from_this_server_is_never_sent(stub, outbox, server):
    subject = replace(alyx_subject(stub.server.url), server=server)
    queue_payload(outbox, subject, session_payload(subject, START))
    with client(stub) as alyx:
        flush(outbox, alyx)
    (item,) = outbox.items()
    assert item.state == ATTENTION and "Sync the subject" in item.fix
    assert (server or "no record of the Alyx") in item.last_error
    assert stub.server.count("POST", "/api/sessions") == 0
    assert stub.server.count("GET", "/api/sessions") == 0


def test_a_location_is_used_only_if_it_is_the_subjects_labs_alone(stub, outbox):
    queue_days(stub, outbox, 1, nickname="mouse_m", lab="mainenlab", setup="rig1")
    queue_days(stub, outbox, 1, nickname="mouse_c", lab="cortexlab", setup="rig2")
    queue_days(stub, outbox, 1, nickname="mouse_k", lab="cortexlab", setup="rig1")
    with client(stub) as alyx:
        report = flush(outbox, alyx)
    assert len(report.sent) == 3
    where = {s["subject"]: (s["location"], (s["json"] or {}).get("pybpod_location"))
             for s in stub.sessions.values()}  # fmt: skip
    assert where == {
        "mouse_m": (None, "rig1"),
        "mouse_c": (None, "rig2"),
        "mouse_k": ("rig1", None),
    }
    told = " ".join(report.notices)
    assert "'rig1' only in lab cortexlab, not in mainenlab" in told
    assert "2 locations named 'rig2'" in told


def test_a_case_twin_is_never_taken_for_our_subject_nor_counted_in_its_numbers(stub, outbox):
    twin = alyx_subject(stub.server.url, "M001")
    ours = alyx_subject(stub.server.url, "m001")
    both = session_payload(twin, START)
    uuid = both["session"]["json"]["pybpod_session_uuid4"]
    queue_payload(outbox, twin, both)
    queue_payload(outbox, ours, session_payload(ours, START, session_uuid=uuid))
    with client(stub) as alyx:
        assert len(flush(outbox, alyx, workers=1).sent) == 2
    by_subject = {s["subject"]: s for s in stub.sessions.values()}
    assert sorted(by_subject) == ["M001", "m001"]
    assert by_subject["m001"]["number"] == by_subject["M001"]["number"] == 1
    water = {w["subject"]: w["session"] for w in stub.records["water-administrations"]}
    assert water == {"cortexlab__M001": by_subject["M001"]["id"],
                     "cortexlab__m001": by_subject["m001"]["id"]}  # fmt: skip


def test_a_number_another_rig_took_meanwhile_is_read_again_and_the_next_one_taken(tmp_path):
    with running_fault_server() as server, Outbox(tmp_path / "o.sqlite") as outbox:
        stub = AlyxStub(server, unique_numbers=True)  # alyx-local refuses a duplicate
        queue_days(stub, outbox, 1)
        stub.before_create.append(
            lambda: stub.add_session(
                "M1", "2021-06-01T08:00:00", 1, json={"pybpod_session_uuid4": "x"}
            )
        )
        with client(stub) as alyx:
            assert len(flush(outbox, alyx).sent) == 1
        ordered = sorted(stub.sessions.values(), key=lambda s: s["start_time"])
        assert [s["number"] for s in ordered] == [1, 2]
        assert server.count("POST", "/api/sessions") == 2


@pytest.mark.parametrize("days", [5, 1])
def test_one_rig_sends_a_session_in_three_requests_and_reads_the_subjects_days_twice(
    stub, outbox, days
):
    subject = alyx_subject(stub.server.url)
    for n in range(5):  # five sessions, on five days or on one
        started = START + datetime.timedelta(days=n % days, hours=n)
        queue_payload(outbox, subject, session_payload(subject, started))
    with client(stub) as alyx:
        alyx.login()
        before = len(stub.server.requests)
        assert len(flush(outbox, alyx, workers=1).sent) == 5
    methods = [f"{r.method} {r.path}" for r in stub.server.requests[before:]]
    assert not any(m.startswith("PATCH") for m in methods)
    # The locations and the subject's days once; per session: the session, its weighing,
    # its water; then the subject's days once again, for the numbers (every day of that
    # read in order: no day is read on its own).
    assert methods.count("GET /api/sessions") == 2
    assert len(methods) == 2 + 3 * 5 + 1, methods
    numbers = sorted((s["start_time"], s["number"]) for s in stub.sessions.values())
    assert [n for _, n in numbers] == ([1] * 5 if days == 5 else [1, 2, 3, 4, 5])


def test_a_server_that_moves_the_start_sent_leaves_the_item_needing_attention(stub, outbox):
    # A server whose zone is not the one set moves a time in its gap; the create's answer
    # echoes what was sent, the day read afterwards (to settle the number, once the
    # weighing and water are sent) shows what was stored.
    stub.stores = lambda start: start.replace("T09:", "T10:")
    queue_days(stub, outbox, 1)
    with client(stub) as alyx:
        for _ in range(2):  # a person retries: found by its identity, never created again
            flush(outbox, alyx, due_only=False)
            (item,) = outbox.items()
            assert item.state == ATTENTION and "ALYX_PLUGIN_SERVER_TIME_ZONE" in item.last_error
            assert len(stub.sessions) == 1 and len(stub.records["weighings"]) == 1
            outbox.retry()


@pytest.mark.parametrize("workers", [1, 3])
@pytest.mark.parametrize("moved_day", [0, 1, 2])
def test_a_moved_start_is_caught_on_whichever_day_the_subjects_read_settled(
    stub, outbox, moved_day, workers
):
    # One read of the subject's days settles the numbers of all its days; a session the
    # server stored at another start must still be caught, whichever day it is on.
    moved = (START + datetime.timedelta(moved_day)).date().isoformat()
    stub.stores = lambda start: start.replace("T09:", "T10:") if start.startswith(moved) else start
    queue_days(stub, outbox, 3)
    with client(stub) as alyx:
        flush(outbox, alyx, due_only=False, workers=workers)
    states = {item.payload["session"]["start_time"][:10]: item for item in outbox.items()}
    assert states[moved].state == ATTENTION
    assert "ALYX_PLUGIN_SERVER_TIME_ZONE" in states[moved].last_error
    assert sorted(day for day, item in states.items() if item.state == SENT) == [
        day for day in sorted(states) if day != moved
    ]
    assert len(stub.sessions) == 3


@pytest.mark.parametrize("damaged", ["../../x", "[1, 2]", None, 7])
def test_a_session_whose_pybpod_uuid4_is_not_a_uuid_is_never_looked_for(stub, outbox, damaged):
    subject = alyx_subject(stub.server.url)
    payload = session_payload(subject, START)
    payload["session"]["json"]["pybpod_session_uuid4"] = damaged  # into a django= filter: never
    assert outbox.add("damaged", "M1 damaged", payload)
    with client(stub) as alyx:
        flush(outbox, alyx)
    (item,) = outbox.items()
    assert item.state == ATTENTION and "is not a UUID" in item.last_error
    assert "discard it" in item.fix
    assert not any("django" in seen.target for seen in stub.server.requests)
    assert stub.server.count("POST", "/api/sessions") == 0
