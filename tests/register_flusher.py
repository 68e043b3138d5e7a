"""A separate process that flushes an outbox, as the GUI or a second CLI would.

``python tests/register_flusher.py OUTBOX ADDRESS USER [KILL_AFTER]``, with the token in
``ALYX_TOKEN``. With ``KILL_AFTER`` (seconds), the process SIGKILLs itself that long
after the flush started: wherever it is (mid-request, mid-commit). Prints the number
of items it sent when it finishes.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.register import Outbox, flush


def main(outbox_path: str, address: str, username: str, kill_after: str | None = None) -> int:
    with (
        Outbox(outbox_path) as outbox,
        AlyxClient(address, username=username, token=os.environ["ALYX_TOKEN"]) as alyx,
    ):
        if kill_after is not None:
            timer = threading.Timer(float(kill_after), os.kill, (os.getpid(), signal.SIGKILL))
            timer.daemon = True
            timer.start()
        report = flush(outbox, alyx, workers=2, due_only=False)
        print(len(report.sent), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
