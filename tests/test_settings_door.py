"""Every ``ALYX_PLUGIN_*`` setting is checked once, at one door, into one typed settings object.

A value that does not fit its setting's type and range is refused with one line naming the
setting, the value and what is expected (``SettingsError``), never guessed at and never a
traceback. That every reader goes through this door is in test_settings_readers.py.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybpod_alyx_module import settings as defaults
from pybpod_alyx_module.plugin_settings import (
    PluginSettings,
    SettingsError,
    read_settings,
    setting_names,
)
from pybpod_alyx_module.register import RegisterOptions
from pybpod_alyx_module.settings_rules import known_time_zones
from pybpod_alyx_module.value_names import REPORTED_VALUES

EXAMPLES = settings(
    max_examples=150, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)  # fmt: skip

# -- what values look like -----------------------------------------------------------------

one_line = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=30)
with_control = st.builds(lambda a, c, b: a + c + b, one_line, st.sampled_from("\n\r\t\x00\x1b"),
                         one_line)  # fmt: skip
not_text = st.one_of(
    st.integers(), st.floats(), st.booleans(), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.integers(), st.integers(), max_size=2), st.binary(max_size=5),
)  # fmt: skip
not_number = st.one_of(
    one_line, st.none(), st.booleans(), st.lists(st.integers(), max_size=3), st.binary(max_size=4),
    st.sampled_from([math.nan, math.inf, -math.inf, 10**400]),
)  # fmt: skip
not_whole = st.one_of(not_number, st.floats(allow_nan=False))
not_flag = st.one_of(st.integers(), st.floats(), one_line, st.lists(st.booleans(), max_size=2))
absolute = st.builds(lambda parts: "/" + "/".join(parts),
                     st.lists(st.text("abcXYZ_-. é", min_size=1, max_size=8).filter(
                         lambda p: p.strip(".")), min_size=1, max_size=3))  # fmt: skip
relative = st.text("abc_-é", min_size=1, max_size=10)
zones = st.sampled_from(sorted(known_time_zones()))
not_zone = st.one_of(
    one_line.filter(lambda text: text not in known_time_zones()),
    st.sampled_from(["Europe", "../etc/passwd", "/etc/localtime", "localtime", "Mars/Olympus",
                     "europe/london", "Europe/London\x00"]),
    not_text,
)  # fmt: skip


def between(low, high, low_in=False, high_in=True):
    """Numbers inside ``low``..``high``, as ints and floats."""
    floats = st.floats(low, high, exclude_min=not low_in, exclude_max=not high_in)
    lowest, highest = (
        math.floor(low) + (0 if low_in else 1),
        math.ceil(high) - (0 if high_in else 1),
    )
    return st.one_of(floats, st.integers(lowest, highest)) if lowest <= highest else floats


def outside(low, high, low_in=False, high_in=True):
    """Numbers just or far outside ``low``..``high``."""
    under = st.floats(max_value=low, exclude_max=low_in, allow_nan=False)
    over = st.floats(min_value=high, exclude_min=high_in, allow_nan=False)
    return st.one_of(under, over, st.integers(max_value=math.ceil(low) - (1 if low_in else 0)))


#: setting -> (values it takes, values it refuses)
KINDS = {
    "ALYX_PLUGIN_ADDRESS": (
        st.sampled_from(["", "https://alyx.example.org/", "localhost:8000/api", "http://[::1]:80"]),
        st.one_of(
            not_text.filter(lambda v: v is not None),
            with_control,
            st.sampled_from(
                ["ftp://x", "http://[::1", "http://h:99999", "http://u:p@h", "https://h/?q=1"]
            ),
        ),
    ),
    "ALYX_PLUGIN_USERNAME": (st.one_of(st.none(), one_line), st.one_of(not_text, with_control)),
    "ALYX_PLUGIN_PASSWORD": (st.one_of(st.none(), st.text()), not_text),
    "ALYX_PLUGIN_CONNECT_TIMEOUT": (between(0, 300), st.one_of(not_number, outside(0, 300))),
    "ALYX_PLUGIN_READ_TIMEOUT": (between(0, 3600), st.one_of(not_number, outside(0, 3600))),
    "ALYX_PLUGIN_RETRIES": (
        st.integers(0, 10),
        st.one_of(not_whole, st.integers(11), st.integers(max_value=-1)),
    ),
    "ALYX_PLUGIN_TOKEN_FILE": (
        st.one_of(absolute, st.builds(lambda p: "~" + p, absolute)),
        st.one_of(
            st.sampled_from([None, "", "~", "/tmp", "/tmp/folder/"]),
            relative,
            not_text,
            st.builds(lambda p: p + "\x00", absolute),
        ),
    ),
    "ALYX_PLUGIN_MAX_REQUESTS_PER_MINUTE": (
        between(0, 6000),
        st.one_of(not_number, outside(0, 6000)),
    ),
    "ALYX_PLUGIN_VALUE_NAMES": (
        st.dictionaries(st.sampled_from(sorted(REPORTED_VALUES)), one_line.filter(str.strip)),
        st.one_of(
            st.dictionaries(  # a name the plugin does not read: a typo would be silent
                one_line.filter(lambda k: k.strip() and k not in REPORTED_VALUES),
                one_line.filter(str.strip),
                min_size=1,
                max_size=2,
            ),
            one_line,
            st.lists(one_line, max_size=2),
            st.none(),
            st.dictionaries(one_line, st.integers(), min_size=1, max_size=2),
            st.just({"": "x"}),
            st.just({"alyx_water_ml": " "}),
        ),
    ),
    "ALYX_PLUGIN_LOCATIONS": (
        st.dictionaries(one_line.filter(str.strip), one_line.filter(str.strip), max_size=3),
        st.one_of(one_line, st.none(), st.dictionaries(st.integers(), one_line, min_size=1)),
    ),
    "ALYX_PLUGIN_PROCEDURES": (
        st.one_of(one_line.filter(str.strip), st.lists(one_line.filter(str.strip), max_size=3)),
        st.one_of(
            st.none(),
            st.integers(),
            st.dictionaries(one_line, one_line, max_size=1),
            st.lists(st.integers(), min_size=1, max_size=2),
            st.just([""]),
            st.just(["a", " "]),
        ),
    ),
    "ALYX_PLUGIN_WATER_TYPE": (
        one_line.filter(str.strip),
        st.one_of(not_text, st.just(""), st.just("  ")),
    ),
    "ALYX_PLUGIN_OUTBOX": (
        st.one_of(st.none(), st.just(""), absolute),
        st.one_of(relative, st.integers()),
    ),
    "ALYX_PLUGIN_SEND_WORKERS": (
        st.integers(1, 16),
        st.one_of(not_whole, st.integers(17), st.integers(max_value=0)),
    ),
    "ALYX_PLUGIN_RIG_TIME_ZONE": (
        st.one_of(st.just(""), zones),
        not_zone.filter(lambda v: v not in ("", None)),
    ),
    "ALYX_PLUGIN_SERVER_TIME_ZONE": (zones, st.one_of(not_zone, st.just(""))),
    "ALYX_PLUGIN_REGISTER_SESSIONS": (st.one_of(st.none(), st.booleans()), not_flag),
    "ALYX_PLUGIN_OUTBOX_RETRY_SECONDS": (
        between(1, 86400, low_in=True),
        st.one_of(not_number, outside(1, 86400, low_in=True)),
    ),
    "ALYX_PLUGIN_WEIGH_BEFORE_RUN": (st.booleans(), st.one_of(not_flag, st.none())),
    "ALYX_PLUGIN_WEIGHT_THRESHOLD": (
        between(0, 1, high_in=False),
        st.one_of(not_number, outside(0, 1, high_in=False)),
    ),
}


def test_every_setting_of_the_plugin_has_a_kind_and_a_field():
    """A new ALYX_PLUGIN_* setting cannot skip the door: it needs a field and a rule."""
    written = {name for name in vars(defaults) if name.startswith("ALYX_PLUGIN_")}
    assert written == set(setting_names()) == set(KINDS)


def test_the_defaults_pass_the_door_in_their_one_form():
    read = read_settings(None)
    assert read == PluginSettings()
    assert read.connect_timeout == 5.0 and isinstance(read.retries, int)
    assert read.procedures == ("Behavior training/tasks",)
    assert read.max_requests_per_minute == 240.0
    assert (read.rig_time_zone, read.server_time_zone) == ("", "Europe/London")
    assert read.timeout == (read.connect_timeout, read.read_timeout)


@EXAMPLES
@given(data=st.data())
def test_a_value_that_fits_its_setting_is_taken(data):
    name = data.draw(st.sampled_from(sorted(KINDS)))
    value = data.draw(KINDS[name][0])
    read = read_settings({name: value})
    kept = getattr(read, setting_names()[name])
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        assert kept == float(value) or kept == value
    elif name == "ALYX_PLUGIN_PROCEDURES":
        assert kept == ((value,) if isinstance(value, str) else tuple(value))
    elif isinstance(value, dict):
        assert dict(kept) == value
    elif value is None and name != "ALYX_PLUGIN_REGISTER_SESSIONS":
        assert kept == ""
    else:
        assert kept == value


@EXAMPLES
@given(data=st.data())
def test_a_value_that_does_not_fit_is_one_line_naming_the_setting_its_value_and_the_need(data):
    name = data.draw(st.sampled_from(sorted(KINDS)))
    value = data.draw(KINDS[name][1])
    with pytest.raises(SettingsError) as refused:
        read_settings({name: value})
    message = str(refused.value)
    assert "\n" not in message and "\r" not in message
    assert message.startswith(f"Bad setting in user_settings.py: {name} = ")
    assert ", expected " in message
    assert len(refused.value.problems) == 1
    if name == "ALYX_PLUGIN_PASSWORD":
        assert f"{name} = <hidden>" in message
    assert len(message) < 700  # a huge value is cut, not echoed whole


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ALYX_PLUGIN_CONNECT_TIMEOUT", "fast"),
        ("ALYX_PLUGIN_CONNECT_TIMEOUT", 0),
        ("ALYX_PLUGIN_ADDRESS", 12345),
        ("ALYX_PLUGIN_SEND_WORKERS", "many"),
        ("ALYX_PLUGIN_TOKEN_FILE", None),
        ("ALYX_PLUGIN_VALUE_NAMES", [("alyx_water_ml", "water")]),
        ("ALYX_PLUGIN_WEIGHT_THRESHOLD", 1),
        ("ALYX_PLUGIN_OUTBOX_RETRY_SECONDS", -60),
        ("ALYX_PLUGIN_WEIGH_BEFORE_RUN", "no"),
    ],
)
def test_the_examples_of_the_review_are_refused_at_the_door(name, value):
    with pytest.raises(SettingsError, match=rf"^Bad setting in user_settings.py: {name} = "):
        read_settings({name: value})


def test_procedures_written_as_one_name_are_one_procedure_not_letters():
    read = read_settings({"ALYX_PLUGIN_PROCEDURES": "Behavior training/tasks"})
    assert read.procedures == ("Behavior training/tasks",)
    assert RegisterOptions.of(read).procedures == ("Behavior training/tasks",)


def test_every_bad_setting_is_named_at_once_and_the_password_never(caplog):
    source = {
        "ALYX_PLUGIN_PASSWORD": 12345678,
        "ALYX_PLUGIN_RETRIES": True,
        "ALYX_PLUGIN_SERVER_TIME_ZONE": "europe/london",
    }
    with pytest.raises(SettingsError) as refused:
        read_settings(source)
    message = str(refused.value)
    assert message.startswith("Bad settings in user_settings.py: ")
    assert len(refused.value.problems) == 3 and "\n" not in message
    assert "12345678" not in message
    assert "did you mean 'Europe/London'?" in message


def test_no_settings_object_exists_unchecked():
    """Made by hand or by ``dataclasses.replace``, the object checks itself."""
    with pytest.raises(SettingsError, match="ALYX_PLUGIN_CONNECT_TIMEOUT = 0"):
        dataclasses.replace(PluginSettings(), connect_timeout=0)
    with pytest.raises(SettingsError, match="ALYX_PLUGIN_TOKEN_FILE = ''"):
        PluginSettings(token_file="")
    with pytest.raises(dataclasses.FrozenInstanceError):
        PluginSettings().retries = 99  # type: ignore[misc]
    lab_map = {"setup_1": "rig_1"}
    read = read_settings({"ALYX_PLUGIN_LOCATIONS": lab_map})
    lab_map["setup_1"] = "changed later"
    assert read.locations == {"setup_1": "rig_1"}  # a copy: shares nothing with the module


def test_the_password_is_never_in_the_repr():
    assert "s3cret-pw" not in repr(read_settings({"ALYX_PLUGIN_PASSWORD": "s3cret-pw"}))


def test_a_missing_token_file_setting_never_puts_a_token_in_the_current_folder(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    for value in (None, "", "tokens.json", "None"):
        with pytest.raises(SettingsError, match="ALYX_PLUGIN_TOKEN_FILE"):
            read_settings({"ALYX_PLUGIN_TOKEN_FILE": value})
    assert list(tmp_path.iterdir()) == []
