"""Holding back Python's full garbage collections while a sync builds thousands of subjects.

CPython collects its oldest generation (a walk over every tracked object of the
process: all of PyBpod, Qt's Python wrappers, every subject) whenever the
objects that survived the younger collections reach a quarter of the old ones.
Building thousands of PyBpod subjects (dozens of Python objects each) crosses
that line again and again: with 3,000 subjects, six full collections of 80 to
150 ms each, on the GUI thread, each a frozen window, growing with the project.

While a sync applies its subjects, :class:`FullCollectionHold` raises the
oldest generation's threshold out of reach: the young collections go on (a few
ms each; they free the short-lived cycles), only the full walks wait. The
previous thresholds come back when the last sync ends; Python then makes its
next full collection at its usual trigger, which is soon after (one pause, the
length of one walk over the grown heap, instead of six during the sync). The
only other difference: cyclic garbage that reached the oldest generation during
the sync is freed by that collection instead of by one of the six.
"""

from __future__ import annotations

import gc
import threading

#: The oldest generation's threshold while held: never reached in a sync.
_OUT_OF_REACH = 1_000_000_000

_lock = threading.Lock()
_holders = 0
_saved: tuple[int, int, int] | None = None


class FullCollectionHold:
    """One sync's hold; :meth:`release` is idempotent (every way a sync ends may call it)."""

    def __init__(self) -> None:
        global _holders, _saved
        self._held = True
        with _lock:
            if _holders == 0:
                _saved = gc.get_threshold()
                young, middle, _ = _saved
                gc.set_threshold(young, middle, _OUT_OF_REACH)
            _holders += 1

    def release(self) -> None:
        global _holders, _saved
        if not self._held:
            return
        self._held = False
        with _lock:
            _holders -= 1
            if _holders == 0 and _saved is not None:
                current = gc.get_threshold()
                if current[2] == _OUT_OF_REACH:  # nobody else changed them meanwhile
                    gc.set_threshold(*_saved)
                _saved = None
