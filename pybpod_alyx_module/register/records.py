"""What goes to Alyx for a PyBpod session: one registration per Alyx subject, as plain JSON.

A registration is built once, when the session is queued, and stored in the outbox as
JSON: retries send exactly the same fields. Only what depends on the server's state is
decided when sending (:mod:`.sender`): the session's number (the next free one for the
subject and day) and whether the location exists.

Times are the rig's naive wall-clock times turned into the server's wall-clock times
(:mod:`.times`): ``start_time`` and the weighing at the session's start, ``end_time`` and
the water at its end. The zones used are kept in the payload (``times``), so that the
sender reads Alyx's answers on the same clock, whatever the settings say later.

A registration names its subject with the server the subject was synced from
(``subject.server``, recorded by the sync): the sender refuses to send it anywhere else,
and refuses a subject whose server was never recorded.
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
from .times import ServerTimes
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
    url: str  # its Alyx detail URL: its key there (weighings and water name it so)
    #: ``scheme://host[:port]`` of the Alyx it was synced from, as the sync recorded it
    #: (empty: never recorded, so its records are sent nowhere).
    server: str = ""

    @property
    def record_key(self) -> str:
        """How weighings and water name it: the last part of its detail URL.

        ``nickname`` on cortex-lab's layout, ``lab__nickname`` on alyx-local's.
        """
        tail = unquote(urlsplit(self.url).path.rstrip("/").rsplit("/", 1)[-1])
        return tail or self.nickname


def alyx_time(moment: datetime.datetime) -> str:
    """A rig's naive time as text (outbox keys and labels): ISO 8601, seconds, no zone.

    What is *sent* is the server's time of it (:meth:`.times.ServerTimes.sent`).
    """
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

    Raises
    ------
    TimeZoneError
        A time zone setting names no zone known here.
    """
    assert session.ended is not None
    times = ServerTimes.of(options)
    users = [session.creator.name] if session.creator else []
    body: dict[str, Any] = {
        "subject": subject.nickname,
        "users": users,
        "lab": subject.lab,
        "projects": list(subject.projects),
        "procedures": list(options.procedures),
        "type": SESSION_TYPE,
        "task_protocol": task_protocol(session.protocol, project_folder),
        "start_time": times.sent(session.started),
        "end_time": times.sent(session.ended),
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
        else weighing_body(subject, values.weight_g, session.started, user, times),
        "water": None
        if values.water_ml is None
        else {
            "subject": subject.record_key,
            "water_administered": values.water_ml,
            "water_type": options.water_type,
            "date_time": times.sent(session.ended),
            **({"user": user} if user else {}),
        },
        "source": str(session.path),
        "times": zones_field(times),
    }


def weighing_body(
    subject: AlyxSubject,
    grams: float,
    when: datetime.datetime,
    user: str | None,
    times: ServerTimes,
) -> dict[str, Any]:
    """``POST /weighings`` body; ``when`` is the rig's time."""
    body = {"subject": subject.record_key, "weight": grams, "date_time": times.sent(when)}
    if user:
        body["user"] = user
    return body


def weighing_registration(
    subject: AlyxSubject,
    grams: float,
    when: datetime.datetime,
    user: str | None,
    times: ServerTimes | None = None,
) -> dict[str, Any]:
    """A weighing on its own (``pybpod-alyx weigh``); ``when`` is the rig's time.

    ``times`` are the zones (the settings' :meth:`.times.ServerTimes.of`; by default this
    computer's zone and the default server zone).
    """
    times = times or ServerTimes()
    return {
        "kind": "weighing",
        "subject": _subject_fields(subject),
        "weighing": weighing_body(subject, grams, when, user, times),
        "times": zones_field(times),
    }


def zones_field(times: ServerTimes) -> dict[str, str]:
    """The payload's record of the zones its times were converted with."""
    return {"rig_zone": times.rig_zone, "server_zone": times.server_zone}


def payload_times(payload: dict[str, Any]) -> ServerTimes:
    """The zones a payload's times were converted with (see :func:`zones_field`).

    A payload without them (queued by hand, or by an older version) was sent as read:
    its answers are compared on UTC's clock, which is how a ``Z`` answer reads.
    """
    zones = payload.get("times") if isinstance(payload.get("times"), dict) else {}
    return ServerTimes(str(zones.get("rig_zone") or ""), str(zones.get("server_zone") or "UTC"))


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
