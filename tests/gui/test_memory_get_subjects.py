"""Get Subjects keeps nothing of its download once the subjects are made from it.

The records of a first sync of 10,000 subjects and the plan made from them (a copy of
each record's fields) are tens of MB: the subjects' own documents hold what is kept. So
once the apply ends, neither the worker's task nor the stepped apply still holds them.
"""

import gc
import weakref

import pytest
from alyxserver.seed_data import ALICE_ALIVE_COUNT as ALIVE

from pybpod_alyx_module.gui import get_subjects_flow, stepped_apply

pytestmark = pytest.mark.gui


@pytest.fixture
def kept(monkeypatch):
    """Weak references to what one Get Subjects downloaded and planned."""
    refs = {}
    plan_for_project = get_subjects_flow.plan_for_project

    def watched(project, downloaded, snapshot):
        plan = plan_for_project(project, downloaded, snapshot)
        refs.update(downloaded=weakref.ref(downloaded), plan=weakref.ref(plan))
        return plan

    monkeypatch.setattr(get_subjects_flow, "plan_for_project", watched)
    return refs


def test_nothing_of_the_download_outlives_the_apply(alyx_gui, kept):
    window = alyx_gui.open_connection(alyx_gui.new_project("proj"))
    alyx_gui.connect(window)

    alyx_gui.get_subjects(window)

    assert window.status.startswith(f"Status: Sync done: {ALIVE} added"), window.status
    assert isinstance(window._applying, stepped_apply.SteppedApply)  # the window keeps it
    gc.collect()
    assert kept["downloaded"]() is None, gc.get_referrers(kept["downloaded"]())
    assert kept["plan"]() is None, gc.get_referrers(kept["plan"]())
    assert len(window.project.subjects) == ALIVE


def test_the_plan_is_held_by_the_walk_only_while_it_runs(alyx_gui, kept, monkeypatch):
    """During the apply the plan is alive (the walk reads it); the stepped apply holds no copy."""
    window = alyx_gui.open_connection(alyx_gui.new_project("proj"))
    alyx_gui.connect(window)
    seen = []
    turn = stepped_apply.SteppedApply._turn

    def watched_turn(self):
        if self._steps is not None and not seen:
            seen.append((kept["plan"]() is not None, self._plan))
        turn(self)

    monkeypatch.setattr(stepped_apply.SteppedApply, "_turn", watched_turn)

    alyx_gui.get_subjects(window)

    assert seen == [(True, None)]
