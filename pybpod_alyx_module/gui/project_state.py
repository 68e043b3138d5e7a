"""The plugin's state for each open project, in one place: its client and its window.

Nothing here is added to PyBpod's objects and nothing is ever written to disk: the
password lives only inside the client. The connection window sets the client on a
successful Connect and drops it as soon as the address or the user changes (1.x bug 3:
the first connection was cached forever); the subject details window reads it for
Refresh; closing the project (:func:`forget_project`) closes the windows and drops it.
Standard library only at import time: the model mixins import this module.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any


@dataclass
class ProjectAlyxState:
    """What the plugin holds for one open project."""

    #: The connected ``AlyxClient``, or ``None``.
    client: Any = None
    #: The project's "Alyx connection" window, once opened.
    window: Any = None


_states: weakref.WeakKeyDictionary[Any, ProjectAlyxState] = weakref.WeakKeyDictionary()


def state_of(project: Any) -> ProjectAlyxState:
    """The project's state, created empty on first use."""
    state = _states.get(project)
    if state is None:
        state = _states[project] = ProjectAlyxState()
    return state


def client_for(project: Any) -> Any:
    """The project's connected client, or ``None``."""
    state = _states.get(project)
    return state.client if state is not None else None


def connect(project: Any, client: Any) -> None:
    """Make ``client`` the project's connection (closing any previous one)."""
    disconnect(project)
    state_of(project).client = client


def disconnect(project: Any) -> None:
    """Forget the project's connection, if any, and close it."""
    state = _states.get(project)
    client = state.client if state is not None else None
    if client is not None:
        state.client = None
        client.close()


def forget_project(project: Any) -> None:
    """The project closed: close its Alyx windows, drop its client, forget its state."""
    for subject in list(getattr(project, "subjects", ())):
        close_details = getattr(subject, "close_alyx_details", None)
        if close_details is not None:
            close_details()
    state = _states.get(project)
    if state is not None and state.window is not None:
        state.window.shut_down()  # stops its work and drops the connection
    disconnect(project)
    _states.pop(project, None)
    from pybpod_alyx_module.pybpod_internals import release_frozen

    release_frozen()  # what the closed project leaves in cycles can be collected again
