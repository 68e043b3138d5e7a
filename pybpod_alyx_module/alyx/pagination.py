"""Following Alyx's paginated lists to the last page.

Every Alyx list answers ``{"count", "next", "previous", "results"}`` with 250
items a page by default; the 1.x plugin read only the first page. Old servers
answered a bare JSON list, which is still accepted.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .address import same_origin
from .errors import BadResponseError

#: Items per page: Alyx's own default (cortex-lab accepts up to 1000).
PAGE_SIZE = 250
#: Items in the first page when the others are fetched in parallel: it only has to say how many.
FIRST_PAGE_SIZE = 50

#: Fetches one page: ``(url, params) -> decoded JSON``.
PageFetcher = Callable[[str, Optional[dict[str, Any]]], Any]


def iterate_items(
    fetch: PageFetcher,
    url: str,
    params: dict[str, Any],
    progress: Callable[[int, int | None], None] | None = None,
    workers: int = 1,
) -> Iterator[dict]:
    """Yield every item of the list at ``url``, page after page, in the server's order.

    ``progress(done, total)`` is called after each page (``total`` is Alyx's ``count``).
    With ``workers > 1`` and limit/offset pages (what Alyx answers), the pages after
    the first are fetched that many at a time: Alyx is slow to serialize subjects
    (about 1 s a page of 250) and serves requests in parallel. The first page, which
    tells how many there are, is then kept small (:data:`FIRST_PAGE_SIZE`) so that the
    others start sooner; the rest come :data:`PAGE_SIZE` at a time, unless the caller
    set ``limit``.

    ``next`` links are re-rooted on the scheme and host of ``url``: behind a
    TLS proxy, Django often writes ``http://`` links for an ``https://`` site.
    """
    page_size = params.get("limit") or PAGE_SIZE
    first_params = (
        params if workers <= 1 or "limit" in params else {**params, "limit": FIRST_PAGE_SIZE}
    )
    page = fetch(url, first_params)
    if isinstance(page, list):  # an old, unpaginated Alyx
        if progress:
            progress(len(page), len(page))
        yield from page
        return
    results = _results(page, url)
    done = len(results)
    if progress:
        progress(done, page.get("count"))
    yield from results
    offsets = _remaining_pages(page, url, int(page_size)) if workers > 1 else None
    pages = _fetch_parallel(fetch, offsets, workers) if offsets else _follow(fetch, page, url)
    for page_url, page in pages:
        results = _results(page, page_url)
        done += len(results)
        if progress:
            progress(done, page.get("count"))
        yield from results


def _results(page: Any, url: str) -> list:
    if not isinstance(page, dict) or not isinstance(page.get("results"), list):
        raise BadResponseError(
            f"{url} did not answer an Alyx list (expected 'results'), got {type(page).__name__}",
            url=url,
        )
    return page["results"]


def _follow(fetch: PageFetcher, page: dict, url: str) -> Iterator[tuple[str, Any]]:
    """The pages after ``page``, one after another, following ``next``."""
    seen = {url}
    while page.get("next"):
        next_url = same_origin(page["next"], url)
        if next_url in seen:
            raise BadResponseError(f"{url}: the server's pages loop back to {next_url}", url=url)
        seen.add(next_url)
        page = fetch(next_url, None)
        yield next_url, page


def _remaining_pages(page: dict, url: str, page_size: int) -> list[str] | None:
    """The URLs of all pages after the first, ``page_size`` items each, if the first says how."""
    next_url, count = page.get("next"), page.get("count")
    if not next_url or not isinstance(count, int):
        return None
    parts = urlsplit(same_origin(next_url, url))
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    try:
        offset = int(query["offset"])
    except (KeyError, ValueError):
        return None
    if "limit" not in query or offset <= 0 or page_size <= 0:
        return None
    return [
        urlunsplit(parts._replace(query=urlencode({**query, "limit": page_size, "offset": start})))
        for start in range(offset, count, page_size)
    ]


def _fetch_parallel(fetch: PageFetcher, urls: list[str], workers: int) -> Iterator[tuple[str, Any]]:
    """``(url, page)`` in the order of ``urls``, fetched ``workers`` at a time."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="alyx-page")
    try:
        yield from zip(urls, pool.map(lambda page_url: fetch(page_url, None), urls))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
