"""Headless paths read a project without PyBpod's session loader.

Registration reads the subject documents on its own (a broken one is named, the others
register) and lists session files without following links; the headless sync opens
projects with PyBpod's models but never opens a session file, and PyBpod's own save
still keeps every session folder.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pybpod_projects import add_setup
from register_sessions import write_session

from pybpod_alyx_module.pybpod_internals.headless_project import UnreadSession
from pybpod_alyx_module.register import (
    RegisterOptions,
    alyx_subjects,
    prepare_sessions,
    read_project,
    session_files,
)
from pybpod_alyx_module.sync.errors import ProjectError
from pybpod_alyx_module.sync.project_files import open_project
from pybpod_alyx_module.sync.subjects import new_subject_document

T0 = datetime.datetime(2024, 3, 4, 10, 0)
T1 = datetime.datetime(2024, 3, 4, 10, 40)
needs_links = pytest.mark.skipif(os.name == "nt", reason="links need privileges on Windows")


def alyx_fields(nickname: str, alyx_id: str) -> dict:
    return {
        "nickname": nickname,
        "url": f"http://alyx.lab:8000/api/subjects/cortexlab__{nickname}",
        "alyx_id": alyx_id,
        "lab": "cortexlab",
        "projects": ["ibl_behaviour"],
        "alyx_server": "http://alyx.lab:8000",
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A saved project: Alyx subjects M1 and M2, the local lab_pet, a setup rig1 of all three."""
    folder = tmp_path / "proj"
    proj = open_project(folder, create=True)
    for n, name in enumerate(("M1", "M2"), start=1):
        subject = proj.create_subject()
        subject.name = name
        subject.data = new_subject_document(subject, alyx_fields(name, f"{n}" * 8 + "-0000-4000-8000-000000000000"))  # fmt: skip
    proj.create_subject().name = "lab_pet"
    proj.save(str(folder))
    proj = open_project(folder)
    add_setup(proj, "exp", "rig1", ["M1", "M2", "lab_pet"])
    proj.save(str(folder))
    return folder


def setup_folder(project: Path) -> Path:
    return project / "experiments" / "exp" / "setups" / "rig1"


def uuid4_of(project: Path, name: str) -> str:
    document = json.loads((project / "subjects" / name / f"{name}.json").read_text())
    return document["__UUID4__"]


def record(project: Path, name: str, start: datetime.datetime = T0) -> Path:
    return write_session(setup_folder(project), [(name, uuid4_of(project, name))], start, T1)


def register(project: Path) -> list:
    """What the command line prepares for the project: (registrations' subjects, problems)."""
    on_disk = read_project(project)
    prepared = prepare_sessions(
        session_files(on_disk.path), alyx_subjects(on_disk), RegisterOptions(), on_disk.path
    )
    return [r.payload["subject"]["nickname"] for r in prepared.registrations], prepared.problems


def test_the_alyx_subjects_read_headless_are_those_pybpod_loads(project):
    headless = alyx_subjects(read_project(project))
    assert headless == alyx_subjects(open_project(project))
    assert sorted(s.nickname for s in headless.values()) == ["M1", "M2"]
    assert read_project(project).problems == []


def test_a_folder_that_is_not_a_project_is_a_project_error(tmp_path):
    with pytest.raises(ProjectError, match="There is no PyBpod project"):
        read_project(tmp_path / "nothing")
    (tmp_path / "other" / "stuff").mkdir(parents=True)
    with pytest.raises(ProjectError, match=r"has no other\.json"):
        read_project(tmp_path / "other")


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"\xff\xfe not utf-8", "is not UTF-8 text"),
        (b'{"__UUID4__": "x", "alyx_id": ', "is not valid JSON"),
        (b'{"alyx_id": "1"}', "has no __UUID4__"),
        (b"[" * 100_000, "is not valid JSON"),
    ],
    ids=["not utf-8", "cut short", "no uuid4", "deeply nested"],
)
def test_a_broken_subject_document_is_named_and_the_others_register(project, content, said):
    record(project, "M1")
    record(project, "M2", T0 + datetime.timedelta(minutes=1))
    (project / "subjects" / "M2" / "M2.json").write_bytes(content)
    on_disk = read_project(project)
    assert [s.name for s in on_disk.subjects] == ["M1", "lab_pet"]
    assert len(on_disk.problems) == 1 and "subjects/M2/M2.json" in on_disk.problems[0]
    assert said in on_disk.problems[0]
    sent, problems = register(project)
    assert sent == ["M1"] and "is an Alyx subject" in problems[0].reason


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], derandomize=True)  # fmt: skip
@given(st.binary(max_size=2000))
def test_any_bytes_as_a_subject_document_are_read_or_named(project, content):
    (project / "subjects" / "M2" / "M2.json").write_bytes(content)
    on_disk = read_project(project)
    names = [s.name for s in on_disk.subjects]
    assert "M1" in names
    assert ("M2" in names) != any("subjects/M2/M2.json" in p for p in on_disk.problems)


@needs_links
def test_links_are_listed_refused_and_named_never_followed(project, tmp_path):
    outside = tmp_path / "outside"
    elsewhere = write_session(
        outside / "setups" / "rig9", [("M1", uuid4_of(project, "M1"))], T0, T1
    )
    sessions = setup_folder(project) / "sessions"
    sessions.mkdir()
    (sessions / "20240304-110000").symlink_to(elsewhere.parent)
    linked_file = sessions / "20240304-120000" / "20240304-120000.csv"
    linked_file.parent.mkdir()
    linked_file.symlink_to(elsewhere)
    (project / "experiments" / "linked_exp").symlink_to(outside, target_is_directory=True)
    record(project, "M2")
    sent, problems = register(project)
    assert sent == ["M2"]
    assert len(problems) == 3 and all("link" in p.reason for p in problems)


@needs_links
def test_a_linked_subject_folder_is_not_followed(project, tmp_path):
    planted = tmp_path / "planted"
    (project / "subjects" / "M2").rename(planted)
    (project / "subjects" / "M2").symlink_to(planted, target_is_directory=True)
    on_disk = read_project(project)
    assert "M2" not in [s.name for s in on_disk.subjects]
    assert any("subjects/M2 is a link" in p for p in on_disk.problems)


def test_the_headless_sync_never_opens_a_session_file_and_pybpods_save_keeps_them(project):
    marker = project.parent / "pwned"
    path = record(project, "M1")
    attack = f"__import__('pathlib').Path({str(marker)!r}).write_text('x')"
    path.write_bytes(path.read_bytes().replace(b"['M1'", attack.encode() + b"#") + b"\xff\x00")
    opened = open_project(project)  # PyBpod's loader would eval the row, then fail on the bytes
    sessions = opened.experiments[0].setups[0].sessions
    assert [type(s) for s in sessions] == [UnreadSession]
    assert sessions[0].name == path.parent.name and not marker.exists()
    opened.save(str(project))
    assert path.exists(), "PyBpod's save kept the session folder"
    assert not marker.exists()
