"""Following Alyx's paginated lists to the last page, and to exactly ``count`` items.

Every Alyx list answers ``{"count", "next", "previous", "results"}`` with 250
items a page by default; the 1.x plugin read only the first page. Old servers
answered a bare JSON list, which is still accepted.

The server's answers are not trusted blindly: a server may serve fewer items a
page than asked (Django REST framework's ``max_limit``), say a ``count`` it never
delivers, repeat items (pages that overlap hide others), or link ``next`` pages
without end. A list therefore ends with exactly ``count`` distinct items (by ``id``,
else ``url``) or a :class:`BadResponseError` that says what went wrong, after no
more pages than ``count`` allows (and never more than :data:`MAX_PAGES`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .address import same_origin
from .errors import BadResponseError
from .server_words import shown

#: Items per page: Alyx's own default (cortex-lab accepts up to 1000).
PAGE_SIZE = 250
#: Items in the first page when the others are fetched in parallel: it only has to say how many.
FIRST_PAGE_SIZE = 50
#: The most pages one list may take (500,000 items at 250 a page): beyond, the server is
#: either broken or the selection far too wide for a rig.
MAX_PAGES = 2000

#: Fetches one page: ``(url, params) -> decoded JSON``.
PageFetcher = Callable[[str, Optional[dict[str, Any]]], Any]
Progress = Callable[[int, Optional[int]], None]


def iterate_items(
    fetch: PageFetcher,
    url: str,
    params: dict[str, Any],
    progress: Progress | None = None,
    workers: int = 1,
) -> Iterator[dict]:
    """Yield every item of the list at ``url``, page after page, in the server's order.

    ``progress(done, total)`` is called after each page (``total`` is Alyx's ``count``).
    With ``workers > 1`` and limit/offset pages (what Alyx answers), the pages after
    the first are fetched that many at a time: Alyx is slow to serialize subjects
    (about 1 s a page of 250) and serves requests in parallel. The first page, which
    tells how many there are, is then kept small (:data:`FIRST_PAGE_SIZE`) so that the
    others start sooner; the rest come :data:`PAGE_SIZE` at a time, unless the caller
    set ``limit``. A page shorter than asked (a server capping the page size) is
    followed by the pages that cover the rest, at the size the server serves.

    ``next`` links are re-rooted on the scheme and host of ``url``: behind a
    TLS proxy, Django often writes ``http://`` links for an ``https://`` site.

    Raises
    ------
    BadResponseError
        The pages do not add up to ``count`` (an empty page before the end, more items
        than ``count``, a ``count`` that changed while reading), loop, or would take
        more than :data:`MAX_PAGES` pages.
    """
    page_size = int(params.get("limit") or PAGE_SIZE)
    first_params = (
        params if workers <= 1 or "limit" in params else {**params, "limit": FIRST_PAGE_SIZE}
    )
    page = fetch(url, first_params)
    if isinstance(page, list):  # an old, unpaginated Alyx
        if progress:
            progress(len(page), len(page))
        yield from page
        return
    reader = _ListReader(url, page, progress)
    yield from reader.take(page, url)
    offsets = _offset_paging(page, url) if workers > 1 else None
    if offsets is None:
        pages = reader.follow(fetch, page)
    else:
        pages = reader.by_offset(fetch, *offsets, page_size, workers)
    for page_url, page in pages:
        yield from reader.take(page, page_url)
    reader.check_complete()


class _ListReader:
    """The count a list announced, what was read of it, and the checks on every page."""

    def __init__(self, url: str, first: Any, progress: Progress | None) -> None:
        self.url = url
        _results(first, url)
        self.count = _count(first, url)
        self.progress = progress
        self.done = 0
        self.pages = 0
        #: Ids (or urls) of the items read: one seen twice means another was missed.
        self.seen: set[str] = set()

    def take(self, page: Any, page_url: str) -> list:
        """The items of one page, after checking it against the announced count."""
        results = _results(page, page_url)
        count = _count(page, page_url)
        if count != self.count:
            raise self.error(
                f"the list changed while it was read ({self.count} items, then {count}); "
                "run it again"
            )
        for item in results:
            key = item.get("id", item.get("url")) if isinstance(item, dict) else None
            if isinstance(key, str):
                if key in self.seen:
                    raise self.error(
                        f"{shown(key, 200)} comes twice (the pages overlap, so another item was missed); "
                        "run it again"
                    )
                self.seen.add(key)
        self.pages += 1
        self.done += len(results)
        if self.done > self.count:
            raise self.error(f"the pages hold more items than the {self.count} announced")
        if self.progress:
            self.progress(self.done, self.count)
        return results

    def check_page_budget(self, page_size: int, remaining: int) -> None:
        """Refuse to start pages that would exceed :data:`MAX_PAGES` in all."""
        if page_size <= 0:
            raise self.error(f"a page holds no items although {self.count} are announced")
        needed = self.pages + 1 + math.ceil(remaining / page_size)
        if needed > MAX_PAGES:
            raise self.error(
                f"{self.count} items at {page_size} a page would take {needed} pages, more "
                f"than the {MAX_PAGES} this client reads; narrow the selection"
            )

    def check_complete(self) -> None:
        if self.done != self.count:
            raise self.error(f"the pages ended after {self.done} of the {self.count} items")

    def error(self, what: str) -> BadResponseError:
        return BadResponseError(f"{self.url}: {what}", url=self.url)

    def follow(self, fetch: PageFetcher, page: dict) -> Iterator[tuple[str, Any]]:
        """The pages after ``page``, one after another, following ``next`` up to ``count``."""
        seen = {self.url}
        if page.get("next") and self.done < self.count:  # the next pages hold as many
            self.check_page_budget(self.done, self.count - self.done)
        while page.get("next") and self.done < self.count:
            next_url = same_origin(page["next"], self.url)
            if next_url in seen:
                raise self.error(f"the server's pages loop back to {shown(next_url)}")
            if self.pages >= MAX_PAGES:
                raise self.error(f"more than {MAX_PAGES} pages; narrow the selection")
            seen.add(next_url)
            before = self.done
            page = fetch(next_url, None)
            yield next_url, page
            if self.done == before and self.done < self.count:
                raise self.error(
                    f"{shown(next_url)} is empty after {self.done} of the {self.count} items"
                )

    def by_offset(
        self,
        fetch: PageFetcher,
        link: Any,
        query: dict[str, str],
        offset: int,
        size: int,
        workers: int,
    ) -> Iterator[tuple[str, Any]]:
        """The pages from ``offset`` to ``count``, ``workers`` in flight, yielded in order.

        A page shorter than asked before the end means the server caps the page size:
        the pages in flight are dropped and the rest is asked at the size it served.
        """

        def page_url(start: int, limit: int) -> str:
            return urlunsplit(
                link._replace(query=urlencode({**query, "limit": limit, "offset": start}))
            )

        self.check_page_budget(size, self.count - offset)
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="alyx-page")
        in_flight: deque[tuple[int, int, str, Future]] = deque()
        planned = offset
        try:
            while offset < self.count:
                while len(in_flight) < workers and planned < self.count:
                    target = page_url(planned, size)
                    in_flight.append((planned, size, target, pool.submit(fetch, target, None)))
                    planned += size
                start, limit, target, future = in_flight.popleft()
                page = future.result()
                served = len(_results(page, target))
                expected = min(limit, self.count - start)
                yield target, {**page, "results": _results(page, target)[:limit]}
                if served == 0:
                    raise self.error(
                        f"{shown(target)} is empty after {self.done} of the {self.count} items"
                    )
                if served < expected:  # the server caps the page size: ask the rest at its size
                    for *_, dropped in in_flight:
                        dropped.cancel()
                    in_flight.clear()
                    size = served
                    offset = planned = start + served
                    self.check_page_budget(size, self.count - offset)
                else:
                    offset = start + limit
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _results(page: Any, url: str) -> list:
    if not isinstance(page, dict) or not isinstance(page.get("results"), list):
        raise BadResponseError(
            f"{shown(url)} did not answer an Alyx list (expected 'results'), got {type(page).__name__}",
            url=url,
        )
    return page["results"]


def _count(page: Any, url: str) -> int:
    count = page.get("count") if isinstance(page, dict) else None
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise BadResponseError(
            f"{shown(url)} did not say how many items the list holds ('count': "
            f"{shown(repr(count), 100)})",
            url=url,
        )
    return count


def _offset_paging(page: dict, url: str) -> tuple[Any, dict[str, str], int] | None:
    """``(split next link, its query, its offset)`` if the list pages by limit and offset."""
    next_url = page.get("next")
    if not next_url or not isinstance(next_url, str):
        return None
    parts = urlsplit(same_origin(next_url, url))
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    try:
        offset = int(query["offset"])
    except (KeyError, ValueError):
        return None
    if "limit" not in query or offset <= 0:
        return None
    return parts, query, offset
