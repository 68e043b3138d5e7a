"""One set of plausibility rules for every value: typed in the GUI, given to the CLI, or
reported by a task in its session file; and one value per subject of a session, or none.
Typed amounts as people type them (a decimal comma, the unit after), quoted as typed; and
what is possible but unusual (a typo, a wrong unit), the same rule for the GUI and the CLI."""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from register_sessions import write_session

from pybpod_alyx_module.cli.main import main
from pybpod_alyx_module.register import RegisterOptions, prepare_sessions
from pybpod_alyx_module.register.plausibility import (
    CLOCK_SKEW,
    EARLIEST_START,
    LONGEST_SESSION,
    USUAL_WATER_FACTOR,
    USUAL_WATER_ML,
    USUAL_WEIGHT_RATIO,
    WATER,
    WEIGHT,
    ImplausibleValue,
    last_weighing,
    plausible,
    session_times_problem,
    unusual_water,
    unusual_weight,
)
from pybpod_alyx_module.register.records import AlyxSubject
from pybpod_alyx_module.register.session_file import SessionSubject
from pybpod_alyx_module.register.typed_amounts import parse_grams, parse_ml
from pybpod_alyx_module.register.values import ReportedValueError, subject_values, task_values

NOW = datetime.datetime(2024, 6, 1, 12, 0)
M1 = SessionSubject("M1", "11111111-1111-4111-8111-111111111111")
M2 = SessionSubject("M2", "22222222-2222-4222-8222-222222222222")
GENERATED = settings(max_examples=200, deadline=None, derandomize=True)
amounts = st.one_of(
    st.floats(allow_nan=False, allow_infinity=True),
    st.floats(min_value=-1, max_value=20_000),
    st.sampled_from([0.0, 0.5, 100.0, 10_000.0, math.nextafter(0.5, 0), 100.0000001]),
)


def typed(amount: float) -> str:
    """``amount`` as a person types it: plain decimals (no exponent), exactly its value."""
    return format(Decimal(repr(amount)), "f")


def accepted(read, text) -> bool:
    try:
        read(text)
    except (ValueError, ReportedValueError):
        return False
    return True


@GENERATED
@given(amounts)
def test_a_weight_is_refused_or_accepted_alike_typed_given_to_the_cli_or_reported(grams):
    text = typed(grams)
    rule = WEIGHT.low <= grams <= WEIGHT.high
    assert accepted(parse_grams, text) == rule  # the GUI's dialogs and `pybpod-alyx weigh`
    assert accepted(lambda t: task_values({"alyx_weight_g": t}), text) == rule  # a task's


@GENERATED
@given(amounts)
def test_water_is_refused_or_accepted_alike_typed_or_reported(ml):
    text = typed(ml)
    rule = WATER.low <= ml <= WATER.high
    assert accepted(parse_ml, text) == rule
    assert accepted(lambda t: task_values({"alyx_water_ml": t}), text) == rule


def test_nan_typed_is_refused_and_nan_reported_is_nothing_reported():
    with pytest.raises(ValueError, match="not a weight in grams: 'nan'"):
        parse_grams("nan")
    assert task_values({"alyx_weight_g": "nan"}).weight_g is None


def test_the_refusal_says_the_range_wherever_the_value_came_from():
    with pytest.raises(ImplausibleValue, match=r"'19400' \(expected 0.5 to 10000 g\)"):
        parse_grams("19400")
    with pytest.raises(ReportedValueError, match=r"alyx_water_ml: .*'5000' \(expected 0 to 100"):
        task_values({"alyx_water_ml": "5000"})
    assert plausible(WEIGHT, 19.4) == 19.4


def test_the_cli_refuses_an_implausible_weight_before_anything_else(capsys):
    with pytest.raises(SystemExit) as exit_code:
        main(["weigh", "/nonexistent/proj", "M1", "19400"])
    assert exit_code.value.code == 2
    assert "not a plausible weight in grams: '19400'" in capsys.readouterr().err


# -- typed as people type: a decimal comma, the unit after, quoted as typed ----------------

decimals = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("9999"), places=2)
spaces = st.sampled_from(["", " ", "  ", "\u00a0", "\t"])


@GENERATED
@given(decimals, st.sampled_from([".", ","]), st.sampled_from(["", "g", "G"]), spaces, spaces)
def test_a_typed_weight_reads_alike_with_a_point_or_a_comma_and_its_unit(
    grams, point, unit, before, after
):
    text = f"{before}{format(grams, 'f').replace('.', point)}{after if unit else ''}{unit}{after}"
    assert parse_grams(text) == float(grams)


@GENERATED
@given(
    decimals,
    st.sampled_from([".", ","]),
    st.sampled_from(["kg", "mg", "lb", "mL", "g g", "gram", "e3", "x"]),
    spaces,
)
def test_a_typed_weight_with_another_unit_is_refused_quoting_what_was_typed(
    grams, point, unit, gap
):
    text = f"{format(grams, 'f').replace('.', point)}{gap}{unit}"
    with pytest.raises(ValueError) as refused:
        parse_grams(text)
    assert str(refused.value).startswith(f"not a weight in grams: {text.strip()!r}")


@pytest.mark.parametrize("text", ["1,234.5", "1.234,5", "23,,6", "2.3.4", "23 6", "1e3", "0x17"])
def test_an_ambiguous_or_odd_number_is_refused_not_guessed(text):
    with pytest.raises(ValueError, match="not a weight in grams"):
        parse_grams(text)


def test_the_issues_example_is_read_and_echoed_as_typed():
    assert parse_grams("23,6 g") == 23.6
    with pytest.raises(ValueError, match=r"^not a weight in grams: '23,6 kg' "):
        parse_grams("23,6 kg")
    with pytest.raises(ValueError, match=r"'19400,5 g' \(expected 0.5 to 10000 g\)"):
        parse_grams(" 19400,5 g ")
    assert parse_ml("0,5 mL") == parse_ml("0.5ml") == 0.5


# -- unusual: a typo or a wrong unit, against the last weighing or the reference -----------

grams_ = st.floats(min_value=0.5, max_value=10_000)


def weighing(grams: float, when: str) -> dict:
    return {"date_time": when, "weight": grams, "user": "alice"}


@GENERATED
@given(grams_, grams_, grams_)
def test_a_weight_is_unusual_outside_the_ratio_of_the_last_weighing(grams, last, older):
    fields = {
        "weighings": [weighing(older, "2026-11-29T09:00:00"), weighing(last, "2026-11-30T09:00")],
        "reference_weight": 25.0,  # a last weighing wins over the reference weight
    }
    low, high = USUAL_WEIGHT_RATIO
    why = unusual_weight(grams, fields)
    assert (why is None) == (low <= grams / last <= high)
    if why:
        assert f"the last weighing ({last:g} g on 2026-11-30 09:00)" in why
        assert why.startswith(f"{grams:g} g is ")


@GENERATED
@given(grams_, st.one_of(grams_, st.just(0), st.none(), st.just("25"), st.just(float("nan"))))
def test_without_a_weighing_the_reference_weight_is_the_measure_and_without_it_nothing(
    grams, reference
):
    fields = {"reference_weight": reference, "weighings": [{"weight": None}, "odd"]}
    usable = isinstance(reference, float) and reference > 0  # not 0, NaN, text or None
    why = unusual_weight(grams, fields)
    if not usable:
        assert why is None
    else:
        low, high = USUAL_WEIGHT_RATIO
        assert (why is None) == (low <= grams / reference <= high)
        assert why is None or f"the reference weight ({reference:g} g)" in why


@GENERATED
@given(st.floats(min_value=15, max_value=45), st.floats(min_value=0.9, max_value=1.1))
def test_every_usual_slip_of_a_mouse_weight_is_caught_and_the_true_weight_is_not(grams, change):
    """A digit too many or too few (x10, x100, /10) is unusual; a day's real change is not."""
    fields = {"weighings": [weighing(grams, "2026-11-30T09:00:00")]}
    assert unusual_weight(grams * change, fields) is None
    for slip in (10, 100, 0.1):
        if WEIGHT.low <= grams * change * slip <= WEIGHT.high:
            assert "a typo or a wrong unit?" in unusual_weight(grams * change * slip, fields)


def test_the_issues_example_names_the_last_weighing():
    fields = {"weighings": [weighing(23.5, "2026-11-30T09:12:00Z")], "reference_weight": 24}
    assert unusual_weight(2340, fields) == (
        "2340 g is about 100 times the last weighing (23.5 g on 2026-11-30 09:12): "
        "a typo or a wrong unit?"
    )
    assert unusual_weight(2.35, fields).startswith("2.35 g is 10 % of the last weighing")
    assert last_weighing({"weighings": []}) is None


@GENERATED
@given(
    st.floats(min_value=0, max_value=100),
    st.one_of(st.none(), st.floats(min_value=0, max_value=30), st.just(True)),
)
def test_water_is_unusual_above_a_days_need(ml, expected):
    limit = USUAL_WATER_ML
    if isinstance(expected, float) and not isinstance(expected, bool) and expected > 0:
        limit = max(limit, USUAL_WATER_FACTOR * expected)
    why = unusual_water(ml, {"expected_water": expected})
    assert (why is None) == (ml <= limit)
    assert why is None or why.startswith(f"{ml:g} mL of water is far more than a day needs")


minutes = st.integers(min_value=-3 * 24 * 60, max_value=3 * 24 * 60)


@GENERATED
@given(minutes, st.integers(min_value=-60, max_value=4 * 24 * 60))
def test_a_session_starts_before_now_plus_the_skew_and_ends_after_it_starts(start, length):
    started = NOW + datetime.timedelta(minutes=start)
    ended = started + datetime.timedelta(minutes=length)
    expected = (
        started <= NOW + CLOCK_SKEW
        and ended <= NOW + CLOCK_SKEW
        and started <= ended
        and ended - started <= LONGEST_SESSION
    )
    assert (session_times_problem(started, ended, NOW) is None) == expected


def test_each_time_rule_gives_its_reason():
    def problem(started, ended):
        return session_times_problem(started, ended, NOW)

    assert "in the future" in problem(datetime.datetime(2099, 1, 1), datetime.datetime(2099, 1, 1))
    assert "before it starts" in problem(NOW, NOW - datetime.timedelta(seconds=1))
    assert "longer than 48 hours" in problem(NOW - datetime.timedelta(days=3), NOW)
    early = EARLIEST_START - datetime.timedelta(days=1)
    assert "wrong clock" in problem(early, early)
    assert problem(NOW + CLOCK_SKEW, NOW + CLOCK_SKEW) is None


def test_one_weight_for_a_session_of_two_subjects_is_refused_with_the_reason():
    with pytest.raises(ReportedValueError, match=r"one alyx_weight_g for its 2 subjects"):
        subject_values({"alyx_weight_g": "21"}, None, [M1, M2])
    with pytest.raises(ReportedValueError, match=r"alyx_water_ml:M1"):
        subject_values({"alyx_water_ml": "1"}, None, [M1, M2])


@GENERATED
@given(
    st.dictionaries(st.sampled_from(["M1", "M2"]), st.floats(min_value=1, max_value=100)),
    st.booleans(),
)
def test_values_given_per_subject_go_to_their_own_subject(own, session_wide):
    raw = {f"alyx_weight_g:{name}": str(grams) for name, grams in own.items()}
    if session_wide:
        raw["alyx_weight_g"] = "42"
    if session_wide and len(own) < 2:
        with pytest.raises(ReportedValueError, match="Report one per subject"):
            subject_values(raw, None, [M1, M2])
        return
    values = subject_values(raw, None, [M1, M2])
    assert values[M1.uuid4].weight_g == own.get("M1")
    assert values[M2.uuid4].weight_g == own.get("M2")


def test_a_single_subject_takes_the_sessions_value_or_its_own():
    assert subject_values({"alyx_weight_g": "21"}, None, [M1])[M1.uuid4].weight_g == 21
    both = {"alyx_weight_g": "21", "alyx_weight_g:M1": "22"}
    assert subject_values(both, None, [M1])[M1.uuid4].weight_g == 22


def test_per_subject_names_follow_a_labs_own_names():
    raw = {"w:M1": "20", "w:M2": "30"}
    values = subject_values(raw, {"alyx_weight_g": "w"}, [M1, M2])
    assert [values[s.uuid4].weight_g for s in (M1, M2)] == [20, 30]


# -- the issue's examples, end to end from session files -----------------------------------


def alyx_subject(named: SessionSubject) -> AlyxSubject:
    return AlyxSubject(
        uuid4=named.uuid4,
        name=named.name,
        alyx_id=f"id-{named.name}",
        nickname=named.name,
        lab="lab",
        projects=(),
        url=f"http://alyx.lab/api/subjects/{named.name}",
        server="http://alyx.lab",
    )


def prepare(tmp_path: Path, started, ended, subjects=(M1,), values=None):
    write_session(tmp_path, [(s.name, s.uuid4) for s in subjects], started, ended, values=values)
    files = sorted(tmp_path.glob("sessions/*/*.csv"))
    known = {s.uuid4: alyx_subject(s) for s in subjects}
    return prepare_sessions(files, known, RegisterOptions(), None, now=NOW)


@pytest.mark.parametrize(
    ("started", "values", "reason"),
    [
        (datetime.datetime(2099, 1, 1, 9), None, "starts in the future"),
        (NOW - datetime.timedelta(hours=2), {"alyx_weight_g": 19_400}, "plausible weight"),
        (NOW - datetime.timedelta(hours=2), {"alyx_water_ml": 5_000}, "plausible amount of water"),
    ],
    ids=["dated 2099", "19,400 g", "5,000 mL"],
)
def test_implausible_sessions_are_reported_not_registered(tmp_path, started, values, reason):
    prepared = prepare(tmp_path, started, started + datetime.timedelta(minutes=40), values=values)
    assert prepared.registrations == []
    assert reason in prepared.problems[0].reason


def test_a_two_subject_session_with_one_weight_is_reported_with_per_subject_weights_sent(tmp_path):
    started = NOW - datetime.timedelta(hours=2)
    ended = started + datetime.timedelta(minutes=30)
    one = prepare(tmp_path / "one", started, ended, (M1, M2), {"alyx_weight_g": 21})
    assert one.registrations == [] and "whose is it?" in one.problems[0].reason
    own = {"alyx_weight_g:M1": 21, "alyx_weight_g:M2": 23}
    per_subject = prepare(tmp_path / "own", started, ended, (M1, M2), own)
    assert per_subject.problems == []
    weights = [r.payload["weighing"]["weight"] for r in per_subject.registrations]
    assert weights == [21, 23]
