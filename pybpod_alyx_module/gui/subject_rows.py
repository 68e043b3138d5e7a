"""The rows of the "Alyx subject details" window, from a subject's saved Alyx fields.

Built from ``subject.data`` every time the window is shown, so it always
shows what the last sync or Refresh stored (1.x bug 11: windows were cached
and never refreshed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pybpod_alyx_module.sync.fields import water_administrations

#: (label, key in the subject's JSON), in the 1.x window's order.
FIELD_ROWS = (
    ("Nickname", "nickname"),
    ("ID", "alyx_id"),
    ("Responsible user", "responsible_user"),
    ("Birth date", "birth_date"),
    ("Age (weeks)", "age_weeks"),
    ("Death date", "death_date"),
    ("Species", "species"),
    ("Sex", "sex"),
    ("Litter", "litter"),
    ("Strain", "strain"),
    ("Source", "source"),
    ("Line", "line"),
    ("Projects", "projects"),
    ("Lab", "lab"),
    ("Genotype", "genotype"),
    ("Description", "description"),
    ("Alive", "alive"),
)
#: Water budget rows, after the weighings and water administrations.
WATER_ROWS = (
    ("Reference weight", "reference_weight"),
    ("Expected water", "expected_water"),
    ("Remaining water", "remaining_water"),
)


def detail_rows(data: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """``[(label, text), …]`` for the details window.

    Examples
    --------
    >>> detail_rows({"nickname": "SW_001", "alive": True})[0]
    ('Nickname', 'SW_001')
    >>> dict(detail_rows({"weighings": [{"date_time": "2026-01-05T09:00:00", "weight": 24.1}]}))["Weighings"]
    '24.1 g (2026-01-05T09:00:00)'
    """
    data = data or {}
    rows = [(label, _text(data.get(key))) for label, key in FIELD_ROWS]
    rows.append(("Weighings", _events(data.get("weighings"), "weight", "g")))
    rows.append(
        ("Water administrations", _events(water_administrations(data), "water_administered", "mL"))
    )
    rows.extend((label, _text(data.get(key))) for label, key in WATER_ROWS)
    return rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _events(events: Any, amount_key: str, unit: str) -> str:
    """``24.1 g (2026-01-05T09:00:00); …``, newest first."""
    if not isinstance(events, list) or not events:
        return ""
    ordered = sorted(
        (e for e in events if isinstance(e, Mapping)),
        key=lambda e: str(e.get("date_time", "")),
        reverse=True,
    )
    return "; ".join(
        f"{_text(e.get(amount_key))} {unit} ({e.get('date_time', '?')})" for e in ordered
    )
