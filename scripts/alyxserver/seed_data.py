"""The seed of the local Alyx: plain data that the whole test suite may rely on.

``scripts/alyxserver start`` loads exactly this into a fresh alyx-local database (then
caches it as a dump keyed by a hash of this file), and tests import it
(``from alyxserver import seed_data``) instead of repeating numbers.

Users (``USERS``, name -> password; test-only passwords on a 127.0.0.1 server). All are
staff superusers so they can log in (``POST /api/auth-token``) and write over REST;
``admin``/``admin`` comes from alyx-local's migrations.

Labs ``cortexlab``, ``hoferlab`` (plus ``defaultlab`` from the migrations, with no subject).

Projects ``ibl_behaviour`` (alice, bob) and ``hofer_vision`` (carol, alice).

Subjects (``SUBJECTS``; ``TOTAL_SUBJECTS`` = 276):

* ``SW_001`` ... ``SW_260``: alive, cortexlab, alice, ibl_behaviour, sex M for odd numbers
  and F for even ones, born 2025-01-01 + (n - 1) days, so more than one page of 250.
* ``twin_mouse`` twice, alive: in cortexlab (alice, ibl_behaviour) and in hoferlab (carol,
  hofer_vision); the only nickname shared by two subjects. Nicknames are unique per lab,
  and on alyx-local also per responsible user (``unique_together`` on both), so the twins
  cannot share a responsible user there (POST answers 400 "The fields nickname,
  responsible_user must make a unique set.").
* ``souris_é``: alice, cortexlab, description with an apostrophe, a dash and guillemets.
* ``dead_mouse_1``, ``dead_mouse_2``: alice, cortexlab, dead on ``DEATH_DATE``.
* ``bob_mouse_1`` ... ``bob_mouse_5``, ``..`` and ``dot.mouse``: bob, cortexlab,
  ibl_behaviour, alive. alyx-local accepts ``..`` and ``dot.mouse`` as nicknames; they
  are not safe folder names (``ODD_NICKNAMES``).
* ``carol_mouse_1`` ... ``carol_mouse_4``: carol, hoferlab, hofer_vision; ``carol_mouse_4``
  is dead on ``DEATH_DATE``.

So alice has ``ALICE_ALIVE_COUNT`` = 262 alive subjects (and 2 dead), bob 7 alive, carol 4
alive and 1 dead (``alive_count(user)``, ``dead_count(user)``).

``SW_001`` also has the weighings ``WEIGHINGS`` and water administrations
``WATER_ADMINISTRATIONS`` (by alice; datetimes in UTC, answered with a ``Z``).
"""

from __future__ import annotations

import datetime
from typing import NamedTuple

USERS = {
    "alice": "alice-pass-1",
    "bob": "bob-pass-1",
    "carol": "carol-pass-1",
}
ADMIN_USER = ("admin", "admin")  # created by alyx-local's migrations

LABS = ("cortexlab", "hoferlab")
DEFAULT_LAB = "defaultlab"  # created by the migrations; no subject in it

PROJECTS = {
    "ibl_behaviour": ("alice", "bob"),
    "hofer_vision": ("carol", "alice"),
}

DEATH_DATE = "2026-01-15"


class SeedSubject(NamedTuple):
    nickname: str
    lab: str
    responsible_user: str
    projects: tuple[str, ...]
    sex: str
    birth_date: str
    description: str
    death_date: str | None = None

    @property
    def name(self) -> str:
        """alyx-local's subject key, used in its detail URLs and in weighings."""
        return f"{self.lab}__{self.nickname}"

    @property
    def alive(self) -> bool:
        return self.death_date is None


def _born(days_after_new_year_2025: int) -> str:
    born = datetime.date(2025, 1, 1) + datetime.timedelta(days=days_after_new_year_2025)
    return born.isoformat()


SW_COUNT = 260
SW_SUBJECTS = tuple(
    SeedSubject(
        nickname=f"SW_{n:03d}",
        lab="cortexlab",
        responsible_user="alice",
        projects=("ibl_behaviour",),
        sex="M" if n % 2 else "F",
        birth_date=_born(n - 1),
        description=f"Sample wild-type mouse number {n} of the behaviour cohort",
    )
    for n in range(1, SW_COUNT + 1)
)

TWIN_NICKNAME = "twin_mouse"
TWIN_LABS = ("cortexlab", "hoferlab")
TWIN_RESPONSIBLE_USERS = {"cortexlab": "alice", "hoferlab": "carol"}
TWIN_PROJECTS = {"cortexlab": "ibl_behaviour", "hoferlab": "hofer_vision"}
TWINS = tuple(
    SeedSubject(
        nickname=TWIN_NICKNAME,
        lab=lab,
        responsible_user=TWIN_RESPONSIBLE_USERS[lab],
        projects=(TWIN_PROJECTS[lab],),
        sex="F",
        birth_date="2025-03-01",
        description=f"The twin_mouse of {lab}",
    )
    for lab in TWIN_LABS
)

NON_ASCII_NICKNAME = "souris_é"
NON_ASCII_DESCRIPTION = "L'animal préféré de l'équipe — «très calme»"
NON_ASCII_SUBJECT = SeedSubject(
    nickname=NON_ASCII_NICKNAME,
    lab="cortexlab",
    responsible_user="alice",
    projects=("ibl_behaviour",),
    sex="M",
    birth_date="2025-02-14",
    description=NON_ASCII_DESCRIPTION,
)

ALICE_DEAD = tuple(
    SeedSubject(
        nickname=f"dead_mouse_{n}",
        lab="cortexlab",
        responsible_user="alice",
        projects=("ibl_behaviour",),
        sex="M",
        birth_date="2025-01-20",
        description=f"Dead mouse number {n}",
        death_date=DEATH_DATE,
    )
    for n in (1, 2)
)

ODD_NICKNAMES = ("..", "dot.mouse")
BOB_NICKNAMES = tuple(f"bob_mouse_{n}" for n in range(1, 6)) + ODD_NICKNAMES
BOB_SUBJECTS = tuple(
    SeedSubject(
        nickname=nickname,
        lab="cortexlab",
        responsible_user="bob",
        projects=("ibl_behaviour",),
        sex="F" if i % 2 else "M",
        birth_date="2025-04-01",
        description=f"Bob's mouse {nickname}",
    )
    for i, nickname in enumerate(BOB_NICKNAMES)
)

CAROL_DEAD_NICKNAME = "carol_mouse_4"
CAROL_SUBJECTS = tuple(
    SeedSubject(
        nickname=f"carol_mouse_{n}",
        lab="hoferlab",
        responsible_user="carol",
        projects=("hofer_vision",),
        sex="M" if n % 2 else "F",
        birth_date="2025-05-01",
        description=f"Carol's vision mouse {n}",
        death_date=DEATH_DATE if f"carol_mouse_{n}" == CAROL_DEAD_NICKNAME else None,
    )
    for n in range(1, 5)
)

SUBJECTS = SW_SUBJECTS + TWINS + (NON_ASCII_SUBJECT,) + ALICE_DEAD + BOB_SUBJECTS + CAROL_SUBJECTS
DEAD_SUBJECTS = tuple(s for s in SUBJECTS if not s.alive)


def alive_count(user: str) -> int:
    return sum(1 for s in SUBJECTS if s.responsible_user == user and s.alive)


def dead_count(user: str) -> int:
    return sum(1 for s in SUBJECTS if s.responsible_user == user and not s.alive)


def subjects_of(user: str) -> tuple:
    return tuple(s for s in SUBJECTS if s.responsible_user == user)


TOTAL_SUBJECTS = len(SUBJECTS)
ALICE_ALIVE_COUNT = alive_count("alice")
ALICE_DEAD_COUNT = dead_count("alice")
BOB_COUNT = len(subjects_of("bob"))
CAROL_COUNT = len(subjects_of("carol"))

WEIGHED_SUBJECT = SW_SUBJECTS[0]  # SW_001, cortexlab
WATER_TYPE = "Water"  # from alyx-local's actions.watertype fixture
WEIGHINGS = (
    {"date_time": "2026-01-05T09:00:00", "weight": 24.1, "user": "alice"},
    {"date_time": "2026-01-06T09:00:00", "weight": 23.8, "user": "alice"},
    {"date_time": "2026-01-07T09:00:00", "weight": 23.5, "user": "alice"},
)
WATER_ADMINISTRATIONS = (
    {"date_time": "2026-01-05T17:00:00", "water_administered": 1.0, "user": "alice"},
    {"date_time": "2026-01-06T17:00:00", "water_administered": 0.8, "user": "alice"},
)
