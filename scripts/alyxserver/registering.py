"""What the tests of session registration need from the running server, beyond REST.

- Locations cannot be created over REST: they are made with Django, in alyx-local's own
  ``manage shell`` (:func:`create_locations`).
- The tests leave the shared server as they found it: :func:`delete_registered` removes
  the sessions, weighings and water administrations of some subjects in a date range,
  and the locations the tests made.
- An outage: :func:`stop_serving` stops gunicorn only (PostgreSQL and the data stay) and
  :func:`serve_again` starts it again on the same port, so the server's address, its
  data and other tests' view of it are unchanged afterwards.

Every function takes the running server's ``Layout`` (from ``ALYX_LOCAL_HOME``).
"""

from __future__ import annotations

import json

from alyxserver import server
from alyxserver.alyxmanage import manage
from alyxserver.layout import Layout

CREATE_LOCATIONS = """
import json, os
from django.apps import apps
Lab, LabLocation = apps.get_model("misc", "Lab"), apps.get_model("misc", "LabLocation")
for name, lab in json.loads(os.environ["ALYXSERVER_LOCATIONS"]):
    LabLocation.objects.get_or_create(name=name, lab=Lab.objects.get(name=lab))
"""

DELETE_REGISTERED = """
import json, os
from django.apps import apps
Session, Weighing, WaterAdministration, LabLocation = (
    apps.get_model("actions", "Session"), apps.get_model("actions", "Weighing"),
    apps.get_model("actions", "WaterAdministration"), apps.get_model("misc", "LabLocation"))
spec = json.loads(os.environ["ALYXSERVER_DELETE"])
nicknames, first, last = spec["nicknames"], spec["first"], spec["last"]
WaterAdministration.objects.filter(
    subject__nickname__in=nicknames, date_time__date__range=(first, last)).delete()
Weighing.objects.filter(
    subject__nickname__in=nicknames, date_time__date__range=(first, last)).delete()
Session.objects.filter(
    subject__nickname__in=nicknames, start_time__date__range=(first, last)).delete()
LabLocation.objects.filter(name__in=spec["locations"]).delete()
"""


def _state(layout: Layout) -> dict:
    state = server.read_state(layout)
    if state is None:
        raise server.ServerError(f"no server is running under {layout.home}")
    return state


def create_locations(layout: Layout, locations: list[tuple[str, str]]) -> None:
    """Create ``(name, lab)`` locations (kept if they exist)."""
    manage(
        layout,
        _state(layout)["pg_port"],
        "shell",
        "-c",
        CREATE_LOCATIONS,
        env_extra={"ALYXSERVER_LOCATIONS": json.dumps(locations)},
    )


def delete_registered(
    layout: Layout, nicknames: list[str], first: str, last: str, locations: list[str]
) -> None:
    """Delete the sessions, weighings and water of ``nicknames`` dated ``first``..``last``."""
    spec = {"nicknames": nicknames, "first": first, "last": last, "locations": locations}
    manage(
        layout,
        _state(layout)["pg_port"],
        "shell",
        "-c",
        DELETE_REGISTERED,
        env_extra={"ALYXSERVER_DELETE": json.dumps(spec)},
    )


def stop_serving(layout: Layout) -> None:
    """Stop gunicorn only: the address stops answering, PostgreSQL and the data stay."""
    state = _state(layout)
    server.stop_gunicorn(layout, state["pids"].get("gunicorn"))
    if server.answers(state["base_url"]):  # an outage test must not pass against a live server
        raise server.ServerError(
            f"gunicorn was stopped but {state['base_url']} still answers: another gunicorn "
            f"serves that port (see {layout.gunicorn_log})"
        )


def serve_again(layout: Layout) -> None:
    """Start gunicorn again on the same port, and record its new pid."""
    state = _state(layout)
    pid = server.start_gunicorn(layout, state["pg_port"], state["port"])
    server.wait_ready(layout, state["base_url"], pid)
    state["pids"]["gunicorn"] = pid
    server.write_state(layout, state)
