"""What the register tests share: bob's project synced from the real Alyx, sessions, read-back.

Everything the tests create is dated ``YEAR`` (or today, for a weighing made now) and is
deleted when the ``world`` fixture ends, with the locations it made, so the shared server
is left as it was found.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from alyxserver import registering
from alyxserver.layout import Layout
from pybpod_projects import add_setup
from register_sessions import write_session

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.cli.main import main
from pybpod_alyx_module.register import Outbox, RegisterOptions, alyx_subjects, prepare_sessions
from pybpod_alyx_module.sync.project_files import open_project

FLUSHER = Path(__file__).with_name("register_flusher.py")
BOB_MICE = ["bob_mouse_1", "bob_mouse_2", "bob_mouse_3", "bob_mouse_4", "bob_mouse_5"]
KNOWN_LOCATION = "reg_test_rig"
YEAR = 2031
BOB = ("bob", "00000000-0000-4000-8000-00000000b0b0", "ALYX")
VALUES = {"alyx_weight_g": 23.5, "alyx_water_ml": 0.8, "alyx_n_correct_trials": 2}


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
            # From today: `pybpod-alyx weigh` weighs now.
            today = datetime.date.today().isoformat()
            registering.delete_registered(
                layout, BOB_MICE, today, f"{YEAR}-12-31", [KNOWN_LOCATION]
            )


@pytest.fixture
def alyx(world):
    with AlyxClient(
        world["server"].base_url, username="bob", password=world["server"].users["bob"]
    ) as client:
        yield client


def day(n: int) -> datetime.datetime:
    """Each test works on days of its own."""
    return datetime.datetime(YEAR, 1, 1, 9, 0) + datetime.timedelta(days=n)


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
    prepared = prepare_sessions(files, subjects, RegisterOptions(), project)
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
