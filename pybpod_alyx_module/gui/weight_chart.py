"""The chart control of "Alyx details": weight and water, drawn from the subject's saved fields.

Drawn with matplotlib through pyforms' ``ControlMatplotlib`` (both in PyBpod's stack), from
what the last sync or Refresh stored (``weighings``, ``reference_weight``,
``water_administration``, ``expected_water``). What is drawn, and why it looks as it does,
is :mod:`.chart_drawing`'s job; this file only holds the control and the threshold setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from confapp import conf
from pyforms.controls import ControlMatplotlib

from pybpod_alyx_module.plugin_settings import read_settings

from .chart_drawing import ChartData, chart_data, draw


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
