"""``bulk --subjects N``: exactly N extra subjects for benchmarks, through the Django ORM.

Posting 10,000 subjects over REST takes many minutes; one ``bulk_create`` in one Django
shell takes seconds. The subjects belong to user ``bench`` (password ``bench-pass-1``,
created here) in lab ``benchlab`` and project ``bench_project``: alive, nicknames
``bench_00001`` ... ``bench_<N>``, alternating sex, birth dates spread over two years, a
description. Idempotent per N: the missing ones are created and those numbered above N
deleted, so ``bulk --subjects 1000`` after ``--subjects 10000`` leaves 1,000.

The ORM skips ``Subject.save()``, so this sets what it would (``name`` is
``<lab>__<nickname>``). Only for a benchmark's own server (its own ``ALYX_LOCAL_HOME``):
the test suite's seed counts must not change.
"""

from __future__ import annotations

import argparse
import json

from alyxserver import alyxmanage, server
from alyxserver.layout import Layout, log

USER = ("bench", "bench-pass-1")
LAB = "benchlab"
PROJECT = "bench_project"
PREFIX = "bench_"

# Runs inside alyx-local's Django shell; reads its parameters from the environment.
BULK_SUBJECTS = """
import datetime, json, os
from django.contrib.auth import get_user_model
from django.db import transaction
from alyx.misc.models import Lab
from alyx.subjects.models import Project, Subject, default_species, default_subject_source
p = json.loads(os.environ["ALYXSERVER_BULK"])
n, prefix = p["subjects"], p["prefix"]
with transaction.atomic():
    user, _ = get_user_model().objects.get_or_create(username=p["user"])
    user.email = p["user"] + "@example.org"
    user.is_staff = True
    user.set_password(p["password"])
    user.save()
    lab, _ = Lab.objects.get_or_create(name=p["lab"])
    project, _ = Project.objects.get_or_create(name=p["project"], defaults={"description": "bench"})
    project.users.add(user)
    ours = Subject.objects.filter(lab=lab, nickname__startswith=prefix)
    have = set(ours.values_list("nickname", flat=True))
    want = [f"{prefix}{i:05d}" for i in range(1, n + 1)]
    extra = have - set(want)
    if extra:
        ours.filter(nickname__in=extra).delete()
    species, source = default_species(), default_subject_source()
    born = datetime.date(2024, 1, 1)
    new = [
        Subject(
            nickname=nick, name=f"{lab.name}__{nick}", lab=lab, responsible_user=user,
            species_id=species, source_id=source, sex="MF"[i % 2],
            birth_date=born + datetime.timedelta(days=i % 730),
            description=f"Benchmark mouse {nick}, cohort {i // 100}",
        )
        for i, nick in enumerate(want, 1) if nick not in have
    ]
    created = Subject.objects.bulk_create(new, batch_size=2000)
    Through = Subject.projects.through
    Through.objects.bulk_create(
        [Through(subject_id=s.id, project_id=project.id) for s in created], batch_size=5000
    )
print("bulk: %d created, %d deleted, %d in %s" % (len(created), len(extra), ours.count(), lab.name))
"""


def add_arguments(parser) -> None:
    parser.add_argument(
        "--subjects", type=_count, required=True, metavar="N", help="bench subjects wanted"
    )


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return int(text)


def cmd_bulk(layout: Layout, subjects: int) -> int:
    """Make the running server hold exactly ``subjects`` bench subjects."""
    state = server.read_state(layout)
    if not state or not server.answers(state["base_url"]):
        raise server.ServerError(f"no server answers for {layout.home}: run `start` first")
    params = {
        "subjects": subjects,
        "prefix": PREFIX,
        "user": USER[0],
        "password": USER[1],
        "lab": LAB,
        "project": PROJECT,
    }
    log.info("bulk: %d bench subjects for user %s in lab %s", subjects, USER[0], LAB)
    alyxmanage.manage(
        layout,
        state["pg_port"],
        "shell",
        "-c",
        BULK_SUBJECTS,
        env_extra={"ALYXSERVER_BULK": json.dumps(params)},
    )
    return 0
