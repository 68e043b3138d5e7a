"""One sync from Alyx into a PyBpod project: its steps in their order, for the CLI and the GUI.

The steps are recover → lock → open → check writable → download (and details) → plan →
ask → apply → save. This module is the one place that strings them together:

- the command line runs them all on a folder with :func:`sync_folder`, and only
  prints what :class:`SyncEvents` tells it, asks through its
  :class:`~.apply.OverridePolicy`, and turns the :class:`SyncOutcome` into an exit code;
- the GUI's project is already open in PyBpod (recovered when it was opened, written by
  PyBpod's Save), so it runs :func:`download_and_plan` on its worker thread (on a
  snapshot of the project), asks its questions with :func:`~.apply.decide_updates`, and
  walks :func:`locked_apply` on the GUI thread a few steps per turn, adding only its
  threads, dialogs, progress and tree items.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.alyx.details import DetailFailure
from pybpod_alyx_module.errors import Cancelled

from .apply import ApplyStep, Decisions, OverridePolicy, SyncResult, apply_plan, iter_apply
from .disk import check_writable
from .download import (
    SubjectSelection,
    add_details,
    download_subjects,
    records_to_detail,
    with_details,
)
from .journal import recover_interrupted_sync
from .lock import project_lock
from .plan import SyncPlan, plan_subjects
from .project_files import open_project
from .save import save_sync
from .users import check_user_name

#: The download stages :class:`SyncEvents` reports progress of.
SUBJECTS, DETAILS = "subjects", "details"

#: ``progress(done, total)``; ``total`` is ``None`` until the server said it.
Progress = Callable[[int, Optional[int]], None]


class SaveInterrupted(Cancelled):
    """Interrupted (Ctrl-C) while saving: each file is whole, old or new."""


@dataclass(frozen=True)
class SyncRequest:
    """What to sync: which subjects, and what else besides their list entries.

    ``details`` adds weighings and water administrations (two lists per 50 subjects);
    ``import_users`` adds the users of the Alyx projects the synced subjects belong to.
    """

    selection: SubjectSelection = field(default_factory=SubjectSelection)
    details: bool = False
    import_users: bool = False


class SyncEvents:
    """What a sync tells its caller as it goes; each method does nothing here.

    The command line overrides them to print; the GUI's worker passes its progress only.
    """

    def recovered(self, message: str) -> None:
        """An interrupted sync of the folder was completed or undone first."""

    def started(self, project: Any) -> None:
        """The project is open and writable: the download begins."""

    def progress(self, stage: str, done: int, total: int | None) -> None:
        """``done`` of ``total`` of a download ``stage`` (:data:`SUBJECTS`, :data:`DETAILS`)."""

    def detail_failed(self, failure: DetailFailure) -> None:
        """One subject's weighings or water could not be read (it keeps what it had)."""

    def saving(self) -> None:
        """Every change is made in memory; writing them begins."""


@dataclass
class DownloadedPlan:
    """The Alyx records of a sync and the plan made from them (nothing has changed yet)."""

    records: list[dict[str, Any]]
    plan: SyncPlan
    #: The connected Alyx user, checked to be a possible PyBpod user name.
    username: str
    #: Other Alyx users to add as project users (``SyncRequest.import_users``).
    colleagues: list[str] = field(default_factory=list)
    #: Subjects whose details could not be read (``SyncRequest.details``).
    detail_failures: list[DetailFailure] = field(default_factory=list)

    def replanned(self, project: Any) -> SyncPlan:
        """The plan made again from the same records, for ``project`` as it is now.

        Planning is fast and only the download was slow: a project changed during the
        download (the GUI's) is planned again rather than downloaded again.
        """
        return plan_subjects(
            project, self.records, username=self.username, other_users=self.colleagues
        )


@dataclass
class SyncOutcome:
    """What :func:`sync_folder` did: the project, the plan, and the result (``None``: a dry run)."""

    project: Any
    downloaded: DownloadedPlan
    result: SyncResult | None


def download_and_plan(
    client: AlyxClient,
    project: Any,
    request: SyncRequest,
    events: SyncEvents | None = None,
) -> DownloadedPlan:
    """Every record the sync needs, then the plan against ``project``; changes nothing.

    ``project`` is only read (its subjects and users): the GUI passes a snapshot, so this
    runs off its GUI thread. Details are fetched only for the subjects the sync keeps.

    Raises
    ------
    UnsafeUserName
        The connected Alyx user name cannot be a PyBpod user.
    AlyxError
        The download failed; nothing was planned.
    """
    events = events or SyncEvents()
    username = check_user_name(client.username or "")
    records = download_subjects(
        client, request.selection, project.subjects, progress=_stage(events, SUBJECTS)
    )
    failures: list[DetailFailure] = []
    if request.details:
        kept = records_to_detail(records, plan_subjects(project, records, username=username))
        detailed = add_details(
            client, kept, progress=_stage(events, DETAILS), on_failure=failures.append
        )
        for failure in failures:
            events.detail_failed(failure)
        records = with_details(records, detailed)
    colleagues = project_users(client, records) if request.import_users else []
    plan = plan_subjects(project, records, username=username, other_users=colleagues)
    return DownloadedPlan(records, plan, username, colleagues, failures)


def sync_folder(
    client: AlyxClient,
    folder: str | os.PathLike,
    request: SyncRequest,
    policy: OverridePolicy,
    create: bool = False,
    dry_run: bool = False,
    events: SyncEvents | None = None,
) -> SyncOutcome:
    """The whole sync of a project folder, headless, holding its lock throughout.

    A second sync of the folder (command line or GUI) waits a little, then stops. An
    interrupted sync is completed (or undone) first; a folder that cannot be written is
    refused before the download. Every question is asked before the first change
    (``policy``); ``dry_run`` stops after the plan.

    Raises
    ------
    ProjectError
        The folder is busy, not a project (``create``: nor empty), not writable, or the
        save failed (the message says what is on disk).
    SyncCancelled
        A question was cancelled; nothing changed.
    SaveInterrupted
        Interrupted while saving: each file is whole, and a new sync completes it.
    AlyxError
        The download failed; nothing changed.
    """
    events = events or SyncEvents()
    with project_lock(folder, create=create):
        recovered = recover_interrupted_sync(folder)
        if recovered:
            events.recovered(recovered)
        project = open_project(folder, create=create)
        check_writable(project.path)
        events.started(project)
        downloaded = download_and_plan(client, project, request, events)
        if dry_run:
            return SyncOutcome(project, downloaded, None)
        result = apply_plan(project, downloaded.plan, policy)
        events.saving()
        try:
            save_sync(project, result)
        except KeyboardInterrupt:
            raise SaveInterrupted(
                "Interrupted while saving: each file is whole, old or new; "
                "run the sync again to complete it."
            ) from None
        return SyncOutcome(project, downloaded, result)


def locked_apply(
    project: Any,
    plan: SyncPlan,
    decisions: Decisions,
    batch: int | None = None,
    create_subject: Callable[[Any], Any] | None = None,
    lock_timeout: float | None = None,
) -> Iterator[ApplyStep]:
    """The plan's changes a step at a time (:func:`~.apply.iter_apply`), under the project's lock.

    For a project open elsewhere (the GUI's): the lock is held from the first step until
    the generator ends, fails or is closed, so that no command-line sync of the same folder
    interleaves. A project not saved in a folder yet has no lock to take.
    """
    options = {} if create_subject is None else {"create_subject": create_subject}
    with _folder_lock(project, lock_timeout):
        yield from iter_apply(project, plan, decisions, batch=batch, **options)


def project_users(client: AlyxClient, records: list[dict[str, Any]]) -> list[str]:
    """The users of the Alyx projects the synced subjects belong to."""
    names = {p for record in records for p in (record.get("projects") or [])}
    return sorted(
        {u for p in client.projects() if p.get("name") in names for u in p.get("users", [])}
    )


def _stage(events: SyncEvents, stage: str) -> Progress:
    return lambda done, total: events.progress(stage, done, total)


def _folder_lock(project: Any, timeout: float | None) -> contextlib.AbstractContextManager:
    path = getattr(project, "path", None)
    if path and Path(path).is_dir():
        return project_lock(path, timeout=timeout, create=False)
    return contextlib.nullcontext()
