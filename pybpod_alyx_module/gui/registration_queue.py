"""One PyBpod run's registrations, with what the operator typed in the GUI (no Qt).

:func:`~pybpod_alyx_module.register.prepare_sessions` builds a session's registrations from
its file alone. In the GUI the operator may also have typed, per subject, the weight read
on the scale before the run ("Weigh before the run") and the water given when the task
reports none; these travel in the same registration, so the weighing and the water are
sent with the session, exactly once, through the outbox.

Precedence, per subject: the typed weight wins over a weight the task reported (the
operator read it on the scale just now); the task's water wins over typed water (the
task counted every drop it gave, the dialog only asks when it did not).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from pybpod_alyx_module.register import (
    AlyxSubject,
    PreparedSessions,
    RegisterOptions,
    Registration,
    prepare_sessions,
    read_session,
)
from pybpod_alyx_module.register.records import session_registration
from pybpod_alyx_module.register.values import row_names, subject_values


def run_registrations(
    session_file: str | Path,
    subjects: Mapping[str, AlyxSubject],
    options: RegisterOptions,
    project_folder: str | Path,
    weights_g: Mapping[str, float] | None = None,
    water_ml: Mapping[str, float] | None = None,
) -> PreparedSessions:
    """The registrations of one session file, with typed weights and water.

    Parameters
    ----------
    subjects
        The project's Alyx subjects by PyBpod uuid4 (:func:`~pybpod_alyx_module.register.alyx_subjects`).
    weights_g, water_ml
        PyBpod subject uuid4 -> grams weighed before the run / millilitres given.

    Returns
    -------
    PreparedSessions
        Its registrations, or the reason it cannot be registered (never ended, no Alyx subject…).
    """
    prepared = prepare_sessions([Path(session_file)], subjects, options, project_folder)
    weights_g, water_ml = dict(weights_g or {}), dict(water_ml or {})
    if prepared.problems or not (weights_g or water_ml):
        return prepared
    session = read_session(session_file, list(row_names(options.value_names).values()))
    values = subject_values(session.values, options.value_names, session.subjects)
    by_alyx_id = {subject.alyx_id: subject for subject in subjects.values()}
    typed = PreparedSessions(problems=prepared.problems)
    for registration in prepared.registrations:
        subject = by_alyx_id[registration.payload["subject"]["id"]]
        task = values[subject.uuid4]
        water = task.water_ml if task.water_ml is not None else water_ml.get(subject.uuid4)
        own = dataclasses.replace(
            task, weight_g=weights_g.get(subject.uuid4, task.weight_g), water_ml=water
        )
        payload = session_registration(session, subject, own, options, project_folder)
        typed.registrations.append(Registration(registration.key, registration.label, payload))
    return typed
