"""Registering benchmark: flushing N queued sessions (with weight and water) to a real Alyx.

Run from the repository::

    .venv/bin/python benchmarks/register_benchmark.py [--sessions 1000] [--workers 4] [--readme]

Side by side, in one run, on the same server (alyx-local on PostgreSQL):

- **one after another** — IBL's rig code: for each session, search the subject's sessions
  of that day, create the session, post the weight, post the water; one request at a
  time (plain ``requests`` with a token: the floor of that approach, no client overhead);
- **outbox flush** — ours: N registrations queued in the outbox while offline (as after
  an outage), then :func:`pybpod_alyx_module.register.flush` with ``--workers`` senders;
- **server floor** — the writes the flush makes (session, weighing, water per session) by
  plain ``requests`` with a token, ``--workers`` sessions at a time: no reads, no outbox,
  no checks, no retries: what the server alone needs for this work.

Each session is one subject's session of one day (seeded subjects ``SW_001``…``SW_260``,
one day after another), as on rigs. Requests are counted on the client (a response hook
on each ``requests.Session``); login is done before the clock starts for all. The
records are dated 2032 (peer), 2033 (ours) and 2034 (floor), deleted before and after.

The server runs under ``--home`` (default ``<repo>/.alyx-bench-register``, never the tests'
``.alyx-local`` nor the sync benchmark's ``.alyx-bench``); it is started if needed (with
``ALYX_LOCAL_WORKERS`` gunicorn workers, 2 by default), and stopped at the end if this run
started it. The server's CPU bounds every row: concurrency gains only as much as its
workers and free cores allow. The report (set-up, table, verdicts) is printed, and with
``--readme`` also written between this script's markers in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO))

import requests  # noqa: E402
from alyxserver import registering, seed_data  # noqa: E402
from alyxserver.layout import Layout  # noqa: E402
from readme_block import markdown_table, preamble, write_block  # noqa: E402
from sync_bench.server import unthrottled  # noqa: E402

from pybpod_alyx_module.alyx import AlyxClient  # noqa: E402
from pybpod_alyx_module.register import Outbox, RegisterOptions, flush  # noqa: E402
from pybpod_alyx_module.register.records import AlyxSubject, session_registration  # noqa: E402
from pybpod_alyx_module.register.session_file import (  # noqa: E402
    RecordedSession,
    SessionCreator,
    SessionSubject,
)
from pybpod_alyx_module.register.values import TaskValues  # noqa: E402
from pybpod_alyx_module.sync.subjects import server_origin  # noqa: E402

USER = "alice"
NICKNAMES = [f"SW_{n:03d}" for n in range(1, 261)]
PEER_YEAR, OURS_YEAR, FLOOR_YEAR = 2032, 2033, 2034
SCRIPT = Path(__file__).name


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class Counter:
    """Responses received by a ``requests.Session`` (one per HTTP request on the wire)."""

    def __init__(self, session: requests.Session) -> None:
        self.count = 0
        self._lock = threading.Lock()
        session.hooks["response"].append(self._seen)

    def _seen(self, response, *args, **kwargs):
        with self._lock:
            self.count += 1
        return response


def alyxserver(home: Path, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "alyxserver"), command],
        env=unthrottled(dict(os.environ, ALYX_LOCAL_HOME=str(home))),
        stdout=subprocess.PIPE,
        text=True,
    )


def registrations(subjects: dict[str, AlyxSubject], count: int, year: int) -> list[tuple]:
    """``count`` registrations: subject i % 260, one day after another, with weight and water."""
    options = RegisterOptions()
    found = []
    for i in range(count):
        subject = subjects[NICKNAMES[i % len(NICKNAMES)]]
        start = datetime.datetime(year, 1, 1, 10, 0) + datetime.timedelta(days=i // len(NICKNAMES))
        session = RecordedSession(
            path=Path(f"bench/{i}.csv"),
            name=start.strftime("%Y%m%d-%H%M%S"),
            uuid4=f"00000000-0000-4000-8000-{year:04d}{i:08d}",
            started=start,
            ended=start + datetime.timedelta(minutes=45),
            subjects=(SessionSubject(subject.name, subject.uuid4),),
            creator=SessionCreator(USER, "00000000-0000-4000-8000-00000000a11c", "ALYX"),
            protocol="bench_task",
            project="bench",
            experiment="exp",
            setup="",
            board="box",
            n_trials=300,
        )
        values = TaskValues(water_ml=1.0, weight_g=20.0 + i % 7, n_correct_trials=200)
        payload = session_registration(session, subject, values, options, None)
        payload["location"] = None  # both approaches register without a location
        found.append((f"bench:{year}:{i}", f"{subject.nickname} {session.name}", payload))
    return found


def peer(address: str, token: str, work: list[tuple]) -> dict:
    """IBL's way: search, create, weigh, water — one session after another."""
    http = requests.Session()
    http.headers.update({"Authorization": f"Token {token}", "Accept": "application/json"})
    counter = Counter(http)
    started = time.perf_counter()
    for _, _, payload in work:
        body = dict(payload["session"])
        day = body["start_time"][:10]
        same_day = http.get(
            f"{address}/sessions",
            params={"subject": body["subject"], "date_range": f"{day},{day}"},
            timeout=60,
        ).json()["results"]
        if any(s["start_time"][:19] == body["start_time"] for s in same_day):
            continue
        body["number"] = max([s["number"] or 0 for s in same_day], default=0) + 1
        created = http.post(f"{address}/sessions", json=body, timeout=60)
        created.raise_for_status()
        http.post(f"{address}/weighings", json=payload["weighing"], timeout=60).raise_for_status()
        water = dict(payload["water"], session=created.json()["id"])
        http.post(f"{address}/water-administrations", json=water, timeout=60).raise_for_status()
    return {"seconds": time.perf_counter() - started, "requests": counter.count}


def floor(address: str, token: str, work: list[tuple], workers: int) -> dict:
    """The server's limit: the flush's writes only, ``workers`` sessions at a time.

    Per session, as the flush sends an item: create the session (number 1: each is its
    subject's only session of that day), then the weight, then the water linked to it.
    No reads, no outbox, no checks, no retries; one ``requests.Session`` whose pool holds
    a connection per worker.
    """
    http = requests.Session()
    http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=max(workers, 1)))
    http.headers.update({"Authorization": f"Token {token}", "Accept": "application/json"})
    counter = Counter(http)

    def send(payload: dict) -> None:
        body = dict(payload["session"], number=1)
        created = http.post(f"{address}/sessions", json=body, timeout=60)
        created.raise_for_status()
        http.post(f"{address}/weighings", json=payload["weighing"], timeout=60).raise_for_status()
        water = dict(payload["water"], session=created.json()["id"])
        http.post(f"{address}/water-administrations", json=water, timeout=60).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(max(workers, 1)) as pool:
        list(pool.map(send, [payload for _, _, payload in work]))
    return {"seconds": time.perf_counter() - started, "requests": counter.count}


def ours(alyx: AlyxClient, work: list[tuple], workers: int) -> dict:
    """Queue everything while offline, then flush the outbox."""
    with tempfile.TemporaryDirectory() as folder, Outbox(Path(folder) / "o.sqlite") as outbox:
        for key, label, payload in work:
            outbox.add(key, label, payload)
        counter = Counter(alyx.session)
        started = time.perf_counter()
        report = flush(outbox, alyx, workers=workers, due_only=False)
        seconds = time.perf_counter() - started
        counts = outbox.counts()
    if report.attention or report.stopped or counts["sent"] != len(work):
        raise SystemExit(f"the flush did not send everything: {counts}, {report.stopped}")
    return {"seconds": seconds, "requests": counter.count}


def on_alyx(alyx: AlyxClient, year: int) -> int:
    """Sessions of the benchmark's subjects dated ``year``."""
    return alyx.get("sessions", date_range=f"{year}-01-01,{year}-12-31", limit=1)["count"]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000, help="N (default 1000)")
    parser.add_argument("--workers", type=int, default=RegisterOptions().send_workers)
    parser.add_argument("--home", type=Path, default=REPO / ".alyx-bench-register")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument(
        "--readme",
        action="store_true",
        help=f"also write the report into benchmarks/README.md, between {SCRIPT}'s markers",
    )
    args = parser.parse_args(argv)
    if args.home.resolve() in {(REPO / ".alyx-local").resolve(), (REPO / ".alyx-bench").resolve()}:
        parser.error("--home must be this benchmark's own, not the tests' or the sync benchmark's")

    was_running = alyxserver(args.home, "status").returncode == 0
    started = alyxserver(args.home, "start")
    if started.returncode != 0:
        raise SystemExit("scripts/alyxserver start failed")
    state = json.loads(started.stdout)
    os.environ["ALYX_LOCAL_HOME"] = str(args.home)
    layout = Layout()
    first, last = f"{PEER_YEAR}-01-01", f"{FLOOR_YEAR}-12-31"
    n = args.sessions
    try:
        registering.delete_registered(layout, NICKNAMES, first, last, [])
        # No client-side rate bound (ALYX_PLUGIN_MAX_REQUESTS_PER_MINUTE): the benchmark measures
        # the work against the server's own floor, which sends unbounded too.
        with AlyxClient(
            state["base_url"],
            username=USER,
            password=seed_data.USERS[USER],
            max_requests_per_minute=None,
        ) as alyx:
            token = alyx.login()
            subjects = {
                s["nickname"]: AlyxSubject(
                    s["id"],
                    s["nickname"],
                    s["id"],
                    s["nickname"],
                    s["lab"],
                    tuple(s.get("projects") or ()),
                    s["url"],
                    server_origin(alyx.api_root),  # the server a sync would record
                )
                for s in alyx.subjects(responsible_user=USER)
                if s["nickname"] in NICKNAMES
            }
            log(f"peer: {n} sessions one after another")
            peer_row = peer(alyx.api_root, token, registrations(subjects, n, PEER_YEAR))
            log(f"ours: {n} sessions queued, flushed with {args.workers} workers")
            ours_row = ours(alyx, registrations(subjects, n, OURS_YEAR), args.workers)
            log(f"floor: {n} sessions' writes, {args.workers} at a time")
            work = registrations(subjects, n, FLOOR_YEAR)
            floor_row = floor(alyx.api_root, token, work, args.workers)
            for row, year in (
                (peer_row, PEER_YEAR),
                (ours_row, OURS_YEAR),
                (floor_row, FLOOR_YEAR),
            ):
                row["on_alyx"] = on_alyx(alyx, year)
    finally:
        registering.delete_registered(layout, NICKNAMES, first, last, [])
        if not was_running:
            alyxserver(args.home, "stop")

    rows = {
        "one after another (IBL rig code): search, create, weigh, water": peer_row,
        f"ours: outbox flush, {args.workers} workers": ours_row,
        f"server floor: the flush's writes, plain requests, {args.workers} at a time": floor_row,
    }
    text = report(n, rows, peer_row, ours_row, floor_row, [a for a in argv if a != "--readme"])
    print("\n" + text, end="")
    if args.readme:
        write_block(SCRIPT, text)
    if args.json:
        args.json.write_text(json.dumps({"sessions": n, "rows": rows}, indent=2))
    return 0


def report(n: int, rows: dict, peer_row: dict, ours_row: dict, floor_row: dict, argv) -> str:
    """What benchmarks/README.md shows between this script's markers: set-up, table, verdicts."""
    workers = os.environ.get("ALYX_LOCAL_WORKERS", "2")
    header = ["approach", "sessions on Alyx", "HTTP requests", "per session", "wall s"]
    header += ["sessions/s", "vs floor"]
    table = [
        [
            name,
            str(row["on_alyx"]),
            str(row["requests"]),
            f"{row['requests'] / n:.2f}",
            f"{row['seconds']:.2f}",
            f"{n / row['seconds']:.1f}",
            f"{row['seconds'] / floor_row['seconds']:.2f}x",
        ]
        for name, row in rows.items()
    ]
    ratio = ours_row["seconds"] / peer_row["seconds"]
    ours_per, peer_per = ours_row["requests"] / n, peer_row["requests"] / n
    verdicts = [
        f"wall time ours / peer at N={n}: {ratio:.2f} (aim <= 0.5: "
        + ("met" if ratio <= 0.5 else "NOT met")
        + ")",
        f"requests per session: ours {ours_per:.2f} vs peer {peer_per:.2f} (aim: no more: "
        + ("met" if ours_per <= peer_per else "NOT met")
        + ")",
        f"ours vs the server floor: {ours_row['seconds']:.2f} s vs {floor_row['seconds']:.2f} s, "
        f"{ours_row['seconds'] / floor_row['seconds']:.2f}x the floor's time",
        "every row's sessions on Alyx: "
        + ("all N" if all(row["on_alyx"] == n for row in rows.values()) else "NOT all N"),
    ]
    lines = preamble(
        SCRIPT,
        argv,
        f"alyx-local 3.1.8 with {workers} gunicorn workers; {n} sessions with weight and water",
    )
    lines += markdown_table(header, table)
    lines += ["", "The script's verdicts:", ""] + [f"- {v}" for v in verdicts]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
