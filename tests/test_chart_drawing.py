"""The "Alyx details" chart reads at a glance: rendered to a PNG offscreen (matplotlib's Agg, no
Qt), then checked from the figure: one date axis for both panels, dates under the ticks, a unit
on every axis, legends outside the data, words instead of an empty 0-to-1 axis."""

from __future__ import annotations

import datetime
import io

from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pybpod_alyx_module.gui.chart_drawing import (
    DATE_FORMAT,
    MAX_DATE_LABELS,
    NO_WATER,
    NO_WEIGHINGS,
    chart_data,
    draw,
)

GENERATED = settings(max_examples=15, deadline=None, derandomize=True)
FIRST_DAY = datetime.date(2026, 1, 5)
THREE_WEEKS = {
    "reference_weight": 25.0,
    "expected_water": 1.0,
    "weighings": [
        {"date_time": f"{FIRST_DAY + datetime.timedelta(days=n)}T09:00:00", "weight": 24 - 0.3 * n}
        for n in range(21)
    ],
    "water_administration": [
        {
            "date_time": f"{FIRST_DAY + datetime.timedelta(days=n)}T17:00:00",
            "water_administered": 0.6,
        }
        for n in range(19)
    ],
}


def rendered(data, threshold=0.8, png=True):
    """The chart of ``data`` drawn and written to a PNG (or only drawn), as the window's is."""
    figure = Figure((5.6, 4.4), dpi=100)
    FigureCanvasAgg(figure)
    draw(figure, chart_data(data, threshold), threshold)
    if png:
        written = io.BytesIO()
        figure.savefig(written, format="png")
        assert written.getvalue().startswith(b"\x89PNG")
    else:
        figure.canvas.draw()
    return figure


def texts(axes):
    return [t.get_text() for t in axes.texts]


def tick_dates(axes):
    labels = [t.get_text() for t in axes.get_xticklabels()]
    return [datetime.datetime.strptime(label, DATE_FORMAT).date() for label in labels]


def assert_reads_at_a_glance(figure, first, last):
    weight_axes, water_axes = figure.axes
    assert weight_axes.get_xlim() == water_axes.get_xlim()  # one shared date axis
    left, right = (mdates.num2date(x).replace(tzinfo=None) for x in water_axes.get_xlim())
    assert (left.date(), right.date()) == (first, last + datetime.timedelta(days=1))
    assert left.time() == right.time() == datetime.time()  # whole days
    dates = tick_dates(water_axes)  # every label parses as a date
    assert dates and len(dates) <= MAX_DATE_LABELS
    assert dates[0] == first and all(first <= d <= last for d in dates)
    for x in water_axes.get_xticks():  # a tick at the middle of its day, under its bar
        assert mdates.num2date(x).time() == datetime.time(12)
    assert weight_axes.get_ylabel() == "weight (g)"
    assert water_axes.get_ylabel() == "water (mL)"
    assert water_axes.get_xlabel() == "date"
    renderer = figure.canvas.get_renderer()
    for axes in figure.axes:
        legend = axes.get_legend()
        if legend is not None:  # above the data, never over a point or a bar
            assert legend.get_window_extent(renderer).y0 >= axes.get_window_extent(renderer).y1


def test_three_weeks_of_restriction_read_like_the_alyx_weight_view():
    figure = rendered(THREE_WEEKS)

    last = FIRST_DAY + datetime.timedelta(days=20)
    assert_reads_at_a_glance(figure, FIRST_DAY, last)
    weight_axes, water_axes = figure.axes
    legend = [t.get_text() for t in weight_axes.get_legend().get_texts()]
    assert legend == ["weight", "reference 25 g", "80 % threshold 20 g", "below threshold"]
    low, high = weight_axes.get_ylim()
    assert low < 24 - 0.3 * 20 and high > 25  # every point and the reference line inside
    assert [t.get_text() for t in water_axes.get_legend().get_texts()] == [
        "water given",
        "required today 1 mL",
    ]
    assert water_axes.get_ylim()[0] == 0 and water_axes.get_ylim()[1] > 1.0
    assert len(water_axes.patches) == 19


def test_the_threshold_follows_the_setting():
    figure = rendered(THREE_WEEKS, threshold=0.75)

    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert "75 % threshold 18.75 g" in legend


@GENERATED
@given(
    weigh_days=st.lists(st.integers(0, 120), max_size=30),
    water_days=st.lists(st.integers(0, 120), max_size=30),
    hour=st.integers(0, 23),
    reference=st.one_of(st.none(), st.floats(10, 40)),
    expected=st.one_of(st.none(), st.floats(0.1, 3)),
)
def test_any_history_gets_one_date_axis_with_dates_and_units(
    weigh_days, water_days, hour, reference, expected
):
    moment = lambda n: f"{FIRST_DAY + datetime.timedelta(days=n)}T{hour:02}:30:00"  # noqa: E731
    data = {
        "weighings": [{"date_time": moment(n), "weight": 20 + n % 7} for n in weigh_days],
        "water_administration": [
            {"date_time": moment(n), "water_administered": 0.5} for n in water_days
        ],
        "reference_weight": reference,
        "expected_water": expected,
    }

    figure = rendered(data, png=False)

    days = weigh_days + water_days
    if not days:
        assert figure.axes == []
        return
    first, last = (FIRST_DAY + datetime.timedelta(days=n) for n in (min(days), max(days)))
    assert_reads_at_a_glance(figure, first, last)
    weight_axes, water_axes = figure.axes
    assert (NO_WEIGHINGS in texts(weight_axes)) == (not weigh_days)
    assert (NO_WATER in texts(water_axes)) == (not water_days)


def test_an_empty_chart_says_so_instead_of_a_0_to_1_axis():
    figure = rendered({"reference_weight": 25.0})

    assert figure.axes == []
    (words,) = [t.get_text() for t in figure.texts]
    assert words.startswith("No weighings on Alyx yet")
    assert "reference weight 25 g, 80 % threshold 20 g" in words


def test_a_panel_without_its_records_says_so_and_shows_no_made_up_scale():
    figure = rendered({"weighings": THREE_WEEKS["weighings"][:3]})

    water_axes = figure.axes[1]
    assert texts(water_axes) == [NO_WATER]
    assert list(water_axes.get_yticks()) == []  # no 0-1 scale for water never given
    assert water_axes.get_ylabel() == "water (mL)"
    assert tick_dates(water_axes) == [FIRST_DAY + datetime.timedelta(days=n) for n in range(3)]


def test_records_a_damaged_or_hostile_file_holds_are_left_out():
    data = {
        "weighings": [
            {"date_time": "2026-01-05T09:00:00", "weight": float("nan")},
            {"date_time": "not a time", "weight": 20.0},
            {"date_time": "2026-01-06T09:00:00", "weight": True},
            "a string",
            {"date_time": "2026-01-07T09:00:00", "weight": 21.0},
        ],
        "reference_weight": float("inf"),
        "expected_water": -1,
    }

    chart = chart_data(data, 0.8)

    assert chart.weights == [(datetime.datetime(2026, 1, 7, 9), 21.0)]
    assert chart.reference_g is None and chart.expected_ml is None
    assert_reads_at_a_glance(rendered(data), datetime.date(2026, 1, 7), datetime.date(2026, 1, 7))
