"""``pybpod-alyx register``, ``outbox`` and ``weigh`` against the real alyx-local, as a user runs them."""

from __future__ import annotations

import datetime

import register_world
from register_world import BOB_MICE, day, on_alyx, project_subjects, record

from pybpod_alyx_module.cli import exit_codes
from pybpod_alyx_module.cli.main import main
from pybpod_alyx_module.register import ATTENTION, Outbox
from pybpod_alyx_module.register.options import OUTBOX_FILE_NAME

world = register_world.world  # the module-scoped project and server
alyx = register_world.alyx


def run(capsys, world, *args, address=None) -> tuple[int, str, str]:
    connection = ["--address", address or world["server"].base_url, "--username", "bob"]
    code = main([str(a) for a in (*args[:1], *connection, *args[1:])])
    out, err = capsys.readouterr()
    return code, out, err


def test_register_sends_the_projects_sessions_and_a_second_run_sends_nothing(world, alyx, capsys):
    start = day(20)
    record(world["project"], "bob_mouse_1", start)
    record(world["project"], "bob_mouse_2", start + datetime.timedelta(minutes=1))
    code, out, err = run(capsys, world, "register", world["project"])
    assert code == exit_codes.OK, err
    assert "sent      bob_mouse_1" in out and "0 pending, 0 need attention" in out
    code, out, _ = run(capsys, world, "register", world["project"])
    assert code == exit_codes.OK and "Queued 0 new registrations" in out
    held = [on_alyx(alyx, mouse, start) for mouse in BOB_MICE[:2]]
    assert [len(h["sessions"]) for h in held] == [1, 1]
    assert [len(h["water"]) for h in held] == [1, 1]


def test_a_dry_run_queues_and_sends_nothing(world, alyx, capsys):
    start = day(21)
    path = record(world["project"], "bob_mouse_3", start)
    code, out, _ = run(
        capsys, world, "register", world["project"], "--session", path.parent.name, "--dry-run"
    )
    assert code == exit_codes.OK
    assert f"bob_mouse_3 {path.parent.name}" in out and "dry run" in out
    outbox_file = world["project"] / OUTBOX_FILE_NAME
    if outbox_file.exists():  # made by another test of this module
        with Outbox(outbox_file) as outbox:
            assert not any(path.parent.name in item.label for item in outbox.items())
    assert on_alyx(alyx, "bob_mouse_3", start)["sessions"] == []


def test_a_refused_session_exits_8_is_listed_with_the_fix_and_can_be_discarded(world, capsys):
    path = record(
        world["project"],
        "bob_mouse_4",
        day(22),
        creator=("nobody_here", "00000000-0000-4000-8000-000000000bad", "local"),
    )
    code, out, _ = run(capsys, world, "register", world["project"], "--session", path.parent.name)
    assert code == exit_codes.NEEDS_ATTENTION
    assert "ATTENTION bob_mouse_4" in out and "pybpod-alyx outbox PROJECT" in out
    code, out, _ = run(capsys, world, "outbox", world["project"])
    assert code == exit_codes.NEEDS_ATTENTION
    assert "username=nobody_here does not exist" in out and "Create this user in Alyx" in out
    with Outbox(world["project"] / OUTBOX_FILE_NAME) as outbox:
        (item,) = outbox.items(ATTENTION)
    code, out, _ = run(capsys, world, "outbox", world["project"], "--discard", item.id)
    assert code == exit_codes.OK and f"Discarded item {item.id}" in out


def test_with_alyx_away_sessions_wait_exit_7_and_a_retry_sends_them(world, alyx, capsys):
    start = day(23)
    path = record(world["project"], "bob_mouse_5", start)
    away = "http://127.0.0.1:9"  # nothing listens on the discard port
    code, out, _ = run(
        capsys, world, "register", world["project"], "--session", path.parent.name, address=away
    )
    assert code == exit_codes.PENDING
    assert "Stopped sending" in out and "1 pending" in out
    code, out, _ = run(capsys, world, "outbox", world["project"])
    assert code == exit_codes.PENDING and "Alyx could not be reached (1 time(s) in a row" in out
    code, out, _ = run(capsys, world, "outbox", world["project"], "--retry")
    assert code == exit_codes.OK, out
    assert len(on_alyx(alyx, "bob_mouse_5", start)["sessions"]) == 1


def test_weigh_records_a_weight_now(world, alyx, capsys):
    code, out, err = run(capsys, world, "weigh", world["project"], "bob_mouse_2", "24.5")
    assert code == exit_codes.OK, out + err
    today = datetime.date.today().isoformat()
    weights = [
        w["weight"]
        for w in alyx.list("weighings", nickname="bob_mouse_2")
        if w["date_time"].startswith(today)
    ]
    assert weights == [24.5]


def test_weigh_refuses_a_subject_that_is_not_from_alyx(world, capsys):
    assert "bob_mouse_2" in project_subjects(world["project"])
    code, _, err = run(capsys, world, "weigh", world["project"], "no_such_mouse", "20")
    assert code == exit_codes.ERROR and "is not an Alyx subject" in err


def test_a_folder_that_is_not_a_project_is_a_clear_error(world, tmp_path, capsys):
    code, _, err = run(capsys, world, "register", tmp_path / "nothing")
    assert code == exit_codes.ERROR and "Traceback" not in err
    assert "no PyBpod project" in err
