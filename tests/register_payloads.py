"""Registrations built by the plugin's own code without a PyBpod project, for stub tests.

A session is described as the session-file reader would (:class:`RecordedSession`) and
turned into its registration by :func:`session_registration`, so the payloads a stub test
sends are exactly the ones a real session gives.
"""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path
from typing import Any

from pybpod_alyx_module.register import Outbox, RegisterOptions
from pybpod_alyx_module.register.records import (
    AlyxSubject,
    registration_key,
    session_registration,
)
from pybpod_alyx_module.register.session_file import (
    RecordedSession,
    SessionCreator,
    SessionSubject,
)
from pybpod_alyx_module.register.values import TaskValues

#: Rig and server on London time: the stub tests' times are sent as written.
LONDON = RegisterOptions(rig_time_zone="Europe/London", server_time_zone="Europe/London")


def alyx_subject(server: str, nickname: str = "M1", lab: str = "cortexlab") -> AlyxSubject:
    """An Alyx subject synced from ``server`` (alyx-local's layout)."""
    alyx_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{lab}/{nickname}"))
    url = f"{server}/api/subjects/{lab}__{nickname}"
    return AlyxSubject(alyx_id, nickname, alyx_id, nickname, lab, (), url, server)


def session_payload(
    subject: AlyxSubject,
    started: datetime.datetime,
    weight_g: float | None = 21.5,
    water_ml: float | None = 0.5,
    setup: str = "rig1",
    options: RegisterOptions = LONDON,
    session_uuid: str | None = None,
) -> dict[str, Any]:
    """The registration of a 40-minute session of ``subject`` starting at ``started``."""
    session = RecordedSession(
        path=Path(f"{started:%Y%m%d-%H%M%S}.csv"),
        name=f"{started:%Y%m%d-%H%M%S}",
        uuid4=session_uuid or str(uuid.uuid4()),
        started=started,
        ended=started + datetime.timedelta(minutes=40),
        subjects=(SessionSubject(subject.name, subject.uuid4),),
        creator=SessionCreator("alice", "00000000-0000-4000-8000-000000000001", "ALYX"),
        protocol="training",
        project="proj",
        experiment="exp",
        setup=setup,
        board="box",
        n_trials=3,
    )
    values = TaskValues(water_ml=water_ml, weight_g=weight_g)
    return session_registration(session, subject, values, options, None)


def queue_payload(outbox: Outbox, subject: AlyxSubject, payload: dict[str, Any]) -> None:
    """Queue one session registration of ``subject``, keyed as the plugin keys it."""
    key = registration_key(payload["session"]["json"]["pybpod_session_uuid4"], subject)
    assert outbox.add(key, f"{subject.nickname} {payload['session']['start_time']}", payload)
