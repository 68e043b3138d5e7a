"""Fast unit tests of the merge rules: plan_subjects, apply_plan and the folder-name checks.

Everything runs on an in-memory ``pybpodgui_api`` Project with hand-made Alyx records:
no server, no disk.
"""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pybpodgui_api.models.project import Project

from pybpod_alyx_module.sync import (
    ALYX_CONNECTION,
    Answer,
    OverridePolicy,
    SyncCancelled,
    apply_plan,
    plan_subjects,
)
from pybpod_alyx_module.sync.fields import ALYX_ID, ALYX_TO_LOCAL, DERIVED, local_fields
from pybpod_alyx_module.sync.names import folder_name_problem, twin_name
from pybpod_alyx_module.sync.subjects import alyx_id, new_subject_document

_IDS = uuid.UUID("6f1f3b9e-0000-4000-8000-000000000000")


def record(nickname: str, lab: str = "cortexlab", dead: bool = False, **extra) -> dict:
    """An Alyx list entry as ``GET /subjects`` answers it (stable id per lab and nickname)."""
    entry = {
        "nickname": nickname,
        "url": f"http://alyx.test/api/subjects/{lab}__{nickname}",
        "id": str(uuid.uuid5(_IDS, f"{lab}/{nickname}")),
        "responsible_user": "alice",
        "birth_date": "2025-01-01",
        "age_weeks": 40,
        "death_date": "2026-01-15" if dead else None,
        "species": "Mus musculus",
        "sex": "F",
        "litter": None,
        "strain": None,
        "source": "Internal",
        "line": None,
        "projects": ["ibl_behaviour"],
        "lab": lab,
        "genotype": [],
        "description": f"mouse {nickname}",
        "alive": not dead,
        "reference_weight": 0.0,
        "last_water_restriction": None,
        "expected_water": 0.5,
        "remaining_water": 0.5,
    }
    entry.update(extra)
    return entry


def alyx_subject(project, entry: dict, name: str | None = None):
    """A local Alyx subject as an earlier sync left it (saved and reloaded: uuid4 is a str)."""
    subject = project.create_subject()
    subject.name = name or entry["nickname"]
    subject.uuid4 = str(subject.uuid4)
    subject.data = new_subject_document(subject, local_fields(entry))
    return subject


def local_subject(project, name: str):
    subject = project.create_subject()
    subject.name = name
    return subject


def never_ask(update):
    raise AssertionError(f"asked about {update.name} ({update.changed})")


@pytest.fixture
def project():
    project = Project()
    project.name = "proj"
    return project


def names(project) -> list[str]:
    return sorted(s.name for s in project.subjects)


# -- new subjects ---------------------------------------------------------------------------


def test_new_alive_subjects_are_added_under_their_nickname(project):
    plan = plan_subjects(project, [record("SW_002"), record("SW_001")])
    assert [a.name for a in plan.to_add] == ["SW_001", "SW_002"]
    result = apply_plan(project, plan, OverridePolicy("no"))
    assert names(project) == ["SW_001", "SW_002"]
    assert result.counts()["added"] == 2


def test_dead_subjects_are_not_added(project):
    plan = plan_subjects(project, [record("alive_one"), record("dead_one", dead=True)])
    assert [a.name for a in plan.to_add] == ["alive_one"]
    assert not plan.to_remove


def test_a_subject_alive_false_without_death_date_is_not_added(project):
    plan = plan_subjects(project, [record("culled", alive=False)])
    assert not plan.to_add


def test_new_subjects_keep_alyx_fields_under_the_1x_keys(project):
    entry = record("SW_001", weighings=[{"weight": 21.0}], water_administrations=[{"w": 1}])
    apply_plan(project, plan_subjects(project, [entry]), OverridePolicy("no"))
    data = project.find_subject("SW_001").data
    assert data["alyx_id"] == entry["id"]
    assert data["nickname"] == "SW_001" and data["url"] == entry["url"]
    assert data["responsible_user"] == "alice" and data["lab"] == "cortexlab"
    assert data["weighings"] == [{"weight": 21.0}]
    assert data["water_administration"] == [{"w": 1}]
    assert "water_administrations" not in data


def test_new_subject_is_created_by_the_project_and_its_tojson_works(project):
    created = []
    original = project.create_subject

    def create_subject():
        created.append(original())
        return created[-1]

    project.create_subject = create_subject
    apply_plan(project, plan_subjects(project, [record("SW_001")]), OverridePolicy("no"))
    subject = project.find_subject("SW_001")
    assert created == [subject]
    assert isinstance(subject.uuid4, str)
    assert subject.data.uuid4 == subject.uuid4
    document = json.loads(subject.toJSON())
    assert document["name"] == "SW_001" and document["uuid4"] == subject.uuid4


# -- matching -------------------------------------------------------------------------------


def test_an_alyx_subject_renamed_locally_is_updated_not_duplicated(project):
    entry = record("SW_001")
    renamed = alyx_subject(project, entry, name="my_favourite")
    changed = dict(entry, description="new words")
    plan = plan_subjects(project, [changed])
    assert not plan.to_add
    assert [u.subject for u in plan.to_update] == [renamed]
    apply_plan(project, plan, OverridePolicy("yes"))
    assert names(project) == ["my_favourite"]
    assert renamed.data["description"] == "new words"
    assert renamed.data["nickname"] == "SW_001"


def test_a_local_non_alyx_subject_with_an_alyx_nickname_is_a_conflict_never_converted(project):
    pet = local_subject(project, "SW_001")
    plan = plan_subjects(project, [record("SW_001"), record("SW_002")])
    assert [p.nickname for p in plan.conflicts] == ["SW_001"]
    assert "not an Alyx subject" in plan.conflicts[0].reason
    result = apply_plan(project, plan, OverridePolicy("yes"))
    assert pet.data is None and alyx_id(pet) is None
    assert names(project) == ["SW_001", "SW_002"]
    assert [p.nickname for p in result.conflicts] == ["SW_001"]
    assert result.counts()["conflicts"] == 1 and result.counts()["added"] == 1


def test_twins_arriving_together_get_the_nickname_and_lab__nickname(project):
    plan = plan_subjects(project, [record("twin_mouse", "hoferlab"), record("twin_mouse")])
    assert sorted(a.name for a in plan.to_add) == ["hoferlab__twin_mouse", "twin_mouse"]
    # the order of the records does not decide which twin gets which name
    again = plan_subjects(project, [record("twin_mouse"), record("twin_mouse", "hoferlab")])
    assert [(a.name, a.fields["lab"]) for a in again.to_add] == [
        (a.name, a.fields["lab"]) for a in plan.to_add
    ]


def test_a_twin_already_in_the_project_keeps_its_name_and_the_other_is_prefixed(project):
    alice_twin = alyx_subject(project, record("twin_mouse"))
    plan = plan_subjects(project, [record("twin_mouse"), record("twin_mouse", "hoferlab")])
    assert [a.name for a in plan.to_add] == ["hoferlab__twin_mouse"]
    assert plan.unchanged == 1
    apply_plan(project, plan, OverridePolicy("no"))
    assert project.find_subject("twin_mouse") is alice_twin
    assert project.find_subject("hoferlab__twin_mouse").data["lab"] == "hoferlab"
    # the next sync finds both by alyx_id: nothing to do
    plan = plan_subjects(project, [record("twin_mouse"), record("twin_mouse", "hoferlab")])
    assert not plan.changes_anything and plan.unchanged == 2


def test_a_twin_whose_both_names_are_taken_is_a_conflict(project):
    alyx_subject(project, record("twin_mouse"))
    local_subject(project, "hoferlab__twin_mouse")
    plan = plan_subjects(project, [record("twin_mouse", "hoferlab")])
    assert not plan.to_add
    assert [p.lab for p in plan.conflicts] == ["hoferlab"]


def test_twin_name_is_lab__nickname():
    assert twin_name("twin_mouse", "hoferlab") == "hoferlab__twin_mouse"
    assert twin_name("m", None) == "nolab__m"


# -- unsafe nicknames -----------------------------------------------------------------------

REFUSED = [
    "..",
    ".",
    "",
    "   ",
    "a/b",
    "a\\b",
    "../escape",
    "CON",
    "con",
    "Nul.txt",
    "COM1",
    "LPT9",
    "tab\there",
    "new\nline",
    "nul\x00char",
    "bell\x07",
    "a*b",
    "a:b",
    'quo"te',
    "why?",
    " leading",
    "trailing ",
    "ends.",
    "x" * 121,
]
ACCEPTED = ["SW_001", "dot.mouse", "souris_é", "a b", "CONSOLE", "COM", "x" * 65, "..mouse"]


@pytest.mark.parametrize("nickname", REFUSED, ids=repr)
def test_unsafe_nicknames_are_refused_with_a_reason(nickname, project):
    assert folder_name_problem(nickname)
    plan = plan_subjects(project, [record(nickname), record("fine")])
    assert [a.name for a in plan.to_add] == ["fine"]
    assert [p.nickname for p in plan.refused] == [nickname]
    assert "cannot be a folder name" in plan.refused[0].reason


@pytest.mark.parametrize("nickname", ACCEPTED, ids=repr)
def test_safe_nicknames_are_accepted(nickname):
    assert folder_name_problem(nickname) is None


# -- updates and the override policy --------------------------------------------------------


@pytest.fixture
def three_changed(project):
    """Three local Alyx subjects whose description changed on Alyx, plus one new subject."""
    entries = [record(f"m{n}") for n in (1, 2, 3)]
    for entry in entries:
        alyx_subject(project, entry)
    changed = [dict(e, description="changed on Alyx") for e in entries]
    return plan_subjects(project, [*changed, record("newcomer")])


def descriptions(project) -> dict[str, str]:
    return {s.name: s.data["description"] for s in project.subjects}


def test_no_to_all_still_adds_new_subjects(project, three_changed):
    asked = []

    def ask(update):
        asked.append(update.name)
        return Answer.NO_TO_ALL.value

    result = apply_plan(project, three_changed, OverridePolicy(ask=ask))
    assert asked == ["m1"]
    assert project.find_subject("newcomer") is not None
    assert set(descriptions(project).values()) == {
        "mouse m1",
        "mouse m2",
        "mouse m3",
        "mouse newcomer",
    }
    assert len(result.declined) == 3 and [s.name for s in result.added] == ["newcomer"]


def test_yes_to_all_stops_asking_and_replaces_all(project, three_changed):
    asked = []

    def ask(update):
        asked.append(update.name)
        return Answer.YES_TO_ALL.value

    result = apply_plan(project, three_changed, OverridePolicy(ask=ask))
    assert asked == ["m1"] and len(result.updated) == 3
    assert all(descriptions(project)[f"m{n}"] == "changed on Alyx" for n in (1, 2, 3))


def test_scripted_answers_decide_subject_by_subject(project, three_changed):
    answers = iter([Answer.YES.value, Answer.NO.value, Answer.YES.value])
    apply_plan(project, three_changed, OverridePolicy(ask=lambda update: next(answers)))
    found = descriptions(project)
    assert (found["m1"], found["m2"], found["m3"]) == (
        "changed on Alyx",
        "mouse m2",
        "changed on Alyx",
    )


def test_cancel_leaves_the_project_untouched(project, three_changed):
    asked = iter([Answer.YES.value, Answer.CANCEL.value])
    before = descriptions(project)
    with pytest.raises(SyncCancelled):
        apply_plan(project, three_changed, OverridePolicy(ask=lambda update: next(asked)))
    assert descriptions(project) == before
    assert project.find_subject("newcomer") is None
    assert not project.users


@pytest.mark.parametrize(
    ("policy", "replaced"),
    [
        (OverridePolicy("yes"), {"m1", "m2", "m3"}),
        (OverridePolicy("no"), set()),
        (OverridePolicy(only={"m2"}), {"m2"}),
        (OverridePolicy("yes", only={"m3"}), {"m3"}),
    ],
    ids=["yes", "no", "only-m2", "only-overrides-yes"],
)
def test_override_policies(project, three_changed, policy, replaced):
    apply_plan(project, three_changed, policy)
    found = {n for n, d in descriptions(project).items() if d == "changed on Alyx"}
    assert found == replaced
    assert project.find_subject("newcomer") is not None


def test_changes_only_in_derived_fields_apply_without_asking(project):
    entry = record("SW_001")
    subject = alyx_subject(project, entry)
    older = dict(entry, age_weeks=41, remaining_water=0.3, expected_water=0.7)
    plan = plan_subjects(project, [older])
    assert [u.needs_consent for u in plan.to_update] == [False]
    result = apply_plan(project, plan, OverridePolicy(ask=never_ask))
    assert result.updated == [subject] and not result.declined
    assert subject.data["age_weeks"] == 41 and subject.data["remaining_water"] == 0.3
    # even "no" does not hold back derived values
    subject.data["age_weeks"] = 40
    result = apply_plan(project, plan_subjects(project, [older]), OverridePolicy("no"))
    assert subject.data["age_weeks"] == 41


def test_a_real_change_with_derived_ones_needs_consent(project):
    entry = record("SW_001")
    alyx_subject(project, entry)
    plan = plan_subjects(project, [dict(entry, age_weeks=41, sex="M")])
    (update,) = plan.to_update
    assert update.needs_consent and set(update.changed) == {"age_weeks", "sex"}


def test_an_update_keeps_the_uuid4_and_the_name(project):
    entry = record("SW_001")
    subject = alyx_subject(project, entry)
    uuid4 = subject.uuid4
    apply_plan(project, plan_subjects(project, [dict(entry, sex="M")]), OverridePolicy("yes"))
    assert subject.uuid4 == uuid4 and subject.data.uuid4 == uuid4
    assert subject.name == "SW_001" and project.find_subject("SW_001") is subject


def test_a_list_entry_does_not_erase_saved_weighings(project):
    entry = record("SW_001")
    subject = alyx_subject(project, dict(entry, weighings=[{"weight": 20}]))
    assert subject.data["weighings"] == [{"weight": 20}]
    plan = plan_subjects(project, [entry])
    assert not plan.to_update and plan.unchanged == 1


def test_nothing_changed_plans_nothing(project):
    entries = [record("a"), record("b")]
    for entry in entries:
        alyx_subject(project, entry)
    plan = plan_subjects(project, entries)
    assert not plan.changes_anything
    assert plan.counts() == {
        "add": 0,
        "update": 0,
        "remove": 0,
        "unchanged": 2,
        "conflicts": 0,
        "refused": 0,
    }


# -- dead subjects --------------------------------------------------------------------------


def test_a_local_alyx_subject_dead_on_alyx_leaves_the_project_and_its_setups(project):
    entry = record("doomed")
    doomed = alyx_subject(project, entry)
    keeper = alyx_subject(project, record("keeper"))
    experiment = project.create_experiment()
    setups = [experiment.create_setup(), experiment.create_setup()]
    for setup in setups:
        setup += doomed
        setup += keeper
    plan = plan_subjects(project, [dict(entry, death_date="2026-02-01", alive=False)])
    assert [(r.name, r.death_date) for r in plan.to_remove] == [("doomed", "2026-02-01")]
    result = apply_plan(project, plan, OverridePolicy(ask=never_ask))
    assert names(project) == ["keeper"]
    assert all(setup.subjects == [keeper] for setup in setups)
    assert result.removed == [doomed] and set(result.changed_setups) == set(setups)


def test_a_dead_local_non_alyx_subject_namesake_is_left_alone(project):
    pet = local_subject(project, "dead_one")
    plan = plan_subjects(project, [record("dead_one", dead=True)])
    assert not plan.changes_anything and not plan.conflicts
    apply_plan(project, plan, OverridePolicy("yes"))
    assert project.subjects == [pet]


# -- users ----------------------------------------------------------------------------------


def test_the_connected_user_becomes_the_logged_in_alyx_user(project):
    plan = plan_subjects(project, [], username="alice", other_users=["bob", "alice", "a/b"])
    assert plan.users_to_add == ["bob"]
    result = apply_plan(project, plan, OverridePolicy("no"))
    assert project.loggeduser is result.user and result.user.name == "alice"
    assert result.user.connection == ALYX_CONNECTION
    assert result.user.data["connection"] == ALYX_CONNECTION
    assert sorted(u.name for u in project.users) == ["alice", "bob"]
    assert sorted(u.name for u in result.users_added) == ["alice", "bob"]


def test_an_existing_user_is_reused_not_duplicated(project):
    existing = project.create_user()
    existing.name = "alice"
    result = apply_plan(project, plan_subjects(project, [], username="alice"), OverridePolicy("no"))
    assert project.users == [existing] and result.user is existing
    assert result.users_added == [] and existing.connection == ALYX_CONNECTION


def test_no_username_leaves_users_alone(project):
    result = apply_plan(project, plan_subjects(project, [record("a")]), OverridePolicy("no"))
    assert result.user is None and not project.users


def test_an_update_marks_the_document_changed_so_pybpod_stamps_updated_on(project):
    entry = record("SW_001")
    subject = alyx_subject(project, entry)
    subject.data.updated = False  # as loaded from disk
    apply_plan(project, plan_subjects(project, [dict(entry, sex="M")]), OverridePolicy("yes"))
    assert subject.data.updated


# -- details a subject had none of yet are additions (issue 16) -----------------------------

#: The fields a person may have a local value of: not derived by Alyx, nor the id, nor the
#: fields that decide whether the subject stays (alive, death date: a removal, not an update).
_CHOSEN = sorted(set(ALYX_TO_LOCAL.values()) - DERIVED - {ALYX_ID, "alive", "death_date"})
_VALUES = st.one_of(
    st.text(max_size=8),
    st.integers(-5, 5),
    st.lists(
        st.dictionaries(st.sampled_from(["weight", "date_time"]), st.integers(), max_size=2),
        max_size=3,
    ),
)


def _alyx_key(local: str) -> str:
    return next(alyx for alyx, key in ALYX_TO_LOCAL.items() if key == local)


@settings(max_examples=60, deadline=None)
@given(
    missing=st.sets(st.sampled_from(_CHOSEN), min_size=1),
    empty_as_none=st.booleans(),
    values=st.dictionaries(st.sampled_from(_CHOSEN), _VALUES),
)
def test_fields_a_subject_had_no_value_for_are_added_without_a_question(
    missing, empty_as_none, values
):
    """Whatever fields a local Alyx subject lacks (absent, or ``None``), Alyx filling them in
    is never a question and never declined: "no" and "no to all" add them too."""
    project = Project()
    entry = record("SW_001", weighings=[], water_administrations=[])
    subject = alyx_subject(project, entry)
    for key in missing:
        if empty_as_none:
            subject.data[key] = None
        else:
            subject.data.pop(key, None)
    texts = {"lab", "nickname"}  # a record whose lab or nickname is not text is refused
    filled = {
        _alyx_key(key): str(values.get(key)) if key in texts else values.get(key, f"new {key}")
        for key in missing
    }
    newer = dict(entry, **filled)
    (update,) = plan_subjects(project, [newer]).to_update
    assert set(update.added) == set(update.changed) <= missing
    assert not update.needs_consent
    result = apply_plan(project, plan_subjects(project, [newer]), OverridePolicy("no"))
    assert result.updated == [subject] and not result.declined
    assert {key: subject.data[key] for key in update.changed} == {
        key: newer[_alyx_key(key)] for key in update.changed
    }


@settings(max_examples=60, deadline=None)
@given(
    replaced=st.sampled_from(_CHOSEN),
    missing=st.sets(st.sampled_from(_CHOSEN)),
)
def test_a_local_value_replaced_needs_consent_whatever_else_is_added(replaced, missing):
    """A field that had a local value and differs on Alyx still asks, beside any additions."""
    project = Project()
    entry = record("SW_001", weighings=[{"weight": 20}], water_administrations=[{"x": 1}])
    entry = {k: ("set" if v is None and k in _CHOSEN else v) for k, v in entry.items()}
    subject = alyx_subject(project, entry)
    missing = missing - {replaced}
    for key in missing:
        subject.data.pop(key, None)
    newer = dict(entry, **{_alyx_key(key): f"new {key}" for key in missing})
    newer[_alyx_key(replaced)] = f"changed {replaced}"
    (update,) = plan_subjects(project, [newer]).to_update
    assert replaced in update.changed and replaced not in update.added
    assert update.needs_consent
    result = apply_plan(project, plan_subjects(project, [newer]), OverridePolicy("no"))
    assert result.declined == [subject]
