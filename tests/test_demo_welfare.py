"""The demo's welfare data: current, deterministic, and shaped so the warnings can be seen.

``seed_welfare`` only ever goes into the demo's home; these tests check the plan it adds
(no server needed) and that the tests' seed is not where it lives.
"""

from __future__ import annotations

import datetime
import doctest

from alyxserver import layout, seed_welfare
from hypothesis import given
from hypothesis import strategies as st

DAYS = st.dates(datetime.date(2024, 1, 1), datetime.date(2035, 12, 31))


def test_the_examples_of_the_module_print_what_they_say():
    assert doctest.testmod(seed_welfare).failed == 0


@given(DAYS)
def test_the_same_day_gives_the_same_data_and_every_record_is_before_today(today):
    plan = seed_welfare.welfare_plan(today)
    assert plan == seed_welfare.welfare_plan(today)
    times = [r["date_time"] for r in plan["weighings"] + plan["water_administrations"]]
    assert max(times) < today.isoformat()  # today's are the user's to enter
    assert min(times) >= (today - datetime.timedelta(days=28)).isoformat()


@given(DAYS)
def test_no_two_records_of_a_list_share_a_time(today):
    # Alyx orders these lists by time alone: ties make its pages overlap.
    plan = seed_welfare.welfare_plan(today)
    for records in (plan["weighings"], plan["water_administrations"]):
        times = [r["date_time"] for r in records]
        assert len(times) == len(set(times))


@given(DAYS)
def test_restricted_weights_fall_from_the_reference_and_stay_above_the_threshold(today):
    plan = seed_welfare.welfare_plan(today)
    references = {r["nickname"]: r["reference_weight"] for r in plan["restrictions"]}
    for nickname, reference in references.items():
        weights = [w["weight"] for w in plan["weighings"] if w["nickname"] == nickname]
        assert len(weights) == seed_welfare.BASELINE_DAYS + seed_welfare.RESTRICTED_DAYS
        assert abs(weights[0] - reference) < 1.0  # the baseline is the reference
        assert weights[seed_welfare.BASELINE_DAYS] == reference  # where Alyx takes it from
        assert 0.8 < weights[-1] / reference < 0.9  # a typed few grams less warns
        water = [w for w in plan["water_administrations"] if w["nickname"] == nickname]
        assert len(water) == seed_welfare.RESTRICTED_DAYS
        assert all(0.6 <= w["ml"] <= 1.1 for w in water)


def test_the_welfare_data_is_not_part_of_the_tests_seed():
    """The cached dump is keyed by the seed's files: the tests' data never holds welfare."""
    hashed = layout.seed_hash.__code__.co_consts
    assert "seed_data.py" in hashed  # what the key is made of, read from the function
    assert "seed_welfare.py" not in hashed
