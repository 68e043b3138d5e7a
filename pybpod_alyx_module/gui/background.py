"""Running network work off the Qt GUI thread, and hearing back on it.

A worker thread runs the work; a ``QTimer`` on the GUI thread polls its
progress and its end, and calls back there. No Qt object is touched by the
worker, so there are no cross-thread signals to get wrong, and the GUI never
waits: a download of thousands of subjects costs the event loop only the short
poll callbacks (1.x bug 12: everything ran on the GUI thread).

Cancelling is discarding: the GUI forgets the task at once; the worker stops at
its next progress report (or when its current request ends or times out) and
its result is dropped. That is why the work must not change anything the GUI
owns — the sync's worker downloads and plans; applying is the GUI thread's job.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Optional

from AnyQt.QtCore import QTimer

logger = logging.getLogger(__name__)

#: ``report(done, total)``, called by the work; raises :class:`TaskCancelled` once cancelled.
Report = Callable[[int, Optional[int]], None]


class TaskCancelled(Exception):
    """Raised inside the worker by ``report`` once the task was cancelled."""


class BackgroundTask:
    """``work(report)`` on a daemon thread; ``on_done``/``on_error``/``on_progress`` on the GUI thread.

    Parameters
    ----------
    work
        Runs on the worker thread; must not touch Qt objects or the project.
        Calls ``report(done, total)`` to show progress (and to notice a cancel).
    on_done, on_error
        Called on the GUI thread with the result or the exception, unless cancelled.
    on_progress
        Called on the GUI thread with ``(done, total)`` when a new report came in.
    poll_ms
        How often the GUI thread looks (each look costs microseconds).
    """

    def __init__(
        self,
        work: Callable[[Report], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        on_progress: Callable[[int, int | None], None] | None = None,
        poll_ms: int = 30,
    ) -> None:
        self._work = work
        self._on_done = on_done
        self._on_error = on_error
        self._on_progress = on_progress
        self._cancelled = threading.Event()
        self._finished = threading.Event()
        self._result: Any = None
        self._error: BaseException | None = None
        self._progress: tuple[int, int | None] | None = None
        self._shown_progress: tuple[int, int | None] | None = None
        self._timer = QTimer()
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self._poll)
        self._thread = threading.Thread(target=self._run, name="alyx-worker", daemon=True)

    def start(self) -> BackgroundTask:
        self._thread.start()
        self._timer.start()
        return self

    def cancel(self) -> None:
        """Forget the task: no callback will run; the worker stops at its next report."""
        self._cancelled.set()
        self._timer.stop()

    @property
    def running(self) -> bool:
        """True until the task ended and its callback ran, or it was cancelled."""
        return self._timer.isActive()

    # -- worker thread ----------------------------------------------------------

    def _report(self, done: int, total: int | None) -> None:
        if self._cancelled.is_set():
            raise TaskCancelled()
        self._progress = (done, total)  # one tuple assignment: atomic for the poller

    def _run(self) -> None:
        try:
            self._result = self._work(self._report)
        except TaskCancelled:
            pass
        except BaseException as exc:
            self._error = exc
        finally:
            self._finished.set()

    # -- GUI thread ---------------------------------------------------------------

    def _poll(self) -> None:
        if self._cancelled.is_set():
            self._timer.stop()
            return
        progress = self._progress
        if progress is not None and progress != self._shown_progress and self._on_progress:
            self._shown_progress = progress
            _call(self._on_progress, *progress)
        if not self._finished.is_set():
            return
        self._timer.stop()
        if self._error is not None:
            _call(self._on_error, self._error)
        else:
            result, self._result = self._result, None  # handed over, not kept with the task
            _call(self._on_done, result)


def _call(callback: Callable[..., None], *args: Any) -> None:
    """Run a callback from the timer slot; an exception escaping a Qt slot would abort PyQt5."""
    try:
        callback(*args)
    except Exception:
        logger.exception("The Alyx plugin failed while handling a background result")
