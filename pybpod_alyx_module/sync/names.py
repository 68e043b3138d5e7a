"""Which Alyx names can become PyBpod folder names: one policy for every filesystem a rig uses.

PyBpod stores a subject in ``<project>/subjects/<name>/<name>.json`` (a user in
``users/<name>/``), so the name is a path component. Alyx accepts nicknames such as
``..``, ``COM1`` or 400 bytes of emoji that are not safe ones, and the 1.x plugin used
them unchecked. Rather than invent a mapping users would not recognise on the rig, a
name outside the policy is refused with a reason; the subject is reported and left out,
and the others sync.

The policy is what Windows, macOS and Linux can all hold:

* no character any of them forbids (``<>:"/\\|?*``), no control or format character;
* no leading or trailing space and no trailing dot (Windows drops them);
* no Windows device name, in any case and with any extension: ``CON``, ``PRN``, ``AUX``,
  ``NUL``, ``CONIN$``, ``CONOUT$``, ``COM0``-``COM9`` and ``LPT0``-``LPT9``, also with a
  superscript digit (Windows documents ``¹²³``; every superscript digit is refused, to be
  safe): ``nul.txt`` or ``Com¹ .json`` open the device, not a file;
* every file name the sync makes from it within 255 bytes: Linux and APFS count UTF-8
  bytes, HFS+ and NTFS UTF-16 units (HFS+ of the decomposed form), so the larger of the
  UTF-8 bytes and the decomposed form's UTF-16 units is counted (:data:`MAX_NAME_BYTES`);
* every path the sync makes from it within Windows' ``MAX_PATH`` in a typical project
  folder (:data:`MAX_NAME_LENGTH`, counted in UTF-16 units as Windows counts them).

The path budget, worked out (see :data:`TYPICAL_PROJECT_FOLDER` and :data:`LONGEST_PATH`)::

    MAX_PATH 260, less the terminating NUL               259
    C:\\Users\\<20>\\Documents\\pybpod\\projects\\<32>      - 88  (20: Windows' longest user name)
    \\.alyx-removed\\N--YYYYMMDD-HHMMSS-99\\N.json       - 41 - 2 N  (a removed subject's file,
                                                              the longest path the sync makes)
    => 2 N <= 130, N <= 65
"""

from __future__ import annotations

import re
import unicodedata

#: Characters refused in a folder name on at least one of Linux, macOS and Windows.
_FORBIDDEN = re.compile(r'[<>:"/\\|?*]')
_SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
#: Names Windows reserves for devices whatever their case and extension.
WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{digit}" for port in ("COM", "LPT") for digit in "0123456789" + _SUPERSCRIPT_DIGITS}
)

#: Windows' ``MAX_PATH``, the terminating NUL included.
WINDOWS_MAX_PATH = 260
#: A typical project folder on a Windows rig, with the longest local user name Windows
#: allows (20 characters) and a project name of 32.
TYPICAL_PROJECT_FOLDER = "C:\\Users\\" + "u" * 20 + "\\Documents\\pybpod\\projects\\" + "p" * 32
#: The longest path the sync makes from a name, after the project folder: a removed
#: subject's file (``sync.save.REMOVED``, a time stamp, a number if two left in one second).
LONGEST_PATH = "\\.alyx-removed\\{name}--20260101-120000-99\\{name}.json"
#: The longest name whose every path fits: ``(259 - 88 - 41) // 2`` = 65 UTF-16 units.
MAX_NAME_LENGTH = (
    WINDOWS_MAX_PATH - 1 - len(TYPICAL_PROJECT_FOLDER) - len(LONGEST_PATH.replace("{name}", ""))
) // 2

#: Longest file name on Linux, macOS and Windows (bytes or UTF-16 units).
MAX_COMPONENT = 255
#: The longest file name the sync makes from a name, beyond the name: the temporary file
#: beside ``<name>.json`` (``.<name>.json.<8 hex>.alyx-tmp``, see ``sync.journal``).
LONGEST_COMPONENT = ".{name}.json.0123abcd.alyx-tmp"
#: The most bytes (or decomposed UTF-16 units) a name may take: 255 - 24 = 231.
MAX_NAME_BYTES = MAX_COMPONENT - len(LONGEST_COMPONENT.replace("{name}", ""))


def folder_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a subject (or user) folder name, or ``None`` if it can.

    Examples
    --------
    >>> folder_name_problem("SW_001") is None
    True
    >>> folder_name_problem("..")
    "'..' would point outside the subjects folder"
    >>> folder_name_problem("lpt¹.txt")
    "'lpt¹.txt' is a name Windows reserves for devices"
    """
    if not isinstance(name, str) or not name.strip():
        return "the name is empty"
    if name in (".", ".."):
        return f"'{name}' would point outside the subjects folder"
    if any(unicodedata.category(char).startswith("C") for char in name):
        return f"{_shown(name)!r} contains a control or format character"
    if _FORBIDDEN.search(name):
        return f"'{_shown(name)}' contains a character that folders cannot hold (<>:\"/\\|?*)"
    if name != name.strip() or name.endswith("."):
        return f"'{_shown(name)}' starts or ends with a space, or ends with a dot"
    if name.split(".")[0].rstrip().upper() in WINDOWS_DEVICES:
        return f"'{_shown(name)}' is a name Windows reserves for devices"
    size = name_bytes(name)
    if size > MAX_NAME_BYTES:
        return (
            f"'{_shown(name)}' takes {size} bytes: at most {MAX_NAME_BYTES} fit in a file name "
            f"({MAX_COMPONENT}, less what the sync adds for its temporary file)"
        )
    length = windows_length(name)
    if length > MAX_NAME_LENGTH:
        return (
            f"'{_shown(name)}' is {length} characters long: at most {MAX_NAME_LENGTH} fit, so "
            f"that its files' paths stay under Windows' {WINDOWS_MAX_PATH} characters in a "
            "typical project folder (C:\\Users\\<you>\\Documents\\pybpod\\projects\\<project>)"
        )
    return None


def name_bytes(name: str) -> int:
    """The room ``name`` takes in a file name on the strictest filesystem.

    UTF-8 bytes (Linux, APFS) or UTF-16 units of its decomposed form (HFS+ stores NFD),
    whichever is larger; NTFS's UTF-16 units are never more than the UTF-8 bytes.

    Examples
    --------
    >>> name_bytes("SW_001"), name_bytes("souris_é"), name_bytes("한")
    (6, 9, 3)
    """
    decomposed = unicodedata.normalize("NFD", name)
    return max(len(name.encode("utf-8")), windows_length(decomposed))


def windows_length(name: str) -> int:
    """``name``'s length as Windows counts it in a path: UTF-16 code units.

    Examples
    --------
    >>> windows_length("SW_001"), windows_length("souris_é"), windows_length("🐭")
    (6, 8, 2)
    """
    return len(name.encode("utf-16-le", "surrogatepass")) // 2


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


def _shown(name: str, length: int = 40) -> str:
    """The start of ``name`` for a message: a refused name may be long."""
    return name if len(name) <= length else name[: length - 1] + "…"
