"""Every list ends with exactly ``count`` items or a clear error, after a bounded number of pages.

Fault tests: the stub serves lists as Django REST framework's LimitOffsetPagination
does, with a ``max_limit`` a real alyx-local is not configured with, or lies about
``count`` and ``next`` as no real server does.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is not a package

from fault_server import Answer
from test_client_faults import SLACK, assert_plain, make_client, stub, within

from pybpod_alyx_module.alyx import BadResponseError, pagination

__all__ = ["make_client", "stub"]  # fixtures shared with test_client_faults

pytestmark = [pytest.mark.fault, pytest.mark.timeout(60)]

TOKEN = "list-token"


def subjects(n: int) -> list[dict]:
    return [{"id": f"id-{i:04d}", "nickname": f"S{i:04d}"} for i in range(n)]


@pytest.mark.parametrize("workers", [1, 3])
@pytest.mark.parametrize("max_limit", [20, 100, 249, None])
def test_a_server_capping_the_page_size_still_gives_every_item_once_in_order(
    stub, make_client, max_limit, workers
):
    """DRF's ``max_limit`` serves 100 where 250 were asked: the rest is asked at the size
    served, so 530 subjects give 530, in order (1.x-2.0 gave a silent gap here)."""
    items = subjects(530)
    stub.serve_list("/api/subjects", items, max_limit=max_limit)
    client = make_client(stub.url, token=TOKEN, page_workers=workers)
    progress: list[tuple[int, int]] = []
    with within(SLACK * 3):
        got = list(client.list("subjects", progress=lambda *p: progress.append(p)))
    assert got == items
    assert progress[-1] == (len(items), len(items))
    cap = max_limit or 250
    # no page asked twice beyond the one dropped in flight per worker when the cap shows
    assert stub.count("GET", "/api/subjects") <= 1 + -(-len(items) // min(cap, 50)) + workers


@pytest.mark.parametrize("workers", [1, 3])
@pytest.mark.parametrize("count", [1000, 10**8])
def test_an_announced_count_with_empty_pages_stops_at_once(stub, make_client, count, workers):
    """A ``count`` of 1000 or 10^8 and empty pages after the first: an error after at most
    one more page, not thousands of requests."""
    stub.route("GET", "/api/subjects", _empty_after(3, count, stub))
    client = make_client(stub.url, token=TOKEN, page_workers=workers)
    with within(SLACK), pytest.raises(BadResponseError) as caught:
        list(client.list("subjects", limit=3))
    assert stub.count("GET", "/api/subjects") <= 1 + workers
    assert_plain(caught.value, str(count))
    if count == 1000:
        assert "empty" in str(caught.value)


@pytest.mark.parametrize("workers", [1, 3])
def test_a_count_that_needs_too_many_pages_is_refused_before_reading_them(
    stub, make_client, workers
):
    """``count`` 10^8 served one item a page would take 10^8 requests: refused up front,
    naming the ceiling."""
    stub.serve_list("/api/subjects", subjects(5), count=10**8, max_limit=1)
    client = make_client(stub.url, token=TOKEN, page_workers=workers)
    with within(SLACK), pytest.raises(BadResponseError) as caught:
        list(client.list("subjects"))
    assert stub.count("GET", "/api/subjects") == 1
    assert_plain(caught.value, "100000000", f"{pagination.MAX_PAGES}", "narrow the selection")


def test_endless_next_links_stop_at_count(stub, make_client):
    """A server whose ``next`` never ends (page=N+1 forever) is read up to ``count`` only."""
    stub.route("GET", "/api/subjects", _endless(stub, count=4))
    client = make_client(stub.url, token=TOKEN)
    with within(SLACK):
        got = list(client.list("subjects"))
    assert [item["n"] for item in got] == [1, 2, 3, 4]
    assert stub.count("GET", "/api/subjects") == 4


def test_endless_next_links_with_empty_pages_are_an_error(stub, make_client):
    stub.route("GET", "/api/subjects", _endless(stub, count=4, empty=True))
    client = make_client(stub.url, token=TOKEN)
    with within(SLACK), pytest.raises(BadResponseError) as caught:
        list(client.list("subjects"))
    assert stub.count("GET", "/api/subjects") == 2
    assert_plain(caught.value, "empty", "1 of the 4")


def test_endless_next_links_beyond_the_page_ceiling_are_an_error(stub, make_client, monkeypatch):
    """A ``count`` that allows it, yet more pages than :data:`MAX_PAGES`: stopped there."""
    monkeypatch.setattr(pagination, "MAX_PAGES", 6)
    stub.route("GET", "/api/subjects", _endless(stub, count=5, per_page=1))
    client = make_client(stub.url, token=TOKEN)
    with within(SLACK):
        assert len(list(client.list("subjects"))) == 5  # 5 pages: under the ceiling
    stub.route("GET", "/api/subjects", _endless(stub, count=7, per_page=1))
    with within(SLACK), pytest.raises(BadResponseError) as caught:
        list(client.list("subjects"))
    assert_plain(caught.value, "7 items", "6")


@pytest.mark.parametrize("workers", [1, 3])
def test_pages_that_end_before_count_are_a_gap_reported(stub, make_client, workers):
    """``next`` is null after 300 of the 530 announced: an error, never 300 silently."""
    stub.serve_list("/api/subjects", subjects(300), count=530)
    client = make_client(stub.url, token=TOKEN, page_workers=workers)
    with within(SLACK), pytest.raises(BadResponseError) as caught:
        list(client.list("subjects"))
    assert_plain(caught.value, "300 of the 530")


def test_more_items_than_count_are_an_error(stub, make_client):
    stub.serve_list("/api/subjects", subjects(12), count=3)
    client = make_client(stub.url, token=TOKEN, page_workers=1)
    with within(SLACK), pytest.raises(BadResponseError) as caught:
        list(client.list("subjects", limit=5))
    assert_plain(caught.value, "more items than the 3")


def test_a_count_that_changes_while_reading_is_an_error(stub, make_client):
    """Records added while the pages are read shift the offsets: say so, ask to run again."""
    pages = iter([3, 4])

    def growing(seen):
        count = next(pages, 4)
        nxt = f"{stub.url}/api/subjects?limit=1&offset=1" if "offset" not in seen.target else None
        return Answer.json({"count": count, "next": nxt, "results": [{"n": 1}]})

    stub.route("GET", "/api/subjects", growing)
    client = make_client(stub.url, token=TOKEN, page_workers=1)
    with within(SLACK), pytest.raises(BadResponseError) as caught:
        list(client.list("subjects"))
    assert_plain(caught.value, "changed while it was read", "3 items, then 4")


@pytest.mark.parametrize("count", [None, "12", -1, True], ids=["missing", "text", "neg", "bool"])
def test_a_list_without_a_usable_count_is_an_error(stub, make_client, count):
    body = {"next": None, "results": []}
    if count is not None:
        body["count"] = count
    stub.script("GET", "/api/subjects", Answer.json(body))
    client = make_client(stub.url, token=TOKEN)
    with within(SLACK), pytest.raises(BadResponseError) as caught:
        list(client.list("subjects"))
    assert_plain(caught.value, "how many items")


def _empty_after(served: int, count: int, stub):
    def page(seen):
        first = "offset" not in seen.target
        results = [{"n": n} for n in range(served)] if first else []
        nxt = f"{stub.url}/api/subjects?limit={served}&offset={served}"
        return Answer.json({"count": count, "next": nxt, "results": results})

    return page


def _endless(stub, count: int, empty: bool = False, per_page: int = 1):
    """Pages ``?page=N`` linking to ``page=N+1`` forever, ``per_page`` items each."""

    def page(seen):
        number = int(seen.target.split("page=")[1]) if "page=" in seen.target else 1
        results = [] if empty and number > 1 else [{"n": number}] * per_page
        nxt = f"{stub.url}/api/subjects?page={number + 1}"
        return Answer.json({"count": count, "next": nxt, "results": results})

    return page


@pytest.mark.parametrize("workers", [1, 3])
def test_a_long_list_within_the_ceiling_is_read_whole(workers):
    """150,000 items: 600 pages of 250 (or 3,000 of 50 if the small first page set the pace,
    over the ceiling): read whole, in order. In-process, DRF's paging on a ``range``."""

    def fetch(url, params):
        query = dict(parse_qsl(urlsplit(url).query)) | (params or {})
        limit, offset = int(query.get("limit", 250)), int(query.get("offset", 0))
        following = None
        if offset + limit < 150_000:
            following = f"http://alyx.test/api/items?limit={limit}&offset={offset + limit}"
        results = [{"n": n} for n in range(offset, min(offset + limit, 150_000))]
        return {"count": 150_000, "next": following, "results": results}

    items = pagination.iterate_items(fetch, "http://alyx.test/api/items", {}, workers=workers)
    assert [item["n"] for item in items] == list(range(150_000))


@pytest.mark.parametrize("workers", [1, 3])
def test_overlapping_pages_are_an_error_not_a_count_made_up_with_repeats(
    stub, make_client, workers
):
    """A server that ignores ``offset`` (or orders ties differently from page to page)
    repeats items, so that ``count`` is reached while others are missed: an error."""
    items = subjects(120)

    def ignoring_offset(seen):
        query = dict(parse_qsl(urlsplit(seen.target).query))
        limit, offset = int(query.get("limit", 250)), int(query.get("offset", 0))
        nxt = f"{stub.url}/api/subjects?limit={limit}&offset={offset + limit}"
        following = nxt if offset + limit < len(items) else None
        return Answer.json({"count": len(items), "next": following, "results": items[:limit]})

    stub.route("GET", "/api/subjects", ignoring_offset)
    client = make_client(stub.url, token=TOKEN, page_workers=workers)
    with within(SLACK), pytest.raises(BadResponseError) as caught:
        list(client.list("subjects", limit=50))
    assert_plain(caught.value, "id-0000 comes twice", "run it again")
