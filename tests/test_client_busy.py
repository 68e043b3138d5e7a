"""A busy or failing server gets a bounded number of polite tries, whatever it answers.

Fault tests: a real Alyx throttles with sane ``Retry-After`` values only, so the stub of
:mod:`tests.fault_server` answers 429/503 with every value a broken proxy or server may
send. The client sleeps through a recorder (``sleep=``): no test waits for real.
"""

from __future__ import annotations

import email.utils
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is not a package

from fault_server import Answer
from test_client_faults import TIMEOUT, make_client, stub

from pybpod_alyx_module.alyx import (
    AlyxClient,
    RetryPolicy,
    ServerBusyError,
    ServerError,
    ServerTimeoutError,
)
from pybpod_alyx_module.alyx.errors import MESSAGE_LIMIT

__all__ = ["make_client", "stub"]  # fixtures shared with test_client_faults

pytestmark = [pytest.mark.fault, pytest.mark.timeout(120)]

TOKEN = "busy-token-0123456789abcdef0123456789ab"
#: Short enough for many examples, long enough for several waits at the floor.
POLICY = RetryPolicy(floor=1.0, ceiling=300.0, busy_budget=10.0)
#: The most tries one request may make under POLICY: one, then one after each wait.
MAX_TRIES = 1 + int(POLICY.busy_budget / POLICY.floor)

HEADER_TEXT = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=120)
RETRY_AFTER = st.one_of(
    st.none(),
    st.integers(-(10**15), 10**15).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-(10**9), 10**9).map(lambda offset: email.utils.formatdate(time.time() + offset)),
    st.sampled_from(["0", "-1", "0.0001", "soon", "inf", "nan", "Mon, 99 Foo", "9" * 90]),
    HEADER_TEXT,
)
GENERATED = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def busy(header: str | None, status: int = 429) -> Answer:
    headers = {} if header is None else {"Retry-After": header}
    return Answer.json({"detail": "Request was throttled."}, status=status, headers=headers)


def recording_client(make_client, stub, **options) -> tuple[AlyxClient, list[float]]:
    waits: list[float] = []
    options = {"token": TOKEN, "retry_policy": POLICY, "sleep": waits.append, **options}
    return make_client(stub.url, **options), waits


@GENERATED
@given(header=RETRY_AFTER, method=st.sampled_from(["GET", "POST"]))
def test_a_server_busy_for_ever_gets_a_bounded_number_of_tries(stub, make_client, header, method):
    """Whatever ``Retry-After`` says (0, negative, a past date, garbage, huge), one request
    makes at most 1 + budget / floor tries, each wait within [floor, ceiling], and ends
    with a busy error saying when to come back."""
    stub.forget_requests()
    stub.route(method, "/api/subjects", lambda seen: busy(header))
    client, waits = recording_client(make_client, stub)
    with pytest.raises(ServerBusyError) as caught:
        client.get("subjects") if method == "GET" else client.post("subjects", {})
    tries = stub.count(method, "/api/subjects")
    assert 1 <= tries <= MAX_TRIES and len(waits) == tries - 1
    assert all(POLICY.floor <= wait <= POLICY.ceiling for wait in waits)
    assert sum(waits) <= POLICY.busy_budget
    error = caught.value
    assert error.status == 429
    assert POLICY.floor <= error.retry_after <= POLICY.ceiling
    assert sum(waits) + error.retry_after > POLICY.busy_budget
    assert len(str(error)) <= MESSAGE_LIMIT and TOKEN not in str(error)
    if header is not None and len(header) >= 20:  # long garbage is read, never quoted
        assert header not in str(error)


@GENERATED
@given(header=RETRY_AFTER, refusals=st.integers(0, 4))
def test_a_server_busy_for_a_while_is_waited_out_within_the_budget(
    stub, make_client, header, refusals
):
    stub.forget_requests()
    answers = iter([busy(header)] * refusals)
    stub.route("GET", "/api/subjects", lambda seen: next(answers, Answer.json({"count": 0})))
    client, waits = recording_client(make_client, stub)
    try:
        assert client.get("subjects") == {"count": 0}
    except ServerBusyError as error:  # the waits it asked for go beyond the budget
        assert sum(waits) + error.retry_after > POLICY.busy_budget
        assert stub.count("GET", "/api/subjects") == len(waits) + 1 <= refusals
    else:
        assert stub.count("GET", "/api/subjects") == refusals + 1 == len(waits) + 1
    assert all(POLICY.floor <= wait <= POLICY.ceiling for wait in waits)
    assert sum(waits) <= POLICY.busy_budget


@GENERATED
@given(header=RETRY_AFTER, method=st.sampled_from(["GET", "POST"]), retries=st.integers(0, 3))
def test_a_503_is_retried_for_a_get_only_and_at_most_retries_times(
    stub, make_client, header, method, retries
):
    stub.forget_requests()
    stub.route(method, "/api/subjects", lambda seen: busy(header, status=503))
    client, waits = recording_client(make_client, stub, retries=retries)
    with pytest.raises(ServerError) as caught:
        client.get("subjects") if method == "GET" else client.post("subjects", {})
    tries = stub.count(method, "/api/subjects")
    assert tries <= (1 + retries if method == "GET" else 1)
    assert all(POLICY.floor <= wait <= POLICY.ceiling for wait in waits)
    assert caught.value.status == 503
    if isinstance(caught.value, ServerBusyError):
        assert POLICY.floor <= caught.value.retry_after <= POLICY.ceiling


def test_retry_after_zero_no_longer_floods_the_server(stub, make_client):
    """The issue's case: ``Retry-After: 0`` on every POST gave 2,000 POSTs in two minutes.
    With the default policy one request makes at most 181 tries over 180 s of waits."""
    default = RetryPolicy()
    stub.route("POST", "/api/sessions", lambda seen: busy("0"))
    client, waits = recording_client(make_client, stub, retry_policy=default)
    with pytest.raises(ServerBusyError) as caught:
        client.post("sessions", {"subject": "SW_001"})
    assert stub.count("POST", "/api/sessions") == len(waits) + 1 <= 181
    assert set(waits) == {default.floor} and sum(waits) <= default.busy_budget
    assert caught.value.retry_after == default.floor


def test_a_huge_retry_after_fails_at_once_with_when_to_come_back(stub, make_client):
    """An hour asked: no wait at all, one try, and the outbox is told the ceiling."""
    stub.route("POST", "/api/sessions", lambda seen: busy("3600"))
    client, waits = recording_client(make_client, stub, retry_policy=RetryPolicy())
    with pytest.raises(ServerBusyError) as caught:
        client.post("sessions", {})
    assert stub.count("POST", "/api/sessions") == 1 and waits == []
    assert caught.value.retry_after == 300.0
    assert "3600 s" in str(caught.value) and "300 s" in str(caught.value)


def test_the_requests_of_all_threads_share_one_limit(stub, make_client):
    """10 a minute, 27 requests from 5 threads (two look for the API root, once for all
    threads, then 25 GETs): 10 go at once, 10 a minute later, 7 after two minutes."""
    stub.route("GET", "/api/subjects", lambda seen: Answer.json({"count": 0}))
    client, waits = recording_client(make_client, stub, max_requests_per_minute=10)

    def send() -> None:
        for _ in range(5):
            client.get("subjects")

    workers = [threading.Thread(target=send) for _ in range(5)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert stub.count("GET", "/api/subjects") == 25
    assert len(stub.requests) == 27
    assert sorted(round(wait / 60) for wait in waits) == [1] * 10 + [2] * 7


def test_a_timeout_retry_that_would_outlast_the_deadline_is_not_started(stub, make_client):
    """A GET timed out; its retry would start after the floor, past the request's total
    deadline: the error comes at once instead of a retry that is cut short."""
    stub.script("GET", "/api/slow", Answer.json([], delay=5))
    deadline = TIMEOUT[0] + 2 * TIMEOUT[1]
    client, _ = recording_client(
        make_client, stub, retry_policy=RetryPolicy(floor=deadline), sleep=time.sleep
    )
    with pytest.raises(ServerTimeoutError) as caught:
        client.get("slow")
    assert stub.count("GET", "/api/slow") == 1
    assert "did not answer within 0.5 s" in str(caught.value)
