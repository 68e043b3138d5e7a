"""Registering sessions on the real alyx-local: exactly once across outages, kills and lost answers.

Sessions are written by pybpodapi's own writer into a project synced from the server
(bob's subjects), queued, flushed, and read back from Alyx. Everything these tests
create is dated 2021 and deleted at the end (with the locations they made), so the
shared server is left as it was found; the outage stops and restarts gunicorn only.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import register_world
from alyxserver import registering
from register_payloads import queue_payload, session_payload
from register_proxy import DroppingProxy
from register_world import (
    BOB_MICE,
    FLUSHER,
    KNOWN_LOCATION,
    LONDON,
    VALUES,
    day,
    held_on,
    on_alyx,
    queue,
    record,
    sync_bob_project,
    synced_subjects,
)

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.register import (
    ATTENTION,
    PENDING,
    SENT,
    Outbox,
    alyx_subjects,
    flush,
)
from pybpod_alyx_module.sync.project_files import open_project

world = register_world.world  # the module-scoped project and server
alyx = register_world.alyx

# -- registering ---------------------------------------------------------------------------


def test_sessions_reach_alyx_with_their_weight_and_water_once(world, alyx, tmp_path):
    project = world["project"]
    first, second = day(1), day(1) + datetime.timedelta(hours=2)
    files = [
        record(project, "bob_mouse_1", first, values=dict(VALUES, alyx_narrative="calm")),
        record(project, "bob_mouse_1", second),
    ]
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        assert queue(project, outbox, files) == 2
        report = flush(outbox, alyx)
        assert (len(report.sent), report.attention, report.stopped) == (2, [], None)
        assert outbox.counts()[SENT] == 2
        # Queued again, flushed again: nothing new reaches Alyx.
        assert queue(project, outbox, files) == 0
        assert flush(outbox, alyx).sent == []
    # A lost outbox: the sessions are queued afresh, found on Alyx, not created twice.
    with Outbox(tmp_path / "another.sqlite") as outbox:
        assert queue(project, outbox, files) == 2
        assert len(flush(outbox, alyx).sent) == 2

    held = on_alyx(alyx, "bob_mouse_1", first)
    sessions = sorted(held["sessions"], key=lambda s: s["number"])
    assert [s["number"] for s in sessions] == [1, 2]
    detail = alyx.get(sessions[0]["url"])
    assert detail["start_time"].startswith("2021-01-02T09:00:00")
    assert detail["end_time"].startswith("2021-01-02T09:40:00")
    assert (detail["n_trials"], detail["n_correct_trials"]) == (3, 2)
    assert detail["users"] == ["bob"] and detail["location"] == KNOWN_LOCATION
    assert detail["narrative"] == "calm" and detail["type"] == "Experiment"
    assert detail["procedures"] == ["Behavior training/tasks"]
    assert detail["projects"] == ["ibl_behaviour"]
    assert detail["json"]["pybpod_setup"] == KNOWN_LOCATION
    assert detail["task_protocol"] == "training"
    assert [w["weight"] for w in held["weighings"]] == [23.5, 23.5]
    assert sorted(w["session"] for w in held["water"]) == sorted(s["id"] for s in sessions)
    assert [w["water_administered"] for w in held["water"]] == [0.8, 0.8]


def test_a_session_across_midnight_keeps_its_start_date(world, alyx, tmp_path):
    start = day(2).replace(hour=23, minute=50)
    path = record(world["project"], "bob_mouse_2", start, minutes=50)
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        queue(world["project"], outbox, [path])
        assert len(flush(outbox, alyx).sent) == 1
    (session,) = on_alyx(alyx, "bob_mouse_2", start)["sessions"]
    assert session["name"] == "bob_mouse_2/2021-01-03/001"
    assert alyx.get(session["url"])["end_time"].startswith("2021-01-04T00:40")


def test_an_unknown_location_registers_without_it_and_tells_once(world, alyx, tmp_path):
    start = day(3)
    paths = [
        record(world["project"], "bob_mouse_3", start, setup="rig_nobody_made"),
        record(world["project"], "bob_mouse_3", start.replace(hour=13), setup="rig_nobody_made"),
    ]
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        queue(world["project"], outbox, paths[:1])
        report = flush(outbox, alyx)
        assert len(report.sent) == 1
        (notice,) = report.notices
        assert "no location 'rig_nobody_made'" in notice and "ALYX_PLUGIN_LOCATIONS" in notice
        queue(world["project"], outbox, paths[1:])
        report = flush(outbox, alyx)
        assert len(report.sent) == 1 and report.notices == []
    for session in on_alyx(alyx, "bob_mouse_3", start)["sessions"]:
        detail = alyx.get(session["url"])
        assert detail["location"] is None
        assert detail["json"]["pybpod_location"] == "rig_nobody_made"


def test_an_unknown_user_needs_attention_with_the_servers_words(world, alyx, tmp_path):
    start = day(4)
    creator = ("nobody_here", "00000000-0000-4000-8000-000000000bad", "local")
    path = record(world["project"], "bob_mouse_4", start, creator=creator)
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        queue(world["project"], outbox, [path])
        report = flush(outbox, alyx)
        assert report.sent == [] and len(report.attention) == 1
        (item,) = outbox.items(ATTENTION)
        assert "username=nobody_here does not exist" in item.last_error
        assert "Create this user in Alyx" in item.fix
        # Kept until a person acts: another flush does not drop or resend it.
        assert flush(outbox, alyx).attention == []
        assert outbox.items(ATTENTION)[0].id == item.id
    assert on_alyx(alyx, "bob_mouse_4", start) == {"sessions": [], "weighings": [], "water": []}


def test_a_subject_synced_from_another_alyx_is_never_registered_here(world, alyx, tmp_path):
    start = day(5)
    path = record(world["project"], "bob_mouse_5", start)
    subjects = {
        uuid4: dataclasses.replace(s, server="https://alyx.other-lab.org")
        for uuid4, s in alyx_subjects(open_project(world["project"])).items()
    }
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        queue(world["project"], outbox, [path], subjects)
        report = flush(outbox, alyx)
        (item,) = outbox.items(ATTENTION)
    assert report.sent == []
    assert "https://alyx.other-lab.org" in item.last_error
    assert world["server"].base_url in item.last_error
    assert on_alyx(alyx, "bob_mouse_5", start)["sessions"] == []


def test_the_sync_records_the_server_each_subject_came_from(world):
    project = open_project(world["project"])
    recorded = {s.nickname: s.server for s in alyx_subjects(project).values()}
    assert set(recorded) >= set(BOB_MICE)
    assert set(recorded.values()) == {world["server"].base_url}


def test_a_location_of_another_lab_is_never_given_to_a_session(world, alyx, tmp_path):
    # The setup's location exists, in cortexlab; carol's mouse is hoferlab's.
    carol = synced_subjects(alyx, nickname="carol_mouse_1")["carol_mouse_1"]
    start = datetime.datetime(2021, 4, 20, 9, 0)
    payload = session_payload(carol, start, setup=KNOWN_LOCATION, options=LONDON)
    try:
        with Outbox(tmp_path / "outbox.sqlite") as outbox:
            queue_payload(outbox, carol, payload)
            report = flush(outbox, alyx)
        assert len(report.sent) == 1
        (notice,) = report.notices
        assert f"'{KNOWN_LOCATION}' only in lab cortexlab, not in hoferlab" in notice
        (session,) = held_on(alyx, "carol_mouse_1", start.date())["sessions"]
        assert session["location"] is None
        assert session["json"]["pybpod_location"] == KNOWN_LOCATION
    finally:
        registering.delete_registered(
            world["layout"], ["carol_mouse_1"], "2021-04-20", "2021-04-20", []
        )


# -- outage, lost answers, two processes, kills ------------------------------------------------


@pytest.mark.serial  # it stops the shared server
def test_sessions_queued_while_alyx_is_down_reach_it_exactly_once_after(world, alyx, tmp_path):
    start = day(6)
    paths = [
        record(world["project"], mouse, start + datetime.timedelta(minutes=n))
        for n, mouse in enumerate(["bob_mouse_1", "bob_mouse_1", *BOB_MICE[1:4]])
    ]
    alyx.login()
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        registering.stop_serving(world["layout"])
        try:
            assert queue(world["project"], outbox, paths) == 5
            report = flush(outbox, alyx, rng=random.Random(7))
            assert report.sent == [] and report.stopped
            assert "Alyx" in report.stopped or "connect" in report.stopped.lower()
            assert outbox.counts()[PENDING] == 5
            assert outbox.next_try() > time.time() + 2  # backoff: at least 2.5 s
            again = flush(outbox, alyx)  # not due yet: the server is not hammered
            assert again.sent == [] and "next try" in again.stopped
        finally:
            registering.serve_again(world["layout"])
        report = flush(outbox, alyx, due_only=False)
        assert len(report.sent) == 5 and outbox.counts()[SENT] == 5
    held = [on_alyx(alyx, mouse, start) for mouse in BOB_MICE[:4]]
    assert sum(len(h["sessions"]) for h in held) == 5
    assert sum(len(h["weighings"]) for h in held) == 5
    assert sum(len(h["water"]) for h in held) == 5


def test_a_lost_answer_never_creates_a_second_record(world, alyx, tmp_path):
    base = world["server"].base_url
    with DroppingProxy(base) as proxy:
        project = sync_bob_project(tmp_path / "proj", proxy.base_url)
        start = day(7)
        path = record(project, "bob_mouse_1", start)
        proxy.drops = [
            ("POST", "/api/sessions"),
            ("POST", "/api/weighings"),
            ("POST", "/api/water-administrations"),
        ]
        with Outbox(tmp_path / "outbox.sqlite") as outbox, AlyxClient(
            proxy.base_url, username="bob", password=world["server"].users["bob"]
        ) as via_proxy:  # fmt: skip
            queue(project, outbox, [path])
            for _ in range(4):
                flush(outbox, via_proxy, due_only=False)
            assert outbox.counts()[SENT] == 1
        assert len(proxy.dropped) == 3
    held = on_alyx(alyx, "bob_mouse_1", start)
    assert (len(held["sessions"]), len(held["weighings"]), len(held["water"])) == (1, 1, 1)


def flusher(outbox: Path, alyx: AlyxClient, kill_at: str | None = None) -> subprocess.Popen:
    """A flush in another process; ``kill_at`` (``request:K``, ``response:K``) kills it there."""
    args = [sys.executable, str(FLUSHER), str(outbox), alyx.address, "bob"]
    if kill_at is not None:
        args.append(kill_at)
    env = dict(os.environ, ALYX_TOKEN=alyx.token)
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def sent_by(process: subprocess.Popen) -> int:
    """How many items a flusher sent; if it failed, a failure that shows its own errors."""
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0 and out.strip().isdigit(), (
        f"the flusher exited {process.returncode} and printed {out!r}; its error output:\n"
        + err.decode(errors="replace")
    )
    return int(out)


def test_two_processes_flushing_one_outbox_send_each_item_once(world, alyx, tmp_path):
    start = day(8)
    paths = [
        record(world["project"], mouse, start + datetime.timedelta(minutes=n, seconds=i))
        for n in range(2)
        for i, mouse in enumerate(BOB_MICE[:4])
    ]
    alyx.login()
    path = tmp_path / "outbox.sqlite"
    with Outbox(path) as outbox:
        assert queue(world["project"], outbox, paths) == 8
    processes = [flusher(path, alyx), flusher(path, alyx)]
    sent = [sent_by(process) for process in processes]
    with Outbox(path) as outbox:  # a busy server may leave items for a later flush
        late = flush(outbox, alyx, due_only=False).sent
        assert outbox.counts()[SENT] == 8
    assert sum(sent) > 0 and sum(sent) + len(late) == 8
    held = [on_alyx(alyx, mouse, start) for mouse in BOB_MICE[:4]]
    assert [len(h["sessions"]) for h in held] == [2, 2, 2, 2]
    assert [len(h["weighings"]) for h in held] == [2, 2, 2, 2]
    assert [len(h["water"]) for h in held] == [2, 2, 2, 2]


def test_killed_during_flushes_at_random_points_nothing_is_lost_or_doubled(world, alyx, tmp_path):
    tries = 30
    rng = random.Random(20210109)
    start = day(9)
    alyx.login()
    path = tmp_path / "outbox.sqlite"
    queued = []
    killed = 0
    subjects = alyx_subjects(open_project(world["project"]))
    for n in range(tries):
        mouse = BOB_MICE[n % len(BOB_MICE)]
        when = start + datetime.timedelta(minutes=n)
        queued.append((mouse, when))
        with Outbox(path) as outbox:
            queue(world["project"], outbox, [record(world["project"], mouse, when)], subjects)
        # A one-item flush makes at least 6 requests: the locations, the subject's sessions,
        # the session, its day again (numbers), the weighing, the water.
        point = f"{rng.choice(['request', 'response'])}:{rng.randint(1, 6)}"
        process = flusher(path, alyx, kill_at=point)
        process.communicate(timeout=120)
        killed += process.returncode == -signal.SIGKILL
    with Outbox(path) as outbox:
        flush(outbox, alyx, due_only=False)
        assert outbox.counts()[SENT] == tries
    assert killed == tries, f"only {killed} of {tries} flushes were killed inside the flush"
    for mouse in BOB_MICE:
        held = on_alyx(alyx, mouse, start)
        expected = sorted(w.strftime("%H:%M") for m, w in queued if m == mouse)
        starts = sorted(s["start_time"][11:16] for s in held["sessions"])
        assert starts == expected, mouse
        assert len(held["weighings"]) == len(expected)
        assert sorted(w["session"] for w in held["water"]) == sorted(
            s["id"] for s in held["sessions"]
        )


def test_a_backlog_over_several_days_reads_each_subjects_sessions_once(world, alyx, tmp_path):
    starts = [day(10), day(11), day(11) + datetime.timedelta(hours=3), day(12)]
    paths = [record(world["project"], "bob_mouse_2", start) for start in starts]
    with Outbox(tmp_path / "earlier.sqlite") as outbox:  # one was registered before
        queue(world["project"], outbox, paths[1:2])
        assert len(flush(outbox, alyx).sent) == 1
    searches = []
    alyx.session.hooks["response"].append(
        lambda r, *a, **k: searches.append(r.url) if "/sessions?" in r.url else None
    )
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        queue(world["project"], outbox, paths)
        assert len(flush(outbox, alyx, workers=1).sent) == 4
    # One read of the three days; then, once the sessions are created, the three days once
    # again: every day found numbered in order, their numbers are settled.
    assert [search.split("date_range=")[1][:23] for search in searches] == [
        "2021-01-11%2C2021-01-13",
        "2021-01-11%2C2021-01-13",
    ]
    held = [on_alyx(alyx, "bob_mouse_2", start) for start in starts]
    assert [sorted(s["number"] for s in h["sessions"]) for h in held] == [[1], [1, 2], [1, 2], [1]]
    assert [len(h["water"]) for h in held] == [1, 2, 2, 1]
