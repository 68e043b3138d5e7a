"""A separate process that flushes an outbox, as the GUI or a second CLI would.

``python tests/register_flusher.py OUTBOX ADDRESS USER [KILL_AT]``, with the token in
``ALYX_TOKEN``. With ``KILL_AT`` = ``request:K`` the process SIGKILLs itself just before
the flush's K-th HTTP request goes out (the outbox has claimed and maybe recorded earlier steps);
with ``response:K``, just after the K-th answer arrived and before the flush reads it (the
server has acted, the answer is lost). Counted in requests, not seconds, so the kill lands
inside the flush on a fast machine and a slow one alike. Prints the number of items it
sent when it finishes; with ``REGISTER_FLUSHER_REPORT`` set, a JSON line instead: the
items sent, and the time of each HTTP request this process sent (to check its rate).
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import sys
import time
from typing import Any

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.register import Outbox, flush


def kill_at(alyx: AlyxClient, point: str) -> None:
    """Arm the SIGKILL at ``point`` (``request:K`` or ``response:K``) of ``alyx``'s session."""
    phase, k = point.split(":")
    sends = itertools.count(1)  # the flush sends from several threads: one number each
    send = alyx.session.send

    def counting_send(request: Any, **kwargs: Any) -> Any:
        number = next(sends)
        if phase == "request" and number == int(k):
            os.kill(os.getpid(), signal.SIGKILL)
        response = send(request, **kwargs)
        if phase == "response" and number == int(k):
            os.kill(os.getpid(), signal.SIGKILL)
        return response

    alyx.session.send = counting_send


def record_requests(alyx: AlyxClient) -> list[tuple[float, str]]:
    """``(epoch seconds, "METHOD path")`` of each request ``alyx`` sends, from now on."""
    sent: list[tuple[float, str]] = []
    send = alyx.session.send

    def timed_send(request: Any, **kwargs: Any) -> Any:
        sent.append((time.time(), f"{request.method} {request.path_url.split('?')[0]}"))
        return send(request, **kwargs)

    alyx.session.send = timed_send
    return sent


def main(outbox_path: str, address: str, username: str, point: str | None = None) -> int:
    with (
        Outbox(outbox_path) as outbox,
        AlyxClient(address, username=username, token=os.environ["ALYX_TOKEN"]) as alyx,
    ):
        if point is not None:
            _ = alyx.api_root  # the address probes come before the flush: not counted
            kill_at(alyx, point)
        requests = record_requests(alyx)
        report = flush(outbox, alyx, workers=2, due_only=False)
        if os.environ.get("REGISTER_FLUSHER_REPORT"):
            print(json.dumps({"sent": len(report.sent), "requests": requests}), flush=True)
        else:
            print(len(report.sent), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
