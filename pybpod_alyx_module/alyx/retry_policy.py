"""One retry policy for every wait of the client and of the outbox: numbers, not loops.

Like urllib3's ``Retry``, the policy is data: how long any wait may be (a floor and a
ceiling), how waits grow and spread (exponential, jittered), how a ``Retry-After`` is
read, and how long one request may spend waiting for a busy server in all. The client
applies it to every request it sends (:mod:`.exchange`, :mod:`.transport`); the outbox
asks it when an item may be tried again (:meth:`RetryPolicy.backoff`).

Why a floor: a ``Retry-After`` of 0, a negative one, a date in the past or garbage made
the client send again at once, without end. Why a ceiling and a budget: a huge
``Retry-After`` made one request wait (or try) for ever. A request that would have to wait
beyond its budget is not retried: it fails with a :class:`~.errors.ServerBusyError` that
says when the server may take it (``retry_after``), so that the outbox postpones the item.

Examples
--------
>>> policy = RetryPolicy()
>>> policy.retry_after_seconds("120"), policy.retry_after_seconds("0")
(120.0, 1.0)
>>> policy.retry_after_seconds("soon") is None, policy.retry_after_seconds("99999")
(True, 300.0)
>>> policy.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT")  # long past
1.0
>>> [policy.wait(attempt, "7") for attempt in (1, 2, 3)]
[7.0, 7.0, 7.0]
>>> rng = random.Random(0)
>>> [round(policy.wait(attempt, None, rng), 2) for attempt in (1, 2, 3, 4)]
[1.0, 1.76, 2.84, 5.04]
"""

from __future__ import annotations

import math
import random
import re
import time
from dataclasses import dataclass
from email.utils import mktime_tz, parsedate_tz

#: ``Retry-After`` as seconds: digits, with an optional sign and decimals (ASCII only).
_SECONDS = re.compile(r"\s*[+-]?[0-9]+(?:\.[0-9]+)?\s*", re.ASCII)
#: Longer headers are not read: no date or number is that long.
_MAX_HEADER = 100
#: Exponents beyond this double nothing more (2 ** 60 s outlasts any ceiling).
_MAX_DOUBLINGS = 60

#: Where jitter comes from when the caller gives no generator of its own.
_jitter_source = random.Random()


def parse_retry_after(header: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` value asks for, as asked (may be negative or huge).

    Integer or decimal seconds, or an HTTP date (``now`` is the epoch time it is read
    against, the current time by default). ``None`` for no header, or one that is neither
    (``soon``, ``inf``, ``nan``, ``1e3``, a 5 kB string): a wait the server did not name.

    Examples
    --------
    >>> parse_retry_after("1.5"), parse_retry_after(" -3 "), parse_retry_after("nan")
    (1.5, -3.0, None)
    >>> parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now=40.0)
    60.0
    """
    if header is None or len(header) > _MAX_HEADER:
        return None
    if _SECONDS.fullmatch(header):
        return float(header)  # digits only: at worst inf, for a value of 400 digits
    try:
        date = parsedate_tz(header.strip())
        if date is None:
            return None
        when = float(mktime_tz(date))
    except (ValueError, OverflowError, TypeError, IndexError):
        return None
    return when - (time.time() if now is None else now)


@dataclass(frozen=True)
class RetryPolicy:
    """How long the client waits before trying again, and when it stops waiting.

    Parameters
    ----------
    floor
        The shortest wait, in seconds, whatever the server says; also the first wait of a
        request when the server names none.
    ceiling
        The longest single wait of a request. A longer ``Retry-After`` counts as this much.
    base
        The first wait of an outbox item after a failed flush try (:meth:`backoff`).
    item_ceiling
        The longest wait of an outbox item between two tries.
    jitter
        A wait the client chooses is multiplied by ``uniform(1 - jitter, 1)``, so that rigs
        that failed together do not all come back together. A ``Retry-After`` is honoured
        as asked: waiting less would be refused again.
    busy_budget
        The seconds one request may spend waiting in all (busy 429s, failing 502/503/504s);
        a wait beyond it is not made: a :class:`~.errors.ServerBusyError` is raised instead.
    refused_retries
        Tries again after a refused connection (nothing listens at the address), within a
        request. None by default: a refused port is said at once ("is the server running,
        is the port right?"); a server coming back later is the outbox's retry's business.
    """

    floor: float = 1.0
    ceiling: float = 300.0
    base: float = 5.0
    item_ceiling: float = 15 * 60.0
    jitter: float = 0.5
    busy_budget: float = 180.0
    refused_retries: int = 0

    def __post_init__(self) -> None:
        numbers = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name, value in numbers.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"RetryPolicy.{name} must be a number of seconds, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"RetryPolicy.{name} must be finite and >= 0, got {value!r}")
        if self.floor <= 0:
            raise ValueError(f"RetryPolicy.floor must be > 0 s, got {self.floor!r}")
        if self.ceiling < self.floor or self.item_ceiling < self.floor:
            raise ValueError("RetryPolicy ceilings must be at least the floor")
        if not float(self.refused_retries).is_integer():
            raise ValueError(
                f"RetryPolicy.refused_retries must be whole, got {self.refused_retries!r}"
            )
        if self.jitter >= 1:
            raise ValueError(f"RetryPolicy.jitter must be in [0, 1), got {self.jitter!r}")

    def clamped(self, seconds: float) -> float:
        """``seconds`` within ``[floor, ceiling]``."""
        return min(self.ceiling, max(self.floor, seconds))

    def retry_after_seconds(self, header: str | None, now: float | None = None) -> float | None:
        """The wait a ``Retry-After`` asks for, within ``[floor, ceiling]``, or ``None``.

        0, a negative number or a date in the past is the floor; a number or a date too far
        off (``inf`` included) is the ceiling; no header or garbage is ``None`` (the
        client then backs off as if none was given).
        """
        asked = parse_retry_after(header, now)
        return None if asked is None else self.clamped(asked)

    def wait(
        self, attempt: int, retry_after: str | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after ``attempt`` tries of one request, before the next one.

        What ``retry_after`` (the header's text) asks for, within ``[floor, ceiling]``;
        without a readable one, ``floor * 2 ** (attempt - 1)``, jittered, within the same
        bounds.
        """
        asked = self.retry_after_seconds(retry_after)
        if asked is not None:
            return asked
        doublings = min(max(attempt, 1) - 1, _MAX_DOUBLINGS)
        return self.clamped(self.floor * 2**doublings * self._spread(rng))

    def backoff(self, attempts: int, rng: random.Random) -> float:
        """Seconds before an outbox item is tried again, after ``attempts`` failed tries.

        ``base * 2 ** attempts`` up to :attr:`item_ceiling`, jittered, never under the floor.
        """
        doublings = min(max(attempts, 0), _MAX_DOUBLINGS)
        grown = min(self.item_ceiling, self.base * 2**doublings)
        return min(self.item_ceiling, max(self.floor, grown * self._spread(rng)))

    def _spread(self, rng: random.Random | None) -> float:
        return (rng or _jitter_source).uniform(1.0 - self.jitter, 1.0)


#: The policy of a client that is given none.
DEFAULT_POLICY = RetryPolicy()
