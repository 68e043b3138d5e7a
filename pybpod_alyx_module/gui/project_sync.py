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
    decide_updates,
    download_subjects,
    plan_subjects,
)
from pybpod_alyx_module.sync.project_files import subjects_set_aside

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
    accepted, declined = decide_updates(plan, OverridePolicy(ask=ask))
    approved = OverridePolicy("yes")
    first = dataclasses.replace(plan, to_add=[], to_update=accepted)
    result = _apply_part(project, first, approved)
    result.declined = declined
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
    current = _DeferredCurrentItem(tree)
    project.create_subject = _quick_create_subject(project)
    try:
        result = apply_plan(project, plan, policy)
        for subject in result.removed:
            _drop_subject_node(project, subject)
        for subject in [*result.added, *result.updated]:
            refresh = getattr(subject, "refresh_alyx_state", None)
            if refresh is not None:
                refresh()
    finally:
        del project.create_subject  # PyBpod's own method again
        current.restore()
        tree.setUpdatesEnabled(True)
        tree.item_selection_changed_event = selection_event
    return result


class _DeferredCurrentItem:
    """Makes ``tree.setCurrentItem`` a note while a part is applied; the last one is made at the end.

    PyBpod's ``create_subject`` makes each new subject the tree's current item. In a
    shown tree that scrolls to the item, which first lays out every row again (Qt
    lays out lazily, and adding a row invalidated the layout): a cost that grows
    with the project, ~0.7 ms per thousand subjects, paid for every subject. Only the
    last call of a part can be seen (no event is handled in between, and the
    selection event is silenced anyway), so only that one is made.
    """

    def __init__(self, tree: Any) -> None:
        self._tree = tree
        self._item: Any = None
        tree.setCurrentItem = self._note  # shadows the Qt method for Python callers

    def _note(self, item: Any, *args: Any) -> None:
        self._item = (item, *args)

    def restore(self) -> None:
        del self._tree.setCurrentItem
        if self._item is not None:
            self._tree.setCurrentItem(*self._item)


def _quick_create_subject(project: Any) -> Callable[[], Any]:
    """PyBpod's ``project.create_subject``, without its scan of every subject's name.

    In the GUI each name read is a Qt call (a subject's name is its tree item's
    text): 5 subjects took 60 ms at 3,000 subjects, 17 ms without the scan
    (see :func:`~pybpod_alyx_module.sync.project_files.subjects_set_aside`).
    """
    create_subject = type(project).create_subject.__get__(project)

    def create() -> Any:
        with subjects_set_aside(project):
            return create_subject()

    return create


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
