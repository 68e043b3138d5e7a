""" "Alyx details" draws weight over time against the reference and the welfare line, and water per day."""

from __future__ import annotations

import datetime

import pytest
from register_gui_support import StoppableProxy, open_rig

pytestmark = pytest.mark.gui

WEIGHINGS = [
    {"date_time": "2026-01-05T09:00:00Z", "weight": 24.0},
    {"date_time": "2026-01-07T09:00:00Z", "weight": 19.5},  # below 80 % of 25 g
    {"date_time": "2026-01-06T09:00:00Z", "weight": 22.0},
]
WATER = [
    {"date_time": "2026-01-05T10:00:00Z", "water_administered": 0.5},
    {"date_time": "2026-01-05T17:00:00Z", "water_administered": 0.4},
    {"date_time": "2026-01-06T10:00:00Z", "water_administered": 1.0},
]


@pytest.fixture
def proxy(alyx_server):
    proxy = StoppableProxy(alyx_server.base_url)
    proxy.start()
    yield proxy
    proxy.stop()


def test_alyx_details_draws_weight_threshold_and_water_per_day(
    alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch, request
):
    rig = open_rig(alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch, request)
    for key, value in {"weighings": WEIGHINGS, "water_administration": WATER,
                       "reference_weight": 25.0, "expected_water": 1.0}.items():  # fmt: skip
        rig.subject.data[key] = value

    window = rig.subject.open_alyx_details()
    alyx_gui.qtbot.waitUntil(window.isVisible)

    weight_axes, water_axes = window.chart.figure.axes
    weight_line, reference, threshold = weight_axes.get_lines()
    assert list(weight_line.get_ydata()) == [24.0, 22.0, 19.5]  # in time order
    assert list(reference.get_ydata()) == [25.0, 25.0]
    assert list(threshold.get_ydata()) == [20.0, 20.0]
    assert "80 % threshold 20 g" in [t.get_text() for t in weight_axes.get_legend().get_texts()]
    assert [round(bar.get_height(), 6) for bar in water_axes.patches] == [0.9, 1.0]
    (requirement,) = water_axes.get_lines()
    assert list(requirement.get_ydata()) == [1.0, 1.0]
    assert window.chart.shown.water_per_day[0][0] == datetime.date(2026, 1, 5)
    assert ("Reference weight", "25") in window.rows()  # the text rows stay


def test_a_subject_never_weighed_says_so_instead_of_an_empty_chart(
    alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch, request
):
    rig = open_rig(alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch, request)

    window = rig.subject.open_alyx_details()

    weight_axes, water_axes = window.chart.figure.axes
    assert weight_axes.get_title() == "Weight: no weighing on Alyx yet"
    assert water_axes.get_title() == "Water per day: none given on Alyx yet"
