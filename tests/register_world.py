"""What the register tests share: bob's project synced from the real Alyx, sessions, read-back.

Everything the tests create is dated ``YEAR`` (or today, for a weighing made now) and is
deleted when the ``world`` fixture ends, with the locations it made, so the shared server
is left as it was found. A test file's days are its own (:func:`day`): files run at the
same time in other processes never see theirs deleted.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alyxserver import registering
from alyxserver.layout import Layout
from pybpod_projects import add_setup
from register_sessions import write_session

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.cli.main import main
from pybpod_alyx_module.register import (
    ATTENTION,
    PENDING,
    SENT,
    Outbox,
    RegisterOptions,
    alyx_subjects,
    flush,
    prepare_sessions,
)
from pybpod_alyx_module.register.records import AlyxSubject
from pybpod_alyx_module.sync.project_files import open_project
from pybpod_alyx_module.sync.subjects import server_origin

FLUSHER = Path(__file__).with_name("register_flusher.py")
BOB_MICE = ["bob_mouse_1", "bob_mouse_2", "bob_mouse_3", "bob_mouse_4", "bob_mouse_5"]
KNOWN_LOCATION = "reg_test_rig"
YEAR = 2021
BOB = ("bob", "00000000-0000-4000-8000-00000000b0b0", "ALYX")
VALUES = {"alyx_weight_g": 23.5, "alyx_water_ml": 0.8, "alyx_n_correct_trials": 2}
#: The rigs of these tests keep London time, as the server does (whatever this computer's zone).
LONDON = RegisterOptions(rig_time_zone="Europe/London", server_time_zone="Europe/London")


SETUPS = (KNOWN_LOCATION, "rig_nobody_made")


def sync_bob_project(folder: Path, address: str) -> Path:
    """A project holding bob's Alyx subjects, synced by the plugin's own command, with setups."""
    code = main(["sync", str(folder), "--address", address, "--username", "bob", "--create"])
    assert code in (0, 5), code  # 5: the subject '..' is left out (not a folder name)
    project = open_project(folder)
    for setup in SETUPS:
        add_setup(project, "exp", setup, BOB_MICE)
    project.save(str(folder))
    return folder


@pytest.fixture(scope="module")
def world(alyx_server, tmp_path_factory):
    """bob's project synced from the server, a known location; everything removed at the end."""
    home = tmp_path_factory.mktemp("home")
    layout = Layout()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setenv("ALYX_PASSWORD", alyx_server.users["bob"])
        patch.chdir(home)
        registering.create_locations(layout, [(KNOWN_LOCATION, "cortexlab")])
        project = sync_bob_project(tmp_path_factory.mktemp("p") / "proj", alyx_server.base_url)
        try:
            yield {"server": alyx_server, "layout": layout, "project": project}
        finally:
            # The days this process's tests used (other files, maybe running at the same
            # time in another process, use days of their own), and today (`pybpod-alyx
            # weigh` weighs now).
            today = datetime.date.today().isoformat()
            spans = [(today, today)]
            if _DAYS_USED:
                spans.append((min(_DAYS_USED).isoformat(), max(_DAYS_USED).isoformat()))
            for first, last in spans:
                registering.delete_registered(layout, BOB_MICE, first, last, [KNOWN_LOCATION])


@pytest.fixture(scope="module", name="alyx")
def bob_logged_in(alyx_server):
    """bob's client, logged in once per module, for tests that need no project (``world``).

    A test module takes it with ``from register_world import bob_logged_in``; its fixture
    name is ``alyx``, like the ``world`` modules' own.
    """
    with AlyxClient(
        alyx_server.base_url, username="bob", password=alyx_server.users["bob"]
    ) as client:
        client.login()
        yield client


@pytest.fixture
def alyx(world):
    with AlyxClient(
        world["server"].base_url, username="bob", password=world["server"].users["bob"]
    ) as client:
        yield client


_DAYS_USED: set[datetime.date] = set()


def day(n: int) -> datetime.datetime:
    """Each test works on days of its own (9:00 on the n-th day after 1 January)."""
    moment = datetime.datetime(YEAR, 1, 1, 9, 0) + datetime.timedelta(days=n)
    _DAYS_USED.add(moment.date())
    return moment


def setup_folder(project: Path, setup: str) -> Path:
    return project / "experiments" / "exp" / "setups" / setup


def record(project: Path, mouse: str, start: datetime.datetime, setup: str = KNOWN_LOCATION,
           creator=BOB, minutes: int = 40, values=VALUES) -> Path:  # fmt: skip
    """Write one session of ``mouse`` as a PyBpod run does."""
    return write_session(
        setup_folder(project, setup),
        [project_subjects(project)[mouse]],
        start,
        start + datetime.timedelta(minutes=minutes),
        creator=creator,
        values=values,
        setup=setup,
    )


_SUBJECTS: dict[Path, dict] = {}


def project_subjects(project: Path) -> dict[str, tuple[str, str]]:
    """PyBpod name -> (name, uuid4) of a project's subjects (read once per project)."""
    if project not in _SUBJECTS:
        _SUBJECTS[project] = {
            s.name: (s.name, str(s.uuid4)) for s in open_project(project).subjects
        }
    return _SUBJECTS[project]


def queue(project: Path, outbox: Outbox, files, subjects=None) -> int:
    """Queue these sessions; returns how many were new."""
    if subjects is None:
        subjects = alyx_subjects(open_project(project))
    prepared = prepare_sessions(files, subjects, LONDON, project)
    assert prepared.problems == [], prepared.problems
    return sum(outbox.add(r.key, r.label, r.payload) for r in prepared.registrations)


def on_alyx(alyx: AlyxClient, mouse: str, when: datetime.datetime) -> dict[str, list]:
    """What Alyx holds for ``mouse`` on the day of ``when``: sessions, weighings, water."""
    date = when.date().isoformat()
    return {
        "sessions": list(alyx.list("sessions", subject=mouse, date_range=f"{date},{date}")),
        "weighings": [
            w for w in alyx.list("weighings", nickname=mouse) if w["date_time"].startswith(date)
        ],
        "water": [
            w
            for w in alyx.list("water-administrations", nickname=mouse)
            if w["date_time"].startswith(date)
        ],
    }


# -- rigs without a project: many processes, each with its own outbox ------------------------


def synced_subjects(alyx: AlyxClient, **filters) -> dict[str, AlyxSubject]:
    """Alyx subjects as a sync of ``alyx`` records them, by nickname (no project needed)."""
    server = server_origin(alyx.api_root)
    return {
        s["nickname"]: AlyxSubject(
            s["id"],
            s["nickname"],
            s["id"],
            s["nickname"],
            s["lab"],
            tuple(s.get("projects") or ()),
            s["url"],
            server,
        )
        for s in alyx.subjects(**filters)
    }


def rig_process(outbox: Path, alyx: AlyxClient) -> subprocess.Popen:
    """A flush of ``outbox`` in a process of its own, reporting what it sent and requested."""
    env = dict(os.environ, ALYX_TOKEN=alyx.token, REGISTER_FLUSHER_REPORT="1")
    return subprocess.Popen(
        [sys.executable, str(FLUSHER), str(outbox), alyx.address, alyx.username],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def rig_report(process: subprocess.Popen, timeout: float = 300) -> dict:
    """What a rig process sent and the times of its requests; its errors if it failed."""
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err.decode(errors="replace")[-3000:]
    return json.loads(out)


def finish_outboxes(paths: list[Path], alyx: AlyxClient, flushes: int = 3) -> None:
    """Send what the rigs left (a busy server's postponed items): at most ``flushes`` each."""
    for path in paths:
        with Outbox(path) as outbox:
            for _ in range(flushes):
                if not outbox.counts()[PENDING]:
                    break
                flush(outbox, alyx, due_only=False)
            counts = outbox.counts()
            assert counts[SENT] == sum(counts.values()), (path, outbox.items(PENDING, ATTENTION))


def held_on(alyx: AlyxClient, nickname: str, date: datetime.date) -> dict[str, list]:
    """Our sessions (full records) and the weighings and water of ``nickname`` on ``date``."""
    sessions = [
        alyx.get(f"sessions/{s['id']}")
        for s in alyx.list("sessions", subject=nickname, date_range=f"{date},{date}")
        if s["subject"] == nickname
    ]
    day = date.isoformat()
    return {
        "sessions": sessions,
        "weighings": [
            w
            for w in alyx.list("weighings", nickname=nickname, django=f"date_time__date,{day}")
            if w["subject"].split("__")[-1] == nickname
        ],
        "water": [
            w
            for w in alyx.list(
                "water-administrations", nickname=nickname, django=f"date_time__date,{day}"
            )
            if w["subject"].split("__")[-1] == nickname
        ],
    }


def held_over(alyx: AlyxClient, nickname: str, first: datetime.date, last: datetime.date) -> dict:
    """The sessions (list entries), weighings and water of ``nickname`` from ``first`` to ``last``.

    Three requests, whatever the number of records: a load test checks hundreds.
    """
    days = f"date_time__date__gte,{first},date_time__date__lte,{last}"
    exact = {
        "weighings": [
            w
            for w in alyx.list("weighings", nickname=nickname, django=days)
            if w["subject"].split("__")[-1] == nickname
        ],
        "water": [
            w
            for w in alyx.list("water-administrations", nickname=nickname, django=days)
            if w["subject"].split("__")[-1] == nickname
        ],
    }
    sessions = alyx.list("sessions", subject=nickname, date_range=f"{first},{last}")
    return {"sessions": [s for s in sessions if s["subject"] == nickname], **exact}


def numbered_in_start_order(sessions: list[dict]) -> bool:
    """True if a day's sessions are numbered 1..n in order of start (then id)."""
    ordered = sorted(sessions, key=lambda s: (s["start_time"], s["id"]))
    return [s["number"] for s in ordered] == list(range(1, len(ordered) + 1))
