"""The outbox on its own: durable, claimed by one process at a time, nothing dropped."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pybpod_alyx_module.alyx import errors
from pybpod_alyx_module.register import ATTENTION, DISCARDED, PENDING, SENT, Outbox, flush
from pybpod_alyx_module.register.failures import ATTENTION as ATTENTION_VERDICT
from pybpod_alyx_module.register.failures import STOP, TRANSIENT, backoff, judge
from pybpod_alyx_module.register.outbox import ClaimLost


@pytest.fixture
def outbox(tmp_path: Path):
    with Outbox(tmp_path / "outbox.sqlite") as box:
        yield box


def test_an_item_is_queued_once_per_key(outbox):
    assert outbox.add("k1", "first", {"a": 1}) is True
    assert outbox.add("k1", "again", {"a": 2}) is False
    assert [(i.key, i.payload) for i in outbox.items()] == [("k1", {"a": 1})]
    assert outbox.counts() == {PENDING: 1, SENT: 0, ATTENTION: 0, DISCARDED: 0}


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
    assert outbox.add("k1", "queued again", {"b": 2}) is True
    assert outbox.get(kept.id).state == PENDING


def test_a_notice_is_told_once(outbox):
    outbox.notice("location:rig1", "create rig1")
    outbox.notice("location:rig1", "create rig1")
    assert outbox.take_notices() == ["create rig1"]
    assert outbox.take_notices() == []


def test_an_outbox_in_a_folder_that_cannot_be_written_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(Exception, match="Cannot open the Alyx outbox"):
        Outbox(blocker / "outbox.sqlite")


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


def test_retry_delays_grow_with_jitter_and_a_cap():
    rng = random.Random(1)
    delays = [backoff(n, rng) for n in range(12)]
    assert 2.5 <= delays[0] <= 5
    assert delays[3] > delays[0]
    assert max(delays) <= 15 * 60


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
            "session": {"subject": "M1", "start_time": "2031-01-01T10:00:00", "json": {}},
            "location": None,
            "weighing": None,
            "water": None,
        },
    )
    report = flush(outbox, BrokenAlyx())
    (item,) = outbox.items(ATTENTION)
    assert report.attention and "something nobody foresaw" in item.last_error
    assert "fault of the plugin" in item.fix
