"""``pybpod-alyx register``, ``outbox`` and ``weigh`` against the real alyx-local, as a user runs them."""

from __future__ import annotations

import datetime

import register_world
from pybpod_projects import new_project
from register_world import BOB_MICE, day, on_alyx, project_subjects, record

from pybpod_alyx_module.cli import exit_codes
from pybpod_alyx_module.cli.main import main
from pybpod_alyx_module.register import (
    ATTENTION,
    DISCARDED,
    PENDING,
    Outbox,
    RegisterOptions,
    alyx_subjects,
    prepare_sessions,
)
from pybpod_alyx_module.register.options import OUTBOX_FILE_NAME
from pybpod_alyx_module.register.project_reader import read_project

world = register_world.world  # the module-scoped project and server
alyx = register_world.alyx
#: A session creator Alyx does not know: its session is refused (needs attention).
REFUSED_USER = ("nobody_here", "00000000-0000-4000-8000-000000000bad", "local")


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
        creator=REFUSED_USER,
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
    with project_outbox(world) as outbox:  # tried once, and why it waits is on the item
        (waiting,) = [i for i in outbox.items(PENDING) if path.parent.name in i.label]
        assert waiting.attempts == 1 and "127.0.0.1:9" in waiting.last_error
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


def test_a_project_without_sessions_says_why_nothing_is_registered(world, tmp_path, capsys):
    project = new_project(tmp_path / "no_runs_yet")

    code, out, err = run(capsys, world, "register", project.path, "--dry-run")

    assert code == exit_codes.OK and "Traceback" not in err
    assert f"no session in {project.path} yet" in out
    assert "Trying registration without a Bpod board" in out
    assert "0 registrations would be queued" in out


# -- discarded means discarded; items named that cannot be acted on --------------------------


def project_outbox(world) -> Outbox:
    return Outbox(world["project"] / OUTBOX_FILE_NAME)


def test_a_discarded_session_stays_discarded_until_registered_again_by_name(world, capsys):
    path = record(world["project"], "bob_mouse_4", day(41), creator=REFUSED_USER)
    session = ["--session", path.parent.name]
    code, _, _ = run(capsys, world, "register", world["project"], *session)
    assert code == exit_codes.NEEDS_ATTENTION
    with project_outbox(world) as outbox:
        (item,) = [i for i in outbox.items(ATTENTION) if path.parent.name in i.label]
    code, out, _ = run(capsys, world, "outbox", world["project"], "--discard", item.id)
    assert code == exit_codes.OK
    assert "a plain 'pybpod-alyx register' does not queue it again" in out
    assert f"pybpod-alyx register PROJECT --again {item.id}" in out

    code, out, _ = run(capsys, world, "register", world["project"], *session)
    assert "Queued 0 new registrations" in out
    assert f"discarded on purpose (item {item.id}); --again {item.id} queues it anew" in out
    with project_outbox(world) as outbox:
        assert outbox.get(item.id).state == DISCARDED

    code, out, _ = run(capsys, world, "register", world["project"], *session, "--again", item.id)
    assert code == exit_codes.NEEDS_ATTENTION and "Queued 1 new registrations" in out
    with project_outbox(world) as outbox:
        assert outbox.get(item.id).state == ATTENTION  # sent again, refused again


def test_retry_and_discard_of_no_such_item_give_the_same_clear_error(world, capsys):
    answers = [run(capsys, world, "outbox", world["project"], how, 999_999)
               for how in ("--retry", "--discard")]  # fmt: skip
    assert [code for code, _, _ in answers] == [exit_codes.ERROR, exit_codes.ERROR]
    for (_, _, err), action in zip(answers, ("retry", "discard")):
        assert f"no item 999999 in the outbox {world['project']}" in err
        assert f"to {action} ('pybpod-alyx outbox PROJECT --all' lists" in err
        assert err.count("\n") == 1


def test_a_weighing_sent_exits_0_whatever_else_waits(world, alyx, capsys):
    with project_outbox(world) as outbox:
        outbox.add("needs-a-person", "a refused record", {})
        (waiting,) = [i for i in outbox.claim(50, due_only=False) if i.key == "needs-a-person"]
        outbox.needs_attention(waiting.id, "refused", "fix it")
    code, out, err = run(capsys, world, "weigh", world["project"], "bob_mouse_3", "22.5")
    assert code == exit_codes.OK, out + err
    assert "need attention" in out  # the others are still reported
    code, _, _ = run(capsys, world, "outbox", world["project"])
    assert code == exit_codes.NEEDS_ATTENTION


def test_a_next_try_already_past_is_shown_as_due_now(world, capsys):
    with project_outbox(world) as outbox:
        outbox.server_away("connection refused", delay=-180)  # it was due 3 minutes ago
    try:
        _code, out, _ = run(capsys, world, "outbox", world["project"])
    finally:
        with project_outbox(world) as outbox:
            outbox.server_back()
    assert "next automatic try due now." in out


# -- the dry run shows what register would do -------------------------------------------------


def test_a_dry_run_shows_what_register_would_queue_and_send_with_the_queued_values(
    world, alyx, capsys
):
    sent = record(world["project"], "bob_mouse_1", day(42))
    typed = record(world["project"], "bob_mouse_2", day(42) + datetime.timedelta(hours=1))
    new = record(world["project"], "bob_mouse_5", day(42) + datetime.timedelta(hours=2))
    _, out, _ = run(capsys, world, "register", world["project"], "--session", sent.parent.name)
    assert "sent      bob_mouse_1" in out  # (other tests' items need attention: exit 8)
    with project_outbox(world) as outbox:  # as PyBpod queues a run with the weight typed
        (registration,) = queue_of(world["project"], [typed]).registrations
        payload = dict(registration.payload, weighing=dict(registration.payload["weighing"]))
        payload["weighing"]["weight"] = 24.1
        assert outbox.add(registration.key, registration.label, payload)
        typed_id = outbox.items()[-1].id
    names = [p.parent.name for p in (sent, typed, new)]
    code, out, _ = run(capsys, world, "register", world["project"], "--session", *names,
                       "--dry-run")  # fmt: skip
    assert code == exit_codes.OK
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("bob_mouse")}
    assert sent.parent.name not in rows  # sent before: not sent again
    assert (
        "24.1" in rows[typed.parent.name] and f"before (item {typed_id})" in rows[typed.parent.name]
    )
    assert "23.5" in rows[new.parent.name] and rows[new.parent.name].rstrip().endswith("now")
    assert "1 registrations would be queued" in out and "dry run: nothing queued or sent" in out
    code, out, _ = run(capsys, world, "register", world["project"], "--session", *names)
    assert "sent      bob_mouse_2" in out and "sent      bob_mouse_5" in out
    assert [w["weight"] for w in on_alyx(alyx, "bob_mouse_2", day(42))["weighings"]] == [24.1]


def queue_of(project, files):
    """What the plugin prepares for these session files (to queue by hand, as PyBpod does)."""
    prepared = prepare_sessions(
        files, alyx_subjects(read_project(project)), RegisterOptions(), project
    )
    assert prepared.problems == []
    return prepared
