"""A real, local Alyx server (alyx-local on PostgreSQL) for the tests and the demo.

Run ``python scripts/alyxserver --help``. It is configured like the canonical cortex-lab
deployment (``django_settings/``). A server's state lives under its home,
``ALYX_LOCAL_HOME`` (default ``<repo>/.alyx-local``, the demo's; the tests use
``<repo>/.alyx-test``): a private PostgreSQL cluster, the cached seeded dump, logs and
``server.json``. alyx-local's venv is shared by every home. The seed itself is plain data in
:mod:`alyxserver.seed_data`, so tests can import what they may rely on.
"""
