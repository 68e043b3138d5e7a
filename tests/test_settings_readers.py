"""Every reader of settings goes through the one door: registering, the client, the command
line and the GUI's readers; a bad setting is said on one line there, never as a traceback.
"""

from __future__ import annotations

import logging
import re
import types
from pathlib import Path

import pytest

import pybpod_alyx_module
from pybpod_alyx_module.cli import exit_codes
from pybpod_alyx_module.cli.main import main
from pybpod_alyx_module.client_settings import client_from_settings
from pybpod_alyx_module.plugin_settings import SettingsError, read_settings
from pybpod_alyx_module.register import RegisterOptions


def test_register_options_are_made_from_the_checked_settings_only():
    with pytest.raises(SettingsError, match="ALYX_PLUGIN_SEND_WORKERS = 'many'"):
        RegisterOptions.of(read_settings({"ALYX_PLUGIN_SEND_WORKERS": "many"}))
    options = RegisterOptions.of(read_settings({"ALYX_PLUGIN_RIG_TIME_ZONE": "Europe/Lisbon"}))
    assert (options.rig_time_zone, options.server_time_zone) == ("Europe/Lisbon", "Europe/London")
    assert not hasattr(RegisterOptions, "from_settings")  # no second door


#: A look-up of a setting by name: only the door (plugin_settings.py) may do one.
LOOKUPS = re.compile(
    r"""getattr\(\s*conf\s*,\s*["']ALYX_PLUGIN_|\bsetting\(\s*conf\b|conf\.ALYX_PLUGIN_"""
)


def test_no_code_reads_a_setting_past_the_door():
    package = Path(pybpod_alyx_module.__file__).parent
    doors = {package / "plugin_settings.py", package / "settings.py"}
    found = [
        f"{path.relative_to(package)}:{number}: {line.strip()}"
        for path in sorted(package.rglob("*.py"))
        if path not in doors
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if LOOKUPS.search(line)
    ]
    assert found == []


def test_a_value_name_the_plugin_does_not_read_is_refused_at_the_door():
    with pytest.raises(SettingsError, match=r"ALYX_PLUGIN_VALUE_NAMES = .*not 'alyx_water'\)"):
        read_settings({"ALYX_PLUGIN_VALUE_NAMES": {"alyx_water": "reward_ml"}})


def test_the_client_gets_the_request_rate(monkeypatch, tmp_path):
    made = {}

    class Client:
        def __init__(self, address, **kwargs):
            made.update(kwargs, address=address)

    monkeypatch.setattr("pybpod_alyx_module.alyx.AlyxClient", Client)
    read = read_settings({"ALYX_PLUGIN_MAX_REQUESTS_PER_MINUTE": 30,
                          "ALYX_PLUGIN_TOKEN_FILE": str(tmp_path / "t.json")})  # fmt: skip
    client_from_settings(read, address="http://127.0.0.1:9")
    assert made["max_requests_per_minute"] == 30.0
    assert made["timeout"] == (5.0, 60.0)


@pytest.mark.parametrize("argv", [["subjects"], ["--help"]])
def test_the_command_line_says_a_bad_setting_in_one_line(tmp_path, monkeypatch, capsys, argv):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "user_settings.py").write_text("ALYX_PLUGIN_CONNECT_TIMEOUT = 'fast'\n")
    assert main(argv) == exit_codes.ERROR
    _out, err = capsys.readouterr()
    assert err == (
        "pybpod-alyx: Bad setting in user_settings.py: ALYX_PLUGIN_CONNECT_TIMEOUT = 'fast', "
        "expected a number of seconds above 0 and at most 300, e.g. 5.0\n"
    )


def test_the_command_line_says_a_value_name_it_does_not_read_in_one_line(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "user_settings.py").write_text("ALYX_PLUGIN_VALUE_NAMES = {'water': 'w'}\n")
    argv = [
        "register",
        str(tmp_path / "proj"),
        "--dry-run",
        "--address",
        "http://x",
        "--username",
        "u",
    ]
    assert main(argv) == exit_codes.ERROR
    _out, err = capsys.readouterr()
    assert err.startswith("pybpod-alyx: Bad setting in user_settings.py: ALYX_PLUGIN_VALUE_NAMES")
    assert err.count("\n") == 1 and not (tmp_path / "proj").exists()


def test_the_gui_says_a_bad_setting_once_not_at_every_periodic_try(monkeypatch, caplog):
    from pybpod_alyx_module.gui import registration_settings as registration

    monkeypatch.setattr(registration, "conf", types.SimpleNamespace(ALYX_PLUGIN_SEND_WORKERS=0))
    monkeypatch.setattr(registration, "_settings_said", None)
    with caplog.at_level(logging.ERROR):
        for _ in range(3):
            with pytest.raises(SettingsError):
                registration.register_options()
        assert registration.retry_interval_ms() == 60_000  # the registrar still starts
    said = [r.getMessage() for r in caplog.records if "ALYX_PLUGIN_SEND_WORKERS" in r.getMessage()]
    assert said == [
        "Alyx registration is stopped: Bad setting in user_settings.py: "
        "ALYX_PLUGIN_SEND_WORKERS = 0, expected a whole number from 1 to 16, e.g. 4"
    ]
