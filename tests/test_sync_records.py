"""Hostile Alyx records are refused with a reason at the edge; the others sync, no traceback.

Hand-made records on an in-memory ``pybpodgui_api`` Project (no server): what a server
that answers badly could send (types, ids, duplicates, names one folder apart on
Windows and macOS, oversized fields).
"""

from __future__ import annotations

import unicodedata

import pytest
from pybpodgui_api.models.project import Project
from test_sync_plan import alyx_subject, local_subject, record

from pybpod_alyx_module.sync import OverridePolicy, apply_plan, plan_subjects
from pybpod_alyx_module.sync.names import folded_name
from pybpod_alyx_module.sync.records import MAX_FIELD_BYTES, record_problem


@pytest.fixture
def project():
    project = Project()
    project.name = "proj"
    return project


def refused(plan) -> dict[str, str]:
    return {p.nickname: p.reason for p in plan.refused}


BAD_RECORDS = {
    "nickname-int": (dict(record("x"), nickname=17), "nickname is not text (int)"),
    "nickname-list": (dict(record("x"), nickname=["a", "b"]), "nickname is not text (list)"),
    "nickname-null": (dict(record("x"), nickname=None), "nickname is not text (NoneType)"),
    "no-id": ({k: v for k, v in record("x").items() if k != "id"}, "it has no id"),
    "id-path": (dict(record("x"), id="../../not-a-uuid"), "is not a UUID"),
    "id-int": (dict(record("x"), id=12), "is not a UUID"),
    "id-braces": (dict(record("x"), id="{" + record("x")["id"] + "}"), "is not a UUID"),
    "lab-dict": (dict(record("x"), lab={"name": "cortexlab"}), "its lab is not text (dict)"),
    "not-a-dict": (["nickname", "x"], "where a subject record belongs"),
}


@pytest.mark.parametrize("name", BAD_RECORDS)
def test_a_malformed_record_is_refused_with_a_reason_and_the_others_sync(project, name):
    bad, reason = BAD_RECORDS[name]
    plan = plan_subjects(project, [record("fine_1"), bad, record("fine_2")])
    assert [a.name for a in plan.to_add] == ["fine_1", "fine_2"]
    assert len(plan.refused) == 1 and reason in plan.refused[0].reason
    result = apply_plan(project, plan, OverridePolicy("yes"))
    assert sorted(s.name for s in project.subjects) == ["fine_1", "fine_2"]
    assert not any("not-a-uuid" in str(s.data.get("alyx_id")) for s in project.subjects)
    assert result.counts()["refused"] == 1


def test_a_refused_record_is_described_briefly_even_when_huge(project):
    plan = plan_subjects(project, [dict(record("x"), nickname=["y" * 10_000])])
    (problem,) = plan.refused
    assert len(problem.nickname) <= 60 and problem.nickname.startswith("['yyy")
    assert problem.alyx_id == record("x")["id"]


def test_a_record_without_an_id_never_matches_a_local_subject(project):
    alyx_subject(project, record("SW_001"))
    plan = plan_subjects(project, [{"nickname": "SW_001", "alive": False}])
    assert not plan.to_remove and not plan.to_update and len(plan.refused) == 1


def test_the_same_id_twice_is_refused_never_two_subjects_with_one_alyx_id(project):
    first = record("SW_001")
    again = dict(first, nickname="SW_001_renamed")
    plan = plan_subjects(project, [first, record("SW_002"), again])
    assert [a.name for a in plan.to_add] == ["SW_002"]
    assert sorted(refused(plan)) == ["SW_001", "SW_001_renamed"]
    assert all("listed its id 2 times" in r for r in refused(plan).values())


def test_the_same_id_twice_does_not_flip_the_name_of_a_local_subject(project):
    entry = record("SW_001")
    subject = alyx_subject(project, entry)
    plan = plan_subjects(project, [dict(entry, nickname="other"), entry])
    assert not plan.to_update and not plan.to_add and len(plan.refused) == 2
    apply_plan(project, plan, OverridePolicy("yes"))
    assert subject.name == "SW_001" and subject.data["nickname"] == "SW_001"


def test_the_same_id_in_upper_case_counts_as_the_same_id(project):
    entry = record("SW_001")
    plan = plan_subjects(project, [entry, dict(entry, id=entry["id"].upper(), nickname="b")])
    assert not plan.to_add and len(plan.refused) == 2


def test_an_oversized_field_refuses_the_subject_and_says_how_big(project):
    huge = dict(record("bloated"), description="x" * 50_000_000)
    plan = plan_subjects(project, [huge, record("fine")])
    assert [a.name for a in plan.to_add] == ["fine"]
    reason = refused(plan)["bloated"]
    assert "'description' holds 50.0 MB" in reason and "1 MB" in reason


def test_a_field_at_the_cap_is_kept(project):
    at_cap = dict(record("big"), description="x" * MAX_FIELD_BYTES)
    assert record_problem(at_cap) is None
    assert record_problem(dict(at_cap, description="x" * (MAX_FIELD_BYTES + 1)))


def test_a_long_list_field_is_measured_too(project):
    weighings = [{"date_time": "2026-01-01T10:00:00", "weight": 21.5}] * 40_000
    assert "'weighings' holds" in record_problem(dict(record("w"), weighings=weighings))


# -- names that are one folder on Windows and macOS -------------------------------------------

NFC = unicodedata.normalize("NFC", "souris_é")
NFD = unicodedata.normalize("NFD", "souris_é")


def test_nfc_and_nfd_differ_but_fold_alike():
    assert NFC != NFD and folded_name(NFC) == folded_name(NFD)
    assert folded_name("Mouse") == folded_name("MOUSE") == folded_name("mouse")


@pytest.mark.parametrize(("one", "other"), [("Mouse", "mouse"), (NFC, NFD)], ids=["case", "nfd"])
def test_names_one_folder_apart_arriving_together_are_twins(project, one, other):
    plan = plan_subjects(project, [record(one), record(other, "hoferlab")])
    names = {a.fields["lab"]: a.name for a in plan.to_add}
    assert len({folded_name(n) for n in names.values()}) == 2
    assert names in ({"cortexlab": one, "hoferlab": f"hoferlab__{other}"},
                     {"cortexlab": f"cortexlab__{one}", "hoferlab": other})  # fmt: skip


@pytest.mark.parametrize(("one", "other"), [("Mouse", "mouse"), (NFC, NFD)], ids=["case", "nfd"])
def test_names_one_folder_apart_in_one_lab_are_twins_too(project, one, other):
    plan = plan_subjects(project, [record(one), record(other)])
    names = [a.name for a in plan.to_add]
    assert len(names) == 2 and len({folded_name(n) for n in names}) == 2


@pytest.mark.parametrize(("local", "alyx"), [("mouse", "Mouse"), (NFD, NFC)], ids=["case", "nfd"])
def test_a_local_non_alyx_subject_one_folder_apart_is_a_conflict(project, local, alyx):
    local_subject(project, local)
    plan = plan_subjects(project, [record(alyx)])
    assert not plan.to_add
    (conflict,) = plan.conflicts
    assert f"'{local}'" in conflict.reason and "one folder on Windows and macOS" in conflict.reason


def test_a_local_alyx_subject_one_folder_apart_makes_the_new_one_a_twin(project):
    alyx_subject(project, record("Mouse"))
    plan = plan_subjects(project, [record("Mouse"), record("mouse", "hoferlab")])
    assert [a.name for a in plan.to_add] == ["hoferlab__mouse"]


def test_a_twin_name_one_folder_apart_from_a_local_subject_is_a_conflict(project):
    alyx_subject(project, record("mouse"))
    local_subject(project, "HOFERLAB__MOUSE")
    plan = plan_subjects(project, [record("Mouse", "hoferlab")])
    assert not plan.to_add and len(plan.conflicts) == 1
