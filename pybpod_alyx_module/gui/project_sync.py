"""One "Get Subjects" run, split by thread: download and plan on the worker, apply on the GUI thread.

:func:`download_and_plan` touches only the network and a :class:`ProjectSnapshot`;
:func:`walk_apply` walks the core's :func:`~pybpod_alyx_module.sync.iter_apply` on the
GUI thread (it builds tree nodes and widgets), and after each of its steps does what
only the GUI needs: the tree items of removed subjects go, the Alyx menu entries of
added and updated subjects appear. Every PyBpod internal it needs is in
:mod:`pybpod_alyx_module.pybpod_internals`.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pybpod_alyx_module import pybpod_internals as internals
from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.sync import (
    ApplyStep,
    Decisions,
    SubjectSelection,
    SyncPlan,
    download_subjects,
    iter_apply,
    plan_subjects,
)
from pybpod_alyx_module.sync.lock import project_lock

from .background import Report
from .snapshot import ProjectSnapshot

logger = logging.getLogger(__name__)

#: Seconds the GUI thread waits for another sync of the same folder before giving up.
LOCK_TIMEOUT = 1.0
#: Subjects per step of the apply. A new PyBpod subject builds its widgets (~4 ms each, more
#: on a busy machine): one per step lets a turn stop close to its time budget.
BATCH = 1


@dataclass
class DownloadedPlan:
    """What the worker hands back: the Alyx records and the plan made on the snapshot."""

    records: list[dict[str, Any]]
    plan: SyncPlan
    snapshot: ProjectSnapshot


def download_and_plan(
    client: AlyxClient,
    selection: SubjectSelection,
    snapshot: ProjectSnapshot,
    report: Report,
) -> DownloadedPlan:
    """Worker thread: every record of ``selection``, then the plan against ``snapshot``."""
    records = download_subjects(client, selection, snapshot.subjects, progress=report)
    plan = plan_subjects(snapshot, records, username=client.username)
    return DownloadedPlan(records, plan, snapshot)


def plan_for_project(project: Any, downloaded: DownloadedPlan, username: str | None) -> SyncPlan:
    """GUI thread: the worker's plan, on the real subjects.

    If the project changed while downloading (a subject added, removed or
    renamed), the worker's plan may be wrong: it is made again from the same
    records, here (planning is fast; only the download was slow).
    """
    if downloaded.snapshot.is_current(project):
        return downloaded.snapshot.translate(downloaded.plan)
    logger.info("The project changed during the download; planning again")
    return plan_subjects(project, downloaded.records, username=username)


def walk_apply(
    project: Any, plan: SyncPlan, decisions: Decisions, batch: int = BATCH
) -> Iterator[ApplyStep]:
    """GUI thread: the core's steps, each followed by the GUI's share; yields each step.

    The caller runs a few steps per turn of the event loop. Meanwhile the project's
    sync lock is held (no command-line sync of the same folder can interleave) and
    Python's full garbage collections wait, until the generator ends, fails or is closed.
    """
    create = internals.gui_subject_factory(project)
    with _sync_lock(project), internals.full_collections_held():
        for step in iter_apply(project, plan, decisions, batch=batch, create_subject=create):
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
            yield step


def _sync_lock(project: Any) -> contextlib.AbstractContextManager:
    """The project's sync lock, for a project saved in a folder (a new one has none yet)."""
    path = getattr(project, "path", None)
    if path and os.path.isdir(path):
        return project_lock(path, timeout=LOCK_TIMEOUT)
    return contextlib.nullcontext()
