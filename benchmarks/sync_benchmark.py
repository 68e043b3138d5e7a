"""Sync benchmark against a real local Alyx (alyx-local on PostgreSQL) with many subjects.

Run from the repository (ONE-api comes from ``scripts/bootstrap --bench``)::

    .venv/bin/python benchmarks/sync_benchmark.py [--sizes 1000 10000] [--readme]

It starts its own server under ``<repo>/.alyx-bench`` (never the test server), seeds
``N`` subjects of user ``bench`` with ``scripts/alyxserver bulk``, measures every approach
in a fresh child process, stops the server, and prints its report: the set-up, one table
and the verdicts, exactly as benchmarks/README.md shows them (``--readme`` writes it there,
between the README's markers). The README says what each row and column means.

Requests are counted twice: in the child, by wrapping urllib3's
``HTTPConnection.request`` (one call per HTTP request on the wire, retries included; our
client, ONE-api and plain ``requests`` all go through it), and on the server, by the lines
gunicorn's access log gained during the child's run. Memory is the child's peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``), and its growth over the RSS measured just
before the timed part (``/proc/self/status`` VmRSS); ``--tracemalloc`` adds the Python heap
peak (and slows the timed part down).
"""

from __future__ import annotations

import argparse
import collections
import gc
import importlib.util
import inspect
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
ALYXSERVER = REPO / "scripts" / "alyxserver"
DEFAULT_HOME = REPO / ".alyx-bench"

sys.path.insert(0, str(REPO / "scripts"))

from alyxserver import bulk  # noqa: E402  (standard library only)
from readme_block import write_block  # noqa: E402

USER, PASSWORD = bulk.USER

# The rows the verdicts compare (benchmarks/README.md says what each includes).
OURS = "(a) ours, download_subjects"
FLOOR = "(f) server floor: login + the same list pages, plain parallel GETs"
N_PLUS_ONE = "(c) 1.1.2 way: list + 1 GET/subject"
OURS_DETAILS = "(d) ours + add_details: list + every subject's weighings and water, as (c)"
FLOOR_DETAILS = "(f+d) server floor: (d)'s requests, plain parallel GETs"
NOOP = "no-op re-sync, download excluded"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# The server: our own ALYX_LOCAL_HOME, gunicorn with an access log, N bench subjects.
# ---------------------------------------------------------------------------------------


class BenchServer:
    """A benchmark's own alyx-local under ``home``, which must be a ``.alyx-bench*`` folder:
    never the tests' server (``.alyx-test``) nor the demo's (``.alyx-local``)."""

    def __init__(self, home: Path, workers: int) -> None:
        if not home.resolve().name.startswith(".alyx-bench"):
            raise SystemExit(f"--home {home}: a benchmark's server home is named .alyx-bench*")
        self.home = home
        self.workers = workers
        self.access_log = home / "logs" / "access.log"
        self.url = ""

    def _env(self) -> dict:
        environment = {k: v for k, v in os.environ.items() if k != "ALYX_LOCAL_PORT"}
        return dict(
            environment,
            ALYX_LOCAL_HOME=str(self.home),
            ALYX_LOCAL_WORKERS=str(self.workers),
            # gunicorn reads extra options from here; --workers on its command line wins.
            GUNICORN_CMD_ARGS=f"--access-logfile {self.access_log}",
        )

    def _run(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, str(ALYXSERVER), *args],
            env=self._env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        if result.returncode != 0:
            raise SystemExit(f"scripts/alyxserver {' '.join(args)} failed ({result.returncode})")
        return result.stdout

    def start(self) -> None:
        self._run("stop")  # a fresh gunicorn with our worker count and access log
        self.access_log.parent.mkdir(parents=True, exist_ok=True)
        self.access_log.unlink(missing_ok=True)
        state = json.loads(self._run("start"))
        self.url = state["url"]

    def stop(self) -> None:
        self._run("stop")

    def bulk(self, subjects: int) -> None:
        started = time.monotonic()
        self._run("bulk", "--subjects", str(subjects))
        log(f"{subjects} bench subjects ready ({time.monotonic() - started:.1f} s)")

    def requests_logged(self) -> int:
        try:
            with open(self.access_log, "rb") as lines:
                return sum(1 for _ in lines)
        except FileNotFoundError:
            return 0

    def warm_up(self) -> None:
        """A few requests so that every gunicorn worker has loaded Django's URLs."""
        data = urllib.parse.urlencode({"username": USER, "password": PASSWORD}).encode()
        with urllib.request.urlopen(self.url + "/auth-token", data=data, timeout=60) as answer:
            token = json.load(answer)["token"]
        headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        for _ in range(2 * self.workers):
            request = urllib.request.Request(self.url + "/subjects?limit=5", headers=headers)
            with urllib.request.urlopen(request, timeout=60) as answer:
                answer.read()
        time.sleep(1.0)  # let the access log catch up before the first run takes its mark


# ---------------------------------------------------------------------------------------
# Child side: one measurement per process, so that peak RSS belongs to it alone.
# ---------------------------------------------------------------------------------------


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


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(run: Callable[[], dict], use_tracemalloc: bool) -> dict:
    counter = RequestCounter()
    gc.collect()
    rss_before = _rss_mb()
    if use_tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    extra = run()
    seconds = time.perf_counter() - started
    result = {
        "seconds": seconds,
        "requests": counter.total,
        "by_kind": dict(counter.kinds),
        "peak_rss_mb": _peak_rss_mb(),
        "rss_growth_mb": max(0.0, _peak_rss_mb() - rss_before),
        **extra,
    }
    if use_tracemalloc:
        result["heap_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return result


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


def child_first_sync(args: argparse.Namespace) -> Callable[[], dict]:
    from pybpod_alyx_module.sync.project_files import open_project

    records = json.loads(Path(args.records).read_text())

    def run() -> dict:
        phases = {}
        clock = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            phases[name] = now - clock
            clock = now

        project = open_project(args.project, create=True)
        lap("create")
        plan, written = plan_apply_save(project, records, lap)
        return {
            "phases": phases,
            "subjects": len(records),
            "written": len(written),
            "plan": plan.counts(),
        }

    return run


def plan_apply_save(project, records: list, lap: Callable[[str], None]) -> tuple:
    """The sync's three local phases, each timed by ``lap``: ``(plan, paths written)``."""
    from pybpod_alyx_module.sync import OverridePolicy, apply_plan, plan_subjects, save_sync

    plan = plan_subjects(project, records, username=USER)
    lap("plan")
    result = apply_plan(project, plan, OverridePolicy("yes"))
    lap("apply")
    written = save_sync(project, result)
    lap("save")
    return plan, written


def child_noop(args: argparse.Namespace) -> Callable[[], dict]:
    from pybpod_alyx_module.alyx import AlyxClient
    from pybpod_alyx_module.sync import (
        SubjectSelection,
        download_subjects,
    )
    from pybpod_alyx_module.sync.project_files import open_project

    saved = None if args.download else json.loads(Path(args.records).read_text())

    def run() -> dict:
        phases = {}
        clock = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            phases[name] = now - clock
            clock = now

        project = open_project(args.project)
        lap("reload")
        records = saved
        if args.download:
            with AlyxClient(args.url, username=USER, password=PASSWORD) as client:
                records = download_subjects(client, SubjectSelection(responsible_user=USER))
            lap("download")
        plan, written = plan_apply_save(project, records, lap)
        return {
            "phases": phases,
            "subjects": len(records),
            "written": len(written),
            "written_paths": [str(p) for p in written[:5]],
            "plan": plan.counts(),
        }

    return run


CHILDREN = {
    "ours": child_ours,
    "ours_details": child_ours_details,
    "floor": child_floor,
    "one": child_one,
    "n_plus_one": child_n_plus_one,
    "first_sync": child_first_sync,
    "noop": child_noop,
}


# ---------------------------------------------------------------------------------------
# The weekly re-sync (issue 8): every subject changed on Alyx (``age_weeks`` + 1 week).
# ---------------------------------------------------------------------------------------
ALL_CHANGED = "weekly re-sync, every subject changed, download excluded"


def child_all_changed(args: argparse.Namespace) -> Callable[[], dict]:
    """Re-sync the saved records one more week on: every subject is updated, in the CLI's path.

    Each run is one week later than the run before (a counter beside the project), so that
    repeated runs all update every subject instead of finding them already up to date.
    """
    from pybpod_alyx_module.sync.project_files import open_project

    saved = json.loads(Path(args.records).read_text())
    counter = Path(args.project).parent / "weeks_passed"
    weeks = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(weeks))
    records = [dict(r, age_weeks=(r.get("age_weeks") or 0) + weeks) for r in saved]

    def run() -> dict:
        phases = {}
        clock = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            phases[name] = now - clock
            clock = now

        project = open_project(args.project)
        lap("reload")
        plan, written = plan_apply_save(project, records, lap)
        return {
            "phases": phases,
            "subjects": len(records),
            "written": len(written),
            "plan": plan.counts(),
        }

    return run


CHILDREN["all_changed"] = child_all_changed
DISK_FLOOR = "disk floor: the weekly re-sync's files created, flushed, renamed (no logic)"


def child_disk_floor(args: argparse.Namespace) -> Callable[[], dict]:
    """The disk's own time for the weekly re-sync's save: the same files, nothing else.

    Every subject's document (its bytes read first, outside the clock) written to a new file
    beside it, flushed, renamed over it, then every folder flushed, by as many threads as
    the save uses: no rendering, no path checks, no journal.
    """
    import secrets
    from concurrent.futures import ThreadPoolExecutor

    from pybpod_alyx_module.sync.durable import WORKERS

    subjects = Path(args.project) / "subjects"
    files = [(str(p), p.read_bytes()) for p in sorted(subjects.glob("*/*.json"))]
    folders = sorted({os.path.dirname(path) for path, _ in files})

    def write(share: list) -> None:
        for path, data in share:
            temporary = f"{path}.{secrets.token_hex(4)}.tmp"
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, path)

    def flush(share: list) -> None:
        for folder in share:
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def run() -> dict:
        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(write, [files[i::WORKERS] for i in range(WORKERS)]))
            list(pool.map(flush, [folders[i::WORKERS] for i in range(WORKERS)]))
        return {"subjects": len(files), "written": len(files)}

    return run


CHILDREN["disk_floor"] = child_disk_floor


def bench_all_changed(runner: Runner, size: int, common: tuple, repeat: int) -> None:
    """The weekly re-sync rows, on the project the first sync made, and the disk's floor."""
    runner.run(size, ALL_CHANGED, "all_changed", *common, repeat=repeat)
    runner.run(size, DISK_FLOOR, "disk_floor", *common, repeat=repeat)


def all_changed_verdicts(rows: list[dict]) -> list[str]:
    """Target of issue 8: plan+apply+save of N changed subjects in < 2 s at N = 10,000."""
    verdicts = []
    floors = {row["size"]: row for row in rows if row["approach"] == DISK_FLOOR}
    for row in rows:
        floor = floors.get(row["size"])
        if row["approach"] == ALL_CHANGED and floor:
            ratio = row["phases"]["save"] / floor["seconds"]
            verdicts.append(
                f"weekly re-sync's save at N={row['size']} vs the disk's floor: "
                f"{row['phases']['save']:.2f} s vs {floor['seconds']:.2f} s, {ratio:.2f}x "
                f"(aim <= 1.3x: {'met' if ratio <= 1.3 else 'NOT met'})"
            )
        if row["approach"] != ALL_CHANGED:
            continue
        phases = row["phases"]
        local = phases["plan"] + phases["apply"] + phases["save"]
        updated = row["plan"]["update"]
        verdict = "met" if local < 2 or row["size"] < 10_000 else "NOT met"
        verdicts.append(
            f"weekly re-sync at N={row['size']}: {updated} subjects updated, plan "
            f"{phases['plan']:.2f} + apply {phases['apply']:.2f} + save {phases['save']:.2f} = "
            f"{local:.2f} s (target < 2 s at 10,000: {verdict}); PyBpod's reload "
            f"{phases['reload']:.2f} s; {row['written']} paths written"
        )
    return verdicts


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


# ---------------------------------------------------------------------------------------
# Parent side: the runs, then one table.
# ---------------------------------------------------------------------------------------


class Runner:
    def __init__(self, server: BenchServer, scratch: Path, use_tracemalloc: bool) -> None:
        self.server = server
        self.scratch = scratch
        self.use_tracemalloc = use_tracemalloc
        self.rows: list[dict] = []

    def run(
        self,
        size: int,
        label: str,
        kind: str,
        *args: str,
        home: Path | None = None,
        repeat: int = 1,
    ) -> dict:
        """One child per run; with ``repeat``, the row holds the median time of the runs."""
        env = dict(os.environ, QT_API="pyqt5", QT_QPA_PLATFORM="offscreen")
        if home is not None:
            env["HOME"] = str(home)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, *args]
        if self.use_tracemalloc:
            cmd.append("--tracemalloc")
        runs = []
        for attempt in range(1, repeat + 1):
            log(f"{size}: {label} ({attempt}/{repeat}) ...")
            before = self.server.requests_logged()
            result = subprocess.run(
                cmd, env=env, cwd=str(self.scratch), stdout=subprocess.PIPE, text=True
            )
            time.sleep(0.5)  # the access log line is written after the answer
            lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
            if result.returncode != 0 or not lines:
                raise SystemExit(f"the {label} run failed ({result.returncode})")
            run = json.loads(lines[-1][len("RESULT ") :])
            run["server_requests"] = self.server.requests_logged() - before
            log(f"{size}: {label}: {run['seconds']:.2f} s, {run['requests']} requests")
            runs.append(run)
        row = dict(runs[0], size=size, approach=label)
        row["runs"] = [run["seconds"] for run in runs]
        row["seconds"] = statistics.median(row["runs"])
        row["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
        row["rss_growth_mb"] = max(run["rss_growth_mb"] for run in runs)
        self.rows.append(row)
        return row


def bench_size(runner: Runner, size: int, options: argparse.Namespace) -> None:
    url = runner.server.url
    work = runner.scratch / f"n{size}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    records = work / "records.json"
    one_home = work / "one-home"
    one_home.mkdir()
    project = work / "bench_project"

    repeat, only = options.repeat, set(options.only)
    # (a) ours: the default first (it saves the records), then page sizes and concurrency.
    ours = ("--url", url, "--records", str(records))
    runner.run(size, OURS, "ours", *ours, repeat=repeat)
    if "floor" in only:
        runner.run(size, FLOOR, "floor", "--url", url, repeat=repeat)
    for workers in options.page_workers if "ours" in only else ():
        for limit in options.limits:
            label = f"(a) ours, limit={limit}, page_workers={workers}"
            runner.run(
                size,
                label,
                "ours",
                *("--url", url, "--limit", str(limit), "--page-workers", str(workers)),
                repeat=repeat,
            )
    # (b) ONE-api
    one_limits = [None, *[lim for lim in options.limits if lim != 250]]
    for limit in one_limits if "one" in only else ():
        label = "(b) ONE-api AlyxClient.get" + (f", limit={limit}" if limit else "")
        extra = ("--limit", str(limit)) if limit else ()
        runner.run(size, label, "one", "--url", url, *extra, home=one_home, repeat=repeat)
    # (c) 1.1.2's N+1
    skip = options.skip_n_plus_one_above
    if "n_plus_one" not in only:
        pass
    elif skip is not None and size > skip:
        log(f"{size}: (c) skipped (--skip-n-plus-one-above {skip})")
    else:
        runner.run(size, N_PLUS_ONE, "n_plus_one", "--url", url)
    # (d) the same work as (c) with ours, and its floor
    if "details" in only:
        runner.run(size, OURS_DETAILS, "ours_details", "--url", url)
        if "floor" in only:
            runner.run(size, FLOOR_DETAILS, "floor", "--url", url, "--details")
    if "sync" not in only:
        return
    # The sync itself, into a fresh project, then twice as a no-op.
    common = ("--records", str(records), "--project", str(project))
    runner.run(size, "first sync: plan+apply+save", "first_sync", *common)
    runner.run(size, NOOP, "noop", *common, repeat=repeat)
    runner.run(
        size,
        "no-op re-sync, download included",
        "noop",
        *(*common, "--url", url, "--download"),
        repeat=repeat,
    )
    bench_all_changed(runner, size, common, repeat)


def report(rows: list[dict], argv: list[str], server_workers: int) -> str:
    """What benchmarks/README.md shows, verbatim: the set-up, the table, the verdicts."""
    heap = any("heap_peak_mb" in row for row in rows)
    header = ["N", "approach", "subjects", "HTTP requests", "server log", "wall s", "peak RSS MB"]
    header += ["RSS growth MB"] + (["heap peak MB"] if heap else []) + ["notes"]
    lines = [header]
    for row in rows:
        kinds = row.get("by_kind", {})
        breakdown = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        line = [
            str(row["size"]),
            row["approach"],
            str(row.get("subjects", "")),
            f"{row['requests']}" + (f" ({breakdown})" if breakdown else ""),
            str(row["server_requests"]),
            f"{row['seconds']:.2f}",
            f"{row['peak_rss_mb']:.0f}",
            f"{row['rss_growth_mb']:.0f}",
        ]
        if heap:
            line.append(f"{row['heap_peak_mb']:.0f}" if "heap_peak_mb" in row else "")
        line.append(_notes(row))
        lines.append(line)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')}: {os.cpu_count()} CPUs (load average at "
        f"the end {os.getloadavg()[0]:.2f}), Python {sys.version.split()[0]}, alyx-local 3.1.8 "
        f"with {server_workers} gunicorn workers.",
        "Command: `.venv/bin/python benchmarks/sync_benchmark.py"
        + "".join(f" {arg}" for arg in argv)
        + "`",
        "",
    ]
    for i, line in enumerate(lines):
        out.append("| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths)) + " |")
        if i == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out += ["", "The script's verdicts:", ""]
    out += [f"- {verdict}" for verdict in _targets(rows)]
    return "\n".join(out) + "\n"


def _notes(row: dict) -> str:
    notes = []
    runs = row.get("runs", [])
    if len(runs) > 1:
        notes.append(f"median of {len(runs)} (min {min(runs):.2f}, max {max(runs):.2f})")
    if "phases" in row:
        notes.append(", ".join(f"{k} {v:.2f}" for k, v in row["phases"].items()))
    if "written" in row:
        notes.append(f"{row['written']} paths written")
    return "; ".join(notes)


def _targets(rows: list[dict]) -> list[str]:
    def find(size: int, approach: str) -> dict | None:
        return next((r for r in rows if r["size"] == size and r["approach"] == approach), None)

    from pybpod_alyx_module.alyx.pagination import FIRST_PAGE_SIZE as first
    from pybpod_alyx_module.alyx.pagination import PAGE_SIZE as size_of_page

    verdicts = []
    for row in rows:
        if row["approach"] == OURS:
            pages = row["by_kind"].get("page", 0)
            # The client asks a small first page (it says how many there are), then pages of
            # PAGE_SIZE in parallel: 1 + ceil((N - first) / PAGE_SIZE) list requests.
            expected = 1 + math.ceil(max(row["subjects"] - first, 0) / size_of_page)
            verdicts.append(
                f"requests at N={row['size']}: {row['requests']} in all, {pages} list pages "
                f"(1 + ceil((N - {first})/{size_of_page}) = {expected}): "
                + ("grows with pages" if pages == expected else "NOT one request per page")
            )
    for size in sorted({r["size"] for r in rows}):
        a, f, c = find(size, OURS), find(size, FLOOR), find(size, N_PLUS_ONE)
        d, fd, z = find(size, OURS_DETAILS), find(size, FLOOR_DETAILS), find(size, NOOP)
        if a and f:
            verdicts.append(
                f"ours vs the server floor at N={size}: {a['seconds']:.2f} s vs "
                f"{f['seconds']:.2f} s, {a['seconds'] / f['seconds']:.2f}x the floor's time"
            )
        if a and c:
            ratio = c["seconds"] / a["seconds"]
            verdict = "met" if ratio >= 10 else "NOT met"
            verdicts.append(
                f"ours (list only) vs 1.1.2 (list + every detail) at N={size}: {ratio:.1f}x "
                f"faster (target >= 10x: {verdict}); not the same result, see the next line"
            )
        if d and c:
            verdicts.append(
                f"same result (every subject with its weighings and water) at N={size}: ours {d['seconds']:.2f} s vs the "
                f"1.1.2 way {c['seconds']:.2f} s, {c['seconds'] / d['seconds']:.1f}x faster"
                + (
                    f"; floor {fd['seconds']:.2f} s, ours {d['seconds'] / fd['seconds']:.2f}x "
                    "the floor's time"
                    if fd
                    else ""
                )
            )
        if z:
            total, reload = z["seconds"], z["phases"]["reload"]
            verdict = "met" if total < 2 else "NOT met"
            verdicts.append(
                f"no-op re-sync at N={size}, download excluded: {total:.2f} s, of which PyBpod's "
                f"reload {reload:.2f} s and plan+apply+save {total - reload:.2f} s "
                f"(target < 2 s: {verdict}); {z['written']} paths written"
            )
    return verdicts + all_changed_verdicts(rows)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument(
        "--skip-n-plus-one-above",
        type=int,
        metavar="N",
        help="skip the 1.1.2 approach (c) for sizes above N (it takes minutes at 10,000)",
    )
    parser.add_argument(
        "--page-workers",
        type=int,
        nargs="*",
        default=[1, 3],
        help="page_workers values for our client's extra rows (default: 1 3)",
    )
    parser.add_argument(
        "--limits", type=int, nargs="*", default=[250, 1000], help="page sizes to try (250 1000)"
    )
    parser.add_argument(
        "--server-workers", type=int, default=2, help="gunicorn workers (alyx-local default 2)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each download and no-op row (median)"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["ours", "floor", "one", "n_plus_one", "details", "sync"],
        default=["ours", "floor", "one", "n_plus_one", "details", "sync"],
        help="which rows (ours' default row always runs: it saves the records)",
    )
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help="ALYX_LOCAL_HOME")
    parser.add_argument("--keep-server", action="store_true", help="leave the server running")
    parser.add_argument("--tracemalloc", action="store_true", help="also the Python heap peak")
    parser.add_argument("--json", type=Path, help="write the raw results to this file")
    parser.add_argument(
        "--readme",
        action="store_true",
        help="also write the report into benchmarks/README.md, between its markers",
    )
    options = parser.parse_args(argv)
    if options.home.resolve() in {
        (REPO / name).resolve() for name in (".alyx-local", ".alyx-test")
    }:
        parser.error("--home must not be the tests' or the demo's ALYX_LOCAL_HOME")
    if "one" in options.only and importlib.util.find_spec("one") is None:
        parser.error("ONE-api is not installed: run scripts/bootstrap --bench, or leave out 'one'")

    server = BenchServer(options.home, options.server_workers)
    scratch = Path(tempfile.mkdtemp(prefix="alyx-sync-bench-"))
    runner = Runner(server, scratch, options.tracemalloc)
    try:
        log(f"starting the bench server in {options.home}")
        server.start()
        for size in sorted(options.sizes):
            server.bulk(size)
            server.warm_up()
            bench_size(runner, size, options)
    finally:
        if not options.keep_server:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
        if runner.rows:
            if options.json:
                options.json.write_text(json.dumps(runner.rows, indent=2))
            shown = [arg for arg in argv if arg != "--readme"]
            text = report(runner.rows, shown, options.server_workers)
            print("\n" + text, end="")
            if options.readme:
                write_block(Path(__file__).name, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
