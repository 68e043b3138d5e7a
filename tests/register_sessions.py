"""Writing PyBpod sessions the way a task run does: through pybpodapi's own ``Session``.

A real run's task is a Python process whose ``Bpod`` object writes the rows below into
``<setup>/sessions/<name>/<name>.csv`` through ``pybpodapi.session.Session`` and its
message classes; without a Bpod board the same writer and messages are driven here,
in the same order (``BpodIO.__init__``, ``BpodBase.__init__``, trials,
``register_value``, ``BpodBase.close``).
"""

from __future__ import annotations

import datetime
import json
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pybpodapi
from confapp import conf
from pybpodapi.com.messaging.end_trial import EndTrial
from pybpodapi.com.messaging.session_info import SessionInfo
from pybpodapi.com.messaging.trial import Trial
from pybpodapi.com.messaging.value import ValueMessage
from pybpodapi.session import Session

# Outside a run, session rows must not also go to (and replace) this process's stdout.
_NO_STDOUT = types.ModuleType("register_sessions_settings")
_NO_STDOUT.SETTINGS_PRIORITY = 0
_NO_STDOUT.PYBPOD_API_STREAM2STDOUT = False
conf += _NO_STDOUT


def write_session(
    setup_folder: Path,
    subjects: Sequence[Any],
    started: datetime.datetime,
    ended: datetime.datetime | None,
    creator: tuple[str, str, str] | None = (
        "alice",
        "00000000-0000-4000-8000-000000000001",
        "ALYX",
    ),
    trials: int = 3,
    values: Mapping[str, Any] | None = None,
    protocol: str = "training",
    project: str = "proj",
    experiment: str = "exp",
    setup: str = "rig1",
    board: str = "box",
) -> Path:
    """Write one session of ``subjects`` (PyBpod subjects, or ``(name, uuid4)`` pairs).

    ``ended=None`` leaves out ``SESSION-ENDED``, as when the task was killed.
    Returns the CSV's path.
    """
    name = started.strftime("%Y%m%d-%H%M%S")
    folder = setup_folder / "sessions" / name
    folder.mkdir(parents=True)
    path = folder / f"{name}.csv"
    session = Session(str(path))
    session += SessionInfo(Session.INFO_SERIAL_PORT, "/dev/ttyACM0")
    session += SessionInfo(Session.INFO_PROTOCOL_NAME, protocol)
    session += SessionInfo(
        Session.INFO_CREATOR_NAME, json.dumps(list(creator) if creator else None)
    )
    session += SessionInfo(Session.INFO_PROJECT_NAME, project)
    session += SessionInfo(Session.INFO_EXPERIMENT_NAME, experiment)
    session += SessionInfo(Session.INFO_BOARD_NAME, board)
    session += SessionInfo(Session.INFO_SETUP_NAME, setup)
    session += SessionInfo(Session.INFO_BPODGUI_VERSION, "1.8.2")
    for subject in subjects:
        pair = subject if isinstance(subject, tuple) else (subject.name, subject.uuid4)
        # PyBpod's board writes str([name, str(uuid4)]) for each subject of the setup.
        session += SessionInfo(Session.INFO_SUBJECT_NAME, str([pair[0], str(pair[1])]))
    session += SessionInfo("This is a PYBPOD file. Find more info at http://pybpod.readthedocs.io")
    session += SessionInfo(Session.INFO_BPODAPI_VERSION, pybpodapi.__version__)
    session += SessionInfo(Session.INFO_SESSION_NAME, name)
    session += SessionInfo(Session.INFO_SESSION_STARTED, started)
    for _ in range(trials):
        session += Trial()
        session += EndTrial("The trial ended")
    for value_name, value in (values or {}).items():
        session += ValueMessage(value_name, value)
    if ended is not None:
        session += SessionInfo(Session.INFO_SESSION_ENDED, ended)
    del session  # pybpodapi closes the file in Session.__del__, as at the end of a run
    return path
