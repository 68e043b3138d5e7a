"""The registration use case the command line and the GUI share (``register/registrar.py``).

A run's session is read once, whatever the operator typed; a session asked for again is
never queued twice, and the person is told where it is; water typed after a run is an item
of its own, queued once.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from register_sessions import write_session

from pybpod_alyx_module.gui import messages
from pybpod_alyx_module.register import (
    DISCARDED,
    PENDING,
    SENT,
    Outbox,
    RegisterOptions,
    Registrar,
    project_sessions,
)
from pybpod_alyx_module.register.project_sessions import TypedValues
from pybpod_alyx_module.register.values import TaskValues
from pybpod_alyx_module.sync.project_files import open_project
from pybpod_alyx_module.sync.subjects import new_subject_document

T0 = datetime.datetime(2021, 3, 4, 10, 0, 0)
T1 = datetime.datetime(2021, 3, 4, 10, 45, 0)
M1_ID = "11111111-1111-4111-8111-111111111111"


@pytest.fixture
def project(tmp_path: Path):
    """A saved project with one Alyx subject, M1."""
    folder = tmp_path / "proj"
    proj = open_project(folder, create=True)
    subject = proj.create_subject()
    subject.name = "M1"
    subject.data = new_subject_document(
        subject,
        {
            "nickname": "M1",
            "url": "http://alyx.lab:8000/api/subjects/cortexlab__M1",
            "alyx_id": M1_ID,
            "lab": "cortexlab",
            "projects": [],
            "alyx_server": "http://alyx.lab:8000",
        },
    )
    proj.save(str(folder))
    return open_project(folder)


@pytest.fixture
def outbox(tmp_path: Path):
    with Outbox(tmp_path / "o.sqlite") as box:
        yield box


def run_file(project, values: dict | None = None) -> Path:
    m1 = next(s for s in project.subjects if s.name == "M1")
    setup = Path(project.path) / "experiments" / "exp" / "setups" / "rig1"
    return write_session(setup, [m1], T0, T1, values=values)


def uuid4_of(project) -> str:
    return str(next(s for s in project.subjects if s.name == "M1").uuid4)


def test_a_run_is_read_once_and_the_typed_weight_wins_over_the_tasks(project, outbox, monkeypatch):
    path = run_file(project, {"alyx_weight_g": 20.0, "alyx_water_ml": 0.5})
    reads = []
    real = project_sessions.read_session
    monkeypatch.setattr(
        project_sessions, "read_session", lambda *a, **k: reads.append(a[0]) or real(*a, **k)
    )
    registrar = Registrar.of(project, RegisterOptions())
    report = registrar.queue_run(outbox, path, weights_g={uuid4_of(project): 23.4})

    assert reads == [path]
    (item,) = outbox.items()
    assert report.queued == 1 and item.key == report.registrations[0].key
    assert item.payload["weighing"]["weight"] == 23.4
    assert item.payload["water"]["water_administered"] == 0.5


@given(
    task_weight=st.none() | st.floats(1, 100),
    task_water=st.none() | st.floats(0, 5),
    typed_weight=st.none() | st.floats(1, 100),
    typed_water=st.none() | st.floats(0, 5),
)
def test_the_typed_weight_and_the_tasks_water_win(
    task_weight, task_water, typed_weight, typed_water
):
    typed = TypedValues(
        weights_g={} if typed_weight is None else {"u": typed_weight},
        water_ml={} if typed_water is None else {"u": typed_water},
    )
    own = typed.applied("u", TaskValues(weight_g=task_weight, water_ml=task_water, narrative="n"))
    assert own.weight_g == (typed_weight if typed_weight is not None else task_weight)
    assert own.water_ml == (task_water if task_water is not None else typed_water)
    assert own.narrative == "n"
    assert typed.applied("other", TaskValues(weight_g=task_weight)).weight_g == task_weight


def sent(outbox: Outbox, alyx_id: str) -> None:
    """Every pending item sent, as a flush records it."""
    for item in outbox.claim(100, due_only=False):
        outbox.finish(item.id, {"session": {"id": alyx_id, "number": 1, "numbered": True}})


def test_a_session_asked_for_again_once_sent_is_not_queued_and_says_when_and_which(project, outbox):
    path = run_file(project)
    registrar = Registrar.of(project, RegisterOptions())
    registrar.queue_run(outbox, path)
    sent(outbox, "a1b2c3d4-0000-4000-8000-000000000001")

    report = registrar.queue_run(outbox, path, again=True)  # "Register in Alyx", by hand
    assert report.queued == 0 and report.registrations == []
    assert [item.state for item in report.before] == [SENT] == [i.state for i in outbox.items()]
    told = messages.registered_before(report.before)
    assert "sent to Alyx on " in told and "a1b2c3d4-0000-4000-8000-000000000001" in told
    assert told.endswith("Nothing was queued or sent again.")


def test_again_brings_back_a_discarded_session_and_a_runs_end_does_not(project, outbox):
    path = run_file(project)
    registrar = Registrar.of(project, RegisterOptions())
    registrar.queue_run(outbox, path)
    (item,) = outbox.items()
    assert outbox.discard(item.id)

    assert registrar.queue_run(outbox, path).queued == 0  # the run's own end
    assert outbox.get(item.id).state == DISCARDED
    assert registrar.queue_run(outbox, path, again=True).queued == 1  # a person's request
    assert outbox.get(item.id).state == PENDING


def test_water_typed_after_the_run_is_an_item_of_its_own_queued_once(project, outbox):
    path = run_file(project)  # the task reported no water
    registrar = Registrar.of(project, RegisterOptions())
    (session,) = registrar.queue_run(outbox, path).registrations
    assert session.payload["water"] is None

    report = registrar.queue_water(outbox, path, {uuid4_of(project): 0.3})
    (water,) = report.registrations
    assert report.queued == 1 and water.key == f"{session.key}:water"
    assert water.payload["weighing"] is None
    assert water.payload["water"]["water_administered"] == 0.3
    assert water.payload["session"] == session.payload["session"]

    assert registrar.queue_water(outbox, path, {uuid4_of(project): 0.3}).queued == 0
    assert [i.key for i in outbox.items()] == [session.key, water.key]


def test_a_session_that_cannot_be_registered_says_why_and_queues_nothing(project, outbox):
    m1 = next(s for s in project.subjects if s.name == "M1")
    setup = Path(project.path) / "experiments" / "exp" / "setups" / "rig1"
    path = write_session(setup, [m1], T0, None)  # never ended
    report = Registrar.of(project, RegisterOptions()).queue_run(outbox, path, again=True)
    assert report.queued == 0 and "never ended" in report.problems[0].reason
    assert outbox.items() == []
