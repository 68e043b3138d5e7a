"""What goes to Alyx for a PyBpod session: one registration per Alyx subject, as plain JSON.

A registration is built once, when the session is queued, and stored in the outbox as
JSON: retries send exactly the same fields. Only what depends on the server's state is
decided when sending (:mod:`.sender`): the session's number (the next free one for the
subject and day) and whether the location exists.

Times are the rig's naive local times, sent without a zone (see :mod:`.session_file`):
``start_time`` and the weighing at the session's start, ``end_time`` and the water at
its end.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pybpod_alyx_module import __version__

from .options import RegisterOptions
from .session_file import RecordedSession
from .values import TaskValues

SESSION_TYPE = "Experiment"


@dataclass(frozen=True)
class AlyxSubject:
    """An Alyx subject of a PyBpod project, as the sync saved it in the subject's JSON."""

    uuid4: str  # the PyBpod subject's uuid4 (what sessions name)
    name: str  # its PyBpod name
    alyx_id: str
    nickname: str
    lab: str
    projects: tuple[str, ...]
    url: str  # its Alyx detail URL: names the server it came from, and its key there

    @property
    def server(self) -> str:
        """``scheme://host:port`` of the Alyx it was synced from."""
        return origin(self.url)

    @property
    def record_key(self) -> str:
        """How weighings and water name it: the last part of its detail URL.

        ``nickname`` on cortex-lab's layout, ``lab__nickname`` on alyx-local's.
        """
        tail = unquote(urlsplit(self.url).path.rstrip("/").rsplit("/", 1)[-1])
        return tail or self.nickname


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased: what "the same server" compares."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}" if parts.netloc else ""


def alyx_time(moment: datetime.datetime) -> str:
    """A naive local time as sent to Alyx: ISO 8601, seconds precision, no zone."""
    return moment.replace(microsecond=0, tzinfo=None).isoformat()


def task_protocol(protocol: str, project_folder: str | Path | None) -> str:
    """The task's name plus a short hash of its file (``name/1a2b3c4d``), to tell versions apart.

    The task file is ``<project>/tasks/<name>/<name>.py`` as PyBpod lays it out; a task
    that is not there any more is named alone.
    """
    if not protocol or project_folder is None:
        return protocol
    task_file = Path(project_folder) / "tasks" / protocol / f"{protocol}.py"
    try:
        digest = hashlib.sha256(task_file.read_bytes()).hexdigest()[:8]
    except OSError:
        return protocol
    return f"{protocol}/{digest}"


def registration_key(session_uuid4: str, subject: AlyxSubject) -> str:
    """The outbox key of a session's registration for one subject (queued once, ever)."""
    return f"session:{session_uuid4}:{subject.alyx_id}"


def session_registration(
    session: RecordedSession,
    subject: AlyxSubject,
    values: TaskValues,
    options: RegisterOptions,
    project_folder: str | Path | None,
) -> dict[str, Any]:
    """The registration of ``session`` for one of its Alyx subjects (a JSON-ready dict).

    The caller checked that the session ended (``session.ended``).
    """
    assert session.ended is not None
    users = [session.creator.name] if session.creator else []
    body: dict[str, Any] = {
        "subject": subject.nickname,
        "users": users,
        "lab": subject.lab,
        "projects": list(subject.projects),
        "procedures": list(options.procedures),
        "type": SESSION_TYPE,
        "task_protocol": task_protocol(session.protocol, project_folder),
        "start_time": alyx_time(session.started),
        "end_time": alyx_time(session.ended),
        "n_trials": session.n_trials,
        "narrative": values.narrative,
        "json": {
            "pybpod_session_uuid4": session.uuid4,
            "pybpod_session": session.name,
            "pybpod_project": session.project,
            "pybpod_experiment": session.experiment,
            "pybpod_setup": session.setup,
            "pybpod_board": session.board,
            "pybpod_alyx_module": __version__,
        },
    }
    if values.n_correct_trials is not None:
        body["n_correct_trials"] = values.n_correct_trials
    user = users[0] if users else None
    return {
        "kind": "session",
        "subject": _subject_fields(subject),
        "session": body,
        "location": options.location_for(session.setup),
        "weighing": None
        if values.weight_g is None
        else weighing_body(subject, values.weight_g, session.started, user),
        "water": None
        if values.water_ml is None
        else {
            "subject": subject.record_key,
            "water_administered": values.water_ml,
            "water_type": options.water_type,
            "date_time": alyx_time(session.ended),
            **({"user": user} if user else {}),
        },
        "source": str(session.path),
    }


def weighing_body(
    subject: AlyxSubject, grams: float, when: datetime.datetime, user: str | None
) -> dict[str, Any]:
    """``POST /weighings`` body."""
    body = {"subject": subject.record_key, "weight": grams, "date_time": alyx_time(when)}
    if user:
        body["user"] = user
    return body


def weighing_registration(
    subject: AlyxSubject, grams: float, when: datetime.datetime, user: str | None
) -> dict[str, Any]:
    """A weighing on its own (``pybpod-alyx weigh``)."""
    return {
        "kind": "weighing",
        "subject": _subject_fields(subject),
        "weighing": weighing_body(subject, grams, when, user),
    }


def weighing_key(subject: AlyxSubject, when: datetime.datetime, grams: float) -> str:
    return f"weighing:{subject.alyx_id}:{alyx_time(when)}:{grams:g}"


def _subject_fields(subject: AlyxSubject) -> dict[str, Any]:
    return {
        "id": subject.alyx_id,
        "nickname": subject.nickname,
        "lab": subject.lab,
        "name": subject.name,
        "url": subject.url,
        "server": subject.server,
    }
