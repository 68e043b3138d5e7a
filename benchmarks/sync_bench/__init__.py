"""The parts of ``benchmarks/sync_benchmark.py``: its server, its children, its runner, its report.

``server`` (the benchmark's own alyx-local), ``child`` (one measurement per process),
``downloads`` and ``local`` (what each row's child does), ``runner`` (the rows' order and
their runs), ``report`` (the README block and the verdicts).
"""
