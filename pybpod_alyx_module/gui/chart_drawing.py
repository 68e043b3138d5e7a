"""Drawing the "Alyx details" chart on a matplotlib figure: the Alyx admin's weight view.

Rig operators decide on a water supplement from this picture, so it must read at a
glance, like the Alyx admin's weight view: weight over time against the reference weight
and the welfare threshold, and below it the water given per day against the day's
requirement. Both panels share **one date axis** (the same days, ticks at the middle of
each day with its date under the day's bar), every axis names its unit (g, mL), legends
sit above the data, never over it, and a panel with nothing to draw says so in words
instead of showing an empty 0-to-1 axis.

Plain matplotlib, no Qt: :mod:`.weight_chart` hands the figure of pyforms'
``ControlMatplotlib`` here, and the tests render the same figure to a PNG offscreen.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from matplotlib import dates as mdates
from matplotlib.ticker import FixedLocator

from pybpod_alyx_module.sync.fields import water_administrations

WEIGHT_COLOUR, REFERENCE_COLOUR, THRESHOLD_COLOUR = "#1f4e79", "#555555", "#b00020"
WATER_COLOUR, REQUIREMENT_COLOUR = "#2e86c1", "#b00020"
#: What a panel with nothing to draw says.
NO_WEIGHINGS = "no weighings on Alyx yet"
NO_WATER = "no water given on Alyx yet"
#: The most date labels on the axis (a long history gets a label every few days).
MAX_DATE_LABELS = 8
#: How the dates read under the axis (ISO, like every date the plugin shows).
DATE_FORMAT = "%Y-%m-%d"
_NOON = datetime.time(12)


@dataclass
class ChartData:
    """What the chart draws, read from a subject's saved Alyx fields."""

    weights: list[tuple[datetime.datetime, float]] = field(default_factory=list)
    reference_g: float | None = None
    threshold_g: float | None = None
    water_per_day: list[tuple[datetime.date, float]] = field(default_factory=list)
    expected_ml: float | None = None

    def days(self) -> tuple[datetime.date, datetime.date] | None:
        """The first and last day with a weighing or water, or ``None`` when there is none."""
        days = [moment.date() for moment, _ in self.weights] + [d for d, _ in self.water_per_day]
        return (min(days), max(days)) if days else None


def chart_data(data: Mapping[str, Any] | None, threshold: float) -> ChartData:
    """The chart's series; records without a readable time or amount are left out.

    >>> d = chart_data({"weighings": [{"date_time": "2026-01-05T09:00:00Z", "weight": 21.0}],
    ...                 "reference_weight": 25.0,
    ...                 "water_administration": [
    ...                     {"date_time": "2026-01-05T10:00:00", "water_administered": 0.5},
    ...                     {"date_time": "2026-01-05T16:00:00", "water_administered": 0.25}]},
    ...                0.8)
    >>> d.weights, d.threshold_g, d.water_per_day
    ([(datetime.datetime(2026, 1, 5, 9, 0), 21.0)], 20.0, [(datetime.date(2026, 1, 5), 0.75)])
    """
    data = data or {}
    weights = sorted(
        (moment, float(w["weight"]))
        for w in _records(data.get("weighings"))
        if (moment := moment_of(w.get("date_time"))) and _number(w.get("weight"))
    )
    per_day: dict[datetime.date, float] = {}
    for water in _records(water_administrations(data)):
        moment = moment_of(water.get("date_time"))
        if moment and _number(water.get("water_administered")):
            day = moment.date()
            per_day[day] = per_day.get(day, 0.0) + float(water["water_administered"])
    reference = data.get("reference_weight")
    reference = float(reference) if _number(reference) and reference > 0 else None
    expected = data.get("expected_water")
    return ChartData(
        weights=weights,
        reference_g=reference,
        threshold_g=None if reference is None else round(reference * threshold, 6),
        water_per_day=sorted((day, round(ml, 6)) for day, ml in per_day.items()),
        expected_ml=float(expected) if _number(expected) and expected > 0 else None,
    )


def draw(figure: Any, chart: ChartData, threshold: float) -> None:
    """Draw the chart on a matplotlib ``figure`` (cleared first).

    With a weighing or some water: two panels over one shared date axis. With neither,
    no axes at all, only a line saying so (and the reference weight, if Alyx has one).
    """
    figure.clear()
    figure.set_layout_engine("constrained")
    span = chart.days()
    if span is None:
        words = f"{NO_WEIGHINGS[0].upper()}{NO_WEIGHINGS[1:]} (and no water given)"
        if chart.reference_g is not None:
            words += (
                f"\nreference weight {chart.reference_g:g} g, "
                f"{_percent(threshold)} threshold {chart.threshold_g:g} g"
            )
        figure.text(0.5, 0.5, words, ha="center", va="center", color=REFERENCE_COLOUR)
        return
    weight_axes, water_axes = figure.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 2)}
    )
    _draw_weight(weight_axes, chart, threshold)
    _draw_water(water_axes, chart)
    _date_axis(water_axes, *span)  # shared: the weight panel gets the same days


def _draw_weight(axes: Any, chart: ChartData, threshold: float) -> None:
    if chart.weights:
        moments, grams = zip(*chart.weights)
        axes.plot(_x(moments), grams, "o-", color=WEIGHT_COLOUR, label="weight")
    if chart.reference_g is not None:
        axes.axhline(chart.reference_g, color=REFERENCE_COLOUR, linestyle="--",
                     label=f"reference {chart.reference_g:g} g")  # fmt: skip
        axes.axhline(chart.threshold_g, color=THRESHOLD_COLOUR,
                     label=f"{_percent(threshold)} threshold {chart.threshold_g:g} g")  # fmt: skip
        low = [(m, g) for m, g in chart.weights if g < chart.threshold_g]
        if low:  # the weighings that call for a person, in the threshold's colour
            low_moments, low_grams = zip(*low)
            axes.plot(_x(low_moments), low_grams, "o", color=THRESHOLD_COLOUR,
                      label="below threshold", zorder=3)  # fmt: skip
    axes.set_ylabel("weight (g)")
    grams = [g for _, g in chart.weights] + [
        g for g in (chart.reference_g, chart.threshold_g) if g is not None
    ]
    if grams:  # room above the reference line and below the lowest point
        pad = max(0.5, (max(grams) - min(grams)) * 0.08)
        axes.set_ylim(min(grams) - pad, max(grams) + pad)
    if not chart.weights:
        _say_empty(axes, NO_WEIGHINGS)
    _legend_above(axes)


def _draw_water(axes: Any, chart: ChartData) -> None:
    if chart.water_per_day:
        days, ml = zip(*chart.water_per_day)
        noons = [datetime.datetime.combine(day, _NOON) for day in days]
        axes.bar(_x(noons), ml, width=0.7, color=WATER_COLOUR, label="water given")
    if chart.expected_ml is not None:
        axes.axhline(chart.expected_ml, color=REQUIREMENT_COLOUR, linestyle="--",
                     label=f"required today {chart.expected_ml:g} mL")  # fmt: skip
    axes.set_ylabel("water (mL)")
    ml = [m for _, m in chart.water_per_day] + (
        [chart.expected_ml] if chart.expected_ml is not None else []
    )
    if ml:  # from 0, with room above the requirement line
        axes.set_ylim(0, max(ml) * 1.12)
    if not chart.water_per_day:
        _say_empty(axes, NO_WATER)
    _legend_above(axes, first="water given")


def _date_axis(axes: Any, first: datetime.date, last: datetime.date) -> None:
    """Whole days from ``first`` to ``last``, a dated tick at the middle of each (or every few)."""
    start = datetime.datetime.combine(first, datetime.time())
    days = (last - first).days + 1
    axes.set_xlim(_x([start])[0], _x([start + datetime.timedelta(days=days)])[0])
    step = math.ceil(days / MAX_DATE_LABELS)
    noons = [start + datetime.timedelta(days=n, hours=12) for n in range(days)]
    axes.xaxis.set_major_locator(FixedLocator(_x(noons[::step])))
    axes.xaxis.set_minor_locator(FixedLocator(_x(noons)))
    axes.xaxis.set_major_formatter(mdates.DateFormatter(DATE_FORMAT))
    axes.set_xlabel("date")
    axes.tick_params(axis="x", labelsize="small", labelrotation=30)


def _say_empty(axes: Any, words: str) -> None:
    """Words in the middle of a panel; no y ticks unless a line (reference, requirement) has them."""
    axes.text(0.5, 0.5, words, transform=axes.transAxes, ha="center", va="center",
              color=REFERENCE_COLOUR)  # fmt: skip
    if not axes.get_lines():
        axes.set_yticks([])


def _legend_above(axes: Any, first: str | None = None) -> None:
    """The legend above the panel: it never hides a point or a bar.

    ``first``: the label listed first (matplotlib lists bars after lines).
    """
    handles, labels = axes.get_legend_handles_labels()
    if first in labels:
        at = labels.index(first)
        handles.insert(0, handles.pop(at))
        labels.insert(0, labels.pop(at))
    if handles:  # one row of up to three; four in two rows, so they fit over the panel
        columns = len(handles) if len(handles) <= 3 else 2
        axes.legend(handles, labels, loc="lower left", bbox_to_anchor=(0, 1.02), ncol=columns,
                    fontsize="small", frameon=False, borderaxespad=0, columnspacing=1.2,
                    handlelength=1.8)  # fmt: skip


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g} %"


def _x(moments: Any) -> list[float]:
    return [float(x) for x in mdates.date2num(list(moments))]


def _records(value: Any) -> list[Mapping[str, Any]]:
    return [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def moment_of(text: Any) -> datetime.datetime | None:
    """An Alyx ``date_time`` as a naive moment (its wall time), or ``None`` if unreadable."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=None)
