"""The download rows' children: ours, the server's floor, ONE-api and the 1.1.2 way (N+1)."""

from __future__ import annotations

import argparse
import inspect
import json
import time
from pathlib import Path
from typing import Callable

from .server import PASSWORD, USER, log


def child_ours(args: argparse.Namespace) -> Callable[[], dict]:
    from pybpod_alyx_module.alyx import AlyxClient
    from pybpod_alyx_module.sync import SubjectSelection, download_subjects

    options = {}
    if "max_requests_per_minute" in inspect.signature(AlyxClient).parameters:
        options["max_requests_per_minute"] = None  # the floor and 1.1.2 are not rate-bound
    if args.page_workers:
        if "page_workers" not in inspect.signature(AlyxClient).parameters:
            raise SystemExit("this AlyxClient has no page_workers option")
        options["page_workers"] = args.page_workers

    def run() -> dict:
        with AlyxClient(args.url, username=USER, password=PASSWORD, **options) as client:
            if args.limit:  # download_subjects has no page size: the same list call with one
                records = list(client.list("subjects", limit=args.limit, responsible_user=USER))
            else:
                selection = SubjectSelection(responsible_user=USER)
                records = download_subjects(client, selection)
        _save_records(args, records)
        return {"subjects": len(records)}

    return run


def child_ours_details(args: argparse.Namespace) -> Callable[[], dict]:
    """Ours getting what the 1.1.2 way gets: the list, then every subject's weighings and water.

    ``add_details`` is the package's details path (``pybpod-alyx sync --details``): the
    weighings and water-administrations lists filtered to batches of subjects, not one
    detail request per subject.
    """
    from pybpod_alyx_module.alyx import AlyxClient
    from pybpod_alyx_module.sync import SubjectSelection, add_details, download_subjects

    def run() -> dict:
        with AlyxClient(
            args.url, username=USER, password=PASSWORD, max_requests_per_minute=None
        ) as client:
            records = download_subjects(client, SubjectSelection(responsible_user=USER))
            records = add_details(client, records)
        return {"subjects": sum(1 for r in records if "water_administrations" in r)}

    return run


def child_floor(args: argparse.Namespace) -> Callable[[], dict]:
    """The server's floor: the requests ours sends, by plain parallel GETs.

    No client logic at all (no root probe, no checks, no retries): one ``requests.Session``,
    the login, the first page of ``FIRST_PAGE_SIZE`` (it says how many there are), then pages
    of ``PAGE_SIZE``, as many at a time as our client's default ``page_workers``. With
    ``--details``, then the requests ``add_details`` sends: each details list filtered to
    each batch of subjects (``alyx.details``), as many at a time.
    """
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from pybpod_alyx_module.alyx.client import DEFAULT_PAGE_WORKERS
    from pybpod_alyx_module.alyx.details import BATCH_SIZE, DETAIL_LISTS, batches
    from pybpod_alyx_module.alyx.pagination import FIRST_PAGE_SIZE, PAGE_SIZE

    def run() -> dict:
        session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=max(DEFAULT_PAGE_WORKERS, 8))
        session.mount("http://", adapter)
        login = session.post(
            args.url + "/auth-token", data={"username": USER, "password": PASSWORD}, timeout=60
        )
        login.raise_for_status()
        session.headers.update(
            {"Authorization": f"Token {login.json()['token']}", "Accept": "application/json"}
        )

        def get(url: str, **params) -> dict | list:
            answer = session.get(url, params=params, timeout=120)
            answer.raise_for_status()
            return answer.json()

        subjects_url = f"{args.url}/subjects"
        first = get(subjects_url, responsible_user=USER, limit=FIRST_PAGE_SIZE, offset=0)
        offsets = range(FIRST_PAGE_SIZE, first["count"], PAGE_SIZE)

        def page(offset: int) -> list:
            return get(subjects_url, responsible_user=USER, limit=PAGE_SIZE, offset=offset)[
                "results"
            ]

        with ThreadPoolExecutor(max_workers=DEFAULT_PAGE_WORKERS) as pool:
            entries = first["results"] + [e for results in pool.map(page, offsets) for e in results]
        if args.details:

            def details(query: tuple[str, str]) -> int:
                endpoint, ids = query
                answer = get(f"{args.url}/{endpoint}", django=f"subject__id__in,[{ids}]")
                if isinstance(answer, list):  # an unpaginated list
                    return len(answer)
                items = len(answer["results"])
                while answer["next"]:
                    answer = get(answer["next"])
                    items += len(answer["results"])
                return items

            queries = [
                (endpoint, ",".join(f"'{entry['id']}'" for entry in batch))
                for batch in batches(entries, BATCH_SIZE)
                for endpoint in DETAIL_LISTS
            ]
            with ThreadPoolExecutor(max_workers=DEFAULT_PAGE_WORKERS) as pool:
                sum(pool.map(details, queries))
        return {"subjects": len(entries)}

    return run


def _save_records(args: argparse.Namespace, records: list) -> None:
    if args.records and not Path(args.records).exists():
        Path(args.records).write_text(json.dumps(records))


def child_one(args: argparse.Namespace) -> Callable[[], dict]:
    # HOME is a scratch folder (set by the parent): ONE writes its params and token there.
    from one.webclient import AlyxClient as OneAlyxClient

    def run() -> dict:
        alyx = OneAlyxClient(
            base_url=args.url, username=USER, password=PASSWORD, cache_rest=None, silent=True
        )
        query = f"/subjects?responsible_user={USER}"
        if args.limit:
            query += f"&limit={args.limit}"
        answer = alyx.get(query)
        records = list(answer)  # a lazy paginated list: iterating fetches every page
        return {"subjects": len(records)}

    return run


def child_n_plus_one(args: argparse.Namespace) -> Callable[[], dict]:
    """The 1.1.2 plugin's way: one list, then one detail GET per subject, one after another.

    Plain module-level ``requests`` calls (no session, as 1.1.2 and ONE do). Unlike 1.1.2,
    which read the first page only, the list's pages are followed, so that every approach
    downloads the same subjects.
    """
    import requests

    def run() -> dict:
        login = requests.post(
            args.url + "/auth-token", data={"username": USER, "password": PASSWORD}, timeout=60
        )
        login.raise_for_status()
        headers = {"Authorization": f"Token {login.json()['token']}", "Accept": "application/json"}
        entries, page_url = [], f"{args.url}/subjects?responsible_user={USER}"
        while page_url:
            page = requests.get(page_url, headers=headers, timeout=60)
            page.raise_for_status()
            entries += page.json()["results"]
            page_url = page.json()["next"]
        details, started = [], time.monotonic()
        for done, entry in enumerate(entries, 1):
            answer = requests.get(entry["url"], headers=headers, timeout=60)
            answer.raise_for_status()
            details.append(answer.json())
            if done % 500 == 0 or done == len(entries):
                spent = time.monotonic() - started
                eta = spent / done * (len(entries) - done)
                log(f"  N+1: {done}/{len(entries)} details, {spent:.0f} s, ~{eta:.0f} s left")
        return {"subjects": len(details)}

    return run


DOWNLOADS = {
    "ours": child_ours,
    "ours_details": child_ours_details,
    "floor": child_floor,
    "one": child_one,
    "n_plus_one": child_n_plus_one,
}
