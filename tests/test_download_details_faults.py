"""Details (weighings, water) under what a real server here cannot be made to do.

Fault tests: the stub plays cortex-lab's layout (items name their subject by the
bare nickname; twins in two labs), a server that ignores the batch filter, one
subject failing, and a throttle answering 429.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is not a package

from fault_server import Answer, refused_port
from test_client_faults import SLACK, assert_plain, make_client, stub, within

from pybpod_alyx_module.alyx import ServerError, ServerUnreachableError
from pybpod_alyx_module.alyx.details import BATCH_SIZE
from pybpod_alyx_module.sync.download import add_details

__all__ = ["make_client", "stub"]  # fixtures shared with test_client_faults

pytestmark = [pytest.mark.fault, pytest.mark.timeout(60)]

TOKEN = "details-token"
ENDPOINTS = {"/api/weighings": "weighings", "/api/water-administrations": "water_administrations"}


def subject(n: int, lab: str = "cortexlab", nickname: str | None = None) -> dict:
    return {
        "id": f"{n:08d}-0000-4000-8000-{n:012d}",
        "nickname": nickname or f"S{n:03d}",
        "lab": lab,
        "url": f"http://elsewhere.invalid/subjects/{nickname or n}",
    }


def measures(record: dict, endpoint: str, spelling: str) -> list[dict]:
    """Two items per subject and list, naming it as the server layout does."""
    name = (
        record["nickname"] if spelling == "nickname" else f"{record['lab']}__{record['nickname']}"
    )
    key = "weight" if endpoint == "/api/weighings" else "water_administered"
    return [
        {"subject": name, "date_time": f"2026-01-0{day}T09:00:00", key: day + int(record["id"][:8])}
        for day in (2, 1)  # served newest first: the client sorts them by date
    ]


def serve_details(stub, records, spelling="nickname", honour_filter=True, fail_ids=()):
    """``weighings``/``water-administrations`` filtered by ``django=subject__id__in,[…]`` or
    ``subject=<id>`` as Alyx does; ``fail_ids`` answer 500 when asked alone."""
    by_id = {r["id"]: r for r in records}

    def answer(path):
        def page(seen):
            query = {k: v[0] for k, v in parse_qs(urlsplit(seen.target).query).items()}
            if "subject" in query:
                if query["subject"] in fail_ids:
                    return Answer.json({"detail": "Server crashed."}, status=500)
                ids = [query["subject"]]
            elif "django" in query and honour_filter:
                lookup, literal = query["django"].split(",", 1)
                assert lookup == "subject__id__in"
                ids = ast.literal_eval(literal)
            else:
                ids = list(by_id)
            items = [m for i in ids for m in measures(by_id[i], path, spelling)]
            return Answer.json({"count": len(items), "next": None, "results": items})

        return page

    handlers = {path: answer(path) for path in ENDPOINTS}
    for path, handler in handlers.items():
        stub.route("GET", path, handler)
    return handlers


def expected(record: dict, spelling: str = "nickname") -> dict:
    return {
        key: sorted(measures(record, path, spelling), key=lambda m: m["date_time"])
        for path, key in ENDPOINTS.items()
    }


def requests_to_lists(stub) -> int:
    return sum(stub.count("GET", path) for path in ENDPOINTS)


@pytest.mark.parametrize("spelling", ["nickname", "lab__nickname"])
def test_twins_get_their_own_details_in_requests_that_grow_with_batches(
    stub, make_client, spelling
):
    """cortex-lab names items by nickname, alyx-local by lab__nickname: twins (one nickname,
    two labs) still get each their own measures, and 120 subjects take a few filtered list
    requests, not 120 detail requests (whose cortex-lab URL answers 500 for twins)."""
    records = [subject(900, "cortexlab", "twin"), subject(901, "hoferlab", "twin")]
    records += [subject(n) for n in range(118)]
    serve_details(stub, records, spelling)
    client = make_client(stub.url, token=TOKEN)
    with within(SLACK * 2):
        detailed = add_details(client, records)
    assert [d["id"] for d in detailed] == [r["id"] for r in records]
    for record, got in zip(records, detailed):
        assert got == {**record, **expected(record, spelling)}
    batches = -(-len(records) // BATCH_SIZE)
    assert requests_to_lists(stub) == 2 * batches
    assert stub.count("GET", "/subjects/twin") == 0


@pytest.mark.parametrize("server", ["ignores", "refuses"])
def test_a_server_without_the_batch_filter_is_read_subject_by_subject(stub, make_client, server):
    """Alyx ignores an unknown filter silently (or a server may refuse it): items of other
    subjects are never mixed in, the subjects are read one by one, filtered by id."""
    records = [subject(n) for n in range(5)]
    others = [subject(n) for n in range(100, 103)]
    handlers = serve_details(stub, records + others, honour_filter=False)
    if server == "refuses":
        for path, handler in handlers.items():
            stub.route("GET", path, _refusing_batches(handler))
    client = make_client(stub.url, token=TOKEN)
    with within(SLACK * 2):
        detailed = add_details(client, records)
    for record, got in zip(records, detailed):
        assert got == {**record, **expected(record)}
    assert requests_to_lists(stub) <= 2 + 2 * len(records)


def test_one_subject_failing_is_reported_for_it_and_the_others_get_their_details(stub, make_client):
    records = [subject(n) for n in range(4)]
    others = [subject(100)]
    serve_details(stub, records + others, honour_filter=False, fail_ids={records[2]["id"]})
    client = make_client(stub.url, token=TOKEN)
    failures = []
    with within(SLACK * 2):
        detailed = add_details(client, records, on_failure=failures.append)
    assert [f.record["id"] for f in failures] == [records[2]["id"]]
    assert "HTTP 500" in failures[0].reason and "Server crashed." in failures[0].reason
    assert detailed[2] == records[2]
    for n in (0, 1, 3):
        assert detailed[n] == {**records[n], **expected(records[n])}


def test_a_record_without_a_uuid_is_a_failure_and_never_sent(stub, make_client):
    """An id is put into the filter: anything but a UUID (``../x``, ``'] + …``) is refused."""
    bad = {**subject(1), "id": "'],__import__('os')#"}
    good = subject(2)
    serve_details(stub, [good])
    client = make_client(stub.url, token=TOKEN)
    failures = []
    detailed = add_details(client, [bad, good], on_failure=failures.append)
    assert [f.record for f in failures] == [bad] and "not a UUID" in failures[0].reason
    assert detailed == [bad, {**good, **expected(good)}]
    assert all("import" not in seen.target for seen in stub.requests)


def test_a_busy_server_is_waited_out_and_the_wait_is_reported(stub, make_client):
    """A throttle's 429 with ``Retry-After: 1`` costs a reported wait, never a failed sync."""
    records = [subject(n) for n in range(3)]
    route = serve_details(stub, records)["/api/weighings"]
    busy = Answer.json(
        {"detail": "Request was throttled."}, status=429, headers={"Retry-After": "1"}
    )
    throttled = {"left": 2}

    def throttle(seen):
        if throttled["left"]:
            throttled["left"] -= 1
            return busy
        return route(seen)

    stub.route("GET", "/api/weighings", throttle)
    waits = []
    client = make_client(stub.url, token=TOKEN, on_wait=lambda s, m: waits.append((s, m)))
    with within(2 + SLACK) as took:
        detailed = add_details(client, records)
    assert took[0] >= 2
    assert [s for s, _ in waits] == [1, 1]
    assert "busy (HTTP 429)" in waits[0][1] and "/api/weighings" in waits[0][1]
    for record, got in zip(records, detailed):
        assert got == {**record, **expected(record)}


def test_a_server_busy_beyond_the_deadline_stops_with_a_clear_error(stub, make_client):
    records = [subject(n) for n in range(3)]
    serve_details(stub, records)
    stub.route(
        "GET",
        "/api/weighings",
        lambda seen: Answer.json({}, status=429, headers={"Retry-After": "1"}),
    )
    client = make_client(stub.url, token=TOKEN, busy_deadline=2.5, on_wait=lambda s, m: None)
    with within(2.5 + SLACK), pytest.raises(ServerError) as caught:
        add_details(client, records)
    assert caught.value.status == 429
    assert_plain(caught.value, "HTTP 429", "2.5 s", "/api/weighings")
    assert stub.count("GET", "/api/weighings") == 3


def test_an_unreachable_server_stops_the_pass_instead_of_failing_each_subject(make_client):
    """No answer at all is not one subject's failure: one clear error, not one per subject."""
    with refused_port() as port:
        client = make_client(f"http://127.0.0.1:{port}", token=TOKEN, retries=0)
        with within(SLACK), pytest.raises(ServerUnreachableError):
            add_details(client, [subject(n) for n in range(3)])


def _refusing_batches(handler):
    def page(seen):
        if "django=" in seen.target:
            return Answer.json({"django": ["Cannot resolve keyword."]}, status=400)
        return handler(seen)

    return page
