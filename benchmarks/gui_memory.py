"""What holds the memory of the GUI's first sync: a child of ``gui_responsiveness.py`` of its own.

A fresh process boots the real PyBpod 1.8.2 with this plugin, connects, and runs **Get Subjects**
into a new project (every subject added) under ``tracemalloc``, which slows it: this child's
times are not the benchmark's. Tracing starts just before the sync, so what is traced once it
is done (and a full garbage collection ran) is what the sync left held. It is split by who
allocated it: each block goes to the innermost frame of its
allocation's stack that lies in this plugin, PyBpod (``pybpodgui_plugin`` / ``pybpodgui_api``)
or pyforms, else to "Python and other libraries" (the standard library's ``json`` decoding a
page the plugin asked for counts as the plugin's). Native memory (Qt's C++ objects, the
allocator's pages) is outside ``tracemalloc``: it is the process's RSS growth, read before the
snapshot is taken (a snapshot of a million blocks is itself large), less the traced memory and
less ``tracemalloc``'s own bookkeeping.
"""

from __future__ import annotations

import gc
import shutil
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

from gui_phases import FIRST_SYNC, emit
from pybpod_gui import boot_editor, wait
from rss import peak_rss_mb, rss_mb
from sync_benchmark import PASSWORD, USER

MEMORY = "what the first sync's Python heap holds (tracemalloc)"
#: Owners, in the order a frame's file is checked: a path part -> the owner's name.
OWNERS = (
    ("pybpod_alyx_module", "this plugin"),
    ("pybpodgui_plugin", "PyBpod"),
    ("pybpodgui_api", "PyBpod"),
    ("pyforms", "pyforms"),
)
OTHER = "Python and other libraries"
#: Frames kept per allocation: enough to reach the plugin's or PyBpod's call under json, Qt…
FRAMES = 25


def _owner(traceback: tracemalloc.Traceback) -> tuple[str, str]:
    """Who allocated a block, and where (``package/module.py:line``)."""
    for frame in reversed(traceback):  # tracemalloc lists the oldest call first
        path = frame.filename.replace("\\", "/")
        for part, owner in OWNERS:
            if f"/{part}" in path:
                return owner, f"{part}{path.split(part, 1)[1]}:{frame.lineno}"
    return OTHER, ""


def memory_child(base_url: str, folder: Path) -> int:
    """In a fresh process: connect, then the first sync under ``tracemalloc``; one row."""
    scratch = Path(tempfile.mkdtemp(prefix="pybpod-alyx-memory-"))
    app, container = boot_editor(scratch)
    editor = container._widget
    editor._confirm_exit = lambda: True
    project = editor.model.create_project()
    project.name = folder.name
    window = editor.model.open_alyx_connection(project)
    window._address.value, window._user.value, window._password.value = base_url, USER, PASSWORD
    window._connect.click()
    wait(app, lambda: not window.busy)
    gc.collect()
    rss_before = rss_mb()
    tracemalloc.start(FRAMES)
    started = time.perf_counter()
    window._get_subjects.click()
    wait(app, lambda: not window.busy, timeout=3600)
    seconds = time.perf_counter() - started
    gc.collect()
    rss_growth = rss_mb() - rss_before
    traced_now, traced_peak = tracemalloc.get_traced_memory()
    bookkeeping = tracemalloc.get_tracemalloc_memory()
    held: Counter = Counter()
    plugin_sites: Counter = Counter()
    for statistic in tracemalloc.take_snapshot().statistics("traceback"):
        owner, site = _owner(statistic.traceback)
        held[owner] += statistic.size
        if owner == OWNERS[0][1]:
            plugin_sites[site] += statistic.size
    tracemalloc.stop()
    traced = traced_now / 2**20
    emit(
        {
            "phase": MEMORY,
            "of": FIRST_SYNC,
            "subjects": len(project.subjects),
            "seconds": seconds,
            "status": window.status,
            "rss_mb": peak_rss_mb(),
            "rss_growth_mb": rss_growth,
            "held_mb": {owner: size / 2**20 for owner, size in held.most_common()},
            "traced_mb": traced,
            "plugin_sites_mb": {site: size / 2**20 for site, size in plugin_sites.most_common(3)},
            "traced_peak_mb": traced_peak / 2**20,
            "native_mb": rss_growth - traced - bookkeeping / 2**20,
        }
    )
    window.close()
    project.close(silent=True)
    container.close()
    shutil.rmtree(scratch, ignore_errors=True)
    return 0
