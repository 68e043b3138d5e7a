"""Loads :mod:`alyxserver.seed_data` into a running alyx-local over its REST API.

Going through REST (rather than the ORM) seeds the way real clients write, so the seed
is exactly what alyx-local's serializers make of such requests. Standard library only
(urllib): this runs in whatever Python calls the script. Two alyx-local quirks shape it:
posting a subject with ``death_date`` answers 500 and drops its projects, so the dead are
posted alive and then PATCHed at ``/subjects/<lab>__<nickname>``; and weighings and water
administrations name their subject ``<lab>__<nickname>``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from alyxserver import seed_data
from alyxserver.layout import log

TIMEOUT = 60
WORKERS = 4  # gunicorn runs 2 workers; 4 requests in flight keep both busy


class SeedError(RuntimeError):
    """A seeding request was refused; the message has the request and the answer."""


class Rest:
    """The few REST calls seeding needs, authenticated with one token."""

    def __init__(self, api_url: str, username: str, password: str) -> None:
        self.api_url = api_url.rstrip("/")
        status, body = self._call(
            "POST", "/auth-token", {"username": username, "password": password}
        )
        if status != 200:
            raise SeedError(f"cannot log in as {username}: {status} {body}")
        self.token = body["token"]

    def request(self, method: str, path: str, payload: dict | None = None) -> dict:
        status, body = self._call(method, path, payload)
        if not 200 <= status < 300:
            raise SeedError(f"{method} {path} {json.dumps(payload)} -> {status} {body}")
        return body

    def _call(self, method: str, path: str, payload: dict | None) -> tuple:
        headers = {"Accept": "application/json"}
        if getattr(self, "token", None):
            headers["Authorization"] = f"Token {self.token}"
        data = None
        if payload is not None:
            data = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        url = self.api_url + urllib.parse.quote(path, safe="/?=&_")
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as answer:
                return answer.status, _json(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, _json(error.read())


def _json(raw: bytes):
    try:
        return json.loads(raw.decode() or "null")
    except ValueError:
        return raw.decode(errors="replace")[:500]


def seed(api_url: str) -> None:
    """Create labs, projects, subjects, deaths, weighings and water administrations."""
    admin, password = seed_data.ADMIN_USER
    rest = Rest(api_url, admin, password)
    for lab in seed_data.LABS:
        rest.request("POST", "/labs", {"name": lab})
    for project, users in seed_data.PROJECTS.items():
        rest.request(
            "POST", "/projects", {"name": project, "users": list(users), "description": project}
        )
    log.info("posting %d subjects", seed_data.TOTAL_SUBJECTS)
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(lambda s: _post_subject(rest, s), seed_data.SUBJECTS))
    for subject in seed_data.DEAD_SUBJECTS:
        rest.request("PATCH", f"/subjects/{subject.name}", {"death_date": subject.death_date})
    weighed = seed_data.WEIGHED_SUBJECT.name
    for weighing in seed_data.WEIGHINGS:
        rest.request("POST", "/weighings", dict(weighing, subject=weighed))
    for water in seed_data.WATER_ADMINISTRATIONS:
        payload = dict(water, subject=weighed, water_type=seed_data.WATER_TYPE)
        rest.request("POST", "/water-administrations", payload)
    _check_counts(rest)


def _post_subject(rest: Rest, subject: seed_data.SeedSubject) -> None:
    rest.request(
        "POST",
        "/subjects",
        {
            "nickname": subject.nickname,
            "lab": subject.lab,
            "responsible_user": subject.responsible_user,
            "projects": list(subject.projects),
            "sex": subject.sex,
            "birth_date": subject.birth_date,
            "description": subject.description,
        },
    )


def _check_counts(rest: Rest) -> None:
    """Fail now, not in some test later, if the server did not keep what we posted."""
    total = rest.request("GET", "/subjects?limit=1")["count"]
    alive = rest.request("GET", "/subjects?limit=1&responsible_user=alice&alive=True")["count"]
    expected = (seed_data.TOTAL_SUBJECTS, seed_data.ALICE_ALIVE_COUNT)
    if (total, alive) != expected:
        raise SeedError(f"seeded (total, alice alive) = {(total, alive)}, expected {expected}")
    log.info("seeded %d subjects", total)
