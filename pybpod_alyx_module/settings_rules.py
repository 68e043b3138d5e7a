"""What a valid value of each kind of ``ALYX_PLUGIN_*`` setting is, and its one converted form.

A rule takes the value a lab wrote in ``user_settings.py`` (anything Python can hold) and
returns it in the one form the plugin uses (``5`` becomes ``5.0``, a list of procedures a
tuple, a mapping a read-only one), or raises :class:`Unexpected` with what was expected.
Rules are strict about types on purpose: ``'fast'`` is not a timeout, ``True`` is not a
number of workers, ``0`` is not a flag. Which setting follows which rule is in
:mod:`pybpod_alyx_module.plugin_settings`.
"""

from __future__ import annotations

import functools
import math
import numbers
import os
import unicodedata
import zoneinfo
from collections.abc import Callable, Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

from pybpod_alyx_module.alyx.address import normalize_address
from pybpod_alyx_module.alyx.errors import AlyxError

#: A rule: the value as written -> the value as used, or :class:`Unexpected`.
Rule = Callable[[Any], Any]

#: Longest name or address accepted (Django's user names stop at 150, web addresses near 2000).
MAX_TEXT = 2048
#: Zone files that are not places: the machine's own link, and tzdata's placeholder.
NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})


class Unexpected(Exception):
    """A value a rule cannot take; the message says what was expected."""


def number(
    low: float, high: float, *, unit: str, example: str, low_in: bool = False, high_in: bool = True
) -> Rule:
    """A finite real number between ``low`` and ``high`` (each end in only if ``*_in``), as float."""
    bottom = f"at least {low:g}" if low_in else f"above {low:g}"
    top = f"at most {high:g}" if high_in else f"below {high:g}"
    expected = f"a number{unit} {bottom} and {top}, e.g. {example}"

    def rule(value: Any) -> float:
        if not _is_real(value):
            raise Unexpected(expected)
        try:
            value = float(value)
        except (OverflowError, ValueError):  # an integer too large for a float
            raise Unexpected(expected) from None
        above_low = low <= value if low_in else low < value
        below_high = value <= high if high_in else value < high
        if not (math.isfinite(value) and above_low and below_high):
            raise Unexpected(expected)
        return value

    return rule


def whole_number(*, at_least: int, at_most: int, example: int) -> Rule:
    """An integer in ``[at_least, at_most]`` (never a ``bool``), as ``int``."""
    expected = f"a whole number from {at_least} to {at_most}, e.g. {example}"

    def rule(value: Any) -> int:
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise Unexpected(expected)
        if not at_least <= int(value) <= at_most:
            raise Unexpected(expected)
        return int(value)

    return rule


def flag(value: Any) -> bool:
    """``True`` or ``False`` (not ``0``, ``1`` or ``'yes'``: those are guesses)."""
    if not isinstance(value, bool):
        raise Unexpected("True or False")
    return value


def flag_or_none(value: Any) -> bool | None:
    """``True``, ``False``, or ``None`` for the setting's documented automatic choice."""
    if value is not None and not isinstance(value, bool):
        raise Unexpected("True, False or None (automatic)")
    return value


def text(*, empty: bool, example: str) -> Rule:
    """One line of text; ``None`` counts as empty where ``empty`` is allowed."""
    expected = f"{'' if empty else 'non-empty '}text on one line, e.g. {example!r}"

    def rule(value: Any) -> str:
        if value is None and empty:
            return ""
        if not isinstance(value, str) or len(value) > MAX_TEXT or _has_control(value):
            raise Unexpected(expected)
        if not empty and not value.strip():
            raise Unexpected(expected)
        return value

    return rule


def secret(value: Any) -> str:
    """A password: any text (``None`` for none); its value is never shown."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Unexpected("text (or empty for none)")
    return value


def address(value: Any) -> str:
    """An Alyx web address as a user types it, or empty for none configured."""
    expected = "a web address such as 'https://alyx.example.org', or '' for none"
    try:
        value = text(empty=True, example="")(value)
    except Unexpected:
        raise Unexpected(expected) from None
    if not value.strip():
        return value
    try:
        urlsplit(normalize_address(value)).port  # noqa: B018 -- the port is checked on reading
    except (AlyxError, ValueError) as exc:
        raise Unexpected(f"{expected} ({cut(str(exc), 100)})") from None
    return value


def file_path(*, empty: bool, example: str) -> Rule:
    """An absolute path of a file (``~`` allowed), as ``str``; empty where ``empty`` allows.

    A relative path would depend on the folder PyBpod or the command line was started from:
    a token or an outbox would be saved wherever that is (1.x saved a token in ``./None``).
    """
    expected = f"the absolute path of a file (it may start with ~), e.g. {example!r}"
    if empty:
        expected += ", or '' for the default"

    def rule(value: Any) -> str:
        if value is None and empty:
            return ""
        if not isinstance(value, (str, os.PathLike)):
            raise Unexpected(expected)
        path = os.fspath(value)
        if not isinstance(path, str) or "\x00" in path or _has_control(path):
            raise Unexpected(expected)
        if not path and empty:
            return ""
        expanded = os.path.expanduser(path)
        if not os.path.isabs(expanded) or not os.path.basename(expanded):
            raise Unexpected(expected)
        if os.path.isdir(expanded):
            raise Unexpected(f"{expected} (this is a folder)")
        return path

    return rule


def names(*, example: str) -> Rule:
    """A list of names, as a tuple; one name written alone is a list of that one name.

    ``'Behavior training/tasks'`` is what a lab writes for one procedure: read letter by
    letter (as 1.x did), it sent 23 procedures that do not exist.
    """
    one = text(empty=False, example=example)
    expected = f"a list of names, e.g. [{example!r}]"

    def rule(value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise Unexpected(expected)
        try:
            return tuple(one(item) for item in value)
        except Unexpected:
            raise Unexpected(f"{expected} (each non-empty text)") from None

    return rule


def name_map(*, example: dict[str, str], keys: Collection[str] | None = None) -> Rule:
    """A mapping of names to names (``str`` -> ``str``, none empty), as a new ``dict``.

    ``keys``: the only keys it may have (the plugin's own names it maps), when given.
    A copy, so that the settings object shares nothing with the module it was read from
    (and still copies, pickles and ``dataclasses.asdict``-es like any value).
    """
    one = text(empty=False, example="name")
    expected = f"a dict of names to names, e.g. {example!r}"

    def rule(value: Any) -> Mapping[str, str]:
        if not isinstance(value, Mapping):
            raise Unexpected(expected)
        try:
            names = {one(key): one(item) for key, item in value.items()}
        except Unexpected:
            raise Unexpected(f"{expected} (each key and value non-empty text)") from None
        unknown = sorted(set(names) - set(keys)) if keys is not None else []
        if unknown:
            raise Unexpected(
                f"keys among {', '.join(keys)} (not {', '.join(shown(k) for k in unknown)})"
            )
        return names

    return rule


def time_zone(*, empty: str | None) -> Rule:
    """An IANA time zone name (``'Europe/London'``); ``empty`` says what ``''`` means, if allowed."""
    expected = "an IANA time zone name such as 'Europe/London' or 'UTC'"
    if empty:
        expected += f", or '' for {empty}"

    def rule(value: Any) -> str:
        if value is None and empty:
            return ""
        if not isinstance(value, str):
            raise Unexpected(expected)
        if value == "" and empty:
            return value
        zones = known_time_zones()
        if not zones:
            raise Unexpected(f"{expected}; this computer has no time zone database: "
                             "install it with 'pip install tzdata'")  # fmt: skip
        if value not in zones:
            like = sorted(zone for zone in zones if zone.casefold() == value.casefold())
            raise Unexpected(expected + (f" (did you mean {like[0]!r}?)" if like else ""))
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise Unexpected(f"{expected} ({value!r} cannot be read: {exc})") from None
        return value

    return rule


@functools.lru_cache(maxsize=1)
def known_time_zones() -> frozenset[str]:
    """The IANA names this computer knows (its zone files, or the ``tzdata`` package).

    Read once (~60 ms): the list is what a name is checked against, so that a path such as
    ``'../x'`` or a folder such as ``'Europe'`` is refused before any file is opened.
    """
    return frozenset(zoneinfo.available_timezones() - NOT_PLACES)


def shown(value: Any, length: int = 60) -> str:
    """``repr(value)``, cut to ``length`` characters: a wrong value may be huge."""
    try:
        written = repr(value)
    except Exception:  # a value whose repr fails is still named by its type
        written = f"<{type(value).__name__}>"
    return cut(written, length)


def cut(words: str, length: int) -> str:
    """``words``, cut to ``length`` characters (the last one an ellipsis when cut)."""
    return words if len(words) <= length else words[: length - 1] + "…"


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _has_control(value: str) -> bool:
    return any(unicodedata.category(char) == "Cc" for char in value)
