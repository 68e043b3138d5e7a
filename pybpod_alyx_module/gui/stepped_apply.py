"""Applying a sync plan on the GUI thread a little at a time, so that the window keeps painting.

Creating a PyBpod subject builds its widgets, so it must happen on the GUI thread,
and thousands in one go would freeze the window for seconds; so would thousands of
updates or removals. Every question is asked first (Cancel there changes nothing);
then each turn walks steps of :func:`~.project_sync.walk_apply` (additions, updates
and removals alike) for up to :data:`TURN_BUDGET` seconds, then gives the event loop
:data:`PAUSE_MS` before the next turn.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from AnyQt.QtCore import QTimer

from pybpod_alyx_module import pybpod_internals as internals
from pybpod_alyx_module.sync import (
    OverridePolicy,
    SyncCancelled,
    SyncPlan,
    SyncResult,
    decide_updates,
)

from .project_sync import walk_apply
from .slots import report_error

#: Longest time (s) the GUI thread spends applying subjects before letting the event loop run.
TURN_BUDGET = 0.03
#: Pause (ms) between two turns: a zero pause lets Qt run turn after turn before other
#: timers and paint events get a go.
PAUSE_MS = 5


class SteppedApply:
    """One plan being applied; the callbacks say how it goes and how it ends (exactly one end).

    Parameters
    ----------
    project, plan
        The GUI project and the plan (about its real subjects).
    ask
        Answers "Replace local details?" for a :class:`~pybpod_alyx_module.sync.SubjectUpdate`.
    on_progress
        ``(done, total)`` subjects after each turn.
    on_done, on_cancelled, on_failed
        The end: the :class:`SyncResult`; nothing (a question was cancelled, the project
        is unchanged); the exception and the result so far (``None`` before any change).
        An exception raised by ``on_progress`` ends the apply as failed.
    """

    def __init__(
        self,
        project: Any,
        plan: SyncPlan,
        ask: Callable[[Any], str],
        on_progress: Callable[[int, int], None],
        on_done: Callable[[SyncResult], None],
        on_cancelled: Callable[[], None],
        on_failed: Callable[[BaseException, SyncResult | None], None],
    ) -> None:
        self._project, self._ask = project, ask
        self._plan: SyncPlan | None = plan
        self._steps: Any = None
        self._result: SyncResult | None = None
        self._done = 0
        self._total = 0
        self._running = False
        self._on_progress, self._on_done = on_progress, on_done
        self._on_cancelled, self._on_failed = on_cancelled, on_failed

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> SteppedApply:
        """Ask every question now (modal), then start the turns."""
        self._running = True
        # The walk holds the plan now, and only until it ends: the plan's copies of
        # thousands of Alyx records are not kept beside the subjects made from them.
        plan, self._plan = self._plan, None
        if plan is None:
            raise RuntimeError("an apply starts once")
        try:
            decisions = decide_updates(plan, OverridePolicy(ask=self._ask))
        except SyncCancelled:
            self._end(self._on_cancelled)
            return self
        except Exception as exc:
            self._end(self._on_failed, exc, None)
            return self
        self._total = len(plan.to_add) + len(decisions.accepted) + len(plan.to_remove)
        self._steps = walk_apply(self._project, plan, decisions)
        self._turn()
        return self

    def stop(self) -> None:
        """Stop between two steps (the project closed): no callback runs."""
        self._close_steps()
        self._running = False

    def _turn(self) -> None:
        if self._steps is None:
            return
        deadline = time.perf_counter() + TURN_BUDGET
        try:
            with internals.tree_updates_paused(self._project.tree):
                while time.perf_counter() <= deadline:
                    step = next(self._steps)
                    self._result = step.result
                    self._done += len(step.subjects)
            self._on_progress(self._done, self._total)
        except StopIteration:
            self._end(self._on_done, self._result)
        except Exception as exc:
            self._end(self._on_failed, exc, self._result)
        else:
            QTimer.singleShot(PAUSE_MS, self._turn)

    def _close_steps(self) -> None:
        steps, self._steps = self._steps, None
        if steps is not None:
            steps.close()  # releases the garbage-collection hold

    def _end(self, callback: Callable[..., None], *args: Any) -> None:
        self._close_steps()
        self._running = False
        try:
            callback(*args)
        except Exception as exc:
            report_error(self._project, "the end of an Alyx sync", exc)
