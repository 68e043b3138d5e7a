"""A bound on how many requests one client sends a minute, whatever the server says.

After an outage every rig flushes its outbox at once; a server that answers ``Retry-After:
0`` (or nothing) would otherwise get as many requests as the rigs can send. One
:class:`RateLimiter` is shared by every thread of a client (page workers, flush workers):
each request takes a slot before it is sent, and no window of :data:`WINDOW` seconds ever
holds more slots than the limit allows.

Examples
--------
A fake clock that never moves: the first two slots are at once, the third a minute later.

>>> waits = []
>>> limiter = RateLimiter(2, clock=lambda: 100.0, sleep=waits.append)
>>> [limiter.acquire() for _ in range(3)], waits
([0.0, 0.0, 60.0], [60.0])
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Callable

#: The window the limit counts in, in seconds.
WINDOW = 60.0
#: The highest limit accepted (1,000 requests a second): beyond, ask for no limit.
MAX_PER_MINUTE = 60_000.0


class RateLimiter:
    """At most ``per_minute`` request starts in any minute, shared by every thread.

    Parameters
    ----------
    per_minute
        Requests a minute, rounded down; under 1 (say 0.5), one request every
        ``60 / per_minute`` seconds.
    clock, sleep
        Where time comes from and how it passes (a test's fake clock).

    Each caller reserves the earliest slot that keeps every window within the limit, under
    a lock, and then sleeps until it outside the lock: callers are served in the order they
    came, and no one spins.
    """

    def __init__(
        self,
        per_minute: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if isinstance(per_minute, bool) or not isinstance(per_minute, (int, float)):
            raise ValueError(f"requests a minute must be a number, got {per_minute!r}")
        if not 0 < per_minute <= MAX_PER_MINUTE:
            raise ValueError(
                f"requests a minute must be above 0 and at most {MAX_PER_MINUTE:,.0f} "
                f"(or None for no limit), got {per_minute!r}"
            )
        self.per_minute = float(per_minute)
        #: Slots in any window of :attr:`window` seconds.
        self.slots = max(1, math.floor(per_minute))
        self.window = WINDOW if per_minute >= 1 else WINDOW / per_minute
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        #: The last :attr:`slots` slots given, oldest first (some may lie in the future).
        self._given: deque[float] = deque(maxlen=self.slots)

    def __repr__(self) -> str:
        return f"RateLimiter({self.per_minute:g} a minute)"

    def acquire(self) -> float:
        """Wait for this request's slot; return the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = now
            if len(self._given) == self.slots:
                slot = max(now, self._given[0] + self.window)
            self._given.append(slot)
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return wait


def limiter_for(per_minute: float | None, sleep: Callable[[float], None]) -> RateLimiter | None:
    """The limiter for a client's ``max_requests_per_minute`` (``None``: no limit)."""
    return None if per_minute is None else RateLimiter(per_minute, sleep=sleep)
