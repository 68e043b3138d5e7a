"""Details (weighings, water administrations) from the real Alyx: filtered lists, twins, the CLI.

Against alyx-local (the ``alyx_server`` fixture), whose weighings name their subject
``<lab>__<nickname>``; cortex-lab's bare nicknames are played by the stub in
``test_download_details_faults.py``.
"""

from __future__ import annotations

import io
import json
import math
import sys
from datetime import datetime, timezone

import pytest
import requests

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.alyx.details import BATCH_SIZE
from pybpod_alyx_module.cli import exit_codes
from pybpod_alyx_module.cli.main import main
from pybpod_alyx_module.sync import SubjectSelection, download_subjects, plan_subjects
from pybpod_alyx_module.sync.download import add_details, records_to_detail
from pybpod_alyx_module.sync.project_files import open_project


@pytest.fixture
def alice(alyx_server):
    client = AlyxClient(alyx_server.base_url, "alice", alyx_server.users["alice"])
    client.login()
    yield client
    client.close()


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    """Every URL requested (a spy: the requests still go to the real server)."""
    urls: list[str] = []
    real = requests.Session.request

    def spy(self, method, url, *args, **kwargs):
        response = real(self, method, url, *args, **kwargs)
        urls.append(response.request.url)
        return response

    monkeypatch.setattr(requests.Session, "request", spy)
    return urls


def by_nickname(records, nickname):
    (record,) = [r for r in records if r["nickname"] == nickname]
    return record


def test_details_match_each_subjects_detail_record_in_a_few_requests(alice, seed, sent):
    """Every subject of alice's selection gets the weighings and water of its own detail
    record, in two filtered list requests per 50 subjects instead of one request each."""
    records = download_subjects(alice, SubjectSelection())
    assert len(records) > 2 * BATCH_SIZE
    sent.clear()
    detailed = add_details(alice, records)
    assert len(sent) == 2 * math.ceil(len(records) / BATCH_SIZE)
    weighed = by_nickname(detailed, seed.WEIGHED_SUBJECT.nickname)
    assert [w["weight"] for w in weighed["weighings"]] == [w["weight"] for w in seed.WEIGHINGS]
    assert len(weighed["water_administrations"]) == len(seed.WATER_ADMINISTRATIONS)
    for record in (weighed, by_nickname(detailed, seed.NON_ASCII_NICKNAME)):
        detail = alice.get(record["url"])
        for key in ("weighings", "water_administrations"):
            assert record[key] == sorted(detail[key], key=lambda m: m["date_time"])
    assert all("weighings" in r and "water_administrations" in r for r in detailed)


def test_twins_get_each_their_own_weighings(alice, seed):
    """One nickname in two labs: a weighing of the hoferlab twin is the hoferlab twin's only."""
    twins = {t["lab"]: t for t in alice.subjects(nickname=seed.TWIN_NICKNAME)}
    assert set(twins) == set(seed.TWIN_LABS)
    hofer = twins["hoferlab"]
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    weighing = alice.post(
        "weighings", {"subject": hofer["name"], "weight": 31.7, "date_time": now, "user": "alice"}
    )
    try:
        detailed = {d["lab"]: d for d in add_details(alice, list(twins.values()))}
        assert [w["weight"] for w in detailed["hoferlab"]["weighings"]] == [31.7]
        assert detailed["cortexlab"]["weighings"] == []
        assert [w["weight"] for w in alice.subject(hofer["id"])["weighings"]] == [31.7]
        assert alice.subject(twins["cortexlab"]["id"])["weighings"] == []
    finally:
        alice.session.delete(
            alice.url(weighing["url"]),
            headers={"Authorization": f"Token {alice.token}"},
            timeout=alice.timeout,
        ).raise_for_status()


def test_refused_and_dead_subjects_are_not_detailed(alyx_server, tmp_path, seed):
    """``..`` cannot be a folder name: the plan refuses it, so it is not among the records
    whose details are fetched; nor are the dead."""
    bob = AlyxClient(alyx_server.base_url, "bob", alyx_server.users["bob"])
    records = download_subjects(bob, SubjectSelection())
    project = open_project(tmp_path / "proj", create=True)
    wanted = records_to_detail(records, plan_subjects(project, records, username="bob"))
    nicknames = {r["nickname"] for r in wanted}
    assert ".." not in nicknames and "dot.mouse" in nicknames
    assert len(wanted) == len([r for r in records if r["nickname"] != ".." and r["alive"]])
    bob.close()


def test_cli_sync_details_saves_weighings_and_never_asks_for_a_refused_subject(
    alyx_server, tmp_path, monkeypatch, capsys, sent, seed
):
    """``pybpod-alyx sync --details`` as alice: SW_001's weighings land in its file; as bob,
    the refused ``..`` is named nowhere in the details requests and the sync still ends."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setenv("HOME", str(tmp_path))
    for user in ("alice", "bob"):
        monkeypatch.setenv("ALYX_PASSWORD", alyx_server.users[user])
        project = tmp_path / user
        sent.clear()
        connection = ["--address", alyx_server.base_url, "--username", user]
        code = main(["sync", str(project), *connection, "--create", "--details"])
        _out, err = capsys.readouterr()
        assert "no details for" not in err
        details_requests = [u for u in sent if "/weighings" in u or "/water-administrations" in u]
        assert details_requests
        if user == "alice":
            assert code == 0, err
            name = seed.WEIGHED_SUBJECT.nickname
            saved = json.loads((project / "subjects" / name / f"{name}.json").read_text())
            assert [w["weight"] for w in saved["weighings"]] == [
                w["weight"] for w in seed.WEIGHINGS
            ]
        else:
            assert code == exit_codes.LEFT_OUT, err  # ".." refused, the rest synced
            with AlyxClient(alyx_server.base_url, "bob", alyx_server.users["bob"]) as bob:
                (dots,) = bob.subjects(nickname="..")
            assert not any(dots["id"] in u for u in details_requests)


def test_the_first_details_after_a_plain_sync_are_additions_asked_of_nobody(
    alyx_server, tmp_path, monkeypatch, capsys, seed
):
    """Issue 16: a project synced without ``--details`` then synced with it, without a
    terminal, exited 6 ("N subject(s) changed on Alyx kept their local details") though
    nothing changed on Alyx. Details a subject had none of yet replace nothing: they are
    added, the sync exits 0; a third sync finds everything unchanged."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ALYX_PASSWORD", alyx_server.users["alice"])
    weighed = seed.WEIGHED_SUBJECT
    project = tmp_path / "proj"
    command = [
        "sync", str(project), "--address", alyx_server.base_url, "--username", "alice",
        "--lab", weighed.lab, "--responsible", weighed.responsible_user,
    ]  # fmt: skip
    assert main([*command, "--create"]) == exit_codes.OK, capsys.readouterr().err
    capsys.readouterr()
    code = main([*command, "--details"])
    out, err = capsys.readouterr()
    assert code == exit_codes.OK, err
    assert "kept their local details" not in err and "skipped    0\n" in out
    saved = json.loads(
        (project / "subjects" / weighed.nickname / f"{weighed.nickname}.json").read_text()
    )
    assert [w["weight"] for w in saved["weighings"]] == [w["weight"] for w in seed.WEIGHINGS]
    code = main([*command, "--details"])
    out, err = capsys.readouterr()
    assert code == exit_codes.OK, err
    assert "updated    0\n" in out
