"""The sync (download -> plan -> apply -> save) against the real alyx-local server.

The subject lists are downloaded once per module (the server needs ~2 s a page); each
test then syncs them into its own project folder. Changes made on the server (PATCH
as alice) touch only bob's and carol's subjects and are undone by the fixtures: the
server is shared by the whole test session.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sys
import threading
from pathlib import Path

import pytest

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.sync import (
    ALYX_CONNECTION,
    Answer,
    OverridePolicy,
    SubjectSelection,
    add_details,
    apply_plan,
    download_subjects,
    plan_subjects,
    save_sync,
)
from pybpod_alyx_module.sync import save as save_module
from pybpod_alyx_module.sync.errors import SaveFailed, UnsafeProjectPath
from pybpod_alyx_module.sync.project_files import open_project
from pybpod_alyx_module.sync.save import REMOVED

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alyxserver.seed_data import ALICE_ALIVE_COUNT as ALIVE  # alice's alive subjects
from pybpod_projects import (
    SESSION_DATA,
    add_local_subject,
    add_session_data,
    add_setup,
    check_loadable,
    contents,
    load_project,
    new_project,
    setup_subject_names,
    snapshot,
    subject_json,
)
from shared_server import changes_the_shared_server


@pytest.fixture(scope="module")
def alice(alyx_server):
    client = AlyxClient(alyx_server.url, username="alice", password=alyx_server.users["alice"])
    client.login()
    yield client
    client.close()


@pytest.fixture(scope="module")
def alice_records(alice):
    """alice's subjects, the default selection (more than one page)."""
    return download_subjects(alice, SubjectSelection())


@pytest.fixture(scope="module")
def carol_records(alice):
    return download_subjects(alice, SubjectSelection(responsible_user="carol"))


def bob_records(alice):
    """Downloaded by each test that needs them: some tests change bob's subjects first."""
    return download_subjects(alice, SubjectSelection(responsible_user="bob"))


def sync(path: Path, records, username="alice", policy=None, create=False):
    """What ``pybpod-alyx sync`` does after its download."""
    project = open_project(path, create=create)
    plan = plan_subjects(project, records, username=username)
    result = apply_plan(project, plan, policy or OverridePolicy("no"))
    save_sync(project, result)
    return project, result


def by_nickname(records, nickname, lab="cortexlab"):
    (found,) = [r for r in records if r["nickname"] == nickname and r["lab"] == lab]
    return found


@pytest.fixture
def restore_bob_subjects(alice, request):
    """PATCH bob's subjects in a (serial) test; their original fields are put back afterwards."""
    changes_the_shared_server(request)
    saved: dict[str, dict] = {}

    def patch(nickname: str, **fields):
        path = f"subjects/cortexlab__{nickname}"
        if nickname not in saved:
            original = alice.get(path)
            saved[nickname] = {key: original[key] for key in fields}
        alice.patch(path, fields)

    yield patch
    for nickname, fields in saved.items():
        alice.patch(f"subjects/cortexlab__{nickname}", fields)


# -- selections -----------------------------------------------------------------------------


def test_default_selection_is_the_users_alive_subjects_over_several_pages(
    tmp_path, alice_records, seed
):
    assert len(alice_records) == seed.ALICE_ALIVE_COUNT + seed.ALICE_DEAD_COUNT
    _project, result = sync(tmp_path / "proj", alice_records, create=True)
    assert len(result.added) == seed.ALICE_ALIVE_COUNT > 250
    names = {s.name for s in load_project(tmp_path / "proj").subjects}
    assert names == {s.nickname for s in seed.subjects_of("alice") if s.alive}
    assert not {"dead_mouse_1", "dead_mouse_2"} & set(names)
    assert not result.conflicts and not result.refused


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (SubjectSelection(lab="hoferlab"), lambda s: s.lab == "hoferlab"),
        (SubjectSelection(project="hofer_vision"), lambda s: "hofer_vision" in s.projects),
        (
            SubjectSelection(lab="cortexlab", responsible_user="bob"),
            lambda s: s.lab == "cortexlab" and s.responsible_user == "bob",
        ),
    ],
    ids=["lab", "project", "lab-and-responsible"],
)
def test_lab_and_project_selections(alice, seed, selection, expected):
    records = download_subjects(alice, selection)
    found = sorted((r["lab"], r["nickname"]) for r in records)
    assert found == sorted((s.lab, s.nickname) for s in seed.SUBJECTS if expected(s))


def test_all_alive_selection_takes_every_alive_subject(alice, seed, tmp_path):
    records = download_subjects(alice, SubjectSelection(all_alive=True))
    assert len(records) == sum(1 for s in seed.SUBJECTS if s.alive)
    assert all(r["alive"] for r in records)


def test_all_alive_finds_out_that_a_local_subject_died(alice, carol_records, tmp_path):
    """--all-alive lists no dead subject; a local one missing from it is looked up."""
    dead = by_nickname(carol_records, "carol_mouse_4", "hoferlab")
    path = tmp_path / "proj"
    sync(path, [dict(dead, death_date=None, alive=True)], create=True)
    project = open_project(path)
    records = download_subjects(alice, SubjectSelection(all_alive=True), project.subjects)
    assert [r["id"] for r in records if not r["alive"]] == [dead["id"]]
    plan = plan_subjects(project, records)
    assert [r.name for r in plan.to_remove] == ["carol_mouse_4"]


# -- what a synced subject looks like -------------------------------------------------------


def test_synced_subjects_keep_their_alyx_data_after_a_reload(tmp_path, alice_records):
    path = tmp_path / "proj"
    project, _result = sync(path, alice_records, create=True)
    fresh = project.find_subject("souris_é")
    assert json.loads(fresh.toJSON())["uuid4"] == fresh.uuid4  # 1.x bug 9
    record = by_nickname(alice_records, "souris_é")
    document = subject_json(path, "souris_é")
    for key in ("alyx_id", "nickname", "url", "responsible_user", "birth_date", "lab", "sex"):
        assert document[key] == record["id" if key == "alyx_id" else key]
    assert document["description"] == "L'animal préféré de l'équipe — «très calme»"
    assert document["__UUID4__"] == fresh.uuid4
    reloaded = load_project(path).find_subject("souris_é")
    assert reloaded.uuid4 == fresh.uuid4
    assert reloaded.data["alyx_id"] == record["id"]
    assert json.loads(reloaded.toJSON())["name"] == "souris_é"


def test_details_keep_water_administration_singular_after_a_reload(alice, tmp_path, seed):
    weighed = download_subjects(alice, SubjectSelection(responsible_user="alice"))
    records = add_details(alice, [by_nickname(weighed, seed.WEIGHED_SUBJECT.nickname)])
    path = tmp_path / "proj"
    sync(path, records, create=True)
    document = subject_json(path, "SW_001")
    assert len(document["water_administration"]) == len(seed.WATER_ADMINISTRATIONS)
    assert "water_administrations" not in document
    assert [w["weight"] for w in document["weighings"]] == [w["weight"] for w in seed.WEIGHINGS]
    data = load_project(path).find_subject("SW_001").data
    assert len(data["water_administration"]) == len(seed.WATER_ADMINISTRATIONS)
    # a later plain (list) sync leaves the saved details alone
    _, result = sync(path, [by_nickname(weighed, "SW_001")])
    assert not result.updated
    assert len(subject_json(path, "SW_001")["water_administration"]) == 2


def test_the_connected_user_is_the_logged_in_alyx_user_after_a_reload(tmp_path, carol_records):
    path = tmp_path / "proj"
    project, result = sync(path, carol_records, username="carol", create=True)
    assert project.loggeduser is result.user and project.loggeduser.name == "carol"
    assert project.loggeduser.connection == ALYX_CONNECTION
    saved = json.loads((path / "users" / "carol" / "carol.json").read_text())
    assert saved["connection"] == ALYX_CONNECTION
    reloaded = load_project(path)
    assert [u.name for u in reloaded.users] == ["carol"]
    assert reloaded.users[0].data["connection"] == ALYX_CONNECTION


# -- matching, updates and the override policy ----------------------------------------------


@pytest.fixture
def bob_project(tmp_path, alice):
    """bob's subjects synced; one renamed locally; a setup lists two of them."""
    path = tmp_path / "proj"
    new_project(path)
    sync(path, bob_records(alice), username="bob")
    # renamed as PyBpod's Save renames (a new folder), without its send2trash of the old one
    subjects = path / "subjects"
    (subjects / "bob_mouse_4" / "bob_mouse_4.json").rename(
        subjects / "bob_mouse_4" / "renamed_locally.json"
    )
    (subjects / "bob_mouse_4").rename(subjects / "renamed_locally")
    project = load_project(path)
    add_setup(project, "exp", "rig1", ["bob_mouse_1", "renamed_locally"])
    project.save(str(path))
    add_session_data(project, "exp", "rig1")
    return path


def test_unsafe_nickname_is_refused_and_nothing_is_written_outside(tmp_path, alice):
    path = tmp_path / "proj"
    _, result = sync(path, bob_records(alice), username="bob", create=True)
    assert [(p.nickname, "'..'" in p.reason) for p in result.refused] == [("..", True)]
    assert subject_json(path, "dot.mouse")["nickname"] == "dot.mouse"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]
    assert sorted(p.name for p in path.iterdir()) == [
        "boards",
        "experiments",
        "proj.json",
        "subjects",
        "tasks",
        "users",
    ]
    assert not (path / "subjects" / "..json").exists() and not (path / "proj..json").exists()
    check_loadable(path)


@pytest.mark.serial  # changes bob's subjects on the shared server
def test_changes_on_alyx_update_subjects_and_keep_uuid_folder_and_setup(
    bob_project, alice, restore_bob_subjects
):
    before = {s.name: s.uuid4 for s in load_project(bob_project).subjects}
    restore_bob_subjects("bob_mouse_1", description="edited on Alyx 1")
    restore_bob_subjects("bob_mouse_4", description="edited on Alyx 4")
    restore_bob_subjects("bob_mouse_5", description="edited on Alyx 5")
    asked = []
    answers = {"bob_mouse_1": Answer.YES, "renamed_locally": Answer.YES, "bob_mouse_5": Answer.NO}

    def ask(update):
        asked.append(update.name)
        return answers[update.name].value

    _, result = sync(bob_project, bob_records(alice), "bob", OverridePolicy(ask=ask))
    assert sorted(asked) == ["bob_mouse_1", "bob_mouse_5", "renamed_locally"]
    assert sorted(s.name for s in result.updated) == ["bob_mouse_1", "renamed_locally"]
    assert [s.name for s in result.declined] == ["bob_mouse_5"]
    reloaded = load_project(bob_project)
    assert {s.name: s.uuid4 for s in reloaded.subjects} == before
    assert reloaded.find_subject("renamed_locally").data["description"] == "edited on Alyx 4"
    assert reloaded.find_subject("bob_mouse_1").data["description"] == "edited on Alyx 1"
    assert reloaded.find_subject("bob_mouse_5").data["description"] == "Bob's mouse bob_mouse_5"
    assert reloaded.find_subject("bob_mouse_4") is None
    assert setup_subject_names(bob_project, "exp", "rig1") == ["bob_mouse_1", "renamed_locally"]
    (setup,) = reloaded.experiments[0].setups
    assert [s.name for s in setup.subjects] == ["bob_mouse_1", "renamed_locally"]
    assert reloaded.find_subject("bob_mouse_1").setup is setup


@pytest.mark.serial  # changes bob's subjects on the shared server
def test_no_to_all_still_adds_new_subjects(bob_project, alice, restore_bob_subjects):
    restore_bob_subjects("bob_mouse_2", description="edited on Alyx 2")
    restore_bob_subjects("bob_mouse_3", description="edited on Alyx 3")
    shutil.rmtree(bob_project / "subjects" / "dot.mouse")  # as if it were new on Alyx
    asked = []

    def ask(update):
        asked.append(update.name)
        return Answer.NO_TO_ALL.value

    _, result = sync(bob_project, bob_records(alice), "bob", OverridePolicy(ask=ask))
    assert len(asked) == 1
    assert [s.name for s in result.added] == ["dot.mouse"]
    assert sorted(s.name for s in result.declined) == ["bob_mouse_2", "bob_mouse_3"]
    assert subject_json(bob_project, "bob_mouse_2")["description"] == "Bob's mouse bob_mouse_2"
    assert subject_json(bob_project, "dot.mouse")["alyx_id"]


@pytest.mark.serial  # changes bob's subjects on the shared server
@pytest.mark.parametrize(
    ("policy", "replaced"),
    [
        (OverridePolicy("yes"), {"bob_mouse_2", "bob_mouse_3"}),
        (OverridePolicy("no"), set()),
        (OverridePolicy(only={"bob_mouse_3"}), {"bob_mouse_3"}),
    ],
    ids=["yes", "no", "only"],
)
def test_override_policies_on_real_changes(
    bob_project, alice, restore_bob_subjects, policy, replaced
):
    restore_bob_subjects("bob_mouse_2", description="changed")
    restore_bob_subjects("bob_mouse_3", description="changed")
    sync(bob_project, bob_records(alice), "bob", policy)
    found = {
        name
        for name in ("bob_mouse_2", "bob_mouse_3")
        if subject_json(bob_project, name)["description"] == "changed"
    }
    assert found == replaced


def test_derived_changes_apply_without_asking(bob_project, alice):
    """age_weeks grows with time: a sync months later refreshes it without a question."""
    records = bob_records(alice)
    older = [dict(r, age_weeks=r["age_weeks"] + 10, remaining_water=0.1) for r in records]

    def never_ask(update):
        raise AssertionError(f"asked about {update.name}")

    _, result = sync(bob_project, older, "bob", OverridePolicy(ask=never_ask))
    assert len(result.updated) == 6  # every bob subject but '..'
    age = subject_json(bob_project, "bob_mouse_2")["age_weeks"]
    assert age == by_nickname(records, "bob_mouse_2")["age_weeks"] + 10


def test_a_local_non_alyx_subject_is_a_conflict_left_byte_identical(tmp_path, alice):
    path = tmp_path / "proj"
    project = new_project(path)
    add_local_subject(project, "bob_mouse_3")
    project.save(str(path))
    pet = path / "subjects" / "bob_mouse_3" / "bob_mouse_3.json"
    before = pet.read_bytes()
    _, result = sync(path, bob_records(alice), username="bob", policy=OverridePolicy("yes"))
    assert [p.nickname for p in result.conflicts] == ["bob_mouse_3"]
    assert "not an Alyx subject" in result.conflicts[0].reason
    assert pet.read_bytes() == before
    assert "alyx_id" not in json.loads(before)
    assert len(result.added) == 5  # bob's 7 less the conflict and '..'
    assert "alyx_id" not in load_project(path).find_subject("bob_mouse_3").data


# -- dead subjects --------------------------------------------------------------------------


def test_a_subject_dead_on_alyx_leaves_the_project_and_its_setups_folder_kept(
    tmp_path, carol_records
):
    """alyx-local cannot bring a subject back to life over REST (PATCH death_date=null
    fails: its cull record needs a date), so the seeded dead carol_mouse_4 is given a
    local past in which it was synced alive."""
    dead = by_nickname(carol_records, "carol_mouse_4", "hoferlab")
    path = tmp_path / "proj"
    project, _ = sync(path, [dict(dead, death_date=None, alive=True)], "carol", create=True)
    sync(path, [by_nickname(carol_records, "carol_mouse_1", "hoferlab")], "carol")
    project = load_project(path)
    add_setup(project, "exp", "rig1", ["carol_mouse_4", "carol_mouse_1"])
    add_setup(project, "exp", "rig2", ["carol_mouse_4"])
    project.save(str(path))
    session_file = add_session_data(project, "exp", "rig1")
    saved = (path / "subjects" / "carol_mouse_4" / "carol_mouse_4.json").read_bytes()
    experiments_before = {
        k: v for k, v in contents(snapshot(path)).items() if "sessions" in k.split("/")
    }

    _, result = sync(path, carol_records, "carol")
    assert [s.name for s in result.removed] == ["carol_mouse_4"]
    assert not (path / "subjects" / "carol_mouse_4").exists()
    (moved,) = (path / REMOVED).iterdir()
    assert moved.name.startswith("carol_mouse_4")
    assert (moved / "carol_mouse_4.json").read_bytes() == saved
    assert setup_subject_names(path, "exp", "rig1") == ["carol_mouse_1"]
    assert setup_subject_names(path, "exp", "rig2") == []
    after = contents(snapshot(path))
    assert {k: after[k] for k in experiments_before} == experiments_before
    assert session_file.read_bytes() == SESSION_DATA
    reloaded = check_loadable(path)
    assert reloaded.find_subject("carol_mouse_4") is None
    assert sorted(s.name for s in reloaded.subjects) == [
        "carol_mouse_1",
        "carol_mouse_2",
        "carol_mouse_3",
        "twin_mouse",
    ]
    # the next sync neither brings it back nor moves anything again
    _, result = sync(path, carol_records, "carol")
    assert not result.changes_anything and len(list((path / REMOVED).iterdir())) == 1


# -- twins ----------------------------------------------------------------------------------


def test_twins_of_two_labs_both_exist_and_resync_is_stable(tmp_path, alice_records, carol_records):
    path = tmp_path / "proj"
    sync(path, alice_records, "alice", create=True)
    _, result = sync(path, carol_records, "carol")
    assert "hoferlab__twin_mouse" in [s.name for s in result.added]
    assert subject_json(path, "twin_mouse")["lab"] == "cortexlab"
    assert subject_json(path, "hoferlab__twin_mouse")["lab"] == "hoferlab"
    assert subject_json(path, "hoferlab__twin_mouse")["nickname"] == "twin_mouse"
    before = snapshot(path)
    for records, user in ((alice_records, "alice"), (carol_records, "carol")):
        _, result = sync(path, records, user)
        assert not result.changes_anything and not result.conflicts
    assert snapshot(path) == before


# -- nothing changed / failures ---------------------------------------------------------------


def test_a_second_sync_with_nothing_changed_changes_nothing_on_disk(tmp_path, alice_records):
    path = tmp_path / "proj"
    sync(path, alice_records, create=True)
    before = snapshot(path)
    _, result = sync(path, alice_records)
    assert not result.changes_anything and result.unchanged == ALIVE
    assert snapshot(path) == before  # bytes and mtimes


def files_and_times(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and mtime (folders' own times change when a save stages and cleans)."""
    return {path: state for path, state in snapshot(folder).items() if not path.endswith("/")}


def test_a_full_disk_while_saving_leaves_the_project_byte_identical(
    tmp_path, alice_records, monkeypatch
):
    """The save fails half-way through staging (ENOSPC at its 100th file)."""
    path = tmp_path / "proj"
    sync(path, alice_records[:20], create=True)
    before = files_and_times(path)
    staged, real_write, one_at_a_time = [], save_module._write, threading.Lock()

    def write(file):
        with one_at_a_time:  # the staging threads: every write after the 100th fails
            if len(staged) >= 100:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), file[0])
            staged.append(file[0])
        real_write(file)

    monkeypatch.setattr(save_module, "_write", write)
    with pytest.raises(SaveFailed, match="No space left on device"):
        sync(path, alice_records, policy=OverridePolicy("yes"))
    assert len(staged) == 100
    assert files_and_times(path) == before
    assert not (path / ".alyx-staging").exists()


def test_a_link_planted_during_the_download_leaves_the_project_byte_identical(
    tmp_path, alice_records
):
    """Read, planned and applied; then ``subjects/SW_100`` becomes a link: the save refuses."""
    path = tmp_path / "proj"
    sync(path, alice_records[:20], create=True)
    project = open_project(path)
    result = apply_plan(
        project, plan_subjects(project, alice_records, "alice"), OverridePolicy("no")
    )
    outside = tmp_path / "outside"
    outside.mkdir()
    (path / "subjects" / "SW_100").symlink_to(outside, target_is_directory=True)
    before = files_and_times(path)
    with pytest.raises(UnsafeProjectPath, match="SW_100 is a link"):
        save_sync(project, result)
    assert files_and_times(path) == before
    assert list(outside.iterdir()) == []
