"""The "Get Subjects" flow of the "Alyx connection" window: download, ask, apply, report.

A mixin of :class:`~.connection_window.AlyxConnectionWindow`. The download and the plan
run on a worker thread, on a snapshot of the project (:func:`.project_sync.download_and_plan`);
back on the GUI thread every question is answered first (No / Yes / No to All / Yes to
All / Cancel: Cancel changes nothing), then :class:`~.stepped_apply.SteppedApply` walks
the changes a few subjects per turn of the event loop.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from pybpod_alyx_module import pybpod_internals as internals
from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.sync import SubjectSelection, SyncResult
from pybpod_alyx_module.sync.session import DownloadedPlan

from . import messages
from .project_sync import download_and_plan, plan_for_project
from .slots import guarded_slot
from .snapshot import ProjectSnapshot
from .stepped_apply import SteppedApply

logger = logging.getLogger(__name__)


class GetSubjectsFlow:
    """Get Subjects, its questions, its apply on the GUI thread, and Cancel."""

    project: Any
    connected: bool
    _client: AlyxClient | None
    _task: Any
    _applying: SteppedApply | None
    _lab: Any
    _alyx_project: Any
    _all_alive: Any
    _cancel: Any
    _progress: Any
    _report: Any
    #: The window's: the status line, the buttons' state, a worker task, a question dialog.
    _set_status: Callable[[str], None]
    _set_busy: Callable[[bool], None]
    _start: Callable[..., None]
    question: Callable[..., Any]

    def selection(self) -> SubjectSelection:
        """The subjects the filters ask for (default: the connected user's)."""
        return SubjectSelection(
            lab=self._lab.value.strip() or None,
            project=self._alyx_project.value.strip() or None,
            all_alive=bool(self._all_alive.value),
        )

    @guarded_slot
    def _get_subjects_clicked(self) -> None:
        if not self.connected:
            self._set_status(messages.NOT_CONNECTED)
            self._set_busy(False)
            return
        client = self._client
        selection = self.selection()
        snapshot = ProjectSnapshot.of(self.project)
        self._report.value = ""
        self._progress.show()
        internals.set_progress(self._progress, 0, None)
        self._set_status(messages.downloading(0, None))
        self._start(
            lambda report: download_and_plan(client, selection, snapshot, report),
            on_done=lambda downloaded: self._downloaded(downloaded, snapshot),
            on_error=self._download_failed,
            on_progress=self._downloading,
        )

    @guarded_slot
    def _downloading(self, done: int, total: int | None) -> None:
        internals.set_progress(self._progress, done, total)
        self._set_status(messages.downloading(done, total))

    @guarded_slot
    def _download_failed(self, error: BaseException) -> None:
        self._task = None
        logger.warning("Get Subjects failed: %s", error)
        self._set_status(messages.sync_failed(error))
        self._progress.hide()
        self._set_busy(False)

    @guarded_slot
    def _downloaded(self, downloaded: DownloadedPlan, snapshot: ProjectSnapshot) -> None:
        self._task = None
        self._cancel.enabled = False  # from here on, the questions offer the way out
        try:
            plan = plan_for_project(self.project, downloaded, snapshot)
        except Exception as exc:
            self._apply_failed(exc, None)
            return
        self._set_status("Status: Merging the subjects into the project…")
        self._applying = SteppedApply(
            self.project,
            plan,
            self._ask_override,
            on_progress=self._applying_progress,
            on_done=self._applied,
            on_cancelled=self._apply_cancelled,
            on_failed=self._apply_failed,
        ).start()

    def _applying_progress(self, done: int, total: int) -> None:
        internals.set_progress(self._progress, done, total)
        self._set_status(f"Status: Merging subjects {done}/{total}")

    def _apply_cancelled(self) -> None:
        self._set_status(messages.CANCELLED)
        self._progress.hide()
        self._set_busy(False)

    def _applied(self, result: SyncResult) -> None:
        logger.info("Alyx sync: %s", result.counts())
        self._set_status(messages.summary(result))
        self._report.value = messages.report(result)
        self._progress.hide()
        self._set_busy(False)

    def _apply_failed(self, error: BaseException, result: SyncResult | None) -> None:
        logger.error("Applying the Alyx subjects failed", exc_info=error)
        self._set_status(messages.apply_failed(error, result))
        if result is not None:
            self._report.value = messages.report(result)
        self._progress.hide()
        self._set_busy(False)

    def _ask_override(self, update: Any) -> str:
        """Ask "Replace local details?"; Cancel, Escape, a closed dialog (any other answer) cancel."""
        answer = self.question(
            messages.override_question(update),
            messages.UPDATE_TITLE,
            buttons=list(messages.UPDATE_BUTTONS),
        )
        return answer if answer in messages.UPDATE_BUTTONS else "cancel"

    @guarded_slot
    def _cancel_clicked(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._progress.hide()
        self._set_status(messages.CANCELLED)
        self._set_busy(False)
