"""Welfare data for the demo's Alyx: reference weights, water restrictions, weeks of records.

The seed (:mod:`alyxserver.seed_data`) gives no subject a reference weight, so the weigh
dialog's 80 % warning and the chart's reference and threshold lines cannot be seen. This
adds, for a few of alice's subjects (``RESTRICTED``, ``FREE``), what a lab's Alyx holds
after a few weeks of water restriction: baseline weighings, a water restriction with its
reference weight, a daily weighing and water administration since, and none today (today's
are the user's to enter). The lab's ``reference_weight_pct`` stays 0, so Alyx's expected
water is its daily minimum, 0.5 mL: alyx-local 3.1.8 with ``USE_TZ = False`` (the canonical
settings) answers 500 for a restricted subject's list entry when it is set ("can't compare
offset-naive and offset-aware datetimes", in ``WaterControl.expected_weight``).

Only the demo's home gets it (``scripts/demo`` and ``scripts/screenshots.py`` call
:func:`seed_welfare` after a start), never the tests' seed: the tests count SW_001's
records and the cached seed dump is keyed by the seed's files, which this one is not among.
The dates are relative to ``today`` (charts look current after ``scripts/demo --fresh``),
and the numbers come from a random generator seeded by the subject's name: the same day
gives the same data. Once added, a kept database keeps it (:func:`seed_welfare` adds nothing
when a restriction is there); ``--fresh`` adds it anew, dated from that day.

A restriction's own ``reference_weight`` is left 0 (Alyx then derives the reference from
the weighing on the restriction's first day, the subject's ``reference_g``): with one set,
alyx-local 3.1.8 under ``USE_TZ = False`` answers 500 to every weighing POSTed for the
subject ("can't compare offset-naive and offset-aware datetimes", in ``check_weighing``).

Water restrictions and locations cannot be written over REST (``/water-restriction`` only
lists), so everything goes in one Django shell, in one transaction.
"""

from __future__ import annotations

import datetime
import json
import math
import random
from typing import NamedTuple

from alyxserver import seed_data, server
from alyxserver.alyxmanage import manage
from alyxserver.layout import Layout, log
from alyxserver.seed import Rest

LAB = "cortexlab"
USER = "alice"
#: Days since the restriction began, and days weighed before it (the baseline).
RESTRICTED_DAYS = 21
BASELINE_DAYS = 4
#: The demo rig's location (the setup's name), in the subjects' lab.
LOCATIONS = (("demo_rig", LAB),)


class Welfare(NamedTuple):
    """One subject's story: its reference weight and where restriction brings it."""

    nickname: str
    reference_g: float
    #: The fraction of the reference the weight settles at under restriction.
    plateau: float


#: Water-restricted since ``RESTRICTED_DAYS`` ago; SW_004 settles near the 80 % threshold.
RESTRICTED = (
    Welfare("SW_002", 24.6, 0.87),
    Welfare("SW_003", 22.8, 0.85),
    Welfare("SW_004", 25.4, 0.82),
)
#: Weighed twice a week, never restricted: no reference weight, as Alyx gives none.
FREE = (Welfare("SW_005", 23.9, 1.0),)


def welfare_plan(today: datetime.date) -> dict:
    """Everything to add, as plain JSON-able data (times naive, as the server keeps them).

    >>> plan = welfare_plan(datetime.date(2026, 3, 1))
    >>> [r["nickname"] for r in plan["restrictions"]]
    ['SW_002', 'SW_003', 'SW_004']
    >>> plan["restrictions"][0]["start_time"], plan["restrictions"][0]["reference_weight"]
    ('2026-02-08T08:30:00', 24.6)
    >>> max(w["date_time"] for w in plan["weighings"]) < "2026-03-01"
    True
    >>> plan == welfare_plan(datetime.date(2026, 3, 1))
    True
    """
    start = today - datetime.timedelta(days=RESTRICTED_DAYS)
    weighings, water = [], []
    for turn, subject in enumerate(RESTRICTED):
        rng = random.Random(subject.nickname)
        for day in range(-BASELINE_DAYS, RESTRICTED_DAYS):
            date = start + datetime.timedelta(days=day)
            weighings.append(
                _record(subject, date, 9, turn, rng, weight=_weight(subject, day, rng))
            )
            if day >= 0:
                ml = round(rng.uniform(0.6, 1.1) * 20) / 20
                water.append(_record(subject, date, 16, turn, rng, ml=ml))
    for turn, subject in enumerate(FREE, start=len(RESTRICTED)):
        rng = random.Random(subject.nickname)
        for day in range(-BASELINE_DAYS - RESTRICTED_DAYS, 0):
            date = today + datetime.timedelta(days=day)
            if date.weekday() in (0, 3):
                grams = round(subject.reference_g + rng.gauss(0, 0.3), 1)
                weighings.append(_record(subject, date, 9, turn, rng, weight=grams))
    restrictions = [
        {
            "nickname": s.nickname,
            "start_time": f"{start.isoformat()}T08:30:00",
            "reference_weight": s.reference_g,
        }
        for s in RESTRICTED
    ]
    return {
        "lab": LAB,
        "user": USER,
        "water_type": seed_data.WATER_TYPE,
        "restrictions": restrictions,
        "weighings": weighings,
        "water_administrations": water,
        "locations": [list(location) for location in LOCATIONS],
    }


def _weight(subject: Welfare, day: int, rng: random.Random) -> float:
    """Grams on ``day`` of the restriction: the baseline, then an easing fall to the plateau.

    On its first day the subject weighs its reference: Alyx takes the reference from there.
    """
    if day == 0:
        return subject.reference_g
    settled = 1.0 if day < 0 else 1 - (1 - subject.plateau) * (1 - math.exp(-day / 4))
    return round(subject.reference_g * settled + rng.gauss(0, 0.2), 1)


def _record(
    subject: Welfare, date: datetime.date, hour: int, turn: int, rng: random.Random, **values
) -> dict:
    """A record at ``hour`` of ``date``, the subjects weighed in turn, ten minutes each.

    No two records share a time: Alyx orders these lists by time alone, and ties make
    its pages overlap (a client reading them then sees an item twice).
    """
    moment = datetime.time(hour, 10 * turn + rng.randrange(10), rng.randrange(60))
    return {"nickname": subject.nickname, "date_time": f"{date}T{moment}", **values}


# Runs inside alyx-local's Django shell; the plan comes from the environment as JSON.
ADD_WELFARE = """
import datetime, json, os
from django.apps import apps
from django.db import transaction
model = apps.get_model
Lab, LabLocation = model("misc", "Lab"), model("misc", "LabLocation")
Subject, WaterType = model("subjects", "Subject"), model("actions", "WaterType")
Restriction, Weighing = model("actions", "WaterRestriction"), model("actions", "Weighing")
Water = model("actions", "WaterAdministration")
User = model("misc", "LabMember")
plan = json.loads(os.environ["ALYXSERVER_WELFARE"])
when = datetime.datetime.fromisoformat
with transaction.atomic():
    lab = Lab.objects.get(name=plan["lab"])
    for name, lab_name in plan["locations"]:
        LabLocation.objects.get_or_create(name=name, lab=Lab.objects.get(name=lab_name))
    subjects = {s.nickname: s for s in Subject.objects.filter(lab=lab)}
    names = [r["nickname"] for r in plan["restrictions"]]
    if Restriction.objects.filter(subject__in=[subjects[n] for n in names]).exists():
        print("welfare: already there")
    else:
        user = User.objects.get(username=plan["user"])
        water_type = WaterType.objects.get(name=plan["water_type"])
        for w in plan["weighings"]:
            Weighing.objects.create(subject=subjects[w["nickname"]], user=user,
                                    date_time=when(w["date_time"]), weight=w["weight"])
        for r in plan["restrictions"]:
            restriction = Restriction.objects.create(
                subject=subjects[r["nickname"]], lab=lab, start_time=when(r["start_time"]),
                reference_weight=r["reference_weight"], water_type=water_type)
            restriction.users.add(user)
            # Stored as 0, Alyx takes the last weighing of the start day or before (the
            # reference) itself; a stored one makes alyx-local compare it, naive, with an
            # aware "now": every weighing POST of the subject then answers 500.
            Restriction.objects.filter(pk=restriction.pk).update(reference_weight=0)
        for w in plan["water_administrations"]:
            Water.objects.create(subject=subjects[w["nickname"]], user=user, water_type=water_type,
                                 date_time=when(w["date_time"]), water_administered=w["ml"])
        print("welfare: added")
"""


def seed_welfare(layout: Layout, today: datetime.date | None = None) -> bool:
    """Add the welfare data to the running server of ``layout``; ``False``: it was there.

    Asking over REST first takes a fraction of a second; the Django shell, a few seconds.
    """
    state = server.read_state(layout)
    if state is None:
        raise server.ServerError(f"no server is running under {layout.home}")
    rest = Rest(state["url"], *seed_data.ADMIN_USER)
    if rest.request("GET", f"/water-restriction?subject={RESTRICTED[0].nickname}")["count"]:
        return False
    plan = welfare_plan(today or datetime.date.today())
    log.info(
        "adding welfare data: %s water-restricted, %s weighed",
        ", ".join(s.nickname for s in RESTRICTED),
        ", ".join(s.nickname for s in FREE),
    )
    manage(
        layout,
        state["pg_port"],
        "shell",
        "-c",
        ADD_WELFARE,
        env_extra={"ALYXSERVER_WELFARE": json.dumps(plan)},
    )
    return True
