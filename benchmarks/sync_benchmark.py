"""Sync benchmark against a real local Alyx (alyx-local on PostgreSQL) with many subjects.

Run from the repository (ONE-api comes from ``scripts/bootstrap --bench``)::

    .venv/bin/python benchmarks/sync_benchmark.py [--sizes 1000 10000] [--readme]

It starts its own server under ``<repo>/.alyx-bench`` (never the test server), seeds
``N`` subjects of user ``bench`` with ``scripts/alyxserver bulk``, measures every approach
in a fresh child process, stops the server, and prints its report: the set-up, one table
and the verdicts, exactly as benchmarks/README.md shows them (``--readme`` writes it there,
between the README's markers). The README says what each row and column means.
``--only weekly --sizes 3000 10000 --repeat 3`` runs only what the weekly re-sync needs
(the records' download once, the first sync), then the re-sync and the disk's floor,
alternating. The parts live in ``benchmarks/sync_bench/`` (server, children, runner, report).

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
import importlib.util
import json
import shutil
import sys
import tempfile
from pathlib import Path

from readme_block import write_block
from sync_bench.child import child_main
from sync_bench.report import report
from sync_bench.runner import Runner, bench_size
from sync_bench.server import DEFAULT_HOME, PASSWORD, REPO, USER, BenchServer, log

#: What other benchmarks import from here (``gui_responsiveness.py``: the same server).
__all__ = ["PASSWORD", "USER", "BenchServer", "main"]


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
        choices=["ours", "floor", "one", "n_plus_one", "details", "sync", "weekly"],
        default=["ours", "floor", "one", "n_plus_one", "details", "sync"],
        help="which rows (ours' default row always runs: it saves the records; 'weekly': "
        "only the first sync, then the weekly re-sync and the disk floor, alternating)",
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
