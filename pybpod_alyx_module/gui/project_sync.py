"""One "Get Subjects" run, split by thread: download and plan on the worker, apply on the GUI thread.

The steps are the sync use case's (:mod:`pybpod_alyx_module.sync.session`); this module
only puts them on their threads. :func:`download_and_plan` touches only the network and
a :class:`ProjectSnapshot`; :func:`walk_apply` walks the use case's
:func:`~pybpod_alyx_module.sync.session.locked_apply` on the GUI thread (it builds tree
nodes and widgets), and after each of its steps does what only the GUI needs: the tree
items of removed subjects go, the Alyx menu entries of added and updated subjects
appear. Every PyBpod internal it needs is in :mod:`pybpod_alyx_module.pybpod_internals`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from pybpod_alyx_module import pybpod_internals as internals
from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.sync import ApplyStep, Decisions, SubjectSelection, SyncPlan, session
from pybpod_alyx_module.sync.session import DownloadedPlan, SyncEvents, SyncRequest

from .background import Report
from .snapshot import ProjectSnapshot

logger = logging.getLogger(__name__)

#: Seconds the GUI thread waits for another sync of the same folder before giving up.
LOCK_TIMEOUT = 1.0
#: Subjects per step of the apply. A new PyBpod subject builds its widgets (~4 ms each, more
#: on a busy machine): one per step lets a turn stop close to its time budget.
BATCH = 1


class _Reported(SyncEvents):
    """The download's progress, to the worker's ``report`` (which notices a cancel)."""

    def __init__(self, report: Report) -> None:
        self._report = report

    def progress(self, stage: str, done: int, total: int | None) -> None:
        self._report(done, total)


def download_and_plan(
    client: AlyxClient,
    selection: SubjectSelection,
    snapshot: ProjectSnapshot,
    report: Report,
) -> DownloadedPlan:
    """Worker thread: every record of ``selection``, then the plan against ``snapshot``."""
    return session.download_and_plan(client, snapshot, SyncRequest(selection), _Reported(report))


def plan_for_project(
    project: Any, downloaded: DownloadedPlan, snapshot: ProjectSnapshot
) -> SyncPlan:
    """GUI thread: the worker's plan, on the real subjects.

    If the project changed while downloading (a subject added, removed or
    renamed), the worker's plan may be wrong: it is made again from the same
    records, here (planning is fast; only the download was slow).
    """
    if snapshot.is_current(project):
        return snapshot.translate(downloaded.plan)
    logger.info("The project changed during the download; planning again")
    return downloaded.replanned(project)


def walk_apply(
    project: Any, plan: SyncPlan, decisions: Decisions, batch: int = BATCH
) -> Iterator[ApplyStep]:
    """GUI thread: the use case's steps, each followed by the GUI's share; yields each step.

    The caller runs a few steps per turn of the event loop. Meanwhile the project's
    sync lock is held (no command-line sync of the same folder can interleave) and
    Python's full garbage collections wait, until the generator ends, fails or is closed.
    While a step runs (not between steps), the rows' right-click options it adds are
    built when first read (``pybpod_internals.row_options_when_read``).
    """
    create = internals.gui_subject_factory(project)
    steps = session.locked_apply(
        project, plan, decisions, batch=batch, create_subject=create, lock_timeout=LOCK_TIMEOUT
    )
    with internals.full_collections_held(), contextlib.closing(steps):
        while True:
            with internals.row_options_when_read(project):
                step = next(steps, None)
                if step is None:
                    break
                _gui_share(project, step)
            yield step
        internals.subjects_in_name_order(project)  # the new subjects among the others


def _gui_share(project: Any, step: ApplyStep) -> None:
    """What the GUI does after a step: a removed subject's row and window go, the others'
    Alyx state is shown."""
    if step.kind == "removed":
        for subject in step.subjects:
            close_details = getattr(subject, "close_alyx_details", None)
            if close_details is not None:
                close_details()
            internals.drop_subject_node(project, subject)
    elif step.kind in ("added", "updated"):
        for subject in step.subjects:
            refresh = getattr(subject, "refresh_alyx_state", None)
            if refresh is not None:
                refresh()
