"""The outbox on its own: durable, claimed by one process at a time, nothing dropped."""

from __future__ import annotations

import datetime
import random
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pybpod_alyx_module.alyx import errors
from pybpod_alyx_module.register import ATTENTION, DISCARDED, PENDING, SENT, Outbox, flush
from pybpod_alyx_module.register.failures import ATTENTION as ATTENTION_VERDICT
from pybpod_alyx_module.register.failures import (
    STOP,
    TRANSIENT,
    Verdict,
    judge,
    wait_before_next_try,
)
from pybpod_alyx_module.register.outbox import ClaimLost
from pybpod_alyx_module.register.waiting import next_try_words


@pytest.fixture
def outbox(tmp_path: Path):
    with Outbox(tmp_path / "outbox.sqlite") as box:
        yield box


def test_an_item_is_queued_once_per_key(outbox):
    assert outbox.add("k1", "first", {"a": 1}) is True
    assert outbox.add("k1", "again", {"a": 2}) is False
    assert [(i.key, i.payload) for i in outbox.items()] == [("k1", {"a": 1})]
    assert outbox.counts() == {PENDING: 1, SENT: 0, ATTENTION: 0, DISCARDED: 0, "withdrawn": 0}


def test_queued_items_survive_a_reopen(tmp_path):
    with Outbox(tmp_path / "o.sqlite") as box:
        box.add("k1", "first", {"a": 1})
    with Outbox(tmp_path / "o.sqlite") as box:
        assert [i.key for i in box.items(PENDING)] == ["k1"]


def test_two_senders_never_claim_the_same_item(tmp_path):
    with Outbox(tmp_path / "o.sqlite") as one, Outbox(tmp_path / "o.sqlite") as two:
        for n in range(5):
            one.add(f"k{n}", f"item {n}", {})
        first = one.claim(3)
        second = two.claim(5)
        assert {i.key for i in first} == {"k0", "k1", "k2"}
        assert {i.key for i in second} == {"k3", "k4"}
        assert one.claim(5) == [] and two.claim(5) == []
        with pytest.raises(ClaimLost):
            two.finish(first[0].id, {})


def test_items_of_a_killed_sender_are_claimed_again(tmp_path):
    path = tmp_path / "o.sqlite"
    with Outbox(path) as box:
        box.add("k1", "item", {})
    claimer = textwrap.dedent(
        f"""
        import os, signal, sys
        from pybpod_alyx_module.register import Outbox
        box = Outbox({str(path)!r})
        assert len(box.claim(1)) == 1
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", claimer], capture_output=True, text=True)
    assert result.returncode == -9, result.stderr
    with Outbox(path) as box:
        assert [i.key for i in box.claim(1)] == ["k1"]


def test_items_of_a_living_sender_are_left_to_it(tmp_path):
    path = tmp_path / "o.sqlite"
    with Outbox(path) as box:
        box.add("k1", "item", {})
    claimer = textwrap.dedent(
        f"""
        import sys
        from pybpod_alyx_module.register import Outbox
        box = Outbox({str(path)!r})
        assert len(box.claim(1)) == 1
        print("claimed", flush=True)
        sys.stdin.readline()
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", claimer], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout.readline().strip() == "claimed"
        with Outbox(path) as box:
            assert box.claim(1) == []
    finally:
        process.communicate("\n", timeout=30)


def test_a_postponed_item_waits_unless_a_person_retries_it(outbox):
    outbox.add("k1", "item", {})
    (item,) = outbox.claim(1)
    outbox.postpone(item.id, "Alyx unreachable", delay=600, server_failure=False)
    assert outbox.claim(1) == []
    assert [i.key for i in outbox.claim(1, due_only=False)] == ["k1"]


def test_needs_attention_keeps_the_servers_words_until_retried_or_discarded(outbox):
    outbox.add("k1", "item", {})
    (item,) = outbox.claim(1)
    outbox.needs_attention(item.id, "users: Object with username=nobody does not exist.", "fix")
    assert outbox.claim(1, due_only=False) == []
    (kept,) = outbox.items(ATTENTION)
    assert "nobody" in kept.last_error and kept.fix == "fix"
    assert outbox.retry(kept.id) == 1
    assert outbox.get(kept.id).state == PENDING
    assert outbox.discard(kept.id) is True
    assert outbox.get(kept.id).state == DISCARDED


def test_a_discarded_item_is_queued_again_only_when_asked_by_name(outbox):
    outbox.add("k1", "item", {"a": 1})
    (item,) = outbox.items()
    assert outbox.discard(item.id) is True
    assert outbox.add("k1", "queued again", {"b": 2}) is False
    assert outbox.get(item.id).state == DISCARDED and outbox.state_of("k1") == DISCARDED
    assert outbox.add("k1", "queued again", {"b": 2}, again=True) is True
    again = outbox.get(item.id)
    assert (again.state, again.payload, again.attempts) == (PENDING, {"b": 2}, 0)
    assert outbox.add("k1", "and again", {"c": 3}, again=True) is False  # pending: kept as is
    assert outbox.state_of("never queued") is None


def test_a_notice_is_told_once(outbox):
    outbox.notice("location:rig1", "create rig1")
    outbox.notice("location:rig1", "create rig1")
    assert outbox.take_notices() == ["create rig1"]
    assert outbox.take_notices() == []


def test_every_try_is_counted_and_a_retry_keeps_the_count(outbox):
    outbox.add("k1", "item", {})
    (item,) = outbox.claim(1)
    outbox.postpone(item.id, "502", delay=0, server_failure=True)
    (item,) = outbox.claim(1)
    outbox.needs_attention(item.id, "refused", "fix it")
    assert (outbox.get(item.id).attempts, outbox.get(item.id).failed_tries) == (2, 2)
    outbox.retry(item.id)
    assert (outbox.get(item.id).attempts, outbox.get(item.id).failed_tries) == (2, 0)
    (item,) = outbox.claim(1)
    outbox.finish(item.id, {})
    assert outbox.get(item.id).attempts == 3  # the try that sent it counts too


def test_alyx_away_counts_a_try_of_each_due_item_with_the_reason(outbox):
    for key in ("due", "later", "claimed"):
        outbox.add(key, key, {})
    due, later, _claimed = outbox.claim(3)
    outbox.postpone(later.id, "502", delay=600, server_failure=True)
    outbox.release(due.id)
    outbox.server_away("Alyx could not be reached: connection refused", delay=60)
    tried = {item.key: (item.attempts, item.last_error) for item in outbox.items()}
    assert tried["due"] == (1, "Alyx could not be reached: connection refused")
    assert tried["later"] == (1, "502") and tried["claimed"] == (0, None)


def test_a_claim_leaves_the_items_it_is_told_to(outbox):
    for n in range(3):
        outbox.add(f"k{n}", f"item {n}", {})
    first = outbox.items()[0]
    assert [i.key for i in outbox.claim(5, exclude={first.id})] == ["k1", "k2"]


def test_a_servers_words_are_stored_bounded(outbox):
    outbox.add("k1", "item", {})
    (item,) = outbox.claim(1)
    outbox.needs_attention(item.id, "x" * 50_000_000, "fix")
    outbox.server_away("y" * 1_000_000, delay=1)
    assert len(outbox.get(item.id).last_error) < 1000
    assert len(outbox.server_state()[2]) < 1000


def test_an_owner_id_that_is_not_one_is_never_used_as_a_path(outbox, tmp_path):
    victim = tmp_path / "victim.sqlite"
    sqlite3.connect(victim).close()  # an unlocked SQLite file: "dead" to a probe
    outbox.add("k1", "item", {})
    with outbox._file.writing() as db:  # a hostile file names a path as the owner
        db.execute("UPDATE items SET owner = ?, lease_until = ?", ("../victim.sqlite", 2e9))
    assert [i.key for i in outbox.claim(1)] == ["k1"]
    assert victim.exists()


def test_an_outbox_of_the_earlier_version_is_upgraded_with_its_items(tmp_path):
    path = tmp_path / "o.sqlite"
    old = sqlite3.connect(path)
    old.executescript(EARLIER_SCHEMA)
    old.execute(
        "INSERT INTO items (key, label, payload, attempts, created, updated) "
        "VALUES ('k1', 'item', '{}', 3, 0, 0)"
    )
    old.commit()
    old.close()
    with Outbox(path) as box:
        (item,) = box.items()
        assert (item.key, item.attempts, item.failed_tries) == ("k1", 3, 3)


EARLIER_SCHEMA = """
CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE,
    subject TEXT, label TEXT NOT NULL, payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending', progress TEXT NOT NULL DEFAULT '{}',
    attempts INTEGER NOT NULL DEFAULT 0, server_failures INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0, last_error TEXT, fix TEXT, owner TEXT,
    lease_until REAL, created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE notices (key TEXT PRIMARY KEY, message TEXT NOT NULL, created REAL NOT NULL,
    shown INTEGER NOT NULL DEFAULT 0);
CREATE TABLE server (id INTEGER PRIMARY KEY CHECK (id = 1), failures INTEGER NOT NULL,
    next_try REAL NOT NULL, last_error TEXT);
"""


def test_failures_are_judged_transient_attention_or_stop():
    unreachable = errors.ServerUnreachableError("down")
    refused = errors.RequestRejectedError(
        "refused", status=400, detail="users: Object with username=nobody does not exist."
    )
    assert judge(unreachable).kind == TRANSIENT
    assert judge(errors.ServerError("502", status=502)).server_failure
    verdict = judge(refused)
    assert verdict.kind == ATTENTION_VERDICT and "Create this user in Alyx" in verdict.fix
    assert judge(errors.InvalidTokenError("log in", status=403)).kind == STOP


def test_retry_delays_grow_with_jitter_and_a_cap_and_a_busy_servers_wait_is_kept():
    rng = random.Random(1)
    delays = [wait_before_next_try(Verdict(TRANSIENT, "away"), n, rng) for n in range(12)]
    assert 2.5 <= delays[0] <= 5
    assert delays[3] > delays[0]
    assert max(delays) <= 15 * 60
    busy = Verdict(TRANSIENT, "busy", server_failure=True, retry_after=42.0)
    assert wait_before_next_try(busy, 7, rng) == 42.0


class BrokenAlyx:
    """A client whose session search fails in a way nobody foresaw (a bug, not the server)."""

    api_root = "http://alyx.lab:8000/api"

    def list(self, path, **filters):
        if path == "locations":
            return iter([])
        raise RuntimeError("something nobody foresaw")


def test_an_unforeseen_failure_is_kept_for_a_person_not_raised_or_lost(outbox):
    outbox.add(
        "k1",
        "M1 20310101-100000",
        {
            "kind": "session",
            "subject": {"id": "s1", "nickname": "M1", "server": "http://alyx.lab:8000"},
            "session": {
                "subject": "M1",
                "start_time": "2031-01-01T10:00:00",
                "json": {"pybpod_session_uuid4": "6b3c4c2e-8f5e-4d0a-9a57-1f0c2d3e4b5a"},
            },
            "location": None,
            "weighing": None,
            "water": None,
        },
    )
    report = flush(outbox, BrokenAlyx())
    (item,) = outbox.items(ATTENTION)
    assert report.attention and "something nobody foresaw" in item.last_error
    assert "fault of the plugin" in item.fix


def test_a_next_try_is_a_clock_time_to_come_or_due_now():
    now = datetime.datetime(2031, 3, 4, 8, 1).timestamp()
    assert next_try_words(now - 180, now=now) == "due now"  # 07:58 read at 08:01
    assert next_try_words(now + 60, now=now) == "at 08:02:00"
    assert next_try_words(now + 86_400, now=now) == "on 2031-03-05 at 08:01:00"
