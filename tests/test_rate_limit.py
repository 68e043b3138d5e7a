"""A client's requests a minute stay bounded, from any number of threads."""

from __future__ import annotations

import threading
from bisect import bisect_left

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pybpod_alyx_module.alyx import AlyxClient, RateLimiter
from pybpod_alyx_module.alyx.rate_limit import WINDOW


class FakeClock:
    """A clock shared by threads that moves a millisecond at each reading; ``sleep`` only
    records. Each thread's last reading is kept: the limiter reads the clock once a slot."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.lock = threading.Lock()
        self.slept: list[float] = []
        self.last = threading.local()

    def __call__(self) -> float:
        with self.lock:
            self.now += 0.001
            self.last.reading = self.now
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.slept.append(seconds)


def slots_from_threads(limiter: RateLimiter, clock: FakeClock, threads: int, each: int):
    """The start time each request was given, requests sent by ``threads`` threads at once."""
    starts: list[float] = []
    lock = threading.Lock()
    go = threading.Barrier(threads)

    def send() -> None:
        go.wait()
        for _ in range(each):
            waited = limiter.acquire()
            with lock:
                starts.append(clock.last.reading + waited)

    workers = [threading.Thread(target=send) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sorted(starts)


def most_in_any_window(starts: list[float], window: float) -> int:
    return max(bisect_left(starts, start + window) - i for i, start in enumerate(starts))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    per_minute=st.one_of(st.integers(1, 300), st.floats(0.1, 300)),
    threads=st.integers(1, 8),
    each=st.integers(1, 40),
)
def test_no_window_holds_more_requests_than_the_limit_whatever_the_threads(
    per_minute, threads, each
):
    clock = FakeClock()
    limiter = RateLimiter(per_minute, clock=clock, sleep=clock.sleep)
    starts = slots_from_threads(limiter, clock, threads, each)
    assert len(starts) == threads * each
    allowed = max(1, int(per_minute))
    window = WINDOW if per_minute >= 1 else WINDOW / per_minute
    assert most_in_any_window(starts, window - 1e-6) <= allowed  # reading + wait: rounding


def test_requests_within_the_limit_do_not_wait():
    clock = FakeClock()
    limiter = RateLimiter(240, clock=clock, sleep=clock.sleep)
    assert [limiter.acquire() for _ in range(240)] == [0.0] * 240
    assert clock.slept == []
    assert limiter.acquire() == pytest.approx(WINDOW - 0.24, abs=0.01)


@pytest.mark.parametrize("per_minute", [0, -1, float("nan"), float("inf"), 10**6, "240", True])
def test_a_limit_that_means_nothing_is_refused(per_minute):
    with pytest.raises(ValueError, match="requests a minute"):
        RateLimiter(per_minute)


def test_one_limiter_serves_every_thread_of_a_client():
    client = AlyxClient("http://127.0.0.1:9", max_requests_per_minute=90)
    assert isinstance(client.rate_limiter, RateLimiter)
    assert client.rate_limiter.slots == 90
    assert AlyxClient("http://127.0.0.1:9").rate_limiter.slots == 240
    assert AlyxClient("http://127.0.0.1:9", max_requests_per_minute=None).rate_limiter is None
