"""Which Alyx nicknames can become PyBpod folder names.

PyBpod stores a subject in ``<project>/subjects/<name>/<name>.json``, so the name
is a path component. Alyx accepts nicknames such as ``..`` or ``a*b`` that are
not safe ones, and the 1.x plugin used them unchecked. Rather than invent a
mapping users would not recognise on the rig, an unsafe nickname is refused
with a reason; the subject is reported and left out.
"""

from __future__ import annotations

import re
import unicodedata

#: Characters refused in a folder name on at least one of Linux, macOS and Windows.
_FORBIDDEN = re.compile(r'[<>:"/\\|?*]')
#: Names Windows reserves whatever their extension.
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10))}
_RESERVED |= {f"LPT{i}" for i in range(1, 10)}
#: Longest name accepted (the JSON file adds ``.json`` inside the folder of the same name).
MAX_LENGTH = 120


def folder_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a subject folder name, or ``None`` if it can.

    Examples
    --------
    >>> folder_name_problem("SW_001") is None
    True
    >>> folder_name_problem("..")
    "'..' would point outside the subjects folder"
    """
    if not name or not name.strip():
        return "the name is empty"
    if name in (".", ".."):
        return f"'{name}' would point outside the subjects folder"
    if _FORBIDDEN.search(name):
        return f"'{name}' contains a character that folders cannot hold (<>:\"/\\|?*)"
    if any(unicodedata.category(char).startswith("C") for char in name):
        return f"{name!r} contains a control character"
    if name != name.strip() or name.endswith("."):
        return f"'{name}' starts or ends with a space, or ends with a dot"
    if name.split(".")[0].upper() in _RESERVED:
        return f"'{name}' is a name Windows reserves for devices"
    if len(name) > MAX_LENGTH:
        return f"'{name[:20]}…' is longer than {MAX_LENGTH} characters"
    return None


def folded_name(name: str) -> str:
    """The key under which two names are one folder on Windows or macOS.

    Both ignore case, and macOS also the Unicode normalisation form: ``Mouse``
    and ``mouse``, or ``souris_é`` written precomposed (NFC) and decomposed
    (NFD), would be one folder there while Linux makes two. Case folding goes
    further than either (``ß`` folds to ``ss``): a few more names count as
    taken, never fewer.

    Examples
    --------
    >>> folded_name("Mouse") == folded_name("mouse")
    True
    >>> folded_name("souris_\u00e9") == folded_name("souris_e\u0301")
    True
    """
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def twin_name(nickname: str, lab: str | None) -> str:
    """The name for a subject whose nickname is already taken locally by another Alyx subject.

    Nicknames are unique per lab only; alyx-local itself names subjects
    ``<lab>__<nickname>``, and so does the plugin for the second of two twins.
    """
    return f"{lab or 'nolab'}__{nickname}"
