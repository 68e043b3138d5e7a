"""The core's apply as steps (``iter_apply``), linear decisions, and the PyBpod adapter's headless side.

In-memory ``pybpodgui_api`` projects and hand-made Alyx records: no server, no Qt.
"""

from __future__ import annotations

import gc
import uuid

import pytest
from pybpodgui_api.models.project import Project

from pybpod_alyx_module import pybpod_internals
from pybpod_alyx_module.sync import (
    OverridePolicy,
    SubjectUpdate,
    SyncCancelled,
    SyncPlan,
    apply_plan,
    decide_updates,
    iter_apply,
    plan_subjects,
)
from pybpod_alyx_module.sync.plan import SubjectRemoval
from pybpod_alyx_module.sync.subjects import alyx_id

_IDS = uuid.UUID("0d5b1c2e-0000-4000-8000-000000000000")


def record(nickname: str, dead: bool = False, **extra) -> dict:
    """An Alyx list entry as ``GET /subjects`` answers it (a stable id per nickname)."""
    return {
        "nickname": nickname,
        "id": str(uuid.uuid5(_IDS, nickname)),
        "lab": "cortexlab",
        "responsible_user": "alice",
        "age_weeks": 40,
        "description": f"mouse {nickname}",
        "death_date": "2026-01-15" if dead else None,
        "alive": not dead,
        **extra,
    }


@pytest.fixture
def project():
    project = Project()
    project.name = "proj"
    return project


def synced(project, nicknames):
    apply_plan(
        project, plan_subjects(project, [record(n) for n in nicknames]), OverridePolicy("no")
    )
    return project


def test_steps_come_in_order_users_additions_updates_removals(project):
    synced(project, ["A", "B", "C"])
    changed = [record("A", description="new"), record("B", dead=True), record("D"), record("E")]
    plan = plan_subjects(project, [*changed, record("C")], username="alice")
    decisions = decide_updates(plan, OverridePolicy("yes"))

    steps = list(iter_apply(project, plan, decisions, batch=1))

    kinds = [step.kind for step in steps]
    assert kinds == ["start", "users", "added", "added", "updated", "removed"]
    assert [s.name for step in steps for s in step.subjects] == ["D", "E", "A", "B"]
    assert steps[-1].result.counts()["added"] == 2 and steps[-1].result.unchanged == 1
    assert sorted(s.name for s in project.subjects) == ["A", "C", "D", "E"]


def test_between_steps_the_project_holds_whole_subjects(project):
    plan = plan_subjects(project, [record(f"S{i}") for i in range(7)])
    steps = iter_apply(project, plan, decide_updates(plan, OverridePolicy("no")), batch=3)

    seen = []
    for _step in steps:
        seen.append(len(project.subjects))
        assert all(alyx_id(s) for s in project.subjects)  # never a half-made subject
    assert seen == [0, 3, 6, 7]


def test_apply_plan_is_every_step_of_iter_apply(project):
    records = [record(f"S{i}") for i in range(5)]
    result = apply_plan(project, plan_subjects(project, records), OverridePolicy("no"))
    other = Project()
    plan = plan_subjects(other, records)
    for step in iter_apply(other, plan, decide_updates(plan, OverridePolicy("no")), batch=2):
        last = step.result

    assert result.counts() == last.counts()
    assert [s.name for s in project.subjects] == [s.name for s in other.subjects]


def test_a_plan_that_changes_nothing_still_gives_a_result(project):
    result = apply_plan(project, SyncPlan(unchanged=4), OverridePolicy("no"))

    assert result.unchanged == 4 and not result.changes_anything


class NoEquality:
    """A subject that refuses to be compared: membership tests on updates would call this."""

    def __init__(self, name):
        self.name = name
        self.data = {}

    def __eq__(self, other):
        raise AssertionError("subjects were compared by equality (list membership)")

    __hash__ = object.__hash__


def test_decisions_ask_once_per_update_in_order_without_comparing_subjects():
    updates = [SubjectUpdate(NoEquality(f"S{i}"), {"description": "x"}, ("description",))
               for i in range(2000)]  # fmt: skip
    asked = []

    def ask(update):
        asked.append(update.name)
        return "yes" if len(asked) % 2 else "no"

    decisions = decide_updates(SyncPlan(to_update=updates), OverridePolicy(ask=ask))

    assert asked == [u.name for u in updates]
    assert [u.name for u in decisions.accepted] == [u.name for u in updates[::2]]
    assert [s.name for s in decisions.declined] == [u.name for u in updates[1::2]]


def test_cancel_at_a_later_question_changes_nothing(project):
    synced(project, ["A", "B"])
    plan = plan_subjects(project, [record("A", description="1"), record("B", description="2"),
                                   record("C")])  # fmt: skip
    answers = iter(["yes", "cancel"])

    with pytest.raises(SyncCancelled):
        apply_plan(project, plan, OverridePolicy(ask=lambda update: next(answers)))

    assert sorted(s.name for s in project.subjects) == ["A", "B"]
    assert project.find_subject("A").data["description"] == "mouse A"


def test_removals_leave_the_project_and_every_setup_listing_them(project):
    synced(project, ["A", "B", "C"])
    experiment = project.create_experiment()
    setups = [experiment.create_setup(), experiment.create_setup()]
    for setup in setups:
        for subject in project.subjects:
            setup += subject
    plan = SyncPlan(to_remove=[SubjectRemoval(project.find_subject(n), None) for n in "AC"])

    result = apply_plan(project, plan, OverridePolicy("no"))

    assert [s.name for s in project.subjects] == ["B"]
    assert all([s.name for s in setup.subjects] == ["B"] for setup in setups)
    assert {id(s) for s in result.changed_setups} == {id(s) for s in setups}


def test_new_subjects_get_a_text_uuid_and_their_tojson_works(project):
    subject = pybpod_internals.create_subject(project)

    assert isinstance(subject.uuid4, str) and uuid.UUID(subject.uuid4)
    assert subject.uuid4 in subject.toJSON()
    assert project.subjects == [subject]


def test_subjects_set_aside_restores_the_list_and_appends_the_new_ones(project):
    synced(project, ["A", "B"])
    before = list(project.subjects)

    with pytest.raises(RuntimeError), pybpod_internals.subjects_set_aside(project):
        assert project.subjects == []
        project.create_subject()
        raise RuntimeError("failed half-way")

    assert project.subjects[:2] == before and len(project.subjects) == 3


def test_full_collections_come_back_however_the_hold_ends():
    thresholds = gc.get_threshold()

    with pytest.raises(RuntimeError), pybpod_internals.full_collections_held():
        with pybpod_internals.full_collections_held():
            assert gc.get_threshold()[2] > thresholds[2]
        assert gc.get_threshold()[2] > thresholds[2]  # the outer hold still holds
        raise RuntimeError("a progress callback failed")
    assert gc.get_threshold() == thresholds

    def steps():
        with pybpod_internals.full_collections_held():
            yield 1
            yield 2

    walk = steps()
    next(walk)
    assert gc.get_threshold()[2] > thresholds[2]
    walk.close()  # the GUI stops a sync between two steps
    assert gc.get_threshold() == thresholds
    pybpod_internals.release_frozen()


def test_what_a_hold_leaves_alive_is_frozen_until_released():
    with pybpod_internals.full_collections_held():
        built = [[i] for i in range(1000)]
    assert gc.get_freeze_count() >= len(built)

    pybpod_internals.release_frozen()  # a project closed

    assert gc.get_freeze_count() == 0
