"""PyBpod's project model for loading a folder without the GUI, its sessions left unread.

Imports ``pybpodgui_api`` at import time: only :func:`~.headless.new_headless_project`
imports this module, once PyBpod is known to be there.

PyBpod 1.8.2 builds a project's subjects, experiments, setups and sessions with
``create_subject``, ``create_experiment``, ``create_setup`` and ``create_session``, then
calls each one's ``load``: the classes below replace those factories. PyBpod's session
loader reads the whole file into memory, fails on bytes that are not UTF-8 and ``eval``-s
the file's subject rows (a session file could run code); nothing headless needs what it
reads, so a headless session is known by its folder's name only (PyBpod's own ``save``
keeps it).
"""

from __future__ import annotations

import os

from pybpodgui_api.models.experiment import Experiment
from pybpodgui_api.models.project import Project
from pybpodgui_api.models.session import Session
from pybpodgui_api.models.setup import Setup
from pybpodgui_api.models.subject import Subject

from .headless import built_aside


class UnreadSession(Session):
    """A session folder known by its name alone: its file is never opened."""

    def load(self, path: str) -> None:
        self.name = os.path.basename(path)


class HeadlessSetup(Setup):
    """PyBpod's setup model, whose sessions are not read (:class:`UnreadSession`)."""

    def create_session(self) -> Session:
        return UnreadSession(self)


class HeadlessExperiment(Experiment):
    """PyBpod's experiment model, with :class:`HeadlessSetup` setups."""

    def create_setup(self) -> Setup:
        return HeadlessSetup(self)


class HeadlessProject(Project):
    """PyBpod's project model: subjects built in linear time (:func:`~.headless.built_aside`),
    sessions not read (:class:`UnreadSession`)."""

    def create_subject(self) -> Subject:
        return built_aside(self, lambda: Subject(self))

    def create_experiment(self) -> Experiment:
        return HeadlessExperiment(self)
