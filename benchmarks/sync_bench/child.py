"""The child side: one measurement per process, so that peak RSS belongs to it alone.

Requests are counted by wrapping urllib3's ``HTTPConnection.request`` (one call per HTTP
request on the wire, retries included); memory is the child's peak RSS and its growth over
the RSS just before the timed part.
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import threading
import time
import tracemalloc
import urllib.parse
from typing import Callable

from rss import peak_rss_mb, rss_mb

from .downloads import DOWNLOADS
from .local import LOCAL


class RequestCounter:
    """Counts HTTP requests sent by urllib3 in this process, by kind."""

    def __init__(self) -> None:
        import urllib3.connection

        self.kinds: collections.Counter = collections.Counter()
        lock = threading.Lock()
        original = urllib3.connection.HTTPConnection.request
        counter = self

        def request(conn, method, url, *args, **kwargs):
            with lock:
                counter.kinds[_kind(method, url)] += 1
            return original(conn, method, url, *args, **kwargs)

        urllib3.connection.HTTPConnection.request = request

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


def _kind(method: str, url: str) -> str:
    path = urllib.parse.urlsplit(url).path.rstrip("/")
    if path.endswith("/auth-token"):
        return "login" if method == "POST" else "probe"
    if path.endswith("/subjects"):
        return "page"
    if "/subjects/" in path:
        return "detail"
    if path.endswith(("/weighings", "/water-administrations")):
        return path.rsplit("/", 1)[1]
    return "other"


def measure(run: Callable[[], dict], use_tracemalloc: bool) -> dict:
    counter = RequestCounter()
    gc.collect()
    rss_before = rss_mb()
    if use_tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    extra = run()
    seconds = time.perf_counter() - started
    result = {
        "seconds": seconds,
        "requests": counter.total,
        "by_kind": dict(counter.kinds),
        "peak_rss_mb": peak_rss_mb(),
        "rss_growth_mb": max(0.0, peak_rss_mb() - rss_before),
        **extra,
    }
    if use_tracemalloc:
        result["heap_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return result


CHILDREN = {**DOWNLOADS, **LOCAL}


def child_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=sorted(CHILDREN))
    parser.add_argument("--url")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--page-workers", type=int)
    parser.add_argument("--records")
    parser.add_argument("--project")
    parser.add_argument("--download", action="store_true")
    parser.add_argument("--details", action="store_true")
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args(argv)
    run = CHILDREN[args.kind](args)  # imports happen here, outside the timed part
    result = measure(run, args.tracemalloc)
    print("RESULT " + json.dumps(result), flush=True)
    return 0
