"""``pybpod-alyx weigh`` against the real Alyx: a weight far from the last weighing (a typo, a
wrong unit) is refused, saying why and the flag that sends it all the same.

Serial: it weighs bob's mice today, which the other register modules' clean-ups delete.
"""

from __future__ import annotations

import datetime
import json

import pytest
import register_world
from register_world import on_alyx

from pybpod_alyx_module.cli import exit_codes
from pybpod_alyx_module.cli.main import main
from pybpod_alyx_module.register import Outbox
from pybpod_alyx_module.register.options import OUTBOX_FILE_NAME
from pybpod_alyx_module.register.project_reader import read_project

pytestmark = pytest.mark.serial

world = register_world.world  # bob's project synced from the server; cleaned up at the end
alyx = register_world.alyx
MOUSE = "bob_mouse_5"


def run(capsys, world, *args) -> tuple[int, str, str]:
    connection = ["--address", world["server"].base_url, "--username", "bob"]
    code = main([str(a) for a in (*args[:1], *connection, *args[1:])])
    out, err = capsys.readouterr()
    return code, out, err


def weights_today(alyx) -> list[float]:
    return sorted(w["weight"] for w in on_alyx(alyx, MOUSE, datetime.datetime.now())["weighings"])


def test_an_unusual_weight_is_refused_until_confirmed_and_a_usual_one_is_sent(world, alyx, capsys):
    project = world["project"]
    code, _out, err = run(capsys, world, "weigh", project, MOUSE, "23.5")
    assert code == exit_codes.OK, err  # no weighing and no reference weight yet: nothing to doubt
    code, _out, err = run(capsys, world, "sync", project, "--details")
    assert code in (exit_codes.OK, exit_codes.LEFT_OUT, exit_codes.SKIPPED), err
    saved = next(s.data for s in read_project(project).subjects if s.name == MOUSE)
    assert [w["weight"] for w in saved["weighings"]] == [23.5]

    code, out, err = run(capsys, world, "weigh", project, MOUSE, "2340")
    assert code == exit_codes.ERROR and out == ""
    assert err.startswith(
        f"pybpod-alyx: {MOUSE}: 2340 g is about 100 times the last weighing (23.5 g on "
    )
    assert err.endswith(
        "a typo or a wrong unit? Nothing was queued or sent; if 2340 g is right, weigh again "
        "with --confirm-unusual\n"
    )
    with Outbox(project / OUTBOX_FILE_NAME) as outbox:
        assert not any("2340" in item.label for item in outbox.items())
    assert weights_today(alyx) == [23.5]

    code, out, err = run(capsys, world, "weigh", project, MOUSE, "2340", "--confirm-unusual")
    assert code == exit_codes.OK, err
    assert out.startswith(f"{MOUSE}: 2340 g, no reference weight on Alyx\n")  # as the GUI says
    code, _out, err = run(capsys, world, "weigh", project, MOUSE, "23,1 g")  # as typed on a rig
    assert code == exit_codes.OK, err
    assert weights_today(alyx) == [23.1, 23.5, 2340]


def test_weigh_prints_the_welfare_verdict_the_gui_shows(world, alyx, capsys):
    document = world["project"] / "subjects" / MOUSE / f"{MOUSE}.json"
    saved = json.loads(document.read_text(encoding="utf-8"))
    saved["reference_weight"] = 25.0  # as a sync stores a water-restricted subject's
    document.write_text(json.dumps(saved), encoding="utf-8")
    code, out, err = run(capsys, world, "weigh", world["project"], MOUSE, "18")
    assert code == exit_codes.OK, err
    assert out.startswith(
        f"{MOUSE}: 18 g, WARNING: 72 % of the reference weight, below the 80 % threshold\n"
    )
    assert 18 in weights_today(alyx)
