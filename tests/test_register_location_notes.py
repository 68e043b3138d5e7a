"""A session registered without its location says so where the user looks, with what to do.

Against the in-memory Alyx of :mod:`register_stub` (through the plugin's real client): the
outbox keeps the reason on the sent item ("Why", "What to do"), the session's node shows
it (:func:`~pybpod_alyx_module.register.session_states.session_states`), and the notice
is told once per location, not at every session.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_server import PASSWORD, USERNAME, running_fault_server
from register_payloads import LONDON, alyx_subject, queue_payload, session_payload
from register_stub import AlyxStub

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.register import SENT, Outbox, send_outbox
from pybpod_alyx_module.register.session_states import session_key, session_states

pytestmark = pytest.mark.fault

START = datetime.datetime(2021, 6, 1, 9, 0)


@pytest.fixture
def stub() -> Iterator[AlyxStub]:
    with running_fault_server() as server:
        yield AlyxStub(server, locations=[("rig2", "cortexlab")])


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    with Outbox(tmp_path / "o.sqlite") as box:
        yield box


def send(stub: AlyxStub, outbox: Outbox):
    with AlyxClient(
        stub.server.url, username=USERNAME, password=PASSWORD, max_requests_per_minute=None
    ) as alyx:
        return send_outbox(outbox, alyx, LONDON, due_only=False)


def queue(stub: AlyxStub, outbox: Outbox, day: int, setup: str) -> None:
    subject = alyx_subject(stub.server.url)
    started = START + datetime.timedelta(days=day)
    queue_payload(outbox, subject, session_payload(subject, started, setup=setup))


def test_a_location_alyx_lacks_is_on_the_sent_item_and_its_session_with_what_to_do(stub, outbox):
    queue(stub, outbox, 0, setup="rig1")
    queue(stub, outbox, 1, setup="rig2")
    report = send(stub, outbox)

    assert len(report.sent) == 2
    placed = {(s["location"], (s["json"] or {}).get("pybpod_location"))
              for s in stub.sessions.values()}  # fmt: skip
    assert placed == {(None, "rig1"), ("rig2", None)}
    lacking, placed_item = outbox.items()
    assert lacking.state == placed_item.state == SENT
    assert lacking.last_error.startswith("Registered without a location: the Alyx at ")
    assert "has no location 'rig1'" in lacking.last_error
    assert "Create the location 'rig1' in lab cortexlab" in lacking.fix
    assert "ALYX_PLUGIN_LOCATIONS" in lacking.fix
    assert placed_item.last_error is None and placed_item.fix is None

    states = session_states(outbox.items())
    note = states[session_key(lacking.payload["source"])].note
    assert "no location 'rig1'" in note and "ALYX_PLUGIN_LOCATIONS" in note
    assert states[session_key(placed_item.payload["source"])].note == ""
    assert ["no location 'rig1'" in notice for notice in report.notices] == [True]


def test_the_notice_is_told_once_and_every_such_item_keeps_its_note(stub, outbox):
    queue(stub, outbox, 0, setup="rig1")
    assert len(send(stub, outbox).notices) == 1
    queue(stub, outbox, 1, setup="rig1")
    again = send(stub, outbox)
    assert len(again.sent) == 1 and again.notices == []
    assert all("no location 'rig1'" in item.last_error for item in outbox.items())
