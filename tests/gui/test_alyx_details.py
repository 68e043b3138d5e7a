"""The "Alyx subject details" window, the read-only name, and toJSON() for the rig."""

import json

import pytest
from alyxserver.seed_data import ALICE_ALIVE_COUNT as ALIVE  # alice's alive subjects
from AnyQt.QtCore import Qt
from shared_server import changes_the_shared_server

pytestmark = pytest.mark.gui

LABELS = [
    "Nickname",
    "ID",
    "Responsible user",
    "Birth date",
    "Age (weeks)",
    "Death date",
    "Species",
    "Sex",
    "Litter",
    "Strain",
    "Source",
    "Line",
    "Projects",
    "Lab",
    "Genotype",
    "Description",
    "Alive",
    "Weighings",
    "Water administrations",
    "Reference weight",
    "Expected water",
    "Remaining water",
]


@pytest.fixture
def synced(alyx_gui):
    window = alyx_gui.open_connection(alyx_gui.new_project("proj"))
    alyx_gui.connect(window)
    alyx_gui.get_subjects(window)
    assert window.status.startswith(f"Status: Sync done: {ALIVE} added"), window.status
    return window


def open_details(alyx_gui, subject):
    alyx_gui.trigger(subject.node, "Alyx details")
    window = subject._alyx_details_window
    assert window.isVisible()
    return window


def test_details_window_lists_the_subjects_alyx_fields(alyx_gui, synced, seed):
    subject = synced.project.find_subject("SW_001")

    details = open_details(alyx_gui, subject)

    rows = dict(details.rows())
    assert [label for label, _ in details.rows()] == LABELS
    assert details.windowTitle() == "Alyx subject details: SW_001"
    assert rows["Nickname"] == "SW_001"
    assert rows["ID"] == subject.data["alyx_id"]
    assert rows["Responsible user"] == "alice"
    assert rows["Lab"] == "cortexlab"
    assert rows["Sex"] == "M"
    assert rows["Birth date"] == "2025-01-01"
    assert rows["Projects"] == "ibl_behaviour"
    assert rows["Alive"] == "yes"
    assert rows["Description"] == "Sample wild-type mouse number 1 of the behaviour cohort"


def test_refresh_fetches_weighings_and_water(alyx_gui, synced, qtbot):
    subject = synced.project.find_subject("SW_001")
    details = open_details(alyx_gui, subject)
    assert details._refresh.enabled

    details._refresh.click()
    qtbot.waitUntil(lambda: not details.busy, timeout=30_000)

    rows = dict(details.rows())
    assert "24.1 g (2026-01-05T09:00:00" in rows["Weighings"]
    assert rows["Weighings"].startswith("23.5 g")  # newest first
    assert "0.8 mL (2026-01-06T17:00:00" in rows["Water administrations"]
    extra = json.loads(subject.toJSON())
    assert len(extra["water_administration"]) == 2
    assert "water_administrations" not in extra


@pytest.mark.serial  # changes SW_010 on the shared server
def test_details_show_current_data_after_a_resync(
    alyx_gui, synced, alyx_as_alice, pybpod_dialogs, request
):
    changes_the_shared_server(request)
    subject = synced.project.find_subject("SW_010")
    details = open_details(alyx_gui, subject)
    old = dict(details.rows())["Description"]
    alyx_as_alice.patch("subjects/cortexlab__SW_010", {"description": "Re-synced description"})
    try:
        pybpod_dialogs.answers.append("yes")
        alyx_gui.get_subjects(synced)
    finally:
        alyx_as_alice.patch("subjects/cortexlab__SW_010", {"description": old})

    assert dict(details.rows())["Description"] == "Re-synced description"
    details.close()
    assert dict(open_details(alyx_gui, subject).rows())["Description"] == "Re-synced description"


def test_escape_closes_the_details_window(alyx_gui, synced, qtbot):
    details = open_details(alyx_gui, synced.project.find_subject("SW_002"))

    qtbot.keyClick(details, Qt.Key_Escape)

    assert not details.isVisible()


def test_alyx_subjects_name_is_read_only(synced):
    subject = synced.project.find_subject("SW_002")

    assert subject._name.readonly
    assert not subject._name.form.lineEdit.isEnabled()


def test_tojson_of_a_freshly_synced_subject_holds_the_alyx_fields(synced):
    subject = synced.project.find_subject("souris_é")

    extra = json.loads(subject.toJSON())

    assert extra["name"] == "souris_é"
    assert extra["uuid4"] == subject.uuid4
    assert extra["alyx_id"] == subject.data["alyx_id"]
    assert extra["nickname"] == "souris_é"
    assert extra["description"] == "L'animal préféré de l'équipe — «très calme»"
    assert extra["lab"] == "cortexlab"


def test_tojson_of_a_new_local_subject_works(alyx_gui):
    subject = alyx_gui.new_project().create_subject()

    extra = json.loads(subject.toJSON())

    assert extra["uuid4"] == subject.uuid4
    assert "alyx_id" not in extra


def assert_both_headers_in_view(details):
    table = details._list.tableWidget
    header = table.horizontalHeader()
    names = [table.horizontalHeaderItem(i).text() for i in range(table.columnCount())]
    assert names == ["Field", "Value"]
    assert header.isVisible()
    for column in (0, 1):  # each header's label is inside the table's view, not scrolled off
        assert header.sectionViewportPosition(column) >= 0
        assert header.sectionViewportPosition(column) + header.sectionSize(column) <= (
            table.viewport().width()
        )


def test_the_value_header_stays_in_view_after_refresh(alyx_gui, synced, qtbot):
    subject = synced.project.find_subject("SW_001")
    details = open_details(alyx_gui, subject)
    details.resize(600, 2000)  # every row in view: Qt sizes a column to the rows in view
    qtbot.waitExposed(details)

    details._refresh.click()
    qtbot.waitUntil(lambda: not details.busy, timeout=30_000)
    assert_both_headers_in_view(details)

    subject.data["weighings"] = [  # weeks of weighings: a long row
        {"date_time": f"2026-01-{day:02}T09:00:00", "weight": 20 + day / 10} for day in range(1, 29)
    ]
    details.refresh_rows()
    assert_both_headers_in_view(details)
    assert dict(details.rows())["Weighings"].startswith("22.8 g (2026-01-28T09:00:00)")
