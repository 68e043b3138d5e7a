"""The GUI's readers of settings go through the one door: a bad setting never stops a run."""

from __future__ import annotations

import logging
import types


def test_a_bad_weigh_setting_runs_the_task_unweighed_and_says_why_once(
    alyx_gui, pybpod_user_settings, monkeypatch, caplog
):
    from pybpod_alyx_module.models.setup.setup_alyx import Setup

    monkeypatch.setattr(pybpod_user_settings, "ALYX_PLUGIN_WEIGH_BEFORE_RUN", "yes", raising=False)
    with caplog.at_level(logging.ERROR, logger="pybpod_alyx_module"):
        assert Setup._alyx_weighing_wanted(types.SimpleNamespace(subjects=[])) is False
    said = [r for r in caplog.records if "ALYX_PLUGIN_WEIGH_BEFORE_RUN" in r.getMessage()]
    assert [r.getMessage() for r in said] == [
        "Running without 'Weigh before the run': Bad setting in user_settings.py: "
        "ALYX_PLUGIN_WEIGH_BEFORE_RUN = 'yes', expected True or False"
    ]
    assert said[0].exc_info is None  # one line, no traceback
