"""One door from settings to an Alyx client, for the GUI (confapp) and the command line alike.

The checks of each setting are in test_settings_door.py.
"""

from __future__ import annotations

import dataclasses
import logging
import types

import pytest

from pybpod_alyx_module import plugin_settings, settings
from pybpod_alyx_module.cli.defaults import Defaults, load_defaults
from pybpod_alyx_module.client_settings import client_from_settings
from pybpod_alyx_module.plugin_settings import PluginSettings, SettingsError, read_settings


@pytest.fixture(autouse=True)
def warn_again(monkeypatch):
    monkeypatch.setattr(plugin_settings, "_warned", False)


def test_missing_settings_fall_back_to_the_plugins_defaults():
    read = read_settings(types.SimpleNamespace(ALYX_PLUGIN_ADDRESS="https://alyx.example"))

    assert read.address == "https://alyx.example"
    assert read.connect_timeout == settings.ALYX_PLUGIN_CONNECT_TIMEOUT
    assert read.read_timeout == settings.ALYX_PLUGIN_READ_TIMEOUT
    assert read.retries == settings.ALYX_PLUGIN_RETRIES
    assert read.token_file == settings.ALYX_PLUGIN_TOKEN_FILE


def test_the_command_line_reads_user_settings_through_the_same_door(tmp_path):
    (tmp_path / "user_settings.py").write_text(
        "ALYX_PLUGIN_ADDRESS = 'https://alyx.example'\nALYX_PLUGIN_RETRIES = 0\n"
    )
    module = types.SimpleNamespace(
        ALYX_PLUGIN_ADDRESS="https://alyx.example", ALYX_PLUGIN_RETRIES=0
    )

    defaults = load_defaults(tmp_path)

    assert defaults.source == tmp_path / "user_settings.py"
    assert isinstance(defaults, PluginSettings)
    assert {
        item.name: getattr(defaults, item.name) for item in dataclasses.fields(PluginSettings)
    } == dataclasses.asdict(read_settings(module))


def test_a_bad_user_settings_value_stops_the_command_line_defaults(tmp_path):
    (tmp_path / "user_settings.py").write_text("ALYX_PLUGIN_RETRIES = 'a few'\n")

    with pytest.raises(SettingsError, match="ALYX_PLUGIN_RETRIES = 'a few', expected a whole"):
        load_defaults(tmp_path)


def test_the_client_gets_the_settings_timeouts_retries_and_token_file(tmp_path):
    read = read_settings(
        types.SimpleNamespace(
            ALYX_PLUGIN_ADDRESS="http://127.0.0.1:9",
            ALYX_PLUGIN_USERNAME="alice",
            ALYX_PLUGIN_CONNECT_TIMEOUT=1.5,
            ALYX_PLUGIN_READ_TIMEOUT=7,
            ALYX_PLUGIN_RETRIES=0,
            ALYX_PLUGIN_TOKEN_FILE=str(tmp_path / "tokens.json"),
        )
    )

    with client_from_settings(read, username="bob") as client:
        assert client.username == "bob"
        assert client.address.startswith("http://127.0.0.1:9")
        assert client.timeout == (1.5, 7.0)
        assert str(client.token_store.path) == str(tmp_path / "tokens.json")
        assert client.session.get_adapter("http://x").max_retries.total == 0
        assert read.max_requests_per_minute == settings.ALYX_PLUGIN_MAX_REQUESTS_PER_MINUTE


def test_a_clear_text_password_warns_once_and_never_shows(caplog):
    source = types.SimpleNamespace(ALYX_PLUGIN_PASSWORD="s3cret-pw")
    with caplog.at_level(logging.WARNING, logger="pybpod_alyx_module"):
        first = read_settings(source)
        read_settings(source)

    warnings = [r.getMessage() for r in caplog.records if "ALYX_PLUGIN_PASSWORD" in r.getMessage()]
    assert len(warnings) == 1 and "s3cret-pw" not in warnings[0]
    assert first.password == "s3cret-pw"
    assert "s3cret-pw" not in repr(first)


def test_the_defaults_repr_hides_the_password():
    defaults = Defaults(
        address="a",
        username="u",
        password="s3cret-pw",
        connect_timeout=1.0,
        read_timeout=2.0,
        retries=0,
        token_file="~/t",
    )

    assert "s3cret-pw" not in repr(defaults) and "s3cret-pw" not in str(defaults)
