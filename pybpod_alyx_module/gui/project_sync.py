"""One "Get Subjects" run, split by thread: download and plan on the worker, apply on the GUI thread.

:func:`download_and_plan` touches only the network and a :class:`ProjectSnapshot`;
:func:`apply_in_steps` runs the core's :func:`~pybpod_alyx_module.sync.apply_plan`
on the GUI thread (it builds tree nodes and widgets), a few subjects per step,
then does what only the GUI needs: the tree items of removed subjects go, the Alyx menu entries of
added and updated subjects appear.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Callable

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.sync import (
    OverridePolicy,
    SubjectSelection,
    SyncPlan,
    SyncResult,
    apply_plan,
    download_subjects,
    plan_subjects,
)

from .background import Report
from .snapshot import ProjectSnapshot

logger = logging.getLogger(__name__)


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


def apply_in_steps(
    project: Any, plan: SyncPlan, ask: Callable[[Any], str], batch: int = 5
) -> Iterator[SyncResult]:
    """GUI thread: apply ``plan`` a few subjects per step; yields the result so far after each.

    Creating a PyBpod subject builds its widgets (~4 ms each): thousands in one
    go would freeze the window for seconds. The caller runs one step per turn
    of the event loop (or several within a time budget).

    Every question is asked at the first step, before any change, as
    :func:`~pybpod_alyx_module.sync.apply_plan` does; a cancel there raises
    :class:`~pybpod_alyx_module.sync.SyncCancelled` and the project is
    unchanged. Each step is one ``apply_plan`` on a part of the plan, with the
    answers already given, so the core stays the only code that changes the
    project; after each step the project is consistent (whole subjects only).
    """
    policy = OverridePolicy(ask=ask)
    accepted = [update for update in plan.to_update if policy.allows(update)]
    approved = OverridePolicy("yes")
    first = dataclasses.replace(plan, to_add=[], to_update=accepted)
    result = _apply_part(project, first, approved)
    result.declined = [u.subject for u in plan.to_update if u not in accepted]
    yield result
    for start in range(0, len(plan.to_add), batch):
        part = SyncPlan(to_add=plan.to_add[start : start + batch])
        result.added.extend(_apply_part(project, part, approved).added)
        yield result


def _apply_part(project: Any, plan: SyncPlan, policy: OverridePolicy) -> SyncResult:
    """One ``apply_plan``, then the GUI's share: removed subjects' items go, Alyx entries appear."""
    tree = project.tree
    # PyBpod selects every subject it creates, and each selection shows that subject's
    # window in the details dock. Silence it meanwhile, as PyBpod's own open_project does.
    selection_event = tree.item_selection_changed_event
    tree.item_selection_changed_event = _do_nothing
    tree.setUpdatesEnabled(False)
    try:
        result = apply_plan(project, plan, policy)
        for subject in result.removed:
            _drop_subject_node(project, subject)
        for subject in [*result.added, *result.updated]:
            refresh = getattr(subject, "refresh_alyx_state", None)
            if refresh is not None:
                refresh()
    finally:
        tree.setUpdatesEnabled(True)
        tree.item_selection_changed_event = selection_event
    return result


def _drop_subject_node(project: Any, subject: Any) -> None:
    """The GUI half of removing a subject the core already took out of the project and setups.

    PyBpod's ``subject.remove(silent=True)`` would also do ``project -= subject``,
    which fails for a subject no longer there; so only its GUI part is done.
    """
    close_details = getattr(subject, "close_alyx_details", None)
    if close_details is not None:
        close_details()
    details = project.mainwindow.details
    if details.value is subject:
        details.value = None
    project.subjects_node.removeChild(subject.node)


def _do_nothing(*args: Any) -> None:
    pass
