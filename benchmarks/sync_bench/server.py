"""The sync benchmark's own Alyx server: ``ALYX_LOCAL_HOME`` of its own, an access log, N subjects.

Never the tests' server (``.alyx-test``) nor the demo's (``.alyx-local``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ALYXSERVER = REPO / "scripts" / "alyxserver"
DEFAULT_HOME = REPO / ".alyx-bench"

sys.path.insert(0, str(REPO / "scripts"))

from alyxserver import bulk  # noqa: E402  (standard library only)

USER, PASSWORD = bulk.USER


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# The server: our own ALYX_LOCAL_HOME, gunicorn with an access log, N bench subjects.
# ---------------------------------------------------------------------------------------


#: The burst rate a benchmark's server runs with unless ``ALYX_LOCAL_THROTTLE_BURST_RATE``
#: says otherwise: more than any row sends.
UNTHROTTLED = "1000000/minute"


def unthrottled(environment: dict[str, str]) -> dict[str, str]:
    """``environment`` for starting a benchmark's server: with :data:`UNTHROTTLED` as its
    burst rate unless it names one.

    The canonical burst throttle (550 requests/minute per user and gunicorn worker) would make
    every row measure the throttle, not the server's work; set the variable to measure under it.
    """
    return {"ALYX_LOCAL_THROTTLE_BURST_RATE": UNTHROTTLED, **environment}


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
            unthrottled(environment),
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
