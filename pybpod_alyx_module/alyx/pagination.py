"""Following Alyx's paginated lists to the last page.

Every Alyx list answers ``{"count", "next", "previous", "results"}`` with 250
items a page by default; the 1.x plugin read only the first page. Old servers
answered a bare JSON list, which is still accepted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Callable, Optional
from urllib.parse import urlsplit, urlunsplit

from .errors import BadResponseError

#: Fetches one page: ``(url, params) -> decoded JSON``.
PageFetcher = Callable[[str, Optional[dict[str, Any]]], Any]


def iterate_items(
    fetch: PageFetcher,
    url: str,
    params: dict[str, Any],
    progress: Callable[[int, int | None], None] | None = None,
) -> Iterator[dict]:
    """Yield every item of the list at ``url``, page after page, lazily.

    ``progress(done, total)`` is called after each page (``total`` is Alyx's ``count``).

    ``next`` links are re-rooted on the scheme and host of ``url``: behind a
    TLS proxy, Django often writes ``http://`` links for an ``https://`` site.
    """
    page = fetch(url, params)
    seen = {url}
    done = 0
    while True:
        if isinstance(page, list):
            if progress:
                progress(len(page), len(page))
            yield from page
            return
        if not isinstance(page, dict) or not isinstance(page.get("results"), list):
            raise BadResponseError(
                f"{url} did not answer an Alyx list (expected 'results'), got {type(page).__name__}",
                url=url,
            )
        done += len(page["results"])
        if progress:
            progress(done, page.get("count"))
        yield from page["results"]
        next_url = page.get("next")
        if not next_url:
            return
        next_url = _same_origin(next_url, url)
        if next_url in seen:
            raise BadResponseError(f"{url}: the server's pages loop back to {next_url}", url=url)
        seen.add(next_url)
        page = fetch(next_url, None)


def _same_origin(link: str, reference: str) -> str:
    ref = urlsplit(reference)
    parts = urlsplit(link)
    return urlunsplit((ref.scheme, ref.netloc, parts.path, parts.query, ""))
