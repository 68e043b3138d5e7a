"""Opening a project in the real GUI with the plugin: linear time, name order, nothing else changed.

The plugin builds the subjects of a project PyBpod opens with their names chosen in linear
time and their pyforms controls deferred until a subject's details are shown
(``pybpod_internals.project_opening``). What PyBpod shows must stay as PyBpod makes it:
the setups' subjects, the sessions, each subject's details once shown, an unsaved flag
that is off; only the order of the tree's subject rows changes (name order).
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pybpod_projects import add_local_subject, add_session_data, add_setup, new_project

from pybpod_alyx_module.sync.fields import ALYX_ID
from pybpod_alyx_module.sync.names import folder_name_problem

pytestmark = pytest.mark.gui

#: Names in no order, with case and digits that a plain sort would get wrong.
NAMES = ["zeta", "Alpha", "beta_2", "beta_10", "Gamma", "delta", "alpha_b", "EPS", "m1", "M2"]
#: The Alyx subjects among them (their JSON holds an ``alyx_id``); the others are local.
ALYX = NAMES[::2]


def _rows(project) -> list[str]:
    node = project.subjects_node
    return [node.child(i).text(0) for i in range(node.childCount())]


def _details(subject) -> dict:
    """What a subject's details dock shows, read from its (real) pyforms controls."""
    return {
        "name": subject._name.value,
        "name read-only": subject._name.form.lineEdit.isReadOnly(),
        "setups": [label for label, _ in subject._setups.items],
        "setup": subject._setups.value,
        "detached": subject._detached.value,
        "buttons enabled": [
            button.enabled
            for button in (subject._run, subject._kill_task_btn, subject._stoptrial_btn)
        ],
    }


@pytest.fixture
def saved_project(tmp_path):
    """A project on disk: Alyx and local subjects, a setup with two of them, a session."""
    project = new_project(tmp_path / "proj")
    names = list(NAMES)
    random.Random(18).shuffle(names)
    for name in names:
        add_local_subject(project, name)
    add_setup(project, "exp", "rig1", ["Gamma", "m1"])
    project.save(project.path)
    for name in ALYX:
        path = tmp_path / "proj" / "subjects" / name / f"{name}.json"
        path.write_text(path.read_text().replace("{", f'{{"{ALYX_ID}": "x-{name}",', 1))
    add_session_data(project, "exp", "rig1")
    return tmp_path / "proj"


def test_an_opened_project_shows_its_subjects_in_name_order_and_nothing_else_changed(
    pybpod_editor, saved_project, qapp
):
    project = pybpod_editor.model.open_project(str(saved_project))
    qapp.processEvents()

    assert _rows(project) == sorted(NAMES, key=lambda n: (n.casefold(), n))
    assert sorted(s.name for s in project.subjects) == sorted(NAMES)
    setup = project.experiments[0].setups[0]
    assert sorted(s.name for s in setup.subjects) == ["Gamma", "m1"]
    assert project.find_subject("Gamma").setup is setup
    assert project.find_subject("zeta").setup is None
    assert len(setup.sessions) == 1
    assert project.is_saved()  # the reorder is the tree's only: no "unsaved changes"
    assert "create_subject" not in vars(project)  # "Add subject" is PyBpod's own again


def test_a_deferred_subject_shows_the_details_pybpod_builds(pybpod_editor, saved_project, qapp):
    project = pybpod_editor.model.open_project(str(saved_project))
    gamma = project.find_subject("Gamma")
    setup = gamma.setup

    gamma.node.window.show()  # a click on its row: the details dock shows it
    qapp.processEvents()
    assert gamma.mainwindow.details.value is gamma
    assert gamma._formLoaded  # pyforms laid its details out
    own = project.create_subject()  # PyBpod's own subject, its controls built at once
    own.name = "own"
    setup += own
    own.setup = setup
    for subject in (gamma, own):
        subject.reload_setups()
        subject.setup = setup

    shown, reference = _details(gamma), _details(own)
    assert shown["name"] == "Gamma"
    assert shown["name read-only"] is True  # an Alyx subject
    assert shown["setup"] is setup
    for key in ("setups", "setup", "detached", "buttons enabled"):
        assert shown[key] == reference[key], key
    delta = project.find_subject("delta")
    delta.node.window.show()
    assert _details(delta)["name read-only"] is False  # a local subject stays editable
    delta._name.value = "delta_renamed"
    delta._name.changed_event()  # what editing the field does
    assert delta.node.text(0) == "delta_renamed"


def test_a_subject_not_shown_keeps_its_name_and_setup_without_widgets(pybpod_editor, saved_project):
    from pybpod_alyx_module.pybpod_internals.deferred_controls import Deferred

    project = pybpod_editor.model.open_project(str(saved_project))
    m1 = project.find_subject("m1")

    assert isinstance(m1._setups, Deferred)  # never shown: no widgets built
    assert m1.setup is project.experiments[0].setups[0]
    m1.name = "m1_new"
    assert m1.node.text(0) == "m1_new" and m1._name.value == "m1_new"
    m1.setup = None
    assert m1.setup is None


def _row_options(tree, node) -> list[str]:
    """The labels PyBpod's tree shows when ``node``'s row is right-clicked (pyforms' rebuild)."""
    tree.setCurrentItem(node)
    tree.about_to_show_contextmenu_event()
    return [action.text() for action in tree._popup_menu.actions() if action.isVisible()]


def test_an_opened_subjects_right_click_menu_is_pybpods_and_its_remove_works(
    pybpod_editor, pybpod_dialogs, saved_project, qapp
):
    tree = pybpod_editor.model.tree
    project = pybpod_editor.model.open_project(str(saved_project))
    own = project.create_subject()  # PyBpod's own subject, its options added by PyBpod
    own.name = "own"
    qapp.processEvents()

    assert _row_options(tree, own.node) == ["Remove"]
    assert _row_options(tree, project.find_subject("Gamma").node) == ["Remove", "Alyx details"]
    assert _row_options(tree, project.find_subject("delta").node) == ["Remove"]
    assert len(tree._popup_menu.actions()) == 1  # no dead copies of every row's options
    delta = project.find_subject("delta")
    remove = next(a for a in tree._items[id(delta.node)] if a.text() == "Remove")
    pybpod_dialogs.answers.append("yes")  # PyBpod: 'Subject "delta" will be deleted. Are you sure?'
    remove.trigger()
    qapp.processEvents()
    assert project.find_subject("delta") is None
    assert "delta" not in _rows(project)


def test_the_open_leaves_pybpod_and_pyforms_as_they_were(pybpod_editor, saved_project):
    from confapp import conf
    from pybpodgui_plugin.models.subject import subject_treenode, subject_uibusy, subject_window
    from pyforms.controls import ControlText

    tree = pybpod_editor.model.tree
    pybpod_editor.model.open_project(str(saved_project))

    assert "add_popup_menu_option" not in vars(tree)
    assert tree.updatesEnabled()
    assert subject_window.ControlText is ControlText
    assert subject_treenode.conf is conf and subject_uibusy.conf is conf


def test_saving_an_opened_project_writes_the_files_it_was_opened_from(pybpod_editor, saved_project):
    import json

    def documents(folder):
        """The subjects' and setups' JSON documents, without the time PyBpod stamps on a save.

        (The board's document gains the GUI board's settings on any GUI save: not the open's.)
        """
        found = {}
        paths = [*folder.glob("subjects/*/*.json"), *folder.glob("experiments/**/*.json")]
        for path in sorted(paths):
            document = json.loads(path.read_text(encoding="utf-8"))
            document.pop("__UPDATED-ON__", None)
            found[str(path.relative_to(folder))] = document
        return found

    before = documents(saved_project)
    project = pybpod_editor.model.open_project(str(saved_project))
    project.save(str(saved_project))

    assert documents(saved_project) == before


_NAME = st.text(alphabet="aAbBzZ019_-.ßSsİiéÉ", min_size=1, max_size=6).filter(
    lambda name: folder_name_problem(name) is None
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(names=st.lists(_NAME, min_size=2, max_size=8, unique=True))
def test_any_names_open_in_one_order_with_none_lost(pybpod_editor, names):
    """Names that sort oddly (case, digits, 'ß' folding to 'ss', dotted 'İ'): every subject
    opens once, in the tree in the order of the name case-folded, then as is."""
    with tempfile.TemporaryDirectory() as scratch:
        project = new_project(Path(scratch) / "proj")
        for name in names:
            add_local_subject(project, name)
        project.save(project.path)
        opened = pybpod_editor.model.open_project(project.path)
        try:
            assert _rows(opened) == sorted(names, key=lambda n: (n.casefold(), n))
            assert sorted(s.name for s in opened.subjects) == sorted(names)
        finally:
            opened.close(silent=True)
