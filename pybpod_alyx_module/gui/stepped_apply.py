"""Applying a sync plan on the GUI thread a little at a time, so that the window keeps painting.

Creating a PyBpod subject builds its widgets, so it must happen on the GUI
thread, and thousands in one go would freeze the window for seconds. Each turn
applies steps of :func:`~.project_sync.apply_in_steps` for up to
:data:`TURN_BUDGET` seconds, then gives the event loop :data:`PAUSE_MS` before
the next turn. Python's full garbage collections are held back meanwhile
(:mod:`.gc_pause`).
"""

from __future__ import annotations

import time
from typing import Any, Callable

from AnyQt.QtCore import QTimer

from pybpod_alyx_module.sync import SyncCancelled, SyncPlan, SyncResult

from .gc_pause import FullCollectionHold
from .project_sync import apply_in_steps

#: Longest time (s) the GUI thread spends applying subjects before letting the event loop run.
TURN_BUDGET = 0.03
#: Pause (ms) between two turns: a zero pause lets Qt run turn after turn before other
#: timers and paint events get a go.
PAUSE_MS = 5


class SteppedApply:
    """One plan being applied; the callbacks say how it goes and how it ends (exactly one end).

    Parameters
    ----------
    project, plan, ask
        As for :func:`~.project_sync.apply_in_steps` (``ask`` answers "Replace local details?").
    on_progress
        ``(added, to_add)`` after each turn.
    on_done, on_cancelled, on_failed
        The end: the :class:`SyncResult`; nothing (a question was cancelled, the project
        is unchanged); the exception.
    """

    def __init__(
        self,
        project: Any,
        plan: SyncPlan,
        ask: Callable[[Any], str],
        on_progress: Callable[[int, int], None],
        on_done: Callable[[SyncResult], None],
        on_cancelled: Callable[[], None],
        on_failed: Callable[[BaseException], None],
    ) -> None:
        self._steps = apply_in_steps(project, plan, ask)
        self._to_add = len(plan.to_add)
        self._result: SyncResult | None = None
        self._hold = FullCollectionHold()
        self._on_progress, self._on_done = on_progress, on_done
        self._on_cancelled, self._on_failed = on_cancelled, on_failed

    @property
    def running(self) -> bool:
        return self._steps is not None

    def start(self) -> SteppedApply:
        self._turn()
        return self

    def _turn(self) -> None:
        if self._steps is None:
            return
        deadline = time.perf_counter() + TURN_BUDGET
        try:
            while time.perf_counter() <= deadline:
                self._result = next(self._steps)
        except StopIteration:
            self._finish()
            self._on_done(self._result)
        except SyncCancelled:
            self._finish()
            self._on_cancelled()
        except Exception as exc:
            self._finish()
            self._on_failed(exc)
        else:
            self._on_progress(len(self._result.added), self._to_add)
            QTimer.singleShot(PAUSE_MS, self._turn)

    def _finish(self) -> None:
        self._steps = None
        self._hold.release()
