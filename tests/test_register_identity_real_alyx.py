"""Our records found by their identity on the real alyx-local, configured like the canonical server.

- Case twins (``Reg_twin`` and ``reg_twin``, one lab): the canonical ``subject=`` filter
  lists both, yet neither's session is taken for the other's, nor counted in its numbers,
  and each water names its own animal's session.
- Clock changes: a rig on UTC and a rig on London time register sessions in London's
  spring gap and autumn repeat, and every answer is lost once (a proxy drops it): each
  session, weighing and water is on Alyx once, at the time sent.
- Two labs sharing a nickname: the server's 500 names a fix, so the item needs attention.
"""

from __future__ import annotations

import datetime

import pytest
import requests
from alyxserver import registering
from alyxserver.layout import Layout
from register_payloads import queue_payload, session_payload
from register_proxy import DroppingProxy
from register_world import (
    bob_logged_in,  # noqa: F401 (this module's alyx fixture)
    held_on,
    synced_subjects,
)

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.register import ATTENTION, SENT, Outbox, RegisterOptions, flush

pytestmark = pytest.mark.serial  # it adds bob's case twins Reg_twin/reg_twin to the shared server, which bob's syncs elsewhere would see

UPPER, LOWER = "Reg_twin", "reg_twin"
LAB = "cortexlab"
CLOCK_MOUSE = "bob_mouse_4"
#: The last Sunday of March and of October 2021: London's spring gap and autumn repeat.
SPRING, AUTUMN = datetime.date(2021, 3, 28), datetime.date(2021, 10, 31)
TIMEOUT = 30


def zones(rig: str) -> RegisterOptions:
    return RegisterOptions(rig_time_zone=rig, server_time_zone="Europe/London")


@pytest.fixture(scope="module")
def twins(alyx_server, seed, alyx):
    """``Reg_twin`` and ``reg_twin`` of cortexlab (bob's), removed with their records after."""
    admin = requests.Session()
    username, password = seed.ADMIN_USER
    token = admin.post(
        f"{alyx_server.url}/auth-token",
        json={"username": username, "password": password},
        timeout=TIMEOUT,
    ).json()["token"]
    admin.headers.update({"Authorization": f"Token {token}", "Accept": "application/json"})
    for nickname in (UPPER, LOWER):
        made = admin.post(
            f"{alyx_server.url}/subjects",
            json={"nickname": nickname, "lab": LAB, "responsible_user": "bob"},
            timeout=TIMEOUT,
        )
        assert made.status_code == 201, made.text
    try:
        yield {n: s for n, s in synced_subjects(alyx, lab=LAB).items() if n in (UPPER, LOWER)}
    finally:
        registering.delete_registered(Layout(), [UPPER, LOWER], "2021-01-01", "2021-12-31", [])
        for nickname in (UPPER, LOWER):
            admin.delete(f"{alyx_server.url}/subjects/{LAB}__{nickname}", timeout=TIMEOUT)
        admin.close()


@pytest.fixture
def clock_days():
    layout = Layout()
    for day in (SPRING, AUTUMN):
        registering.delete_registered(layout, [CLOCK_MOUSE], str(day), str(day), [])
    yield
    for day in (SPRING, AUTUMN):
        registering.delete_registered(layout, [CLOCK_MOUSE], str(day), str(day), [])


def test_a_case_twin_never_takes_our_session_nor_counts_in_our_numbers(alyx, twins, tmp_path):
    upper, lower = twins[UPPER], twins[LOWER]
    day = datetime.datetime(2021, 4, 6, 9, 0)
    earlier = session_payload(upper, day - datetime.timedelta(hours=1))
    both = session_payload(upper, day)  # one PyBpod session of both animals
    ours = session_payload(lower, day, session_uuid=both["session"]["json"]["pybpod_session_uuid4"])
    with Outbox(tmp_path / "rig.sqlite") as outbox:
        queue_payload(outbox, upper, earlier)
        queue_payload(outbox, upper, both)
        assert len(flush(outbox, alyx).sent) == 2
        queue_payload(outbox, lower, ours)
        assert len(flush(outbox, alyx).sent) == 1
    listed = list(alyx.list("sessions", subject=LOWER, date_range="2021-04-06,2021-04-06"))
    assert sorted(s["subject"] for s in listed) == [UPPER, UPPER, LOWER]  # the canonical filter
    held = {nickname: held_on(alyx, nickname, day.date()) for nickname in (UPPER, LOWER)}
    (our_session,) = held[LOWER]["sessions"]
    assert our_session["number"] == 1 and our_session["subject"] == LOWER
    assert sorted(s["number"] for s in held[UPPER]["sessions"]) == [1, 2]
    assert [w["session"] for w in held[LOWER]["water"]] == [our_session["id"]]
    # The outbox lost: queued afresh, ours is found by its identity; nothing is created.
    with Outbox(tmp_path / "again.sqlite") as outbox:
        queue_payload(outbox, lower, ours)
        assert len(flush(outbox, alyx).sent) == 1
        assert outbox.items()[0].progress["session"] == {
            "id": our_session["id"],
            "number": 1,
            "found": True,
            "numbered": True,
        }
    again = held_on(alyx, LOWER, day.date())
    assert (len(again["sessions"]), len(again["weighings"]), len(again["water"])) == (1, 1, 1)


@pytest.mark.parametrize("rig_zone", ["UTC", "Europe/London"])
def test_across_the_clock_changes_a_lost_answer_never_doubles_a_record(
    alyx_server, alyx, clock_days, tmp_path, rig_zone
):
    readings = [
        datetime.datetime(2021, 3, 28, 0, 30),
        datetime.datetime(2021, 3, 28, 1, 45),  # London's gap (a rig on UTC shows it)
        datetime.datetime(2021, 10, 31, 0, 50),
        datetime.datetime(2021, 10, 31, 1, 30),  # London shows it twice
    ]
    with DroppingProxy(alyx_server.base_url) as proxy, AlyxClient(
        proxy.base_url, username="bob", password=alyx_server.users["bob"]
    ) as via_proxy:  # fmt: skip
        subject = synced_subjects(via_proxy, nickname=CLOCK_MOUSE)[CLOCK_MOUSE]
        payloads = [session_payload(subject, r, options=zones(rig_zone)) for r in readings]
        with Outbox(tmp_path / "rig.sqlite") as outbox:
            for payload in payloads:
                queue_payload(outbox, subject, payload)
            for _ in payloads:
                proxy.drops += [("POST", f"/api/{endpoint}") for endpoint in
                                ("sessions", "weighings", "water-administrations")]  # fmt: skip
            for _ in range(4 * len(payloads)):  # each lost answer ends a flush
                if outbox.counts()[SENT] == len(payloads):
                    break
                flush(outbox, via_proxy, due_only=False)
            assert outbox.counts()[SENT] == len(payloads), outbox.items()
        assert len(proxy.dropped) == 3 * len(payloads)
    for date in (SPRING, AUTUMN):
        held = held_on(alyx, CLOCK_MOUSE, date)
        sent = sorted(
            p["session"]["start_time"]
            for p in payloads
            if p["session"]["start_time"].startswith(str(date))
        )
        assert sorted(s["start_time"] for s in held["sessions"]) == sent  # each once, as sent
        assert sorted(w["date_time"] for w in held["weighings"]) == sent
        assert len(held["water"]) == len(sent)
    assert "2021-03-28T02:45:00" in [p["session"]["start_time"] for p in payloads]


def test_a_nickname_two_labs_share_needs_attention_with_the_fix(alyx, seed, tmp_path):
    twin = synced_subjects(alyx, nickname=seed.TWIN_NICKNAME, lab=LAB)[seed.TWIN_NICKNAME]
    with Outbox(tmp_path / "rig.sqlite") as outbox:
        queue_payload(outbox, twin, session_payload(twin, datetime.datetime(2021, 4, 7, 9)))
        report = flush(outbox, alyx)
        (item,) = outbox.items()
    assert item.state == ATTENTION and len(report.attention) == 1
    assert "returned more than one Subject" in item.last_error
    assert "Two labs share this nickname" in item.fix
