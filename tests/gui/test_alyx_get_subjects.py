"""Get Subjects in the real GUI against the real local Alyx: the tree, the questions, cancel, removals."""

import pytest
from alyxserver.seed_data import ALICE_ALIVE_COUNT as ALIVE  # alice's alive subjects
from shared_server import changes_the_shared_server

pytestmark = pytest.mark.gui

CHANGED = "cortexlab__SW_010"  # alyx-local's detail key of SW_010
NEW_DESCRIPTION = "Changed on Alyx by a GUI test"


@pytest.fixture
def window(alyx_gui):
    window = alyx_gui.open_connection(alyx_gui.new_project("proj"))
    alyx_gui.connect(window)
    assert window.status == "Status: CONNECTED"
    return window


@pytest.fixture
def synced(alyx_gui, window):
    """A project holding alice's subjects, after one Get Subjects."""
    alyx_gui.get_subjects(window)
    assert window.status.startswith(f"Status: Sync done: {ALIVE} added"), window.status
    return window


#: A test that changes SW_010 on the shared server runs alone (conftest's
#: ``changes_the_shared_server``).
CHANGES_THE_SERVER = pytest.mark.serial


@pytest.fixture
def sw_010_changed_on_alyx(alyx_as_alice, request):
    """SW_010's description changed on the server (restored afterwards), by a serial test."""
    changes_the_shared_server(request)
    old = alyx_as_alice.get(f"subjects/{CHANGED}")["description"]
    alyx_as_alice.patch(f"subjects/{CHANGED}", {"description": NEW_DESCRIPTION})
    yield old
    alyx_as_alice.patch(f"subjects/{CHANGED}", {"description": old})


def alive_nicknames(seed, user="alice"):
    return {s.nickname for s in seed.SUBJECTS if s.responsible_user == user and s.alive}


def test_get_subjects_adds_alices_alive_subjects_to_the_tree(alyx_gui, synced, seed):
    project = synced.project

    names = alyx_gui.subject_names(project)
    assert names == alive_nicknames(seed)
    assert len(names) == seed.ALICE_ALIVE_COUNT
    assert not names & {s.nickname for s in seed.SUBJECTS if not s.alive}
    assert synced.status == (
        f"Status: Sync done: {ALIVE} added, 0 updated, 0 removed, 0 skipped, 0 conflicts, 0 refused"
    )
    assert "Save the project to keep these changes." in synced._report.value
    assert not synced.busy and synced._connect.enabled


def test_synced_subjects_are_alyx_subjects_with_their_menu_entry(alyx_gui, synced):
    subject = synced.project.find_subject("SW_001")

    assert subject.data["alyx_id"]
    assert subject.data["lab"] == "cortexlab"
    assert alyx_gui.menu_labels(subject.node) == ["Remove", "Alyx details"]
    assert subject._name.readonly


def test_a_synced_rows_menu_actions_are_built_when_the_row_is_first_read(
    alyx_gui, synced, pybpod_dialogs
):
    """A first sync of thousands must not build and connect every row's QActions (pyforms
    also put a dead copy of each in the tree's one menu): they wait until a row is read."""
    from pybpod_alyx_module.pybpod_internals.deferred_controls import Deferred

    project = synced.project
    tree = project.tree
    subject = project.find_subject("SW_001")
    pending = list.copy(tree._items[id(subject.node)])

    assert len(pending) == 2 and all(isinstance(action, Deferred) for action in pending)
    assert len(tree._popup_menu.actions()) < len(project.subjects)  # no dead copies
    assert alyx_gui.menu_labels(subject.node) == ["Remove", "Alyx details"]
    pybpod_dialogs.answers.append("yes")  # PyBpod: 'Subject "SW_001" will be deleted. …'
    alyx_gui.trigger(subject.node, "Remove")  # PyBpod's own action, connected
    assert project.find_subject("SW_001") is None


def test_a_sync_marks_the_project_unsaved(alyx_gui, window, tmp_path):
    window.project.save(str(tmp_path / "proj"))
    assert window.project.is_saved()

    alyx_gui.get_subjects(window)

    assert not window.project.is_saved()


def test_progress_is_shown_while_downloading(alyx_gui, window, seed):
    seen = []
    original = window._downloading

    def record(done, total):
        seen.append((done, total))
        original(done, total)

    window._downloading = record
    alyx_gui.get_subjects(window)

    listed = seed.ALICE_ALIVE_COUNT + seed.dead_count("alice")  # the dead are listed too
    assert seen and seen[-1] == (listed, listed)


def test_cancel_during_the_download_leaves_the_project_untouched(alyx_gui, window):
    window._get_subjects.click()
    task = window._task
    assert window.busy and window._cancel.enabled
    # Wait for the worker without running the event loop: its result exists, and the poll
    # that would hand it to the window has not run yet.
    assert task._finished.wait(60)
    assert task._error is None and task._result.plan.to_add

    window._cancel.click()

    assert window.status == "Status: Sync cancelled: the project was not changed"
    assert not window.busy
    task._poll()  # the poll that would have handed the result over: discarded instead
    assert not task.running
    assert window.project.subjects == []
    assert alyx_gui.subject_names(window.project) == set()


@CHANGES_THE_SERVER
@pytest.mark.parametrize(
    ("answer", "replaced"), [("no", False), ("yes", True), ("no_all", False), ("yes_all", True)]
)
def test_each_answer_to_replace_local_details(
    alyx_gui, synced, sw_010_changed_on_alyx, pybpod_dialogs, answer, replaced
):
    old_description = sw_010_changed_on_alyx
    pybpod_dialogs.answers.append(answer)

    alyx_gui.get_subjects(synced)

    question = [call for call in pybpod_dialogs.calls if call[0] == "question"]
    assert len(question) == 1
    _, title, message = question[0]
    assert title == "Update Subject"
    assert message.startswith("Subject 'SW_010' already exists locally. Replace local details?")
    description = synced.project.find_subject("SW_010").data["description"]
    assert description == (NEW_DESCRIPTION if replaced else old_description)
    counts = "1 updated, 0 removed, 0 skipped" if replaced else "0 updated, 0 removed, 1 skipped"
    assert counts in synced.status


@CHANGES_THE_SERVER
def test_no_to_all_still_adds_new_subjects(
    alyx_gui, synced, sw_010_changed_on_alyx, pybpod_dialogs
):
    project = synced.project
    project.find_subject("SW_200").remove(silent=True)
    pybpod_dialogs.answers.append("no_all")

    alyx_gui.get_subjects(synced)

    assert "SW_200" in alyx_gui.subject_names(project)
    assert project.find_subject("SW_010").data["description"] == sw_010_changed_on_alyx
    assert synced.status.startswith("Status: Sync done: 1 added, 0 updated, 0 removed, 1 skipped")


@CHANGES_THE_SERVER
def test_the_question_offers_cancel_beside_the_1x_answers(
    alyx_gui, synced, sw_010_changed_on_alyx, monkeypatch
):
    from pyforms_gui.basewidget import BaseWidget

    offered = []

    def question(self, msg, title=None, buttons=("no", "yes")):
        offered.append(list(buttons))
        return "cancel"  # what Qt returns for Escape and for closing the dialog, too

    monkeypatch.setattr(BaseWidget, "question", question)
    alyx_gui.get_subjects(synced)

    assert offered == [["no", "yes", "no_all", "yes_all", "cancel"]]
    assert synced.status == "Status: Sync cancelled: the project was not changed"


def _locally_changed(project, names, description="Changed locally by a GUI test"):
    for name in names:
        project.find_subject(name).data["description"] = description


def _state(alyx_gui, project):
    """What the user could see of the project: the tree, and every subject's saved fields."""
    return alyx_gui.subject_names(project), {
        s.name: dict(s.data) for s in project.subjects if s.data is not None
    }


@pytest.mark.parametrize("cancelled_at", [1, 3])
def test_cancel_in_the_question_changes_nothing(alyx_gui, synced, pybpod_dialogs, cancelled_at):
    project = synced.project
    project.find_subject("SW_200").remove(silent=True)  # would be added again
    _locally_changed(project, ["SW_010", "SW_020", "SW_030"])
    before = _state(alyx_gui, project)
    pybpod_dialogs.answers.extend(["yes"] * (cancelled_at - 1) + ["cancel"])

    alyx_gui.get_subjects(synced)

    assert len(pybpod_dialogs.titles("question")) == cancelled_at
    assert synced.status == "Status: Sync cancelled: the project was not changed"
    assert _state(alyx_gui, project) == before
    assert not synced.busy and synced._get_subjects.enabled


def test_a_resync_where_every_subject_changed_updates_them_all(alyx_gui, synced, seed):
    project = synced.project
    for subject in project.subjects:  # as if a week had passed on Alyx
        subject.data["age_weeks"] = (subject.data.get("age_weeks") or 0) - 1

    alyx_gui.get_subjects(synced)

    assert synced.status.startswith(
        f"Status: Sync done: 0 added, {seed.ALICE_ALIVE_COUNT} updated, 0 removed, 0 skipped"
    ), synced.status
    assert alyx_gui.subject_names(project) == alive_nicknames(seed)
    assert all(alyx_gui.menu_labels(s.node) == ["Remove", "Alyx details"] for s in project.subjects)


def test_dead_subjects_leave_the_project_and_the_tree(alyx_gui, window, alyx_as_alice):
    from pybpod_alyx_module.sync.subjects import new_subject_document

    dead = next(iter(alyx_as_alice.subjects(nickname="dead_mouse_1", lab="cortexlab")))
    project = window.project
    local = project.create_subject()
    local.name = "dead_mouse_1"
    local.data = new_subject_document(local, {"alyx_id": dead["id"], "nickname": "dead_mouse_1"})
    local.refresh_alyx_state()

    alyx_gui.get_subjects(window)

    assert "dead_mouse_1" not in alyx_gui.subject_names(project)
    assert project.find_subject("dead_mouse_1") is None
    assert ", 1 removed," in window.status
    assert "Removed (dead on Alyx): dead_mouse_1" in window._report.value


def test_a_local_subject_with_an_alyx_name_is_a_conflict_not_converted(alyx_gui, window):
    project = window.project
    local = project.create_subject()
    local.name = "SW_003"

    alyx_gui.get_subjects(window)

    assert window.status.endswith(
        f"{ALIVE - 1} added, 0 updated, 0 removed, 0 skipped, 1 conflicts, 0 refused"
    )
    assert "Not added: SW_003 (cortexlab)" in window._report.value
    assert not local.data or "alyx_id" not in local.data
    assert alyx_gui.menu_labels(local.node) == ["Remove"]


def test_lab_filter_selects_that_labs_subjects(alyx_gui, window, seed):
    window._lab.value = "hoferlab"

    alyx_gui.get_subjects(window)

    expected = {s.nickname for s in seed.SUBJECTS if s.lab == "hoferlab" and s.alive}
    assert alyx_gui.subject_names(window.project) == expected


def test_alyx_project_filter_selects_that_projects_alive_subjects(alyx_gui, window, seed):
    window._alyx_project.value = "hofer_vision"

    alyx_gui.get_subjects(window)

    expected = {s.nickname for s in seed.SUBJECTS if "hofer_vision" in s.projects and s.alive}
    assert expected and alyx_gui.subject_names(window.project) == expected
    assert any(s.responsible_user != "alice" for s in seed.SUBJECTS if s.nickname in expected)


def test_all_alive_filter_takes_every_alive_subject_whoever_is_responsible(
    alyx_gui, window, alyx_as_alice, seed
):
    from pybpod_alyx_module.sync.names import folder_name_problem

    window._all_alive.value = True

    alyx_gui.get_subjects(window)

    # Derived from what the server lists now (other tests may have added subjects to it).
    alive = sorted(alyx_as_alice.subjects(alive=True), key=lambda r: (r["nickname"], r["lab"]))
    refused = {r["nickname"] for r in alive if folder_name_problem(r["nickname"])}
    nicknames = [r["nickname"] for r in alive if r["nickname"] not in refused]
    expected = set(nicknames)
    for earlier, record in zip(alive, alive[1:]):  # the later twin gets its lab
        if record["nickname"] == earlier["nickname"]:
            expected.add(f"{record['lab']}__{record['nickname']}")
    assert refused and {s.responsible_user for s in seed.SUBJECTS} <= {
        r["responsible_user"] for r in alive
    }
    assert alyx_gui.subject_names(window.project) == expected
    assert window.status.endswith(f"0 conflicts, {len(refused)} refused"), window.status
