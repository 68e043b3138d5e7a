"""Run one headless sync (open, plan, apply, save) and SIGKILL itself at a chosen moment.

Used by ``tests/test_sync_save_atomic.py`` as a subprocess::

    python save_kill_driver.py PROJECT RECORDS.json POLICY KILL_AT

``KILL_AT`` is the number of file-system operations the save may make (``os.open``,
``open``, ``os.replace``, ``os.fsync``, ``os.mkdir``, ``os.unlink``, ``os.rmdir``…)
before the process kills itself with SIGKILL, right before the next one; ``-1``
never kills and prints how many operations the save made; ``replace:NAME`` kills
right before the ``os.replace`` onto a file named ``NAME``. The kill is a real
SIGKILL at a reproducible point inside ``save_sync``: nothing runs after it.

New uuids and the clock are fixed, so that two runs from the same project write
byte-identical files: a killed run can be compared with an uninterrupted one.
"""

from __future__ import annotations

import builtins
import datetime
import json
import os
import random
import signal
import sys
import time
import uuid

from pybpod_alyx_module.sync import OverridePolicy, apply_plan, plan_subjects, save_sync
from pybpod_alyx_module.sync.project_files import open_project

SAVING, SAVED = "SAVING", "SAVED"
_replace = os.replace
_OPERATIONS = ("open", "replace", "rename", "fsync", "mkdir", "unlink", "rmdir", "fchmod")


def _fixed_uuids_and_clock() -> None:
    draw = random.Random(0)
    uuid.uuid4 = lambda: uuid.UUID(int=draw.getrandbits(128), version=4)
    frozen = datetime.datetime(2026, 1, 2, 3, 4, 5)

    class FrozenDatetime(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return frozen

    import sca.formats.json as sca_json

    sca_json.datetime = type("datetime_module", (), {"datetime": FrozenDatetime})
    real_strftime = time.strftime
    time.strftime = lambda fmt, *args: real_strftime(fmt, frozen.timetuple())


def _count_operations(kill_at: str) -> list[int]:
    """Wrap the file-system calls; die before operation number ``kill_at`` (or the replace)."""
    count = [0]
    number = int(kill_at) if kill_at.lstrip("-").isdigit() else -1
    replaced = kill_at.partition("replace:")[2]

    def wrap(function):
        def counted(*args, **kwargs):
            if count[0] == number or (
                replaced and function is _replace and os.path.basename(args[1]) == replaced
            ):
                os.kill(os.getpid(), signal.SIGKILL)
            count[0] += 1
            return function(*args, **kwargs)

        return counted

    for name in _OPERATIONS:
        setattr(os, name, wrap(getattr(os, name)))
    builtins.open = wrap(builtins.open)
    return count


def main(project_path: str, records_path: str, policy: str, kill_at: str) -> None:
    _fixed_uuids_and_clock()
    with open(records_path, encoding="utf-8") as handle:
        records = json.load(handle)
    project = open_project(project_path, create=True)
    result = apply_plan(project, plan_subjects(project, records, "alice"), OverridePolicy(policy))
    print(SAVING, flush=True)
    count = _count_operations(kill_at)
    save_sync(project, result)
    print(SAVED, count[0], flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
