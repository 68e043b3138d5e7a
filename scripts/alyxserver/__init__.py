"""A real, local Alyx server (alyx-local on PostgreSQL) for the tests and the demo.

Run ``python scripts/alyxserver --help``. Everything it creates lives under
``ALYX_LOCAL_HOME`` (default ``<repo>/.alyx-local``): the server's own venv, a private
PostgreSQL cluster, the cached seeded dump, logs and ``server.json``. The seed itself is
plain data in :mod:`alyxserver.seed_data`, so tests can import what they may rely on.
"""
