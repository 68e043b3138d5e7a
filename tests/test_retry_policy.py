"""One retry policy: every wait within its floor and ceiling, whatever ``Retry-After`` says."""

from __future__ import annotations

import math
import random
from email.utils import formatdate

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pybpod_alyx_module.alyx import RetryPolicy
from pybpod_alyx_module.alyx.retry_policy import parse_retry_after

POLICY = RetryPolicy()
NOW = 1_800_000_000.0  # a fixed "now" (2027) for the dates

#: Anything a server or a proxy may put in ``Retry-After``.
NUMBERS = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)
DATES = st.floats(min_value=-(10**9), max_value=10**9).map(
    lambda offset: formatdate(NOW + offset, usegmt=True)
)
GARBAGE = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["soon", "inf", "-inf", "nan", "NaN", "1e3", "0x10", "5s", "١٢", "", " "]),
    st.just("9" * 5000),
)
RETRY_AFTER = st.one_of(st.none(), NUMBERS, DATES, GARBAGE)
POLICIES = st.builds(
    lambda floor, span, budget, jitter: RetryPolicy(
        floor=floor, ceiling=floor + span, busy_budget=budget, jitter=jitter
    ),
    st.floats(min_value=0.01, max_value=10),
    st.floats(min_value=0, max_value=1000),
    st.floats(min_value=0, max_value=1000),
    st.floats(min_value=0, max_value=0.99),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(POLICIES, RETRY_AFTER)
def test_a_retry_after_is_read_within_floor_and_ceiling_or_not_at_all(policy, header):
    seconds = policy.retry_after_seconds(header, now=NOW)
    assert seconds is None or policy.floor <= seconds <= policy.ceiling


@settings(max_examples=300, deadline=None, derandomize=True)
@given(POLICIES, RETRY_AFTER, st.integers(min_value=-5, max_value=10**6), st.integers())
def test_every_wait_lies_within_floor_and_ceiling(policy, header, attempt, seed):
    wait = policy.wait(attempt, header, random.Random(seed))
    assert math.isfinite(wait) and policy.floor <= wait <= policy.ceiling


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("0", 1.0),
        ("-30", 1.0),
        ("0.2", 1.0),
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("+12", 12.0),
        ("3600", 300.0),
        ("9" * 90, 300.0),  # 1e90 s: the ceiling (a longer header is not read at all)
        (formatdate(NOW - 3600, usegmt=True), 1.0),  # a date in the past
        (formatdate(NOW + 42, usegmt=True), 42.0),
        (formatdate(NOW + 86400, usegmt=True), 300.0),
    ],
)
def test_numbers_and_dates_are_clamped_to_floor_and_ceiling(header, seconds):
    assert POLICY.retry_after_seconds(header, now=NOW) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "header", [None, "", "soon", "inf", "nan", "1e3", "0x10", "5s", "١٢", "9" * 5000, "Mon, 99"]
)
def test_garbage_is_no_retry_after_and_the_wait_is_the_backoff(header):
    assert POLICY.retry_after_seconds(header, now=NOW) is None
    assert POLICY.wait(1, header) == POLICY.floor


def test_a_retry_after_is_honoured_as_asked_not_jittered():
    """Waiting less than asked would be refused again."""
    assert {POLICY.wait(n, "7", random.Random(n)) for n in range(1, 20)} == {7.0}


def test_without_retry_after_waits_double_jittered_up_to_the_ceiling():
    rng = random.Random(1)
    waits = [POLICY.wait(attempt, None, rng) for attempt in range(1, 15)]
    assert waits[0] == POLICY.floor
    for attempt, wait in enumerate(waits[1:], start=2):
        grown = POLICY.floor * 2 ** (attempt - 1)
        assert min(POLICY.ceiling, grown * 0.5) <= wait <= min(POLICY.ceiling, grown)
    assert waits[-1] == POLICY.ceiling or waits[-1] >= POLICY.ceiling * 0.5


def test_jitter_spreads_the_waits_of_rigs_that_failed_together():
    waits = {POLICY.wait(5, None, random.Random(seed)) for seed in range(50)}
    assert len(waits) > 40 and min(waits) >= 8.0 and max(waits) <= 16.0


@settings(max_examples=200, deadline=None, derandomize=True)
@given(POLICIES, st.integers(min_value=-3, max_value=10**9), st.integers())
def test_an_outbox_backoff_lies_within_floor_and_the_item_ceiling(policy, attempts, seed):
    delay = policy.backoff(attempts, random.Random(seed))
    assert policy.floor <= delay <= policy.item_ceiling


def test_an_outbox_backoff_grows_from_base_to_the_item_ceiling():
    rng = random.Random(3)
    assert 2.5 <= POLICY.backoff(0, rng) <= 5.0
    assert 20.0 <= POLICY.backoff(3, rng) <= 40.0
    assert 450.0 <= POLICY.backoff(50, rng) <= 900.0


def test_parse_retry_after_keeps_what_was_asked_for_the_message():
    assert parse_retry_after("3600") == 3600.0
    assert parse_retry_after("-5") == -5.0
    assert parse_retry_after(formatdate(NOW + 10, usegmt=True), now=NOW) == pytest.approx(10.0)
    assert parse_retry_after("x" * 101) is None


@pytest.mark.parametrize(
    "fields",
    [
        {"floor": 0},
        {"floor": -1},
        {"floor": float("nan")},
        {"ceiling": float("inf")},
        {"ceiling": 0.5},
        {"item_ceiling": 0.5},
        {"jitter": 1.0},
        {"busy_budget": -1},
        {"base": "5"},
        {"floor": True},
    ],
)
def test_a_policy_that_could_not_hold_its_bounds_is_refused(fields):
    with pytest.raises(ValueError, match="RetryPolicy"):
        RetryPolicy(**fields)


def test_the_policy_is_data_frozen_and_compared_by_value():
    assert RetryPolicy() == RetryPolicy(floor=1.0, ceiling=300.0, busy_budget=180.0)
    with pytest.raises(AttributeError):
        POLICY.floor = 0.0  # type: ignore[misc]
