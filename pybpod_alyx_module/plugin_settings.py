"""The one door from ``ALYX_PLUGIN_*`` settings to the plugin: read once, checked once, typed.

The GUI reads the settings through confapp (``conf``), the command line from
``user_settings.py`` (:mod:`pybpod_alyx_module.cli.defaults`); both call
:func:`read_settings`, and every layer receives the :class:`PluginSettings` it returns (or
a part of it, such as ``register.RegisterOptions``). The defaults live once, in
:mod:`pybpod_alyx_module.settings`; what a valid value of each kind is, in
:mod:`pybpod_alyx_module.settings_rules`.

A value that does not fit its setting's type and range is never guessed at or replaced
by the default: :class:`SettingsError` names the setting, the value and what is expected,
on one line, for every bad setting at once. ``PluginSettings`` checks itself when it is
made, so no unchecked settings object exists (``dataclasses.replace`` checks too).

Examples
--------
>>> read_settings({"ALYX_PLUGIN_CONNECT_TIMEOUT": 2}).connect_timeout
2.0
>>> read_settings({"ALYX_PLUGIN_PROCEDURES": "Behavior training/tasks"}).procedures
('Behavior training/tasks',)
>>> read_settings({"ALYX_PLUGIN_SEND_WORKERS": "many"})
Traceback (most recent call last):
...
pybpod_alyx_module.plugin_settings.SettingsError: Bad setting in user_settings.py: \
ALYX_PLUGIN_SEND_WORKERS = 'many', expected a whole number from 1 to 16, e.g. 4
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from pybpod_alyx_module import settings as defaults
from pybpod_alyx_module import settings_rules as rules
from pybpod_alyx_module.errors import PluginError
from pybpod_alyx_module.value_names import REPORTED_VALUES, WATER_ML

logger = logging.getLogger(__name__)

#: Field metadata keys: the setting's full name, its rule, and whether its value is secret.
SETTING, RULE, HIDDEN = "setting", "rule", "hidden"

_warned_lock = threading.Lock()
_warned = False


class SettingsError(PluginError, ValueError):
    """One or more ``ALYX_PLUGIN_*`` settings do not fit their type or range.

    ``problems`` holds one ``"<NAME> = <value>, expected <what>"`` per bad setting; the
    message is all of them, on one line, with where to fix them.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        bad = "Bad setting" if len(self.problems) == 1 else "Bad settings"
        super().__init__(f"{bad} in user_settings.py: " + "; ".join(self.problems))

    @classmethod
    def of(cls, name: str, value: Any, expected: str) -> SettingsError:
        """The error for one setting ``name`` holding ``value`` where ``expected`` was wanted."""
        return cls([problem(name, value, expected)])


def problem(name: str, value: Any, expected: str, hidden: bool = False) -> str:
    """``"<name> = <value>, expected <expected>"``: the value cut short, or ``<hidden>``."""
    return f"{name} = {'<hidden>' if hidden else rules.shown(value)}, expected {expected}"


def _setting(short: str, rule: rules.Rule, hidden: bool = False) -> Any:
    """A field for ``ALYX_PLUGIN_<short>``, its default the plugin's (converted by ``rule``)."""
    name = f"ALYX_PLUGIN_{short}"
    default = rule(getattr(defaults, name))
    metadata = {SETTING: name, RULE: rule, HIDDEN: hidden}
    return field(default_factory=lambda: default, metadata=metadata, repr=not hidden)


@dataclass(frozen=True)
class PluginSettings:
    """Every ``ALYX_PLUGIN_*`` setting, checked and converted (see ``pybpod_alyx_module.settings``).

    Made with any values, it checks them all (:class:`SettingsError`) and keeps each in its
    one form: numbers as ``float``/``int``, names as ``str``, ``procedures`` a tuple, the
    maps as ``dict`` copies. The password never appears in a ``repr``.
    """

    #: The Alyx server as typed; ``''``: none configured.
    address: str = _setting("ADDRESS", rules.address)
    #: The Alyx user name; ``''``: PyBpod's logged-in user.
    username: str = _setting("USERNAME", rules.text(empty=True, example="alice"))
    #: Deprecated clear-text password; ``''``: none.
    password: str = _setting("PASSWORD", rules.secret, hidden=True)
    #: Seconds to wait for a connection, in (0, 300].
    connect_timeout: float = _setting(
        "CONNECT_TIMEOUT", rules.number(0, 300, unit=" of seconds", example="5.0")
    )
    #: Seconds to wait for an answer once connected, in (0, 3600].
    read_timeout: float = _setting(
        "READ_TIMEOUT", rules.number(0, 3600, unit=" of seconds", example="60.0")
    )
    #: Retries of an idempotent request, 0 to 10.
    retries: int = _setting("RETRIES", rules.whole_number(at_least=0, at_most=10, example=3))
    #: The token file: an absolute path (``~`` allowed), never empty.
    token_file: str = _setting(
        "TOKEN_FILE", rules.file_path(empty=False, example="~/.pybpod_alyx/tokens.json")
    )
    #: Requests this rig sends at most per minute, in (0, 6000].
    max_requests_per_minute: float = _setting(
        "MAX_REQUESTS_PER_MINUTE", rules.number(0, 6000, unit="", example="240")
    )
    #: Plugin value name -> the lab's name for it.
    value_names: Mapping[str, str] = _setting(
        "VALUE_NAMES",
        rules.name_map(example={WATER_ML: "reward_total_ml"}, keys=tuple(REPORTED_VALUES)),
    )
    #: Setup name -> Alyx location name.
    locations: Mapping[str, str] = _setting(
        "LOCATIONS", rules.name_map(example={"setup_1": "rig_1"})
    )
    #: The procedures of every registered session (one name alone: a list of one).
    procedures: tuple[str, ...] = _setting(
        "PROCEDURES", rules.names(example="Behavior training/tasks")
    )
    #: The water type of water administrations.
    water_type: str = _setting("WATER_TYPE", rules.text(empty=False, example="Water"))
    #: The outbox file: an absolute path, or ``''`` for the project folder's.
    outbox: str = _setting("OUTBOX", rules.file_path(empty=True, example="~/alyx_outbox.sqlite"))
    #: Records sent to Alyx at the same time, 1 to 16.
    send_workers: int = _setting(
        "SEND_WORKERS", rules.whole_number(at_least=1, at_most=16, example=4)
    )
    #: The rig's IANA time zone; ``''``: the computer's local zone.
    rig_time_zone: str = _setting("RIG_TIME_ZONE", rules.time_zone(empty="this computer's zone"))
    #: The Alyx server's ``TIME_ZONE`` (an IANA name).
    server_time_zone: str = _setting("SERVER_TIME_ZONE", rules.time_zone(empty=None))
    #: Register every run: ``True``, ``False``, or ``None`` (when the project has an Alyx user).
    register_sessions: bool | None = _setting("REGISTER_SESSIONS", rules.flag_or_none)
    #: Seconds between two tries of the outbox's pending items in the GUI, in [1, 86400].
    outbox_retry_seconds: float = _setting(
        "OUTBOX_RETRY_SECONDS",
        rules.number(1, 86400, unit=" of seconds", example="60", low_in=True),
    )
    #: Show "Weigh before the run" before each run with Alyx subjects.
    weigh_before_run: bool = _setting("WEIGH_BEFORE_RUN", rules.flag)
    #: The welfare threshold, a fraction of the reference weight in (0, 1).
    weight_threshold: float = _setting(
        "WEIGHT_THRESHOLD", rules.number(0, 1, unit="", example="0.8", high_in=False)
    )

    def __post_init__(self) -> None:
        problems = []
        for item in fields(self):
            rule = item.metadata.get(RULE)
            if rule is None:  # a subclass's own field (e.g. where the settings came from)
                continue
            value = getattr(self, item.name)
            try:
                object.__setattr__(self, item.name, rule(value))
            except rules.Unexpected as exc:
                hidden = item.metadata[HIDDEN]
                problems.append(problem(item.metadata[SETTING], value, str(exc), hidden))
        if problems:
            raise SettingsError(problems)

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect_timeout, read_timeout)``, as ``requests`` takes them."""
        return (self.connect_timeout, self.read_timeout)

    @classmethod
    def from_lookup(cls, value: Callable[[str], Any], **extra: Any) -> PluginSettings:
        """Settings from a look-up of ``ALYX_PLUGIN_*`` names (``extra``: a subclass's fields).

        A clear-text ``ALYX_PLUGIN_PASSWORD`` is deprecated: reading one logs a warning,
        once per process (:func:`warn_clear_text_password`).

        Raises
        ------
        SettingsError
            A setting does not fit its type or range (every bad one is named).
        """
        values = {
            item.name: value(item.metadata[SETTING])
            for item in fields(cls)
            if RULE in item.metadata
        }
        settings = cls(**values, **extra)
        if settings.password:
            warn_clear_text_password()
        return settings


def setting_names() -> dict[str, str]:
    """``ALYX_PLUGIN_*`` name -> its :class:`PluginSettings` field, for every setting."""
    return {item.metadata[SETTING]: item.name for item in fields(PluginSettings)}


def setting(source: Any, name: str) -> Any:
    """``source``'s raw value of ``name``, else the plugin's default (unchecked: see below).

    ``source`` is confapp's ``conf``, a module, a mapping, or ``None`` (the defaults).
    Code reads settings through :func:`read_settings`; this is its look-up.
    """
    default = getattr(defaults, name)
    if source is None:
        return default
    if isinstance(source, Mapping):
        return source.get(name, default)
    try:
        return getattr(source, name, default)
    except Exception:  # confapp raises its own errors for names no module defines
        return default


def read_settings(source: Any) -> PluginSettings:
    """The plugin's settings from ``source`` (see :func:`setting`), checked.

    Raises
    ------
    SettingsError
        A setting does not fit its type or range (every bad one is named, on one line).
    """
    return PluginSettings.from_lookup(lambda name: setting(source, name))


def warn_clear_text_password() -> None:
    """Warn that ``ALYX_PLUGIN_PASSWORD`` holds a clear-text password; only the first call logs."""
    global _warned
    with _warned_lock:
        if _warned:
            return
        _warned = True
    logger.warning(
        "ALYX_PLUGIN_PASSWORD in user_settings.py holds a clear-text password: this is "
        "deprecated. Connect once (a token is saved) or use the system keyring, then remove it."
    )
