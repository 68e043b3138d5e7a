"""CPython's garbage collector while thousands of PyBpod subjects are built (no PyBpod import).

Not a PyBpod internal, but the same kind of knowledge: how the interpreter PyBpod runs in
behaves with PyBpod's objects. Standard library only.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: The oldest generation's threshold while held: never reached in a sync.
_OUT_OF_REACH = 1_000_000_000
_gc_lock = threading.Lock()
_gc_holders = 0
_gc_saved: tuple[int, int, int] | None = None


@contextmanager
def full_collections_held() -> Iterator[None]:
    """Hold back Python's full garbage collections meanwhile; the thresholds always come back.

    Why: building thousands of PyBpod subjects (dozens of Python objects each, widgets
    included) makes CPython walk every object of the process again and again (with 3,000
    subjects, six full collections of 80 to 150 ms, each a frozen window). While held, the
    oldest generation's threshold is out of reach: young collections go on, only the
    full walks wait; the previous thresholds come back when the last holder leaves (by
    any way out: the end, an exception, ``close()`` of a generator holding it). Nested and
    concurrent holds share one saved value.

    The walk held back would still come, soon after, as one pause of ~200 ms with 3,000
    subjects (measured: during the next download). So the last holder also frees the young
    generations' garbage and then moves every object alive into CPython's permanent
    generation (``gc.freeze()``): the subjects just built live as long as their project,
    and later full collections no longer walk them. :func:`release_frozen` gives them back
    to the collector when a project closes (the cycles it leaves are freed then).
    """
    global _gc_holders, _gc_saved
    with _gc_lock:
        if _gc_holders == 0:
            _gc_saved = gc.get_threshold()
            young, middle, _ = _gc_saved
            gc.set_threshold(young, middle, _OUT_OF_REACH)
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_saved is not None:
                if gc.get_threshold()[2] == _OUT_OF_REACH:  # nobody else changed them meanwhile
                    gc.set_threshold(*_gc_saved)
                _gc_saved = None
                gc.collect(1)  # the young generations only: a few ms
                gc.freeze()


def release_frozen() -> None:
    """Let full collections walk the objects :func:`full_collections_held` froze (a project closed)."""
    with _gc_lock:
        if _gc_holders == 0:
            gc.unfreeze()
