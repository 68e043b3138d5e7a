"""The chart of "Alyx details": weight over time against the reference and the welfare line,
and the water given per day against the day's requirement.

Rig operators decide on a water supplement from this picture. Drawn with matplotlib
through pyforms' ``ControlMatplotlib`` (both in PyBpod's stack), from the subject's saved
Alyx fields (what the last sync or Refresh stored): ``weighings``, ``reference_weight``,
``water_administration`` and ``expected_water``. Alyx gives the requirement of the current
day only, so it is drawn as a line across the days shown.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from confapp import conf
from pyforms.controls import ControlMatplotlib

from pybpod_alyx_module.plugin_settings import read_settings
from pybpod_alyx_module.sync.fields import water_administrations

WEIGHT_COLOUR, REFERENCE_COLOUR, THRESHOLD_COLOUR = "#1f4e79", "#555555", "#b00020"
WATER_COLOUR, REQUIREMENT_COLOUR = "#2e86c1", "#b00020"


@dataclass
class ChartData:
    """What the chart draws, read from a subject's saved Alyx fields."""

    weights: list[tuple[datetime.datetime, float]] = field(default_factory=list)
    reference_g: float | None = None
    threshold_g: float | None = None
    water_per_day: list[tuple[datetime.date, float]] = field(default_factory=list)
    expected_ml: float | None = None


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
        if (moment := _moment(w.get("date_time"))) and _number(w.get("weight"))
    )
    per_day: dict[datetime.date, float] = {}
    for water in _records(water_administrations(data)):
        moment = _moment(water.get("date_time"))
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
        expected_ml=float(expected) if _number(expected) else None,
    )


def draw(figure: Any, chart: ChartData, threshold: float) -> None:
    """Draw both panels on a matplotlib ``figure`` (cleared first)."""
    figure.clear()
    weight_axes, water_axes = figure.subplots(2, 1)
    if chart.weights:
        moments, grams = zip(*chart.weights)
        weight_axes.plot(moments, grams, "o-", color=WEIGHT_COLOUR, label="weight")
    if chart.reference_g is not None:
        weight_axes.axhline(chart.reference_g, color=REFERENCE_COLOUR, linestyle="--",
                            label=f"reference {chart.reference_g:g} g")  # fmt: skip
        weight_axes.axhline(chart.threshold_g, color=THRESHOLD_COLOUR,
                            label=f"{threshold * 100:.0f} % threshold {chart.threshold_g:g} g")  # fmt: skip
    weight_axes.set_ylabel("weight (g)")
    weight_axes.set_title("Weight" if chart.weights else "Weight: no weighing on Alyx yet")
    if chart.water_per_day:
        days, ml = zip(*chart.water_per_day)
        water_axes.bar(days, ml, color=WATER_COLOUR, label="water given")
    if chart.expected_ml is not None:
        water_axes.axhline(chart.expected_ml, color=REQUIREMENT_COLOUR, linestyle="--",
                           label=f"required today {chart.expected_ml:g} mL")  # fmt: skip
    water_axes.set_ylabel("water (mL)")
    water_axes.set_title(
        "Water per day" if chart.water_per_day else "Water per day: none given on Alyx yet"
    )
    for axes in (weight_axes, water_axes):
        if axes.get_legend_handles_labels()[0]:
            axes.legend(loc="best", fontsize="small")
        axes.tick_params(axis="x", labelsize="small")
    figure.autofmt_xdate()
    figure.tight_layout()


class WeightChart:
    """The chart control of a details window (``control`` goes in its formset)."""

    def __init__(self) -> None:
        self.control = ControlMatplotlib("")
        self.threshold = read_settings(conf).weight_threshold
        self.shown = ChartData()
        #: The matplotlib figure drawn on (known after the first draw).
        self.figure: Any = None

    def show(self, data: Mapping[str, Any] | None) -> None:
        """Draw the subject's saved fields."""
        self.shown = chart_data(data, self.threshold)
        self.control.value = self._draw

    def _draw(self, figure: Any) -> None:
        self.figure = figure
        draw(figure, self.shown, self.threshold)


def _records(value: Any) -> list[Mapping[str, Any]]:
    return [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _moment(text: Any) -> datetime.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=None)
