"""Why PyBpod's window could not open, and what to install: for ``scripts/demo``.

Qt 5.15 (PyQt5's wheel) draws on X11 through its ``xcb`` platform plugin, which needs
system libraries that a minimal Linux lacks (``libxcb-icccm4`` and others). Without them
Qt prints ``Could not load the Qt platform plugin "xcb"`` and aborts: a demo that then said
"Try next" would be lying. :func:`missing_libraries` asks the dynamic linker (``ldd``) which
libraries of the plugin cannot be found, :func:`why_not_started` reads the error output of a
GUI that ended at once, and both name the Debian/Ubuntu packages to install.

Standard library only; no Qt is imported (importing it would pick a platform).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

#: What Qt 5.15's xcb plugin loads, by the Debian/Ubuntu package that holds each library.
XCB_PACKAGES = (
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-xinerama0",
    "libxcb-xkb1",
    "libxkbcommon-x11-0",
    "libx11-xcb1",
    "libegl1",
    "libgl1",
    "libfontconfig1",
    "libdbus-1-3",
)
#: Libraries whose package name does not follow :func:`package_of`'s rule.
_PACKAGE_EXCEPTIONS = {"libglib-2.0.so.0": "libglib2.0-0", "libgthread-2.0.so.0": "libglib2.0-0"}
PLATFORM_ERROR = re.compile(r"Could not load the Qt platform plugin|could not connect to display")


def package_of(library: str) -> str:
    """The Debian/Ubuntu package of a shared library, by Debian's naming rule.

    >>> package_of("libxcb-icccm.so.4"), package_of("libxkbcommon-x11.so.0")
    ('libxcb-icccm4', 'libxkbcommon-x11-0')
    >>> package_of("libGL.so.1"), package_of("libdbus-1.so.3"), package_of("libglib-2.0.so.0")
    ('libgl1', 'libdbus-1-3', 'libglib2.0-0')
    """
    if library in _PACKAGE_EXCEPTIONS:
        return _PACKAGE_EXCEPTIONS[library]
    name, _, version = library.partition(".so.")
    name = name.lower()
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def not_found(ldd_output: str) -> list[str]:
    """The libraries ``ldd`` could not find, in order, once each.

    >>> not_found("\\tlibX11.so.6 => /lib/libX11.so.6 (0x1)\\n"
    ...           "\\tlibxcb-icccm.so.4 => not found\\n\\tlibxcb-icccm.so.4 => not found\\n")
    ['libxcb-icccm.so.4']
    """
    found = re.findall(r"^\s*(\S+) => not found", ldd_output, flags=re.MULTILINE)
    return list(dict.fromkeys(found))


def xcb_plugin() -> Path | None:
    """PyQt5's ``libqxcb.so``, or ``None`` (not Linux, or another Qt)."""
    spec = importlib.util.find_spec("PyQt5")
    if spec is None or not spec.submodule_search_locations:
        return None
    plugin = Path(spec.submodule_search_locations[0]) / "Qt5/plugins/platforms/libqxcb.so"
    return plugin if plugin.is_file() else None


def missing_libraries() -> list[str]:
    """The xcb plugin's libraries the system lacks (empty when none, or when it cannot tell)."""
    plugin, ldd = xcb_plugin(), shutil.which("ldd")
    if plugin is None or ldd is None:
        return []
    result = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, check=False)
    return not_found(result.stdout)


def install_advice(libraries: list[str]) -> str:
    """What to install for ``libraries`` (every library of the plugin when none is named).

    >>> print(install_advice(["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]))
    The system lacks libxcb-icccm.so.4, libxcb-keysyms.so.1. On Debian or Ubuntu:
      sudo apt-get install libxcb-icccm4 libxcb-keysyms1
    """
    if libraries:
        packages = list(dict.fromkeys(package_of(library) for library in libraries))
        lacking = f"The system lacks {', '.join(libraries)}."
    else:
        packages, lacking = list(XCB_PACKAGES), "Qt's xcb plugin needs these system libraries."
    return f"{lacking} On Debian or Ubuntu:\n  sudo apt-get install {' '.join(packages)}"


def xcb_problem() -> str | None:
    """Why Qt's xcb plugin cannot load here, with what to install; ``None`` when it can."""
    missing = missing_libraries()
    return _cannot_load(missing) if missing else None


def why_not_started(
    returncode: int, error_output: str, libraries: list[str] | None = None
) -> str | None:
    """Why the GUI ended without a window, with what to do; ``None`` if it did not fail so.

    ``libraries``: the plugin's missing libraries (by default, asked of ``ldd``).

    >>> why_not_started(0, "", []) is None
    True
    >>> print(why_not_started(-6, "qt.qpa.xcb: could not connect to display :9", []))
    PyBpod's window could not open: Qt could not connect to the display :9 (is an X server
    running there, and may this user use it?). Or run scripts/demo --headless.
    """
    if returncode == 0 or not PLATFORM_ERROR.search(error_output):
        return None
    if libraries is None:
        libraries = missing_libraries()
    display = re.search(r"could not connect to display (\S*)", error_output)
    if display and not libraries:
        return (
            f"PyBpod's window could not open: Qt could not connect to the display "
            f"{display.group(1)} (is an X server\nrunning there, and may this user use it?). "
            "Or run scripts/demo --headless."
        )
    return _cannot_load(libraries)


def _cannot_load(libraries: list[str]) -> str:
    return (
        'PyBpod\'s window could not open: Qt could not load its "xcb" platform plugin.\n'
        f"{install_advice(libraries)}\nthen run scripts/demo again (or scripts/demo --headless)."
    )
