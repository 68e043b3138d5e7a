"""``pybpod-alyx outbox --withdraw ID`` against the real alyx-local: a sent item's records are
deleted on Alyx after a yes, exactly once, and nothing the outbox did not create is touched."""

from __future__ import annotations

import json
import sqlite3

import pytest
import register_world
from register_world import day, on_alyx, record

from pybpod_alyx_module.cli import exit_codes
from pybpod_alyx_module.cli.main import main
from pybpod_alyx_module.register import SENT, WITHDRAWN, Outbox, alyx_subjects, queue_weighing
from pybpod_alyx_module.register.options import OUTBOX_FILE_NAME
from pybpod_alyx_module.register.times import ServerTimes
from pybpod_alyx_module.sync.project_files import open_project

world = register_world.world  # the module-scoped project and server
alyx = register_world.alyx
MOUSE = "bob_mouse_5"


def run(capsys, world, *args, address=None) -> tuple[int, str, str]:
    connection = ["--address", address or world["server"].base_url, "--username", "bob"]
    code = main([str(a) for a in (*args[:1], *connection, *args[1:])])
    out, err = capsys.readouterr()
    return code, out, err


def project_outbox(world) -> Outbox:
    return Outbox(world["project"] / OUTBOX_FILE_NAME)


def sent_weighing(capsys, world, n: int, grams: float):
    """A weighing of ``MOUSE`` on day ``n``, queued and sent as ``weigh`` does; its item."""
    subjects = alyx_subjects(open_project(world["project"]))
    subject = next(s for s in subjects.values() if s.nickname == MOUSE)
    with project_outbox(world) as outbox:
        queue_weighing(outbox, subject, grams, "bob", day(n), ServerTimes.of(register_world.LONDON))
    code, _, err = run(capsys, world, "outbox", world["project"], "--retry")
    assert code == exit_codes.OK, err
    with project_outbox(world) as outbox:
        (item,) = [i for i in outbox.items(SENT) if f"{grams:g} g" in i.label]
    return item


def tamper(world, item_id: int, progress: dict) -> None:
    """Change an item's progress as a damaged (or edited) outbox file would hold it."""
    with sqlite3.connect(world["project"] / OUTBOX_FILE_NAME) as db:
        db.execute("UPDATE items SET progress = ? WHERE id = ?", (json.dumps(progress), item_id))


def test_withdraw_deletes_a_sent_sessions_records_once(world, alyx, capsys):
    start = day(250)
    path = record(world["project"], MOUSE, start)
    code, _, err = run(capsys, world, "register", world["project"], "--session", path.parent.name)
    assert code == exit_codes.OK, err
    assert [len(v) for v in on_alyx(alyx, MOUSE, start).values()] == [1, 1, 1]
    with project_outbox(world) as outbox:
        (item,) = [i for i in outbox.items(SENT) if path.parent.name in i.label]

    code, out, err = run(capsys, world, "outbox", world["project"], "--withdraw", item.id, "--yes")

    assert code == exit_codes.OK, err
    assert out.startswith(f"Withdrew item {item.id}")
    assert on_alyx(alyx, MOUSE, start) == {"sessions": [], "weighings": [], "water": []}
    with project_outbox(world) as outbox:
        withdrawn = outbox.get(item.id)
    assert withdrawn.state == WITHDRAWN
    assert withdrawn.progress["withdrawn"]["records"] == {
        "session": "deleted", "weighing": "deleted", "water": "deleted"
    }  # fmt: skip
    code, out, _ = run(capsys, world, "outbox", world["project"], "--all")
    assert any(line.split()[:2] == [str(item.id), "withdrawn"] for line in out.splitlines())
    for how in ("--withdraw", "--discard", "--retry"):  # once, and only once
        code, _, err = run(capsys, world, "outbox", world["project"], how, item.id, "--yes")
        assert code == exit_codes.ERROR and "withdrawn" in err, (how, err)


def test_a_record_deleted_on_alyx_already_is_recorded_gone(world, alyx, capsys):
    item = sent_weighing(capsys, world, 251, 21.25)
    alyx.delete(f"weighings/{item.progress['weighing']['id']}")  # on the admin site, say

    code, out, err = run(capsys, world, "outbox", world["project"], "--withdraw", item.id, "--yes")

    assert code == exit_codes.OK, err
    assert "gone already: weighing" in out
    with project_outbox(world) as outbox:
        assert outbox.get(item.id).progress["withdrawn"]["records"] == {"weighing": "gone"}


def test_withdraw_asks_first_and_no_deletes_nothing(world, alyx, capsys, monkeypatch):
    item = sent_weighing(capsys, world, 252, 21.5)

    code, _, err = run(capsys, world, "outbox", world["project"], "--withdraw", item.id)
    assert code == exit_codes.ERROR and "confirm with --yes" in err  # no terminal to ask at
    asked = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "n")
    code, out, _ = run(capsys, world, "outbox", world["project"], "--withdraw", item.id)
    assert code == exit_codes.CANCELLED and "Nothing was withdrawn" in out
    assert asked == [
        f"Delete the weighing of {MOUSE} of 21.5 g on 2021-09-10 09:00 from Alyx "
        f"(item {item.id})? [y/N] "
    ]
    assert len(on_alyx(alyx, MOUSE, day(252))["weighings"]) == 1

    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    code, _, err = run(capsys, world, "outbox", world["project"], "--withdraw", item.id)
    assert code == exit_codes.OK, err
    assert on_alyx(alyx, MOUSE, day(252))["weighings"] == []


def test_an_id_the_outbox_did_not_send_is_never_deleted(world, alyx, capsys):
    theirs = alyx.post("weighings", {"subject": f"cortexlab__{MOUSE}", "weight": 30.0,
                                     "date_time": day(253).isoformat()})  # fmt: skip
    their_id = theirs["url"].rsplit("/", 1)[-1]
    item = sent_weighing(capsys, world, 253, 21.75)
    tamper(world, item.id, {"weighing": {"id": their_id}})  # a damaged file names theirs

    code, _, err = run(capsys, world, "outbox", world["project"], "--withdraw", item.id, "--yes")

    assert code == exit_codes.ERROR
    assert f"weighing {their_id} on Alyx is not the record item {item.id} sent" in err
    assert "nothing was deleted" in err
    assert len(on_alyx(alyx, MOUSE, day(253))["weighings"]) == 2  # theirs and ours, both kept
    with project_outbox(world) as outbox:
        assert outbox.get(item.id).state == SENT


def test_a_record_found_on_alyx_is_left_there(world, alyx, capsys):
    item = sent_weighing(capsys, world, 254, 22.0)
    found = {"weighing": dict(item.progress["weighing"], found=True)}
    tamper(world, item.id, found)  # found by its identity, not created by this outbox

    code, out, err = run(capsys, world, "outbox", world["project"], "--withdraw", item.id, "--yes")

    assert code == exit_codes.OK, err
    assert "left on Alyx: weighing" in out and "not created by this outbox" in out
    assert len(on_alyx(alyx, MOUSE, day(254))["weighings"]) == 1


def test_withdraw_refuses_another_alyx_than_the_one_it_was_sent_to(world, alyx, capsys):
    item = sent_weighing(capsys, world, 255, 22.25)
    other = world["server"].base_url.replace("127.0.0.1", "localhost")

    code, _, err = run(
        capsys, world, "outbox", world["project"], "--withdraw", item.id, "--yes", address=other
    )

    assert code == exit_codes.ERROR and "was not withdrawn" in err
    assert len(on_alyx(alyx, MOUSE, day(255))["weighings"]) == 1


@pytest.mark.parametrize("args", [[], ["--all"]])
def test_listing_the_outbox_needs_no_server(world, capsys, args):
    code = main(["outbox", str(world["project"]), *args])  # no --address, no user_settings.py
    out, err = capsys.readouterr()

    assert code in (exit_codes.OK, exit_codes.PENDING, exit_codes.NEEDS_ATTENTION), err
    assert "Outbox " in out and "withdrawn" in out
