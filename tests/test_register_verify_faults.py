"""A hostile server's answers are checked before anything counts as sent (issue 15, class 1).

An in-memory Alyx on the fault stub (:mod:`register_stub`) answers each create with the
record it made, changed by a hypothesis-generated fault: another subject (a case twin
too), an id that is not a UUID (``../../x``), an id and a url naming two records, fields
missing or of the wrong type, a list where a record belongs, another PyBpod session's
``json``, another start or amount. Whatever it is, the item needs attention with the
reason, is never "sent", and no water is linked to an id that was not checked.
"""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_server import PASSWORD, USERNAME, running_fault_server
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from register_payloads import alyx_subject, queue_payload, session_payload
from register_stub import AlyxStub

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.register import ATTENTION, SENT, Outbox, flush

pytestmark = pytest.mark.fault

START = datetime.datetime(2021, 5, 4, 9, 30)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

not_uuids = st.one_of(
    st.sampled_from(["../../x", "", "..", "00000000-0000-0000-0000-00000000000g", "1 OR 1=1"]),
    st.text(max_size=40),
    st.integers(),
    st.lists(st.integers(), max_size=2),
    st.none(),
)
wrong_texts = st.one_of(st.sampled_from(["m1", "M1 ", "M2", ""]), st.integers(), st.none())


def replaced(key: str, values: st.SearchStrategy) -> st.SearchStrategy:
    """Answers whose ``key`` holds one of ``values`` (dropped when the value is ``...``)."""

    def change(value: Any) -> Callable[[dict], Any]:
        def answer(record: dict) -> Any:
            return (
                {k: v for k, v in record.items() if k != key}
                if value is ...
                else {
                    **record,
                    key: value,
                }
            )

        return answer

    return values.map(change)


def hostile_record(amount: str | None, time_key: str) -> st.SearchStrategy:
    """Every kind of wrong answer to the create of a record with ``amount`` and ``time_key``."""
    kinds = [
        replaced("subject", wrong_texts),
        replaced("subject", st.just(...)),
        replaced("url", not_uuids.filter(lambda v: v is not None)),
        replaced(
            time_key,
            st.one_of(
                st.sampled_from(["2021-05-04T10:30:00", "soon", ""]), st.integers(), st.just(...)
            ),
        ),
        st.just(lambda record: [record]),
        st.just(lambda record: "created"),
        st.just(lambda record: {}),
        st.just(lambda record: {**record, "id": "6f1f3b9e-0000-4000-8000-000000000000"}),
    ]
    if amount is not None:
        kinds.append(
            replaced(amount, st.one_of(st.floats(0, 100), st.just("21.5"), st.just(True))).filter(
                lambda change: change({amount: 1.0})[amount] not in (21.5, 0.5)
            )
        )
    return st.one_of(kinds)


hostile_sessions = st.one_of(
    hostile_record(None, "start_time"),
    replaced("id", not_uuids.filter(lambda v: v is not None)),
    replaced("number", st.one_of(st.just("1"), st.just(True), st.just(2), st.none(), st.just(...))),
    replaced("json", st.one_of(st.just({"pybpod_session_uuid4": "someone-else"}), st.just([]))),
    replaced("lab", st.sampled_from(["hoferlab", "CORTEXLAB"])),
)


@pytest.fixture(scope="module")
def stub() -> Iterator[AlyxStub]:
    with running_fault_server() as server:
        yield AlyxStub(server, locations=[("rig1", "cortexlab")])


def flushed(stub: AlyxStub, payload: dict[str, Any]) -> tuple[Any, Any]:
    """Queue ``payload`` in a new outbox and flush it once: (the item after, the report)."""
    subject = alyx_subject(stub.server.url)
    with tempfile.TemporaryDirectory() as folder, Outbox(Path(folder) / "o.sqlite") as outbox:
        queue_payload(outbox, subject, payload)
        with AlyxClient(
            stub.server.url, username=USERNAME, password=PASSWORD, max_requests_per_minute=None
        ) as alyx:
            report = flush(outbox, alyx, workers=1)
        return outbox.items()[0], report


def reset(stub: AlyxStub, endpoint: str, change: Callable[[dict], Any] | None) -> None:
    stub.sessions.clear()
    for records in stub.records.values():
        records.clear()
    stub.answer.clear()
    if change is not None:
        stub.answer[("POST", endpoint)] = change


def test_an_honest_server_gets_each_record_once_and_the_water_names_the_session(stub):
    reset(stub, "sessions", None)
    item, report = flushed(stub, session_payload(alyx_subject(stub.server.url), START))
    assert item.state == SENT and len(report.sent) == 1
    (session,) = stub.sessions.values()
    (water,) = stub.records["water-administrations"]
    assert water["session"] == session["id"] == item.progress["session"]["id"]
    assert session["location"] == "rig1" and session["start_time"] == "2021-05-04T09:30:00"


@SETTINGS
@given(change=hostile_sessions)
def test_a_session_answer_that_is_not_the_session_sent_needs_attention(stub, change):
    reset(stub, "sessions", change)
    item, report = flushed(stub, session_payload(alyx_subject(stub.server.url), START))
    assert item.state == ATTENTION and report.sent == []
    assert "Alyx answered the session" in item.last_error
    assert "session" not in item.progress
    assert stub.records == {"weighings": [], "water-administrations": []}


@SETTINGS
@given(change=hostile_record("weight", "date_time"))
def test_a_weighing_answer_that_is_not_the_weighing_sent_needs_attention(stub, change):
    reset(stub, "weighings", change)
    item, report = flushed(stub, session_payload(alyx_subject(stub.server.url), START))
    assert item.state == ATTENTION and report.sent == []
    assert "Alyx answered the weighing" in item.last_error
    assert stub.records["water-administrations"] == []  # never linked after an unchecked step


@SETTINGS
@given(change=hostile_record("water_administered", "date_time"))
def test_a_water_answer_that_is_not_the_water_sent_needs_attention(stub, change):
    reset(stub, "water-administrations", change)
    item, _ = flushed(stub, session_payload(alyx_subject(stub.server.url), START))
    assert item.state == ATTENTION and "Alyx answered the water administration" in item.last_error
    assert "water" not in item.progress


@SETTINGS
@given(value=not_uuids)
def test_a_water_answer_linked_to_another_session_needs_attention(stub, value):
    reset(stub, "water-administrations", lambda record: {**record, "session": value})
    item, _ = flushed(stub, session_payload(alyx_subject(stub.server.url), START))
    assert item.state == ATTENTION and "session" in item.last_error


def test_a_session_found_on_alyx_is_ours_only_if_its_json_names_our_pybpod_session(stub):
    reset(stub, "sessions", None)
    subject = alyx_subject(stub.server.url)
    first = session_payload(subject, START)
    assert flushed(stub, first)[0].state == SENT
    # Another PyBpod session of the same animal at the same second: not taken for ours.
    other = session_payload(subject, START)
    item, _ = flushed(stub, other)
    assert item.state == SENT and len(stub.sessions) == 2
    assert sorted(s["number"] for s in stub.sessions.values()) == [1, 2]
    # The first again (a lost outbox): found by its identity, nothing created.
    again, _ = flushed(stub, first)
    assert again.progress["session"]["found"] and len(stub.sessions) == 2


def test_a_found_session_whose_start_moved_needs_attention_naming_the_time_zone(stub):
    reset(stub, "sessions", None)
    payload = session_payload(alyx_subject(stub.server.url), START)
    assert flushed(stub, payload)[0].state == SENT
    (record,) = stub.sessions.values()
    record["start_time"] = "2021-05-04T10:30:00"  # the server moved it an hour
    with tempfile.TemporaryDirectory() as folder, Outbox(Path(folder) / "o.sqlite") as outbox:
        queue_payload(outbox, alyx_subject(stub.server.url), payload)
        item = outbox.items()[0]
        outbox.claim(1)
        outbox.save_progress(item.id, {"posting": "session"})  # an answer that never came
        outbox.release(item.id)
        with AlyxClient(
            stub.server.url, username=USERNAME, password=PASSWORD, max_requests_per_minute=None
        ) as alyx:
            flush(outbox, alyx, workers=1)
        (item,) = outbox.items()
    assert item.state == ATTENTION and "ALYX_PLUGIN_SERVER_TIME_ZONE" in item.last_error
    assert len(stub.sessions) == 1
