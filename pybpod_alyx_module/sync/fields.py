"""The Alyx fields an Alyx subject keeps in its PyBpod JSON, under the 1.x plugin's keys.

IBL's rig code reads these keys from each session's ``PYBPOD_SUBJECT_EXTRA``,
so their names never change. One quirk is kept on purpose: the 1.x plugin wrote
``water_administration`` (singular) and read ``water_administrations``, losing
the list on reload. Writing stays singular; reading accepts both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The marker of an Alyx subject: its Alyx id (a UUID string).
ALYX_ID = "alyx_id"
#: Not an Alyx field: the server (``scheme://host[:port]``) a subject was synced from,
#: stamped on each record the sync downloads (:func:`~.subjects.stamp_server`). Its
#: sessions, weights and water are registered on that server only.
SYNCED_FROM = "alyx_server"

#: Alyx list/detail key -> key in the subject's JSON, in the 1.x plugin's order.
ALYX_TO_LOCAL = {
    "nickname": "nickname",
    "url": "url",
    "id": ALYX_ID,
    "responsible_user": "responsible_user",
    "birth_date": "birth_date",
    "age_weeks": "age_weeks",
    "death_date": "death_date",
    "species": "species",
    "sex": "sex",
    "litter": "litter",
    "strain": "strain",
    "source": "source",
    "line": "line",
    "projects": "projects",
    "lab": "lab",
    "genotype": "genotype",
    "description": "description",
    "alive": "alive",
    "weighings": "weighings",
    "water_administrations": "water_administration",
    "reference_weight": "reference_weight",
    "last_water_restriction": "last_water_restriction",
    "expected_water": "expected_water",
    "remaining_water": "remaining_water",
    SYNCED_FROM: SYNCED_FROM,
}

#: Keys Alyx derives from the date or from other records (age, water budget): refreshing
#: them is not "replacing local details", so it needs no question.
DERIVED = frozenset(
    {
        "age_weeks",
        "reference_weight",
        "last_water_restriction",
        "expected_water",
        "remaining_water",
        SYNCED_FROM,  # where it came from is not a detail a person chose
    }
)


def local_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """The fields to store for an Alyx subject record (list or detail entry).

    Keys the record does not have are left out, so that a list entry (without
    weighings) does not erase weighings saved from an earlier detail download.
    """
    return {local: record[alyx] for alyx, local in ALYX_TO_LOCAL.items() if alyx in record}


def water_administrations(data: Mapping[str, Any]) -> list:
    """The saved water administrations, under either spelling."""
    value = data.get("water_administration", data.get("water_administrations"))
    return list(value or [])
