"""A small in-memory Alyx on the fault stub, for registering faults a real server will not make.

It holds sessions, weighings and water administrations as the canonical server does (the
``subject=`` filter of sessions matches case-insensitively, a duplicate session number is
accepted unless ``unique_numbers``, times are stored and answered as the naive text sent,
``django=`` understands the two lookups the plugin uses) and answers through
:class:`fault_server.FaultServer`, so every request goes through the plugin's real client.
A test makes it hostile by giving :attr:`AlyxStub.answer` a function that replaces what it
would answer to a create (a wrong subject, an id such as ``../../x``, a list...).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fault_server import Answer, FaultServer, Seen

SERVER_ERROR_TAKEN = "['Two session with same subject, date and number cannot exist']"
UUID_KEY = "pybpod_session_uuid4"


class AlyxStub:
    """An Alyx with two labs' subjects and a few locations, on a running fault stub."""

    def __init__(
        self,
        server: FaultServer,
        locations: list[tuple[str, str]] = (),  # type: ignore[assignment]
        unique_numbers: bool = False,
    ) -> None:
        self.server = server
        self.locations = [{"name": name, "lab": lab} for name, lab in locations]
        self.unique_numbers = unique_numbers
        self.sessions: dict[str, dict[str, Any]] = {}
        self.records: dict[str, list[dict[str, Any]]] = {
            "weighings": [],
            "water-administrations": [],
        }
        #: ``(method, endpoint) -> f(answer) -> what is sent instead`` (a hostile server).
        self.answer: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {}
        #: ``(method, endpoint) -> Answer`` answered instead of acting (a failing server).
        self.fail: dict[tuple[str, str], Answer] = {}
        #: What the server stores of a start it is sent (the canonical server moves a time
        #: in London's spring gap an hour on); its answer to the create still echoes the sent.
        self.stores: Callable[[str], str] = lambda start: start
        #: Called once, just before the next session is created (another rig's create).
        self.before_create: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        server.route("GET", "/api/locations", lambda seen: self._page(seen, self.locations))
        server.route("GET", "/api/sessions", self._list_sessions)
        server.route("POST", "/api/sessions", self._create_session)
        for endpoint in self.records:
            server.route("GET", f"/api/{endpoint}", self._lister(endpoint))
            server.route("POST", f"/api/{endpoint}", self._creator(endpoint))

    def url(self, endpoint: str, record_id: str) -> str:
        return f"{self.server.url}/api/{endpoint}/{record_id}"

    def add_session(self, subject: str, start_time: str, number: int, **fields: Any) -> str:
        """A session made by someone else (another rig, other software)."""
        session_id = str(uuid.uuid4())
        record = {"lab": "cortexlab", "json": None, **fields, "id": session_id}
        record.update(subject=subject, start_time=start_time, number=number)
        record.update(url=self.url("sessions", session_id), name="")
        record["name"] = _name(record)
        with self._lock:
            self.sessions[session_id] = record
        self._serve_detail(session_id)
        return session_id

    def _serve_detail(self, session_id: str) -> None:
        path = f"/api/sessions/{session_id}"
        self.server.route("GET", path, lambda seen: Answer.json(self.sessions[session_id]))
        self.server.route("PATCH", path, lambda seen: self._patch_session(session_id, seen))

    # -- sessions -----------------------------------------------------------------------

    def _list_sessions(self, seen: Seen) -> Answer:
        query = _query(seen)
        with self._lock:
            chosen = [s for s in self.sessions.values() if _matches(s, query)]
        chosen.sort(key=lambda s: s["start_time"], reverse=True)
        entries = [
            {key: s[key] for key in ("id", "name", "subject", "start_time", "number", "url")}
            for s in chosen
        ]
        return self._page(seen, entries)

    def _create_session(self, seen: Seen) -> Answer:
        failure = self.fail.get(("POST", "sessions"))
        if failure is not None:
            return failure
        body = json.loads(seen.body)
        if self.before_create:
            self.before_create.pop(0)()
        with self._lock:
            if self.unique_numbers and self._taken(body, body.get("number"), None):
                return Answer.json({"status_code": 500, "detail": SERVER_ERROR_TAKEN}, 500)
            session_id = str(uuid.uuid4())
            record = {
                "lab": "cortexlab",
                "json": None,
                "location": None,
                **body,
                "id": session_id,
                "url": self.url("sessions", session_id),
            }
            record["name"] = _name(record)
            self.sessions[session_id] = dict(record, start_time=self.stores(record["start_time"]))
        self._serve_detail(session_id)
        return self._answered("POST", "sessions", dict(record), 201)

    def _patch_session(self, session_id: str, seen: Seen) -> Answer:
        changes = json.loads(seen.body)
        with self._lock:
            record = self.sessions[session_id]
            number = changes.get("number", record["number"])
            if self.unique_numbers and self._taken(record, number, session_id):
                return Answer.json({"status_code": 500, "detail": SERVER_ERROR_TAKEN}, 500)
            record.update(changes)
            record["name"] = _name(record)
        return self._answered("PATCH", "sessions", dict(record), 200)

    def _taken(self, body: dict[str, Any], number: Any, other_than: str | None) -> bool:
        day = str(body.get("start_time"))[:10]
        return any(
            s["subject"] == body.get("subject")
            and s["start_time"][:10] == day
            and s["number"] == number
            and s["id"] != other_than
            for s in self.sessions.values()
        )

    # -- weighings and water ------------------------------------------------------------

    def _lister(self, endpoint: str) -> Callable[[Seen], Answer]:
        def answer(seen: Seen) -> Answer:
            query = _query(seen)
            nickname = query.get("nickname", "").lower()
            day = query.get("django", ",").split(",", 1)[1]
            with self._lock:
                chosen = [
                    r
                    for r in self.records[endpoint]
                    if r["subject"].split("__")[-1].lower() == nickname
                    and r["date_time"].startswith(day)
                ]
            return self._page(seen, chosen)

        return answer

    def _creator(self, endpoint: str) -> Callable[[Seen], Answer]:
        def answer(seen: Seen) -> Answer:
            failure = self.fail.get(("POST", endpoint))
            if failure is not None:
                return failure
            record = dict(json.loads(seen.body), url=self.url(endpoint, str(uuid.uuid4())))
            with self._lock:
                self.records[endpoint].append(record)
            return self._answered("POST", endpoint, dict(record), 201)

        return answer

    # -- plumbing -----------------------------------------------------------------------

    def _answered(self, method: str, endpoint: str, record: dict[str, Any], status: int) -> Answer:
        change = self.answer.get((method, endpoint))
        return Answer.json(record if change is None else change(record), status)

    def _page(self, seen: Seen, items: list[Any]) -> Answer:
        query = _query(seen)
        limit, offset = int(query.get("limit", 250)), int(query.get("offset", 0))
        following = None
        if offset + limit < len(items):
            rest = urlencode({**query, "limit": limit, "offset": offset + limit})
            following = f"{self.server.url}{urlsplit(seen.target).path}?{rest}"
        page = items[offset : offset + limit]
        return Answer.json(
            {"count": len(items), "next": following, "previous": None, "results": page}
        )


def _query(seen: Seen) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(seen.target).query).items()}


def _matches(session: dict[str, Any], query: dict[str, str]) -> bool:
    """The canonical server's filters: ``subject`` case-insensitive, ``lab``, days, ``django``."""
    if "subject" in query and session["subject"].lower() != query["subject"].lower():
        return False
    if "lab" in query and session["lab"].lower() != query["lab"].lower():
        return False
    if "date_range" in query:
        first, last = query["date_range"].split(",")
        if not first <= session["start_time"][:10] <= last:
            return False
    if "django" in query:
        lookup, value = query["django"].split(",", 1)
        document = session.get("json") or {}
        if lookup == "json__has_key":
            return value in document
        if lookup == f"json__{UUID_KEY}":
            return document.get(UUID_KEY) == value
        raise AssertionError(f"the stub knows no django lookup {lookup}")
    return True


def _name(record: dict[str, Any]) -> str:
    return f"{record['subject']}/{str(record['start_time'])[:10]}/{int(record['number'] or 0):03d}"
