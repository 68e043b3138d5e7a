"""Withdrawing from a hostile outbox file or against a server that answers other records: nothing
is deleted that the outbox did not create and send, and every refusal is a ``WithdrawRefused``.

The fake Alyx is as strict as alyx-local: a record path is ``<endpoint>/<uuid>``, anything
else is "not found", a deleted record is gone (a second DELETE is a 404), and it records
every request so a test can say none was a DELETE.
"""

from __future__ import annotations

import copy
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pybpod_alyx_module.alyx import NotFoundError
from pybpod_alyx_module.register import ATTENTION, DISCARDED, PENDING, SENT, WITHDRAWN, Outbox
from pybpod_alyx_module.register.withdraw import (
    WithdrawRefused,
    describe,
    own_records,
    withdraw,
)

GENERATED = settings(max_examples=100, deadline=None, derandomize=True)
SERVER = "http://alyx.test"
WEIGHING_ID = "6f1f3b9e-0000-4000-8000-000000000001"
PAYLOAD = {
    "kind": "weighing",
    "subject": {"id": "s1", "nickname": "M1", "server": SERVER},
    "weighing": {"subject": "M1", "weight": 21.5, "date_time": "2031-01-02T09:00:00"},
    "times": {"rig_zone": "UTC", "server_zone": "UTC"},
}


class StrictAlyx:
    """Records by path; unknown or malformed paths are 404s, like alyx-local's router."""

    api_root = f"{SERVER}/api"

    def __init__(self, records: dict[str, dict]) -> None:
        self.records = copy.deepcopy(records)
        self.requests: list[tuple[str, str]] = []

    def _known(self, method: str, path: str) -> str:
        self.requests.append((method, path))
        endpoint, _, tail = path.partition("/")
        try:
            valid = str(uuid.UUID(tail)) == tail
        except ValueError:
            valid = False
        if endpoint not in ("weighings", "water-administrations", "sessions") or not valid:
            raise NotFoundError(f"no {path}", status=404)
        if path not in self.records:
            raise NotFoundError(f"no {path}", status=404)
        return path

    def get(self, path: str) -> dict:
        return copy.deepcopy(self.records[self._known("GET", path)])

    def delete(self, path: str) -> None:
        del self.records[self._known("DELETE", path)]


def sent_item(tmp_path, progress):
    outbox = Outbox(tmp_path / "outbox.sqlite")
    outbox.add("k", "M1 21.5 g", PAYLOAD)
    (item,) = outbox.claim(1, due_only=False)
    outbox.finish(item.id, progress)
    return outbox, item.id


def weighing_record(**changes):
    record = dict(PAYLOAD["weighing"], url=f"{SERVER}/api/weighings/{WEIGHING_ID}")
    return record | changes


ids = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["../../users/x", "x/../../sessions", WEIGHING_ID.upper(), "", " "]),
    st.integers(),
    st.none(),
    st.lists(st.text(max_size=5), max_size=3),
)


@GENERATED
@given(kind=st.sampled_from(["session", "weighing", "water"]), record_id=ids, found=st.booleans())
def test_any_id_in_the_file_is_a_uuid_record_or_a_refusal(kind, record_id, found):
    from pybpod_alyx_module.register.outbox import Item

    item = Item(1, "k", "l", PAYLOAD, SENT, {kind: {"id": record_id, "found": found}},
                1, 0, 0, 0.0, None, None, 0.0, 0.0)  # fmt: skip
    try:
        records, left = own_records(item)
    except WithdrawRefused as exc:
        assert "nothing was deleted" in str(exc)
        return
    for record in records:
        tail = record.path.partition("/")[2]
        assert str(uuid.UUID(tail)) == tail and "/" not in tail and ".." not in record.path
    assert len(records) + len(left) == 1
    assert bool(left) == found


def test_a_record_alyx_answers_as_another_is_never_deleted(tmp_path):
    outbox, item_id = sent_item(tmp_path, {"weighing": {"id": WEIGHING_ID}})
    alyx = StrictAlyx({f"weighings/{WEIGHING_ID}": weighing_record(weight=30.0)})

    with outbox:
        with pytest.raises(WithdrawRefused, match="nothing was deleted"):
            withdraw(outbox, alyx, item_id)
        assert outbox.get(item_id).state == SENT

    assert [method for method, _ in alyx.requests] == ["GET"]


def test_withdrawn_twice_deletes_once(tmp_path):
    outbox, item_id = sent_item(tmp_path, {"weighing": {"id": WEIGHING_ID}})
    alyx = StrictAlyx({f"weighings/{WEIGHING_ID}": weighing_record()})

    with outbox:
        report = withdraw(outbox, alyx, item_id)
        with pytest.raises(WithdrawRefused, match="withdrawn already"):
            withdraw(outbox, alyx, item_id)
        assert outbox.get(item_id).state == WITHDRAWN

    assert [str(r) for r in report.deleted] == [f"weighing {WEIGHING_ID}"]
    assert [method for method, _ in alyx.requests] == ["GET", "DELETE"]


@pytest.mark.parametrize("state", [PENDING, ATTENTION, DISCARDED])
def test_an_item_not_sent_is_refused_without_a_request(tmp_path, state):
    outbox = Outbox(tmp_path / "outbox.sqlite")
    outbox.add("k", "M1 21.5 g", PAYLOAD)
    item_id = outbox.items()[0].id
    if state == ATTENTION:
        (claimed,) = outbox.claim(1, due_only=False)
        outbox.needs_attention(claimed.id, "refused", "fix")
    elif state == DISCARDED:
        outbox.discard(item_id)
    alyx = StrictAlyx({})

    with outbox, pytest.raises(WithdrawRefused, match="not sent"):
        withdraw(outbox, alyx, item_id)
    assert alyx.requests == []


def test_what_a_person_confirms_names_subject_kind_value_and_date(tmp_path):
    outbox, item_id = sent_item(tmp_path, {"weighing": {"id": WEIGHING_ID}})
    with outbox:
        words = describe(outbox.get(item_id))
    assert words == "the weighing of M1 of 21.5 g on 2031-01-02 09:00"
