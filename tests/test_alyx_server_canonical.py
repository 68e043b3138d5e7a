"""The tests' Alyx answers like the canonical cortex-lab deployment, where the plugin must work.

alyx-local differs from the canonical server (cortex-lab Alyx 3.6.1 as labs deploy it) in
ways that matter for registering exactly once; ``scripts/alyxserver`` configures it back
(``django_settings/canonical_server.py``). These tests fail on alyx-local as installed:
naive London times (``USE_TZ = False``) and their clock changes, a case-insensitive session
subject filter, taken session numbers accepted, the canonical throttles. Three pin what both
servers already share (the weighings' and water's nickname filters ignore case; twins' 500).
Plain ``requests``: these check the server, not our client. The subjects they make are
deleted afterwards. The facts behind them: ``docs/alyx-server-facts.md``.
"""

from __future__ import annotations

import datetime

import pytest
import requests
from alyxserver import alyxmanage, server
from alyxserver.layout import Layout
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = (
    pytest.mark.serial
)  # it adds subjects to the shared server, which syncs of every alive subject elsewhere would see

TIMEOUT = 30
LAB = "cortexlab"
UPPER, LOWER = "M001", "m001"  # one lab, nicknames that differ only in case
# The generated times are of 2026; the other tests' sessions are on days of 2025.
YEAR = 2026


@pytest.fixture(scope="module")
def admin(alyx_server, seed):
    """A requests session logged in as the administrator (whose subjects no test counts)."""
    username, password = seed.ADMIN_USER
    answer = requests.post(
        alyx_server.url + "/auth-token",
        json={"username": username, "password": password},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200, answer.text
    session = requests.Session()
    session.headers.update(
        {"Authorization": f"Token {answer.json()['token']}", "Accept": "application/json"}
    )
    yield session
    session.close()


@pytest.fixture(scope="module")
def case_pair(admin, alyx_server, seed):
    """``M001`` and ``m001`` in one lab, deleted (with their sessions) at the end."""
    made = []
    for nickname in (UPPER, LOWER):
        answer = admin.post(
            alyx_server.url + "/subjects",
            json={"nickname": nickname, "lab": LAB, "responsible_user": seed.ADMIN_USER[0]},
            timeout=TIMEOUT,
        )
        assert answer.status_code == 201, answer.text
        made.append(answer.json()["name"])
    yield
    for name in made:
        admin.delete(f"{alyx_server.url}/subjects/{name}", timeout=TIMEOUT)


def post_session(admin, alyx_server, subject: str, start: str, **fields) -> requests.Response:
    body = {"subject": subject, "start_time": start, **fields}
    return admin.post(alyx_server.url + "/sessions", json=body, timeout=TIMEOUT)


def read_back(admin, alyx_server, created: requests.Response) -> dict:
    assert created.status_code == 201, created.text
    answer = admin.get(created.json()["url"], timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return answer.json()


def listed(admin, alyx_server, path: str, **params) -> list[dict]:
    answer = admin.get(alyx_server.url + path, params=params, timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


# -- times: Europe/London, naive ------------------------------------------------------------
def london_times_that_exist_once():
    """Naive times of 2026 that London's clock shows exactly once (not 01:00-02:00 of a change)."""
    changes = (datetime.date(YEAR, 3, 29), datetime.date(YEAR, 10, 25))
    return st.datetimes(
        min_value=datetime.datetime(YEAR, 1, 1), max_value=datetime.datetime(YEAR, 12, 31, 23)
    ).filter(lambda t: not (t.date() in changes and t.hour == 1))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(start=london_times_that_exist_once())
def test_naive_times_come_back_as_sent_without_a_zone(admin, alyx_server, case_pair, start):
    sent = start.replace(microsecond=0).isoformat()
    created = post_session(admin, alyx_server, UPPER, sent, number=900)
    assert created.json()["start_time"] == sent  # no "Z": USE_TZ = False
    assert read_back(admin, alyx_server, created)["start_time"] == sent


def test_a_time_the_spring_clock_change_skips_comes_back_an_hour_later(
    admin, alyx_server, case_pair
):
    """01:45 on 29 March 2026 does not exist in London: stored as 01:45 GMT, read as 02:45."""
    created = post_session(admin, alyx_server, UPPER, "2026-03-29T01:45:00", number=901)
    assert created.json()["start_time"] == "2026-03-29T01:45:00"  # the answer echoes it
    assert read_back(admin, alyx_server, created)["start_time"] == "2026-03-29T02:45:00"


def test_a_time_the_autumn_clock_change_shows_twice_comes_back_as_sent(
    admin, alyx_server, case_pair
):
    created = post_session(admin, alyx_server, UPPER, "2026-10-25T01:30:00", number=902)
    assert read_back(admin, alyx_server, created)["start_time"] == "2026-10-25T01:30:00"


# -- subjects: case-insensitive sessions filter, twins ------------------------------------
def test_the_sessions_subject_filter_ignores_case(admin, alyx_server, case_pair):
    for nickname in (UPPER, LOWER):
        created = post_session(admin, alyx_server, nickname, "2025-06-10T10:00:00")
        assert created.status_code == 201, created.text
    for asked in (UPPER, LOWER):
        found = listed(
            admin, alyx_server, "/sessions", subject=asked, date_range="2025-06-10,2025-06-10"
        )
        assert sorted(s["subject"] for s in found) == [UPPER, LOWER], asked


@pytest.mark.parametrize("path", ["/weighings", "/water-administrations"])
def test_the_weighings_and_water_nickname_filters_ignore_case(admin, alyx_server, seed, path):
    weighed = seed.WEIGHED_SUBJECT.nickname
    exact = listed(admin, alyx_server, path, nickname=weighed)
    assert exact
    assert listed(admin, alyx_server, path, nickname=weighed.swapcase()) == exact


def test_a_session_for_a_nickname_two_labs_share_answers_500(admin, alyx_server, seed):
    created = post_session(admin, alyx_server, seed.TWIN_NICKNAME, "2025-06-11T10:00:00")
    assert created.status_code == 500
    assert "returned more than one Subject" in created.json()["detail"]


# -- numbers: nothing keeps them unique ----------------------------------------------------
def test_a_second_session_with_a_taken_number_is_accepted(admin, alyx_server, case_pair):
    first = post_session(admin, alyx_server, UPPER, "2025-06-12T09:00:00", number=1)
    second = post_session(admin, alyx_server, UPPER, "2025-06-12T15:00:00", number=1)
    assert (first.status_code, second.status_code) == (201, 201), second.text
    day = listed(admin, alyx_server, "/sessions", subject=UPPER, date_range="2025-06-12,2025-06-12")
    assert sorted(s["number"] for s in day) == [1, 1]
    assert len({s["id"] for s in day}) == 2


def test_a_session_can_be_renumbered_onto_a_taken_number(admin, alyx_server, case_pair):
    first = post_session(admin, alyx_server, UPPER, "2025-06-13T09:00:00", number=1)
    second = post_session(admin, alyx_server, UPPER, "2025-06-13T15:00:00", number=2)
    patched = admin.patch(second.json()["url"], json={"number": 1}, timeout=TIMEOUT)
    assert (first.status_code, patched.status_code) == (201, 200), patched.text
    assert patched.json()["number"] == 1


# -- throttles ------------------------------------------------------------------------------
def test_the_throttles_are_the_canonical_deployments(alyx_server):
    """burst 550/minute per user, no sustained rate, counted per worker (per-process cache).

    Measured on this server: 1,300 requests of one user at once answered 1,100 times 200
    (550 per each of the 2 workers), then 429 with Retry-After.
    """
    layout = Layout()
    state = server.read_state(layout)
    loaded = alyxmanage.loaded_settings(
        layout, state["pg_port"], ["REST_FRAMEWORK", "CACHES", "TIME_ZONE", "USE_TZ"]
    )
    rest = loaded["REST_FRAMEWORK"]
    assert rest["DEFAULT_THROTTLE_CLASSES"] == [
        "canonical_server.BurstRateThrottle",
        "canonical_server.SustainedRateThrottle",
    ]
    assert rest["DEFAULT_THROTTLE_RATES"] == {"burst": "550/minute", "sustained": None}
    assert loaded["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert (loaded["TIME_ZONE"], loaded["USE_TZ"]) == ("Europe/London", False)
