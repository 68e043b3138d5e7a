"""A rig's times become the server's wall-clock times, which the server stores and returns as sent.

The canonical server (``TIME_ZONE = 'Europe/London'``, ``USE_TZ = False``) stores a naive
time as a London wall-clock time: a time in London's spring gap comes back an hour later.
The plugin sends the London wall-clock time of the instant the rig meant, which is never
in the gap. Checked across both clock changes of 2021, for a rig on UTC and a rig on
London time, with the computer's own zone too.
"""

from __future__ import annotations

import datetime
import os
import time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pybpod_alyx_module.register.times import ServerTimes, TimeZoneError

LONDON, UTC = ZoneInfo("Europe/London"), ZoneInfo("UTC")
SPRING, AUTUMN = datetime.datetime(2021, 3, 28), datetime.datetime(2021, 10, 31)

#: Rig readings to the second within a day either side of each clock change.
around_clock_changes = st.builds(
    lambda day, seconds: day + datetime.timedelta(seconds=seconds),
    st.sampled_from([SPRING, AUTUMN]),
    st.integers(-24 * 3600, 48 * 3600),
)
rig_zones = st.sampled_from(["UTC", "Europe/London"])


def canonical_server_stores(naive_text: str) -> str:
    """What the canonical server answers for a naive time it was sent: London's reading of it."""
    naive = datetime.datetime.fromisoformat(naive_text)
    stored = naive.replace(tzinfo=LONDON).astimezone(UTC)  # timestamptz, read in London
    return stored.astimezone(LONDON).replace(tzinfo=None).isoformat()


@settings(max_examples=200, deadline=None)
@given(around_clock_changes, rig_zones)
def test_a_sent_time_is_stored_and_returned_unchanged(reading, rig_zone):
    zones = ServerTimes(rig_zone, "Europe/London")
    sent = zones.sent(reading)
    assert canonical_server_stores(sent) == sent
    assert zones.same_time(canonical_server_stores(sent), sent)


@settings(max_examples=200, deadline=None)
@given(around_clock_changes, rig_zones)
def test_the_sent_time_is_the_instant_the_rig_meant(reading, rig_zone):
    zones = ServerTimes(rig_zone, "Europe/London")
    meant = reading.replace(tzinfo=ZoneInfo(rig_zone))  # fold=0, as documented
    sent = datetime.datetime.fromisoformat(zones.sent(reading))
    # A London reading that occurs twice stands for both instants: one of them is meant.
    instants = {sent.replace(tzinfo=LONDON, fold=fold).astimezone(UTC) for fold in (0, 1)}
    assert meant.astimezone(UTC) in instants


@settings(max_examples=100, deadline=None)
@given(around_clock_changes)
def test_an_answer_with_a_zone_is_read_on_the_servers_clock(reading):
    zones = ServerTimes("UTC", "Europe/London")
    sent = zones.sent(reading)
    instant = reading.replace(tzinfo=UTC)
    assert zones.same_time(instant.strftime("%Y-%m-%dT%H:%M:%SZ"), sent)
    assert zones.same_time(instant.astimezone(LONDON).isoformat(), sent)
    later = instant + datetime.timedelta(hours=1)
    # An hour later is another time, except in the autumn hour London reads twice.
    read_twice = later.astimezone(LONDON).replace(tzinfo=None).isoformat() == sent
    assert zones.same_time(later.strftime("%Y-%m-%dT%H:%M:%SZ"), sent) == read_twice


def test_a_reading_in_the_rigs_spring_gap_is_the_instant_the_server_makes_of_it():
    # 01:45 does not exist in London on 2021-03-28: read with the offset before the gap,
    # it is 01:45 UTC, 02:45 London summer time: what the canonical server makes of it.
    gap = datetime.datetime(2021, 3, 28, 1, 45)
    assert ServerTimes("Europe/London", "Europe/London").sent(gap) == "2021-03-28T02:45:00"
    assert canonical_server_stores("2021-03-28T01:45:00") == "2021-03-28T02:45:00"
    assert ServerTimes("UTC", "Europe/London").sent(gap) == "2021-03-28T02:45:00"


def test_a_reading_that_occurs_twice_on_the_rig_is_its_first_occurrence():
    twice = datetime.datetime(2021, 10, 31, 1, 30)
    assert ServerTimes("Europe/London", "UTC").sent(twice) == "2021-10-31T00:30:00"
    assert ServerTimes("Europe/London", "Europe/London").sent(twice) == "2021-10-31T01:30:00"


@pytest.mark.skipif(os.name == "nt", reason="the zone of a process is set through TZ on POSIX")
@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Australia/Lord_Howe"])
def test_the_computers_own_zone_reads_times_as_the_named_zone_does(zone, monkeypatch):
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        local, named = ServerTimes("", "UTC"), ServerTimes(zone, "UTC")
        start = datetime.datetime(2021, 1, 1)
        readings = [start + datetime.timedelta(minutes=15 * n) for n in range(365 * 24 * 4)]
        assert [local.sent(r) for r in readings] == [named.sent(r) for r in readings]
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize("zone", ["Europe/Londn", "../../etc/passwd", "nowhere"])
def test_a_zone_that_does_not_exist_is_a_clear_error_naming_the_setting(zone):
    with pytest.raises(TimeZoneError, match=r"ALYX_PLUGIN_SERVER_TIME_ZONE.*IANA name"):
        ServerTimes("", zone).check()
    with pytest.raises(TimeZoneError, match="ALYX_PLUGIN_RIG_TIME_ZONE"):
        ServerTimes(zone, "UTC").check()


@pytest.mark.parametrize("answer", [None, 7, "yesterday", "2021-13-01T00:00:00", ["2021"]])
def test_an_answer_that_is_not_a_time_is_never_the_time_sent(answer):
    assert not ServerTimes().same_time(answer, "2021-01-01T09:00:00")
