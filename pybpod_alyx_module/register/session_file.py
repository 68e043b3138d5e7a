"""Reading a PyBpod session file (``<session>/<session>.csv``) into a plain value.

The file is written by pybpodapi's ``Session``: a few header rows (``__UUID4__``,
``__CREATED-ON__``, …), then ``;``-separated rows ``TYPE;PC-TIME;BPOD-INITIAL-TIME;
BPOD-FINAL-TIME;MSG;+INFO`` quoted with ``|``. It is read here, not by PyBpod's loader,
which reads the whole file into memory, fails on bytes that are not UTF-8 and ``eval``-s
subject rows (a session file could run code). Rows stream through
:func:`~.session_rows.rows`, so memory stays bounded whatever the file's size; only what
registration needs is kept: the INFO rows below, the trial count, and the values the
plugin reads. Any bytes are tolerated; a file that lacks what every session has, or
whose needed rows cannot be read, is a :class:`SessionFileError` naming the file.

Times: PyBpod writes ``datetime.now()``, the rig computer's *naive local* wall-clock
time, without a zone. They are kept naive, as written: the session's date is the date
on the rig's clock when it started (a session running across midnight keeps its start
date), and :mod:`.records` sends them the way IBL's rig code does, as local times that
Alyx reads in its own ``TIME_ZONE`` (the lab's zone; Alyx servers and their rigs are in
the same lab).
"""

from __future__ import annotations

import datetime
import os
import stat
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pybpod_alyx_module.errors import PluginError
from pybpod_alyx_module.sync.errors import UnsafeProjectPath
from pybpod_alyx_module.sync.paths import ProjectFolder

from .session_rows import RECORD_CAP, Row, creator_triple, rows, subject_pair
from .values import REPORTED_VALUES

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
_KEPT_INFO = frozenset(
    {SESSION_NAME, SESSION_STARTED, PROTOCOL_NAME, CREATOR_NAME, PROJECT_NAME}
    | {EXPERIMENT_NAME, BOARD_NAME, SETUP_NAME}
)
_NEEDED_INFO = _KEPT_INFO | {SUBJECT_NAME, SESSION_ENDED}
#: The row kinds read; the others (states, events, output…) are passed over.
_KINDS = frozenset({b"TRIAL", b"INFO", b"VAL", UUID4_FLAG.encode()})
#: More subjects than this in one session is not a rig's session.
MAX_SUBJECTS = 100
#: The values kept: each name the plugin reads, per subject or for the session.
MAX_VALUES = (MAX_SUBJECTS + 1) * len(REPORTED_VALUES)

_MSG, _INFO = 4, 5
#: ``os.open`` flags: never through a link where the system can say so; bytes as they are.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


class SessionFileError(PluginError):
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
    ``values`` holds the last value registered under each name read (``register_value``),
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


def session_file_in(folder: str | Path) -> Path:
    """The session file of a PyBpod session folder: ``<session>/<session>.csv``.

    The one place this layout is written down: PyBpod names a session's folder and its file
    after the session (``Session.path`` is ``<setup>/sessions/<name>``).

    Examples
    --------
    >>> session_file_in("sessions/20260105-090000").as_posix()
    'sessions/20260105-090000/20260105-090000.csv'
    """
    folder = Path(folder)
    return folder / f"{folder.name}.csv"


def read_session(
    path: str | Path,
    values: Collection[str] | None = None,
    inside: ProjectFolder | None = None,
) -> RecordedSession:
    """Read the session file ``path`` (a ``.csv``, or the session folder holding one).

    Parameters
    ----------
    values
        The ``VAL`` row names to keep (each also as ``<name>:<subject>``); by default
        the plugin's own names (:data:`~.values.REPORTED_VALUES`).
    inside
        The project folder the file must be in: a file reached through a link, or
        outside it, is refused.

    Raises
    ------
    SessionFileError
        The file is missing, unreadable, not a plain file, or lacks the rows every
        PyBpod session has (its uuid4, its start time), or one it needs is unreadable.
    """
    path = Path(path)
    status = _status(path)
    if status is not None and stat.S_ISDIR(status.st_mode):
        path = session_file_in(path)
    if inside is not None:
        try:
            inside.check(path)
        except UnsafeProjectPath:
            raise SessionFileError(
                f"{path} is not read: it is reached through a link, or is outside the "
                f"project folder {inside.root}. Sessions are read only from the project's "
                "own folders; move the session there."
            ) from None
    wanted = frozenset(REPORTED_VALUES if values is None else values)
    try:
        with _open_plain_file(path) as stream:
            return _Reading(path, wanted).read(rows(stream, _KINDS))
    except OSError as exc:
        raise SessionFileError(
            f"Cannot read the session file {path}: {exc.strerror or exc}"
        ) from None


def _status(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _open_plain_file(path: Path):
    """``path`` opened for reading bytes, if it is a plain file and not a link."""
    before = _status(path)
    if before is None:
        raise SessionFileError(f"Cannot read the session file {path}: it is not there")
    if stat.S_ISLNK(before.st_mode):
        raise SessionFileError(f"{path} is a link: session files are not read through links")
    if not stat.S_ISREG(before.st_mode):
        raise SessionFileError(f"{path} is not a plain file: it cannot be a session file")
    descriptor = os.open(path, _OPEN_FLAGS)
    opened = os.fstat(descriptor)
    if (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino):
        os.close(descriptor)
        raise SessionFileError(f"{path} changed while it was opened; read it again")
    return os.fdopen(descriptor, "rb")


class _Reading:
    """One pass over a session file's rows, keeping only what registration needs."""

    def __init__(self, path: Path, wanted: frozenset[str]) -> None:
        self.path, self.wanted = path, wanted
        self.uuid4: str | None = None
        self.info: dict[str, str] = {}
        self.subjects: list[SessionSubject] = []
        self.values: dict[str, str] = {}
        self.n_trials = 0
        self.ended: datetime.datetime | None = None

    def read(self, found: Iterator[Row]) -> RecordedSession:
        for row in found:
            if row.kind == b"TRIAL":
                self.n_trials += 1
            elif row.kind in (b"INFO", b"VAL"):
                self._named(row)
            elif row.kind == b"__UUID4__" and self.uuid4 is None:
                fields = row.fields()
                self.uuid4 = fields[1].strip() if len(fields) > 1 and row.complete else ""
        return self._session()

    def _named(self, row: Row) -> None:
        fields = row.fields()
        if len(fields) <= _MSG:
            return
        name = fields[_MSG]
        needed = name in _NEEDED_INFO if row.kind == b"INFO" else self._wanted(name)
        if not needed:
            return
        if not row.complete:
            raise self._error(
                f"line {row.line}: its {name} row is longer than {RECORD_CAP:,} bytes"
            )
        value = fields[_INFO] if len(fields) > _INFO else ""
        if row.kind == b"VAL":
            self.values[name] = value
            if len(self.values) > MAX_VALUES:
                raise self._error(f"it reports more than {MAX_VALUES} values the plugin reads")
        elif name == SUBJECT_NAME:
            self._subject(row.line, value)
        elif name == SESSION_ENDED:
            self.ended = self._time(name, value)
        elif len(fields) > _INFO:
            self.info.setdefault(name, value)

    def _wanted(self, name: str) -> bool:
        return name in self.wanted or name.rpartition(":")[0] in self.wanted

    def _subject(self, line: int, text: str) -> None:
        pair = subject_pair(text)
        if pair is None:
            raise self._error(f"line {line}: unreadable {SUBJECT_NAME} row {text[:80]!r}")
        self.subjects.append(SessionSubject(pair[0], pair[1].strip()))
        if len(self.subjects) > MAX_SUBJECTS:
            raise self._error(f"it names more than {MAX_SUBJECTS} subjects")

    def _session(self) -> RecordedSession:
        if not self.uuid4:
            raise self._error(f"it has no {UUID4_FLAG} header: not a PyBpod session file")
        try:
            uuid.UUID(self.uuid4)
        except ValueError:
            raise self._error(
                f"its {UUID4_FLAG} header is not a uuid: {self.uuid4[:80]!r}"
            ) from None
        info = self.info
        if SESSION_STARTED not in info:
            raise self._error(f"it has no {SESSION_STARTED} row: not a PyBpod session file")
        return RecordedSession(
            path=self.path,
            name=info.get(SESSION_NAME) or self.path.stem,
            uuid4=self.uuid4,
            started=self._time(SESSION_STARTED, info[SESSION_STARTED]),
            ended=self.ended,
            subjects=tuple(self.subjects),
            creator=self._creator(info.get(CREATOR_NAME, "")),
            protocol=info.get(PROTOCOL_NAME, ""),
            project=info.get(PROJECT_NAME, ""),
            experiment=info.get(EXPERIMENT_NAME, ""),
            setup=info.get(SETUP_NAME, ""),
            board=info.get(BOARD_NAME, ""),
            n_trials=self.n_trials,
            values=self.values,
        )

    def _time(self, name: str, text: str) -> datetime.datetime:
        """A PyBpod time (``str(datetime.now())``), naive; a zone, if any, is dropped."""
        try:
            return datetime.datetime.fromisoformat(text.strip()).replace(tzinfo=None)
        except ValueError:
            raise self._error(f"{name} is not a date and time: {text[:80]!r}") from None

    def _creator(self, text: str) -> SessionCreator | None:
        """``'["alice", "<uuid4>", "ALYX"]'`` (JSON), or ``null`` when no user was logged in."""
        if text.strip() in ("", "null", "None"):
            return None
        triple = creator_triple(text)
        if triple is None:
            raise self._error(f"unreadable {CREATOR_NAME} row {text[:80]!r}")
        return SessionCreator(*triple)

    def _error(self, problem: str) -> SessionFileError:
        return SessionFileError(f"{self.path}: {problem}")
