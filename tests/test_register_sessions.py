"""Reading PyBpod sessions (written by pybpodapi's own writer) into Alyx registrations."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path

import pytest
from register_sessions import write_session

from pybpod_alyx_module.register import (
    RegisterOptions,
    Registrar,
    alyx_subjects,
    prepare_sessions,
    read_session,
    session_files,
)
from pybpod_alyx_module.register.records import AlyxSubject
from pybpod_alyx_module.sync.fields import local_fields
from pybpod_alyx_module.sync.project_files import open_project
from pybpod_alyx_module.sync.subjects import new_subject_document, stamp_server

T0 = datetime.datetime(2021, 3, 4, 10, 0, 0, 123456)
T1 = datetime.datetime(2021, 3, 4, 10, 45, 0)


def alyx_fields(nickname: str, alyx_id: str, server: str = "http://alyx.lab:8000") -> dict:
    return {
        "nickname": nickname,
        "url": f"{server}/api/subjects/cortexlab__{nickname}",
        "alyx_id": alyx_id,
        "lab": "cortexlab",
        "projects": ["ibl_behaviour"],
        "alyx_server": server,
    }


@pytest.fixture
def project(tmp_path: Path):
    """A saved project with two Alyx subjects, one local subject and a setup folder."""
    folder = tmp_path / "proj"
    proj = open_project(folder, create=True)
    for name, alyx_id in (
        ("M1", "11111111-1111-4111-8111-111111111111"),
        ("M2", "2" * 8 + "-2222-4222-8222-222222222222"),
    ):
        subject = proj.create_subject()
        subject.name = name
        subject.data = new_subject_document(subject, alyx_fields(name, alyx_id))
    local = proj.create_subject()
    local.name = "lab_pet"
    proj.save(str(folder))
    return open_project(folder)


def setup_folder(project) -> Path:
    return Path(project.path) / "experiments" / "exp" / "setups" / "rig1"


def subject(project, name):
    return next(s for s in project.subjects if s.name == name)


def test_a_session_file_reads_back_everything_pybpodapi_wrote(project):
    path = write_session(
        setup_folder(project),
        [subject(project, "M1")],
        T0,
        T1,
        trials=7,
        values={"alyx_water_ml": 0.75, "alyx_narrative": "fine; a | b", "alyx_weight_g": 21.5},
    )
    session = read_session(path.parent)
    assert session.started == T0 and session.ended == T1
    assert session.subjects[0].name == "M1"
    assert session.subjects[0].uuid4 == str(subject(project, "M1").uuid4)
    assert (session.creator.name, session.creator.connection) == ("alice", "ALYX")
    assert (session.setup, session.board, session.protocol) == ("rig1", "box", "training")
    assert session.n_trials == 7
    assert session.values["alyx_narrative"] == "fine; a | b"


def test_each_alyx_subject_gets_a_session_then_weighing_then_water(project):
    write_session(
        setup_folder(project),
        [subject(project, "M1"), subject(project, "M2"), subject(project, "lab_pet")],
        T0,
        T1,
        values={
            **{f"alyx_water_ml:{name}": 0.5 for name in ("M1", "M2", "lab_pet")},
            **{f"alyx_weight_g:{name}": 20.25 for name in ("M1", "M2", "lab_pet")},
            "alyx_n_correct_trials": 2,
        },
    )
    prepared = prepare_sessions(
        session_files(project.path), alyx_subjects(project), RegisterOptions(), project.path
    )
    assert prepared.problems == []
    assert [r.payload["subject"]["nickname"] for r in prepared.registrations] == ["M1", "M2"]
    payload = prepared.registrations[0].payload
    body = payload["session"]
    assert body["start_time"] == "2021-03-04T10:00:00"
    assert body["end_time"] == "2021-03-04T10:45:00"
    assert (body["n_trials"], body["n_correct_trials"]) == (3, 2)
    assert body["users"] == ["alice"] and body["type"] == "Experiment"
    assert body["procedures"] == ["Behavior training/tasks"]
    assert body["projects"] == ["ibl_behaviour"] and body["lab"] == "cortexlab"
    assert body["json"]["pybpod_setup"] == "rig1" and body["json"]["pybpod_board"] == "box"
    assert payload["weighing"] == {
        "subject": "cortexlab__M1",
        "weight": 20.25,
        "date_time": "2021-03-04T10:00:00",
        "user": "alice",
    }
    assert payload["water"]["subject"] == "cortexlab__M1"
    assert payload["water"]["water_administered"] == 0.5
    assert payload["water"]["water_type"] == "Water"
    assert payload["location"] == "rig1"


def test_a_session_across_midnight_keeps_its_start_date(project):
    write_session(
        setup_folder(project),
        [subject(project, "M1")],
        datetime.datetime(2021, 3, 4, 23, 50),
        datetime.datetime(2021, 3, 5, 0, 40),
    )
    prepared = prepare_sessions(
        session_files(project.path), alyx_subjects(project), RegisterOptions(), project.path
    )
    body = prepared.registrations[0].payload["session"]
    assert body["start_time"].startswith("2021-03-04T23:50")
    assert body["end_time"].startswith("2021-03-05T00:40")


def test_sessions_that_never_ended_or_have_no_alyx_subject_are_reported_not_registered(project):
    write_session(setup_folder(project), [subject(project, "M1")], T0, None)
    write_session(setup_folder(project), [subject(project, "lab_pet")], T1, T1)
    # Same name as an Alyx subject but another uuid4: not that subject.
    later = T1 + datetime.timedelta(hours=1)
    write_session(
        setup_folder(project), [("M1", "99999999-9999-4999-8999-999999999999")], later, later
    )
    prepared = prepare_sessions(
        session_files(project.path), alyx_subjects(project), RegisterOptions(), project.path
    )
    assert prepared.registrations == []
    reasons = [p.reason for p in prepared.problems]
    assert "never ended" in reasons[0]
    assert "is an Alyx subject of this project" in reasons[1] and "uuid4" in reasons[1]
    assert "99999999" in reasons[2]


def test_a_labs_own_value_names_map_onto_the_plugins(project):
    write_session(
        setup_folder(project), [subject(project, "M1")], T0, T1, values={"reward_total_ml": 1.2}
    )
    options = RegisterOptions(value_names={"alyx_water_ml": "reward_total_ml"})
    prepared = prepare_sessions(session_files(project.path), alyx_subjects(project), options, None)
    assert prepared.registrations[0].payload["water"]["water_administered"] == 1.2


def test_a_value_that_is_not_a_number_is_reported(project):
    write_session(
        setup_folder(project), [subject(project, "M1")], T0, T1, values={"alyx_weight_g": "heavy"}
    )
    prepared = prepare_sessions(
        session_files(project.path), alyx_subjects(project), RegisterOptions(), None
    )
    assert prepared.registrations == []
    assert "alyx_weight_g must be a number" in prepared.problems[0].reason


def test_the_task_protocol_names_the_task_file_version(project):
    task = Path(project.path) / "tasks" / "training" / "training.py"
    task.parent.mkdir(parents=True)
    task.write_text("print('task')\n")
    write_session(setup_folder(project), [subject(project, "M1")], T0, T1)
    prepared = prepare_sessions(
        session_files(project.path), alyx_subjects(project), RegisterOptions(), project.path
    )
    digest = hashlib.sha256(task.read_bytes()).hexdigest()[:8]
    assert prepared.registrations[0].payload["session"]["task_protocol"] == f"training/{digest}"


def test_weighings_and_water_name_the_subject_as_each_server_layout_does():
    def subject_at(url: str) -> AlyxSubject:
        return AlyxSubject("u", "M1", "id", "M1", "cortexlab", (), url)

    assert subject_at("https://alyx.lab/subjects/M1").record_key == "M1"
    assert subject_at("http://h:8000/api/subjects/cortexlab__M1").record_key == "cortexlab__M1"


def test_a_subject_names_the_server_the_sync_recorded_not_the_one_its_url_claims(project):
    (m1,) = [s for s in alyx_subjects(project).values() if s.name == "M1"]
    assert m1.server == "http://alyx.lab:8000"
    subject(project, "M1").data["url"] = "https://elsewhere.org/api/subjects/cortexlab__M1"
    (m1,) = [s for s in alyx_subjects(project).values() if s.name == "M1"]
    assert m1.server == "http://alyx.lab:8000"
    del subject(project, "M1").data["alyx_server"]
    (m1,) = [s for s in alyx_subjects(project).values() if s.name == "M1"]
    assert m1.server == ""


def test_a_session_that_ends_before_it_starts_is_reported(project):
    write_session(setup_folder(project), [subject(project, "M1")], T1, T0)
    prepared = prepare_sessions(
        session_files(project.path), alyx_subjects(project), RegisterOptions(), None
    )
    assert prepared.registrations == []
    assert "before it starts" in prepared.problems[0].reason


def test_a_dry_run_writes_no_outbox(project, tmp_path):
    write_session(setup_folder(project), [subject(project, "M1")], T0, T1)
    report = Registrar.of(project, RegisterOptions(outbox=str(tmp_path / "o"))).plan(None)
    assert [r.payload["subject"]["nickname"] for r in report.registrations] == ["M1"]
    assert report.queued == 0 and not (tmp_path / "o").exists()
    assert not (Path(project.path) / "alyx_outbox.sqlite").exists()


def test_the_sync_stamps_the_server_it_asked_whatever_a_record_claims():
    records = [
        {"id": "a", "url": "https://elsewhere.org/subjects/M1", "alyx_server": "https://evil.org"},
        {"id": "b"},
        "not a record",
    ]
    stamp_server(records, "HTTP://Alyx.Lab:8000/api")
    assert [r["alyx_server"] for r in records[:2]] == ["http://alyx.lab:8000"] * 2
    assert local_fields(records[1]) == {"alyx_id": "b", "alyx_server": "http://alyx.lab:8000"}
