"""Reading a PyBpod session file (``<session>/<session>.csv``) into a plain value.

The file is written by pybpodapi's ``Session``: a few header rows (``__UUID4__``,
``__CREATED-ON__``, …), then ``;``-separated rows ``TYPE;PC-TIME;BPOD-INITIAL-TIME;
BPOD-FINAL-TIME;MSG;+INFO`` quoted with ``|``. Only the standard library's ``csv`` reads
it here: the rows we need are plain text, and PyBpod's own parser ``eval``-s subject
rows, which a file from disk must never get to do.

Times: PyBpod writes ``datetime.now()``, the rig computer's *naive local* wall-clock
time, without a zone. They are kept naive, as written: the session's date is the date
on the rig's clock when it started (a session running across midnight keeps its start
date), and :mod:`.records` sends them the way IBL's rig code does, as local times that
Alyx reads in its own ``TIME_ZONE`` (the lab's zone; Alyx servers and their rigs are in
the same lab).
"""

from __future__ import annotations

import ast
import csv
import datetime
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: pybpodapi's CSV dialect (``sca.formats.csv``).
DELIMITER = ";"
QUOTECHAR = "|"

#: INFO row names (``pybpodapi.session.Session.INFO_*``).
SESSION_NAME = "SESSION-NAME"
SESSION_STARTED = "SESSION-STARTED"
SESSION_ENDED = "SESSION-ENDED"
PROTOCOL_NAME = "PROTOCOL-NAME"
CREATOR_NAME = "CREATOR-NAME"
PROJECT_NAME = "PROJECT-NAME"
EXPERIMENT_NAME = "EXPERIMENT-NAME"
BOARD_NAME = "BOARD-NAME"
SETUP_NAME = "SETUP-NAME"
SUBJECT_NAME = "SUBJECT-NAME"
UUID4_FLAG = "__UUID4__"

_TYPE, _PC_TIME, _MSG, _INFO = 0, 1, 4, 5


class SessionFileError(Exception):
    """A session file that cannot be read, with the reason and the file's path."""


@dataclass(frozen=True)
class SessionSubject:
    """A subject as the session names it: PyBpod name and uuid4 (the link to the project)."""

    name: str
    uuid4: str


@dataclass(frozen=True)
class SessionCreator:
    """The PyBpod user who ran the session; ``connection`` is ``'ALYX'`` for an Alyx user."""

    name: str
    uuid4: str
    connection: str


@dataclass(frozen=True)
class RecordedSession:
    """What one PyBpod session file says, as plain values (no PyBpod objects).

    ``started``/``ended`` are naive local times as PyBpod wrote them; ``ended`` is
    ``None`` for a session that never ended (the task was killed or is still running).
    ``values`` holds the last value registered under each name (``register_value``),
    as the text the file holds.
    """

    path: Path
    name: str
    uuid4: str
    started: datetime.datetime
    ended: datetime.datetime | None
    subjects: tuple[SessionSubject, ...]
    creator: SessionCreator | None
    protocol: str
    project: str
    experiment: str
    setup: str
    board: str
    n_trials: int
    values: dict[str, str] = field(default_factory=dict)


def read_session(path: str | Path) -> RecordedSession:
    """Read the session file ``path`` (a ``.csv``, or the session folder holding one).

    Raises
    ------
    SessionFileError
        The file is missing, unreadable, or lacks the rows every PyBpod session has
        (its uuid4, its start time).
    """
    path = Path(path)
    if path.is_dir():
        path = path / f"{path.name}.csv"
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as stream:
            return _parse(path, csv.reader(stream, delimiter=DELIMITER, quotechar=QUOTECHAR))
    except OSError as exc:
        raise SessionFileError(f"Cannot read the session file {path}: {exc.strerror}") from None
    except csv.Error as exc:
        raise SessionFileError(f"{path} is not a PyBpod session file: {exc}") from None


def _parse(path: Path, rows: Iterator[list[str]]) -> RecordedSession:
    uuid4 = None
    info: dict[str, str] = {}
    subjects: list[SessionSubject] = []
    values: dict[str, str] = {}
    n_trials = 0
    ended = None
    for row in rows:
        if not row:
            continue
        kind = row[_TYPE]
        if kind == UUID4_FLAG and len(row) > 1:
            uuid4 = row[1].strip()
        elif kind == "TRIAL":
            n_trials += 1
        elif kind == "VAL" and len(row) > _MSG:
            values[row[_MSG]] = row[_INFO] if len(row) > _INFO else ""
        elif kind == "INFO" and len(row) > _INFO:
            name, value = row[_MSG], row[_INFO]
            if name == SUBJECT_NAME:
                subjects.append(_subject(path, value))
            elif name == SESSION_ENDED:
                ended = _time(path, name, value)
            else:
                info.setdefault(name, value)
    if not uuid4:
        raise SessionFileError(f"{path} has no {UUID4_FLAG} header: not a PyBpod session file")
    if SESSION_STARTED not in info:
        raise SessionFileError(f"{path} has no {SESSION_STARTED} row: not a PyBpod session file")
    return RecordedSession(
        path=path,
        name=info.get(SESSION_NAME) or path.stem,
        uuid4=uuid4,
        started=_time(path, SESSION_STARTED, info[SESSION_STARTED]),
        ended=ended,
        subjects=tuple(subjects),
        creator=_creator(path, info.get(CREATOR_NAME, "")),
        protocol=info.get(PROTOCOL_NAME, ""),
        project=info.get(PROJECT_NAME, ""),
        experiment=info.get(EXPERIMENT_NAME, ""),
        setup=info.get(SETUP_NAME, ""),
        board=info.get(BOARD_NAME, ""),
        n_trials=n_trials,
        values=values,
    )


def _time(path: Path, name: str, text: str) -> datetime.datetime:
    """A PyBpod time (``str(datetime.now())``), naive; a zone, if any, is dropped."""
    try:
        return datetime.datetime.fromisoformat(text.strip()).replace(tzinfo=None)
    except ValueError:
        raise SessionFileError(f"{path}: {name} is not a date and time: {text!r}") from None


def _subject(path: Path, text: str) -> SessionSubject:
    """``"['M001', '<uuid4>']"`` (a Python list literal, read without evaluating code)."""
    try:
        name, uuid4 = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError):
        raise SessionFileError(f"{path}: unreadable {SUBJECT_NAME} row {text!r}") from None
    return SessionSubject(str(name), str(uuid4))


def _creator(path: Path, text: str) -> SessionCreator | None:
    """``'["alice", "<uuid4>", "ALYX"]'`` (JSON), or ``null`` when no user was logged in."""
    if not text.strip() or text.strip() in ("null", "None"):
        return None
    try:
        name, uuid4, connection = json.loads(text)
    except (ValueError, TypeError):
        raise SessionFileError(f"{path}: unreadable {CREATOR_NAME} row {text!r}") from None
    return SessionCreator(str(name), str(uuid4), str(connection))
