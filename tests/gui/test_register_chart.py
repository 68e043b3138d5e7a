""" "Alyx details" draws weight over time against the reference and the welfare line, and water
per day, on one date axis; a weighing the outbox sends shows there at once."""

from __future__ import annotations

import datetime

import pytest
from register_gui_support import OWNER, StoppableProxy, open_rig

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


@pytest.fixture
def rig(alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch, request):
    return open_rig(alyx_gui, pybpod_user_settings, proxy, tmp_path, monkeypatch, request)


def test_alyx_details_draws_weight_threshold_and_water_per_day(rig, alyx_gui):
    for key, value in {"weighings": WEIGHINGS, "water_administration": WATER,
                       "reference_weight": 25.0, "expected_water": 1.0}.items():  # fmt: skip
        rig.subject.data[key] = value

    window = rig.subject.open_alyx_details()
    alyx_gui.qtbot.waitUntil(window.isVisible)

    weight_axes, water_axes = window.chart.figure.axes
    weight_line, reference, threshold, below = weight_axes.get_lines()
    assert list(weight_line.get_ydata()) == [24.0, 22.0, 19.5]  # in time order
    assert list(reference.get_ydata()) == [25.0, 25.0]
    assert list(threshold.get_ydata()) == [20.0, 20.0]
    assert list(below.get_ydata()) == [19.5]  # the weighing that calls for a person
    assert "80 % threshold 20 g" in [t.get_text() for t in weight_axes.get_legend().get_texts()]
    assert [round(bar.get_height(), 6) for bar in water_axes.patches] == [0.9, 1.0]
    (requirement,) = water_axes.get_lines()
    assert list(requirement.get_ydata()) == [1.0, 1.0]
    assert weight_axes.get_xlim() == water_axes.get_xlim()  # one date axis
    dates = [t.get_text() for t in water_axes.get_xticklabels()]
    assert dates == ["2026-01-05", "2026-01-06", "2026-01-07"]
    assert (weight_axes.get_ylabel(), water_axes.get_ylabel()) == ("weight (g)", "water (mL)")
    assert window.chart.shown.water_per_day[0][0] == datetime.date(2026, 1, 5)
    assert ("Reference weight", "25") in window.rows()  # the text rows stay


def test_a_subject_never_weighed_says_so_instead_of_an_empty_chart(rig):
    window = rig.subject.open_alyx_details()

    assert window.chart.figure.axes == []  # no 0-1 axis
    (words,) = [t.get_text() for t in window.chart.figure.texts]
    assert words.startswith("No weighings on Alyx yet")


def queue_weighing_now(rig, grams):
    """A weighing of the rig's subject put in the project's outbox, as the weigh dialog does."""
    from pybpod_alyx_module.gui.registration import register_options
    from pybpod_alyx_module.register import Outbox, alyx_subjects, queue_weighing
    from pybpod_alyx_module.register.times import ServerTimes

    options = register_options()
    subject = alyx_subjects(rig.project)[str(rig.subject.uuid4)]
    with Outbox(options.outbox_path(rig.project.path)) as outbox:
        when = datetime.datetime.now().replace(microsecond=0)
        assert queue_weighing(outbox, subject, grams, OWNER, when, ServerTimes.of(options))


def test_a_weighing_sent_while_the_details_are_open_shows_at_once(rig, alyx_gui):
    qtbot = alyx_gui.qtbot
    window = rig.subject.open_alyx_details()
    assert window.chart.figure.axes == []  # never weighed

    queue_weighing_now(rig, 23.4)  # not connected: the registrar logs in on its own
    rig.registrar.send_pending()
    rig.wait_outbox("sent")

    assert window.status.startswith("Sent to Alyx at ")
    assert f"{rig.nickname} 23.4 g" in window.status
    weight_axes, _ = window.chart.figure.axes
    assert list(weight_axes.get_lines()[0].get_ydata()) == [23.4]
    assert dict(window.rows())["Weighings"].startswith("23.4 g (")

    from pybpod_alyx_module.gui import project_state

    project_state.connect(rig.project, rig.alyx())  # connected: the window refreshes itself
    queue_weighing_now(rig, 23.9)
    rig.registrar.send_pending()
    rig.wait_outbox("sent", "sent")
    qtbot.waitUntil(lambda: "refreshed from Alyx" in window.status, timeout=30_000)

    assert f"{rig.nickname} 23.9 g" in window.status
    assert sorted(w["weight"] for w in rig.subject.data["weighings"]) == [23.4, 23.9]
    weight_axes, _ = window.chart.figure.axes
    assert sorted(weight_axes.get_lines()[0].get_ydata()) == [23.4, 23.9]
    window.close()
